import Foundation
import OspreyAnalytics
import OspreyCore

/// How an alert looks on each output type: CEF (in an RFC 5424 syslog frame), ECS JSON for Elastic /
/// OpenSearch, and plain RFC 5424 syslog with structured data. Pure functions of the alert record, so a
/// restarted serve re-sends exactly what it would have sent.
public enum AlertFormats {
    /// The product version every output names.
    public static var productVersion = "1.0"

    /// 0–10 from the score (a notable session at 90 is 9).
    static func severity(_ score: Int) -> Int { min(10, max(0, score / 10)) }

    /// Syslog severity: critical for notable scores, error, warning, notice below.
    static func syslogSeverity(_ a: AlertLine) -> Int {
        if a.kind != "rule", a.notable ?? (a.kind == "notable") { return 2 }
        return a.score >= 90 ? 2 : a.score >= 60 ? 3 : a.score >= 30 ? 4 : 5
    }

    /// Facility 14 ("log alert").
    static func pri(_ a: AlertLine) -> Int { 14 * 8 + syslogSeverity(a) }

    static let host: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "osprey" }
        let h = String(cString: buf)
        return h.isEmpty ? "osprey" : String(h.filter { $0 > " " && $0 != "\u{7F}" }.prefix(255))
    }()

    // MARK: CEF

    static func cefHeader(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    static func cefValue(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }

    /// `CEF:0|Osprey|Osprey|version|signature|name|severity|extensions`, in an RFC 5424 frame. Signature is
    /// the rule id (`notable` / `session` for those lines); severity 0–10 from the score.
    public static func cef(_ a: AlertLine) -> String {
        let signature: String, name: String, act: String
        switch a.kind {
        case "rule": signature = a.rule ?? "rule"; name = a.name ?? signature; act = "alert"
        case "notable": signature = "notable"; name = "Notable session"; act = "notable"
        default: signature = "session"; name = (a.notable ?? false) ? "Notable session closed" : "Session closed"; act = "session-closed"
        }
        var ext: [(String, String)] = [("rt", "\(a.timeMillis)"), ("suser", a.user)]
        if let e = a.event {
            if let v = e.src_ip { ext.append(("src", v)) }
            if let v = e.dest_email_address, v != a.user { ext.append(("duser", v)) }
            else if let v = e.sender, v != a.user { ext.append(("duser", v)) }
            if let v = e.activity_type { ext.append(("cat", v)) }
            if let v = e.outcome { ext.append(("outcome", v)) }
            if let v = e.app { ext.append(("requestClientApplication", v)) }
            if let v = e.file_name { ext.append(("fname", v)) }
            if let v = e.url { ext.append(("request", v)) }
        } else if a.kind != "rule" {
            ext.append(("cat", "session"))
        }
        ext.append(("act", act))
        ext.append(("cn1Label", "score")); ext.append(("cn1", "\(a.score)"))
        ext.append(("cs1Label", "session")); ext.append(("cs1", a.session))
        if let m = a.mitre, !m.isEmpty {
            ext.append(("cs2Label", "mitre")); ext.append(("cs2", m.map(\.id).joined(separator: ",")))
            ext.append(("cs5Label", "mitreNames")); ext.append(("cs5", m.map(\.name).joined(separator: "; ")))
        }
        if let u = a.use_cases, !u.isEmpty { ext.append(("cs3Label", "useCases")); ext.append(("cs3", u.joined(separator: ","))) }
        if a.kind != "rule" {
            ext.append(("cs4Label", "notable")); ext.append(("cs4", "\(a.notable ?? (a.kind == "notable"))"))
            if let r = a.rules { ext.append(("cs6Label", "rules")); ext.append(("cs6", r.joined(separator: ","))) }
        }
        if let s = a.event?.email_subject { ext.append(("msg", (a.reason ?? "") + " | subject: " + s)) }
        else if let r = a.reason { ext.append(("msg", r)) }
        else if let r = a.rules { ext.append(("msg", "rules " + r.joined(separator: ","))) }
        let body = "CEF:0|Osprey|Osprey|\(cefHeader(productVersion))|\(cefHeader(signature))|\(cefHeader(name))|\(severity(a.score))|"
            + ext.map { "\($0.0)=\(cefValue($0.1))" }.joined(separator: " ")
        return "<\(pri(a))>1 \(UTCTime.format(a.timeMillis)) \(host) osprey - alert - \(body)"
    }

    // MARK: RFC 5424 with structured data

    static func sdValue(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "]", with: "\\]")
    }

    /// `<PRI>1 TIME HOST osprey - KIND [osprey@32473 …] reason`. The SD-ID uses 32473, the enterprise number
    /// RFC 5612 sets aside for documentation, until Osprey has its own.
    public static func syslog(_ a: AlertLine) -> String {
        var sd: [(String, String)] = [("kind", a.kind), ("score", "\(a.score)"), ("user", a.user), ("session", a.session)]
        if let r = a.rule { sd.append(("rule", r)) }
        if let m = a.mitre, !m.isEmpty { sd.append(("mitre", m.map(\.id).joined(separator: ","))) }
        if let u = a.use_cases, !u.isEmpty { sd.append(("use_cases", u.joined(separator: ","))) }
        if a.kind != "rule" { sd.append(("notable", "\(a.notable ?? (a.kind == "notable"))")) }
        if let r = a.rules { sd.append(("rules", r.joined(separator: ","))) }
        if let e = a.event {
            for (k, v) in [("activity_type", e.activity_type), ("src_ip", e.src_ip), ("src_country", e.src_country),
                           ("sender", e.sender), ("recipient", e.dest_email_address)] {
                if let v { sd.append((k, v)) }
            }
        }
        let data = "[osprey@32473 " + sd.map { "\($0.0)=\"\(sdValue($0.1))\"" }.joined(separator: " ") + "]"
        let msg = a.reason ?? (a.rules.map { "rules " + $0.joined(separator: ",") } ?? a.kind)
        return "<\(pri(a))>1 \(UTCTime.format(a.timeMillis)) \(host) osprey - \(a.kind) \(data) \(msg.replacingOccurrences(of: "\n", with: " "))"
    }

    // MARK: ECS

    static func category(_ activity: String?) -> [String] {
        switch activity {
        case "app-login", "failed-app-login": return ["authentication"]
        case "app-activity": return ["iam", "configuration"]
        case .some(let t) where t.hasPrefix("dlp-email"): return ["email"]
        default: return ["intrusion_detection"]
        }
    }

    /// One Elastic Common Schema document (a JSON line): `@timestamp`, `event.*`, `rule.*`,
    /// `threat.technique.*` (sub-techniques under `threat.technique.subtechnique.*`), `user.*`, `source.*`,
    /// `email.*`, and what ECS has no name for under `osprey.*`.
    public static func ecs(_ a: AlertLine) -> String {
        var event: [(String, JSONValue)] = [
            ("kind", .string("alert")),
            ("category", .array(category(a.event?.activity_type).map(JSONValue.string))),
            ("type", .array([.string("info")])),
            ("module", .string("osprey")),
            ("dataset", .string("osprey.alerts")),
            ("severity", .int(Int64(severity(a.score)))),
            ("risk_score", .int(Int64(min(max(a.score, 0), 100)))),
        ]
        if let o = a.event?.outcome { event.append(("outcome", .string(o))) }
        if let r = a.reason { event.append(("reason", .string(r))) }
        if let s = a.start { event.append(("start", .string(s))) }
        if let e = a.end { event.append(("end", .string(e))) }
        var doc: [(String, JSONValue)] = [
            ("@timestamp", .string(UTCTime.format(a.timeMillis))),
            ("ecs", .object([("version", .string("8.11.0"))])),
            ("event", .object(event)),
            ("observer", .object([("vendor", .string("Osprey")), ("product", .string("Osprey")),
                                  ("version", .string(productVersion)), ("hostname", .string(host))])),
        ]
        if let id = a.rule {
            doc.append(("rule", .object([("id", .string(id)), ("name", .string(a.name ?? id))]
                + (a.use_cases.map { [("category", JSONValue.string($0.joined(separator: ", ")))] } ?? []))))
        }
        if let m = a.mitre, !m.isEmpty {
            func ref(_ id: String) -> String { "https://attack.mitre.org/techniques/" + id.replacingOccurrences(of: ".", with: "/") + "/" }
            var seen: [String] = []
            var names: [String] = []
            for t in m {
                let parent = t.id.split(separator: ".").first.map(String.init) ?? t.id
                if !seen.contains(parent) {
                    seen.append(parent)
                    names.append(t.id == parent ? t.name : String(t.name.prefix { $0 != ":" }))
                }
            }
            var technique: [(String, JSONValue)] = [
                ("id", .array(seen.map(JSONValue.string))),
                ("name", .array(names.map(JSONValue.string))),
                ("reference", .array(seen.map { .string(ref($0)) })),
            ]
            let subs = m.filter { $0.id.contains(".") }
            if !subs.isEmpty {
                technique.append(("subtechnique", .object([
                    ("id", .array(subs.map { .string($0.id) })),
                    ("name", .array(subs.map { .string($0.name.components(separatedBy: ": ").last ?? $0.name) })),
                    ("reference", .array(subs.map { .string(ref($0.id)) })),
                ])))
            }
            doc.append(("threat", .object([("framework", .string("MITRE ATT&CK")), ("technique", .object(technique))])))
        }
        let domain = a.user.split(separator: "@").last.map(String.init)
        doc.append(("user", .object([("name", .string(a.user)), ("email", .string(a.user))]
            + (domain.map { [("domain", JSONValue.string($0))] } ?? []))))
        if let e = a.event {
            var source: [(String, JSONValue)] = []
            if let ip = e.src_ip { source.append(("ip", .string(ip))) }
            if let c = e.src_country { source.append(("geo", .object([("country_iso_code", .string(c))]))) }
            if let isp = e.src_isp { source.append(("as", .object([("organization", .object([("name", .string(isp))]))]))) }
            if !source.isEmpty { doc.append(("source", .object(source))) }
            var email: [(String, JSONValue)] = []
            if let s = e.sender { email.append(("from", .object([("address", .array([.string(s)]))]))) }
            if let r = e.dest_email_address { email.append(("to", .object([("address", .array([.string(r)]))]))) }
            if let s = e.email_subject { email.append(("subject", .string(s))) }
            if let f = e.file_name { email.append(("attachments", .array([.object([("file", .object([("name", .string(f))]))])]))) }
            if !email.isEmpty { doc.append(("email", .object(email))) }
            if let u = e.url { doc.append(("url", .object([("original", .string(u))]))) }
        }
        var osprey: [(String, JSONValue)] = [("kind", .string(a.kind)), ("session", .string(a.session)), ("score", .int(Int64(a.score)))]
        if let n = a.notable { osprey.append(("notable", .bool(n))) }
        if let r = a.rules { osprey.append(("rules", .array(r.map(JSONValue.string)))) }
        if let w = a.watchlist { osprey.append(("watchlist", .string(w))) }
        if let t = a.event?.activity_type { osprey.append(("activity_type", .string(t))) }
        doc.append(("osprey", .object(osprey)))
        return JSONValue.object(doc).serialized()
    }
}
