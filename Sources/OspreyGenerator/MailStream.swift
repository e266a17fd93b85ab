import OspreyCore

/// A synthetic Mimecast mail stream in the parsers' output shape, for the assembly stage's tests
/// (determinism, floods) and the assembly benchmarks of `Benchmarks/`.
public enum MailStream {
    /// SplitMix64 draws below a bound (the stream is the same for a seed on every platform).
    struct Draw {
        var core: SplitMix64
        init(seed: UInt64) { core = SplitMix64(state: seed) }
        mutating func next() -> UInt64 { core.next() }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    }

    /// `messages` messages of 1–3 recipients, as parsed events in time order: a receipt per recipient, a
    /// process line, a delivery per recipient (one in ten needs a failed attempt first, one in fifty is held
    /// with no delivery, one in fifty rejected at receipt), plus one audit event (no join key) per
    /// `auditEvery` messages. About 20 fields per mail line, like the parsers' output.
    public static func events(messages: Int, seed: UInt64 = 1, startMillis: Int64 = 1_714_557_600_000,
                                       gapMillis: Int64 = 40, auditEvery: Int = 4) -> [Event] {
        var rng = Draw(seed: seed)
        var events: [Event] = []
        events.reserveCapacity(messages * 6)
        let users = (0..<500).map { "user\($0)@corp.example.com" }
        let externals = (0..<2000).map { "contact\($0)@partner\($0 % 97).example.net" }
        let exts = ["pdf", "docx", "xlsx", "zip", "py", "png"]
        for m in 0..<messages {
            let t0 = startMillis + Int64(m) * gapMillis + Int64(rng.below(Int(gapMillis)))
            let key = "aCode\(m)x\(rng.next() % 1_000_000)"
            let outbound = rng.below(3) == 0
            let sender = outbound ? users[rng.below(users.count)] : externals[rng.below(externals.count)]
            let nRcpt = 1 + rng.below(3)
            let recipients = (0..<nRcpt).map { _ in outbound ? externals[rng.below(externals.count)] : users[rng.below(users.count)] }
            let subject = "Quarterly report \(m % 1000)"
            let msgID = "<\(key)@mta.example.com>"
            let fate = rng.below(50)
            func mail(_ type: String, _ t: Int64, _ parser: String) -> Event {
                var e = Event(parser: parser, activityType: outbound ? .emailOut : .emailIn, timeMillis: t)
                e[Fields.joinKey] = .string(key)
                e[Fields.recordType] = .string(type)
                e[Fields.sender] = .string(sender)
                e[Fields.senderDomain] = .string(String(sender.split(separator: "@").last!))
                e[Fields.emailSubject] = .string(subject)
                e[Fields.messageID] = .string(msgID)
                e["account"] = .string("CUSA102A236")
                return e
            }
            for r in recipients {
                var e = mail("receipt", t0, "mimecast-json-siem-receipt")
                e[Fields.destEmailAddress] = .string(r)
                e[Fields.direction] = .string(outbound ? "outbound" : "inbound")
                e[Fields.srcIP] = .string("81.2.69.\(rng.below(250))")
                e[Fields.action] = .string(fate == 0 ? "Rej" : "Acc")
                e["tls_version"] = .string("TLSv1.2")
                e["spam_score"] = .int(Int64(rng.below(10)))
                e[Fields.user] = .string(outbound ? sender : r)
                if fate == 0 { e.activityType = outbound ? .emailOutFailed : .emailInFailed }
                events.append(e)
            }
            if fate == 0 { continue }
            var p = mail("process", t0 + 150, "mimecast-json-siem-process")
            let nAtt = rng.below(3)
            let names = (0..<nAtt).map { "file\($0).\(exts[rng.below(exts.count)])" }
            p[Fields.attachmentCount] = .int(Int64(nAtt))
            p[Fields.attachmentSize] = .int(Int64(nAtt * 40_000 + rng.below(1000)))
            p[Fields.bytes] = .int(Int64(5_000 + nAtt * 40_000 + rng.below(10_000)))
            if !names.isEmpty { p[Fields.emailAttachments] = .list(names); p[Fields.emailAttachment] = .string(names[0]) }
            p[Fields.action] = .string(fate == 1 ? "Hld" : "Acc")
            p[Fields.user] = .string(sender)
            if fate == 1 { p.activityType = outbound ? .emailOutFailed : .emailInFailed }
            events.append(p)
            if fate == 1 { continue }
            for r in recipients {
                let retry = rng.below(10) == 0
                for attempt in 0..<(retry ? 2 : 1) {
                    let ok = !retry || attempt == 1
                    var d = mail("delivery", t0 + 1_200 + Int64(attempt) * 60_000, "mimecast-json-siem-delivery")
                    d[Fields.destEmailAddress] = .string(r)
                    d[Fields.direction] = .string(outbound ? "outbound" : "inbound")
                    d[Fields.destIP] = .string("104.47.\(rng.below(250)).\(rng.below(250))")
                    d[Fields.bytes] = .int(ok ? Int64(6_000 + nAtt * 40_000) : 140)
                    d["delivered"] = .string(ok ? "true" : "false")
                    d["route"] = .string("Office365")
                    d[Fields.user] = .string(outbound ? sender : r)
                    if !ok {
                        d[Fields.failureReason] = .string("451 4.4.0 try again later")
                        d.activityType = outbound ? .emailOutFailed : .emailInFailed
                    }
                    events.append(d)
                }
            }
            if auditEvery > 0, m % auditEvery == 0 {
                var a = Event(parser: "mimecast-json-audit", activityType: .appActivity, timeMillis: t0 + 500)
                a[Fields.user] = .string(users[rng.below(users.count)])
                a[Fields.operation] = .string("Search Action")
                a[Fields.category] = .string("case_review_logs")
                a[Fields.srcIP] = .string("10.0.0.\(rng.below(250))")
                events.append(a)
            }
        }
        // Time order, stable on generation order (the order a time-sorted replay would feed).
        let order = events.indices.sorted { events[$0].timeMillis != events[$1].timeMillis ? events[$0].timeMillis < events[$1].timeMillis : $0 < $1 }
        return order.map { events[$0] }
    }

}
