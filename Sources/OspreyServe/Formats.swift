import Foundation
import OspreyAnalytics
import OspreyCore

/// One alert (a rule trigger or a session) in the shape the output formats need, from the one alert type
/// (an alert re-delivered from the state after a restart is decoded from its line first: AnalyticsOutput(line:)).
struct AlertView {
    var kind = "rule"              // "rule" or "session" (a live notable is a session with `live`)
    var rule = ""
    var name = ""
    var score = 0
    var user = ""
    var session = ""
    var timeMillis: Int64 = 0      // rule: its event time; session: its end
    var startMillis: Int64 = 0
    var mitre: [(id: String, name: String)] = []
    var useCases: [String] = []
    var reason = ""
    var notable: Bool?             // sessions only: a rule trigger does not know its session's final score
    var rules: [String] = []       // sessions: the rules that fired
    var srcIP: String?
    var srcCountry: String?
    var sender: String?
    var activityType: String?
    var recipients: [String] = []
    var operation: String?
    var subject: String?
    var attachments: [String] = []
    var evidence: JSONValue = .null
    /// A live notable (the session is still open).
    var live = false
    /// The triggering event's pivot fields (RuleTrigger.eventFields): preferred over the evidence.
    var event: JSONValue = .null

    static let notableScore = AnalyticsOptions().notableScore

    init(_ o: AnalyticsOutput) {
        switch o {
        case .rule(let r):
            rule = r.rule; name = r.name; score = r.score; user = r.user; session = r.session; timeMillis = r.timeMillis
            mitre = r.mitre.map { ($0.id, $0.name) }; useCases = r.useCases; reason = r.reason; evidence = r.evidence
            event = r.event ?? .null
        case .session(let s):
            kind = "session"; score = s.score; user = s.user; session = s.session; timeMillis = s.endMillis
            startMillis = s.startMillis; notable = s.live || s.notable; rules = s.rules; live = s.live
        }
        if kind == "session" { name = live ? "Osprey notable session (open)" : "Osprey session" + (notable == true ? " (notable)" : "")
            rule = live ? "notable" : "session"
            reason = "rules " + rules.joined(separator: ",") }
        if case .object(let fields) = evidence {
            for (k, v) in fields {
                switch k {
                case "src_ip": srcIP = AlertView.strings(v).first
                case "dest_email_address": recipients = AlertView.strings(v)
                case "operation": operation = AlertView.strings(v).first
                case "email_subject": subject = AlertView.strings(v).first
                case "email_attachments", "email_attachment": attachments += AlertView.strings(v)
                default: break
                }
            }
        }
        if case .object(let fields) = event {
            for (k, v) in fields {
                let first = AlertView.strings(v).first
                switch k {
                case "activity_type": activityType = first
                case "src_ip": srcIP = first
                case "src_country": srcCountry = first
                case "sender": sender = first
                case "dest_email_address": recipients = AlertView.strings(v)
                case "operation": operation = first
                case "email_subject": subject = first
                case "file_name": if attachments.isEmpty { attachments = AlertView.strings(v) }
                default: break
                }
            }
        }
    }

    static func strings(_ v: JSONValue) -> [String] {
        switch v {
        case .string(let s): return [s]
        case .int(let i): return [String(i)]
        case .array(let a): return a.flatMap(strings)
        default: return []
        }
    }

    /// CEF/syslog severity 1...10 from the score: score × 10 / the notable score, so a notable session is 10.
    var severity: Int {
        let s = score.multipliedReportingOverflow(by: 10)
        let v = s.overflow ? 10 : s.partialValue / max(1, AlertView.notableScore)
        return min(10, max(1, v))
    }

    /// A source address usable as CEF `src` (an IPv4 or IPv6 literal).
    var srcAddress: String? {
        guard let s = srcIP, !s.isEmpty, s.count <= 45,
              s.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) || $0 == "." || $0 == ":" })
        else { return nil }
        return s
    }
}

enum AlertFormat {
    static var hostname: String = {
        var b = [CChar](repeating: 0, count: 256)
        guard gethostname(&b, b.count) == 0 else { return "osprey" }
        let h = String(cString: b)
        return h.isEmpty ? "osprey" : h
    }()

    /// An RFC 5424 syslog message whose MSG is a CEF record of the alert:
    /// `rt src suser duser act cat msg`, severity from the score, and labelled custom strings
    /// cs1 session id, cs2 notable (sessions only), cs3 MITRE technique ids, cs4 use cases, cs5 MITRE names,
    /// cn1 score.
    static func cef(_ a: AlertView) -> String {
        func h(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|") }
        func e(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }
        var ext: [String] = ["rt=\(a.timeMillis)"]
        if let s = a.srcAddress { ext.append("src=\(s)") }
        ext.append("suser=\(e(a.user))")
        let others = a.recipients.filter { $0 != a.user }
        if !others.isEmpty { ext.append("duser=\(e(others.joined(separator: ",")))") }
        else if let s = a.sender, s != a.user { ext.append("duser=\(e(s))") }
        ext.append("act=\(a.kind == "session" ? (a.notable == true ? "notable" : "scored") : "alert")")
        ext.append("cat=\(e(a.kind == "session" ? "session" : (a.activityType ?? a.useCases.first ?? "rule")))")
        ext.append("cs1Label=sessionId cs1=\(e(a.session))")
        if let n = a.notable { ext.append("cs2Label=notable cs2=\(n)") }
        if !a.mitre.isEmpty {
            ext.append("cs3Label=mitreTechniqueIds cs3=\(e(a.mitre.map(\.id).joined(separator: ",")))")
        }
        if !a.useCases.isEmpty { ext.append("cs4Label=useCases cs4=\(e(a.useCases.joined(separator: ",")))") }
        if !a.mitre.isEmpty {
            ext.append("cs5Label=mitreTechniqueNames cs5=\(e(a.mitre.map(\.name).joined(separator: ",")))")
        }
        ext.append("cn1Label=score cn1=\(a.score)")
        ext.append("msg=\(e(a.reason))")
        let cef = "CEF:0|Osprey|Osprey UEBA|\(h(OspreyVersion.string))|\(h(a.rule))|\(h(a.name))|\(a.severity)|" + ext.joined(separator: " ")
        return "<\(pri(a))>1 \(UTCTime.format(a.timeMillis)) \(hostname) osprey - alert - \(cef)"
    }

    /// Facility 14 (log alert); severity 2 (critical) for a notable session, 4 (warning) for a rule
    /// trigger, 5 (notice) for other sessions.
    static func pri(_ a: AlertView) -> Int {
        14 * 8 + (a.kind == "session" ? (a.notable == true ? 2 : 5) : 4)
    }

    /// RFC 5424 with structured data `[osprey@32473 …]` (32473: the example enterprise number of RFC 5612; the
    /// SD-ID is fixed) and the reason as MSG.
    static func rfc5424(_ a: AlertView) -> String {
        func p(_ s: String) -> String {
            var o = ""
            for c in s {
                if c == "\"" || c == "\\" || c == "]" { o.append("\\") }
                o.append(c == "\n" || c == "\r" ? " " : c)
            }
            return o
        }
        var sd = "[osprey@32473 kind=\"\(a.kind)\" rule=\"\(p(a.rule))\" score=\"\(a.score)\" severity=\"\(a.severity)\" user=\"\(p(a.user))\" session=\"\(p(a.session))\""
        if let n = a.notable { sd += " notable=\"\(n)\"" }
        if !a.mitre.isEmpty { sd += " mitre=\"\(p(a.mitre.map(\.id).joined(separator: ",")))\"" }
        if !a.useCases.isEmpty { sd += " use_cases=\"\(p(a.useCases.joined(separator: ",")))\"" }
        if let s = a.srcAddress { sd += " src_ip=\"\(s)\"" }
        sd += "]"
        let msgid = a.kind == "session" ? "SESSION" : "RULE"
        let msg = (a.kind == "session" ? "" : a.name + ": ") + a.reason
        return "<\(pri(a))>1 \(UTCTime.format(a.timeMillis)) \(hostname) osprey - \(msgid) \(sd) \u{FEFF}\(msg.replacingOccurrences(of: "\n", with: " "))"
    }

    /// An Elastic Common Schema document (one JSON line) for Elastic / OpenSearch.
    static func ecs(_ a: AlertView) -> String {
        var event: [(String, JSONValue)] = [
            ("kind", .string("alert")),
            ("category", .array([.string("intrusion_detection"), .string("email")])),
            ("type", .array([.string("info")])),
            ("module", .string("osprey")),
            ("dataset", .string("osprey." + a.kind)),
            ("severity", .int(Int64(a.severity))),
            ("risk_score", .int(Int64(a.score))),
            ("reason", .string(a.reason)),
        ]
        if a.kind == "session" {
            event.append(("start", .string(UTCTime.format(a.startMillis))))
            event.append(("end", .string(UTCTime.format(a.timeMillis))))
        }
        var doc: [(String, JSONValue)] = [
            ("@timestamp", .string(UTCTime.format(a.timeMillis))),
            ("message", .string(a.kind == "session" ? a.reason : a.name + ": " + a.reason)),
            ("event", .object(event)),
            ("observer", .object([("vendor", .string("Osprey")), ("product", .string("Osprey UEBA")),
                                  ("version", .string(OspreyVersion.string)), ("hostname", .string(hostname))])),
        ]
        if a.kind == "rule" {
            doc.append(("rule", .object([("id", .string(a.rule)), ("name", .string(a.name)),
                                         ("category", .string(a.useCases.joined(separator: ",")))])))
        }
        if !a.mitre.isEmpty {
            // ECS: parents under threat.technique, sub-techniques under threat.technique.subtechnique.
            func ref(_ id: String) -> JSONValue { .string("https://attack.mitre.org/techniques/" + id.replacingOccurrences(of: ".", with: "/") + "/") }
            var parents: [(id: String, name: String)] = []
            for t in a.mitre {
                let pid = String(t.id.prefix { $0 != "." })
                if !parents.contains(where: { $0.id == pid }) {
                    parents.append((pid, t.id == pid ? t.name : String(t.name.prefix { $0 != ":" })))
                }
            }
            var technique: [(String, JSONValue)] = [
                ("id", .array(parents.map { .string($0.id) })), ("name", .array(parents.map { .string($0.name) })),
                ("reference", .array(parents.map { ref($0.id) })),
            ]
            let subs = a.mitre.filter { $0.id.contains(".") }
            if !subs.isEmpty {
                technique.append(("subtechnique", .object([
                    ("id", .array(subs.map { .string($0.id) })),
                    ("name", .array(subs.map { .string($0.name.components(separatedBy: ": ").last ?? $0.name) })),
                    ("reference", .array(subs.map { ref($0.id) })),
                ])))
            }
            doc.append(("threat", .object([("framework", .string("MITRE ATT&CK")), ("technique", .object(technique))])))
        }
        var user: [(String, JSONValue)] = [("name", .string(a.user))]
        if a.user.contains("@") { user.append(("email", .string(a.user))) }
        doc.append(("user", .object(user)))
        var source: [(String, JSONValue)] = []
        if let s = a.srcAddress { source.append(("ip", .string(s))) }
        if let c = a.srcCountry { source.append(("geo", .object([("country_iso_code", .string(c))]))) }
        if !source.isEmpty { doc.append(("source", .object(source))) }
        var email: [(String, JSONValue)] = []
        if !a.recipients.isEmpty { email.append(("to", .object([("address", .array(a.recipients.map(JSONValue.string)))]))) }
        if let s = a.subject { email.append(("subject", .string(s))) }
        if !a.attachments.isEmpty {
            email.append(("attachments", .array(a.attachments.map { .object([("file", .object([("name", .string($0))]))]) })))
        }
        if let s = a.sender { email.append(("from", .object([("address", .array([.string(s)]))]))) }
        if !email.isEmpty { doc.append(("email", .object(email))) }
        var osprey: [(String, JSONValue)] = [("session", .string(a.session)), ("score", .int(Int64(a.score))),
                                              ("use_cases", .array(a.useCases.map(JSONValue.string)))]
        if let n = a.notable { osprey.append(("notable", .bool(n))) }
        if !a.rules.isEmpty { osprey.append(("rules", .array(a.rules.map(JSONValue.string)))) }
        if a.evidence != .null { osprey.append(("evidence", a.evidence)) }
        if let op = a.operation { osprey.append(("operation", .string(op))) }
        if let t = a.activityType { osprey.append(("activity_type", .string(t))) }
        doc.append(("osprey", .object(osprey)))
        return JSONValue.object(doc).serialized()
    }
}
