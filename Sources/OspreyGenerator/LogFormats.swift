import OspreyCore

/// One message as the gateway saw it; rendered as receipt + process + delivery lines in one of the shapes.
struct Message {
    var time: Int64
    var code: String                 // aCode / aggregateId
    var sender: String
    var recipient: String
    var direction: String            // Inbound, Outbound, Internal
    var subject: String
    var attachments: [String] = []
    var attachmentBytes: Int = 0
    var bytes: Int
    var sourceIP: String             // connecting MTA
    var destIP: String               // next hop
    var held = false                 // process Act=Hld
    var rejected = false             // receipt Act=Rej
    var delivered = true
}

struct AuditEvent {
    var time: Int64
    var user: String
    var auditType: String
    var category: String
    var info: String                 // eventInfo
}

/// An explicit JSON null (Mimecast writes `"AttNames":null`, `"holdReason":null`); plain nil omits the key.
struct JSONNull {}

enum Shape: CaseIterable { case connector, apiJSON, siemV2, keyValue }

/// Renders records in the shapes Osprey reads (mimecast-formats.md): the connector wrapper around JSON,
/// raw API JSON, SIEM v2 JSON and legacy key=value.
enum LogFormats {
    static func json(_ pairs: [(String, Any?)]) -> String {
        var w = JSONWriter(capacity: 512)
        w.raw("{")
        var first = true
        for (k, v) in pairs {
            guard let v else { continue }
            if !first { w.raw(",") }
            first = false
            w.string(k); w.raw(":")
            switch v {
            case let s as String: w.string(s)
            case let i as Int: w.int(Int64(i))
            case let i as Int64: w.int(i)
            case let b as Bool: w.bool(b)
            case let l as [String]: w.value(.list(l))
            case is JSONNull: w.raw("null")
            default: w.string("\(v)")
            }
        }
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// `2026-11-02T10:00:05+0000`
    static func iso(_ ms: Int64) -> String { String(UTCTime.format(ms).prefix(19)) + "+0000" }

    static func connector(_ ms: Int64, dproc: String, _ record: String, spaced: Bool) -> String {
        let marker = spaced ? "destinationServiceName =Mimecast Email Security" : "destinationServiceName=Mimecast Email Security"
        return "<110>1 \(UTCTime.format(ms + 800)) exa-cc-01 Skyformation - 6865378086067993358 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data cs6Label=raw-event \(marker) dproc=\(dproc) requestClientApplication=Mimecast cs6=\(record)"
    }

    // MARK: mail

    static func message(_ m: Message, shape: Shape, spaced: Bool) -> [(Int64, String)] {
        let t0 = m.time, t1 = m.time + 700, t2 = m.time + 2_300
        switch shape {
        case .connector, .apiJSON:
            let receipt = json([("acc", "C0A0"), ("aCode", m.code), ("datetime", iso(t0)), ("Dir", m.direction), ("Sender", m.sender),
                                ("Rcpt", m.recipient), ("IP", m.sourceIP), ("Act", m.rejected ? "Rej" : "Acc"),
                                ("RejType", m.rejected ? "Envelope Rejected" : nil), ("MsgId", "<\(m.code)@mail.example>"),
                                ("Subject", m.subject), ("SpamScore", 0)])
            var lines = [(t0, receipt)]
            if !m.rejected {
                let names = m.attachments.isEmpty ? nil : m.attachments.map { "\"\($0)\"" }.joined(separator: ", ")
                let process = json([("acc", "C0A0"), ("aCode", m.code), ("datetime", iso(t1)), ("Act", m.held ? "Hld" : "Acc"),
                                    ("Hld", m.held ? "Spm" : nil), ("AttCnt", m.attachments.count),
                                    ("AttNames", shape == .connector ? (m.attachments.isEmpty ? JSONNull() as Any : m.attachments as Any) : (names ?? JSONNull()) as Any),
                                    ("AttSize", m.attachmentBytes), ("MsgSize", m.bytes), ("Sender", m.sender),
                                    ("Subject", m.subject), ("MsgId", "<\(m.code)@mail.example>")])
                lines.append((t1, process))
                if !m.held {
                    let delivery = json([("acc", "C0A0"), ("aCode", m.code), ("datetime", iso(t2)), ("Delivered", m.delivered),
                                         ("Dir", m.direction), ("Sender", m.sender), ("Rcpt", m.recipient), ("IP", m.destIP),
                                         ("Snt", m.delivered ? m.bytes + 180 : 0), ("Attempt", 1), ("Route", "Office365"),
                                         ("RejType", m.delivered ? nil : "Recipient email address is possibly incorrect"),
                                         ("AttCnt", m.attachments.count), ("AttSize", m.attachmentBytes),
                                         ("MsgId", "<\(m.code)@mail.example>"), ("Subject", m.subject)])
                    lines.append((t2, delivery))
                }
            }
            if shape == .connector { return lines.map { ($0.0, connector($0.0, dproc: "SIEM Logs", $0.1, spaced: spaced)) } }
            return lines
        case .siemV2:
            var lines: [(Int64, String)] = [(t0, json([("accountId", "C0A0"), ("aggregateId", m.code), ("processingId", m.code + "_p"),
                ("timestamp", t0), ("type", "receipt"), ("subtype", m.rejected ? "Rej" : "Acc"), ("action", m.rejected ? "Rej" : "Acc"),
                ("senderEnvelope", m.sender), ("recipients", m.recipient), ("senderIp", m.sourceIP), ("direction", m.direction),
                ("messageId", "<\(m.code)@mail.example>"), ("subject", m.subject), ("numberAttachments", "\(m.attachments.count)"),
                ("rejectionType", m.rejected ? "Envelope Rejected" : nil)]))]
            if !m.rejected {
                lines.append((t1, json([("accountId", "C0A0"), ("aggregateId", m.code), ("processingId", m.code + "_p"), ("timestamp", t1),
                    ("type", "process"), ("subtype", m.held ? "Hld" : "Acc"), ("action", m.held ? "Hld" : "Acc"),
                    ("holdReason", m.held ? "Spm" as Any : JSONNull() as Any), ("senderEnvelope", m.sender), ("messageId", "<\(m.code)@mail.example>"),
                    ("subject", m.subject), ("numberAttachments", "\(m.attachments.count)"), ("totalSizeAttachments", "\(m.attachmentBytes)"),
                    ("attachments", m.attachments.isEmpty ? JSONNull() as Any : m.attachments.map { "\"\($0)\"" }.joined(separator: ", ") as Any),
                    ("emailSize", "\(m.bytes)")])))
                if !m.held {
                    lines.append((t2, json([("accountId", "C0A0"), ("aggregateId", m.code), ("processingId", m.code + "_p"), ("timestamp", t2),
                        ("type", "delivery"), ("subtype", m.delivered ? "true" : "false"), ("delivered", m.delivered ? "true" : "false"),
                        ("destinationIp", m.destIP), ("direction", m.direction), ("recipients", m.recipient), ("senderEnvelope", m.sender),
                        ("messageId", "<\(m.code)@mail.example>"), ("subject", m.subject), ("emailSize", "\(m.bytes + 180)"),
                        ("numberAttachments", "\(m.attachments.count)"), ("totalSizeAttachments", "\(m.attachmentBytes)"), ("route", "Office365"),
                        ("rejectionType", m.delivered ? nil : "Recipient email address is possibly incorrect")])))
                }
            }
            return lines
        case .keyValue:
            func kv(_ pairs: [(String, String?)]) -> String {
                pairs.compactMap { k, v in v.map { "\(k)=\($0)" } }.joined(separator: "|")
            }
            let subject = "\\" + m.subject + "\\"
            var lines: [(Int64, String)] = [(t0, kv([("datetime", iso(t0)), ("aCode", m.code), ("acc", "C0A0"), ("IP", m.sourceIP),
                ("Dir", m.direction), ("MsgId", "<\(m.code)@mail.example>"), ("Subject", subject), ("Sender", m.sender),
                ("Rcpt", m.recipient), ("Act", m.rejected ? "Rej" : "Acc"), ("SpamScore", "0")]))]
            if !m.rejected {
                lines.append((t1, kv([("datetime", iso(t1)), ("aCode", m.code), ("acc", "C0A0"), ("AttSize", "\(m.attachmentBytes)"),
                    ("Act", m.held ? "Hld" : "Acc"), ("Hld", m.held ? "Spm" : nil), ("AttCnt", "\(m.attachments.count)"),
                    ("AttNames", m.attachments.isEmpty ? nil : m.attachments.map { "\"\($0)\"" }.joined(separator: ", ")),
                    ("MsgSize", "\(m.bytes)"), ("MsgId", "<\(m.code)@mail.example>")])))
                if !m.held {
                    lines.append((t2, kv([("datetime", iso(t2)), ("aCode", m.code), ("acc", "C0A0"), ("Delivered", m.delivered ? "true" : "false"),
                        ("IP", m.destIP), ("AttCnt", "\(m.attachments.count)"), ("Dir", m.direction), ("MsgId", "<\(m.code)@mail.example>"),
                        ("Subject", subject), ("Sender", m.sender), ("Rcpt", m.recipient), ("Snt", "\(m.delivered ? m.bytes + 180 : 0)"),
                        ("Route", "Office365")])))
                }
            }
            return lines
        }
    }

    // MARK: audit

    static func audit(_ a: AuditEvent, shape: Shape, app: String, ip: String, success: Bool, spaced: Bool) -> (Int64, String) {
        switch shape {
        case .connector:
            let rec = json([("id", "eNq" + String(a.time, radix: 36)), ("auditType", a.auditType), ("user", a.user),
                            ("eventTime", iso(a.time)), ("eventInfo", a.info), ("category", a.category)])
            return (a.time, connector(a.time, dproc: "Audit Events", rec, spaced: spaced))
        case .keyValue:
            let action = success ? "success" : "failure"
            return (a.time, "date=\(iso(a.time))|mcType=auditLog|user=\(a.user)|auditType=\"\(a.auditType)\"|eventInfo=\"\(a.info)|app=\(app)|src=\(ip)|action=\(action)")
        case .apiJSON, .siemV2:
            return (a.time, json([("id", "eNq" + String(a.time, radix: 36)), ("auditType", a.auditType), ("user", a.user),
                                  ("eventTime", iso(a.time)), ("eventInfo", a.info), ("category", a.category)]))
        }
    }

    static func loginInfo(user: String, name: String, success: Bool, time: Int64, ip: String, app: String, method: String,
                          userAgent: String?, clientID: String? = nil, reason: String = "Wrong password") -> String {
        let d = UTCTime.format(time)
        var s = "\(success ? "Successful" : "Failed") authentication for \(user) <\(name)>, Date: \(d.prefix(10)), Time: \(d.dropFirst(11).prefix(8))+0000, IP: \(ip), Application: \(app), Method: \(method)"
        if let userAgent { s += ", User-Agent: \(userAgent)" }
        if let clientID { s += ", Client Id: \(clientID)" }
        if !success { s += ", Reason: \(reason)" }
        return s
    }

    // MARK: protection logs

    static func urlClick(time: Int64, user: String, sender: String, url: String, verdict: String, category: String, ip: String, shape: Shape, spaced: Bool) -> (Int64, String) {
        let rec = json([("userEmailAddress", user), ("fromUserEmailAddress", sender), ("url", url), ("ttpDefinition", "Inbound URL 'Aggressive'"),
                        ("subject", "Newsletter"), ("action", verdict == "clean" ? "allow" : "block"), ("adminOverride", "N/A"),
                        ("userOverride", "None"), ("scanResult", verdict), ("category", category), ("sendingIp", ip), ("date", iso(time)),
                        ("actions", verdict == "clean" ? "Allow" : "Block"), ("route", "inbound"), ("creationMethod", "User Click"),
                        ("messageId", "<u\(time)@news.example>")])
        return (time, shape == .connector ? connector(time, dproc: "TTP URL Logs", rec, spaced: spaced) : rec)
    }

    static func attachmentProtect(time: Int64, user: String, sender: String, file: String, result: String, shape: Shape, spaced: Bool) -> (Int64, String) {
        let rec = json([("senderAddress", sender), ("recipientAddress", user), ("fileName", file), ("fileType", "application/pdf"),
                        ("result", result), ("actionTriggered", result == "safe" ? "none" : "block"), ("date", iso(time)), ("route", "inbound"),
                        ("messageId", "<ap\(time)@x.example>"), ("subject", "Documents"), ("fileHash", String(UInt64(bitPattern: time) &* 2654435761, radix: 16)),
                        ("definition", "Inbound - Attachment Protect")])
        return (time, shape == .connector ? connector(time, dproc: "Attachment Protection", rec, spaced: spaced) : rec)
    }

    static func dlp(time: Int64, sender: String, recipient: String, subject: String, policy: String, action: String) -> (Int64, String) {
        (time, json([("senderAddress", sender), ("recipientAddress", recipient), ("subject", subject), ("eventTime", iso(time)),
                     ("route", "outbound"), ("policy", policy), ("action", action), ("messageId", "<dlp\(time)@northwind.example>")]))
    }
}

