import XCTest
import OspreyCore
import OspreyGenerator
@testable import OspreyAssembly

/// Hand-built parsed events, shaped like the parsers' output (docs/fields.md).
enum Mail {
    static let t0: Int64 = 1_714_557_600_000 // 2024-05-01T10:00:00Z
    static let minute: Int64 = 60_000

    static func base(_ key: String?, _ type: String, _ t: Int64, out: Bool, failed: Bool) -> Event {
        var e = Event(parser: "test-\(type)", activityType: out ? (failed ? .emailOutFailed : .emailOut)
                                                               : (failed ? .emailInFailed : .emailIn), timeMillis: t)
        if let key { e[Fields.joinKey] = .string(key) }
        e[Fields.recordType] = .string(type)
        return e
    }

    static func receipt(_ key: String, _ t: Int64 = t0, from sender: String = "alice@corp.com",
                        to rcpt: String = "bob@partner.net", dir: String = "outbound", rejected: Bool = false,
                        ip: String = "81.2.69.1") -> Event {
        var e = base(key, "receipt", t, out: dir != "inbound", failed: rejected)
        e[Fields.sender] = .string(sender)
        e[Fields.destEmailAddress] = .string(rcpt)
        e[Fields.direction] = .string(dir)
        e[Fields.srcIP] = .string(ip)
        e[Fields.emailSubject] = .string("Q3 numbers")
        e[Fields.messageID] = .string("<\(key)@mta>")
        e[Fields.action] = .string(rejected ? "Rej" : "Acc")
        if rejected { e[Fields.failureReason] = .string("Envelope blocked - User Entry") }
        e[Fields.user] = .string(dir == "inbound" ? rcpt : sender)
        return e
    }

    static func process(_ key: String, _ t: Int64 = t0 + 1_000, from sender: String = "alice@corp.com",
                        attachments: [String] = ["budget.xlsx", "main.py"], size: Int64 = 6_000_000,
                        held: Bool = false) -> Event {
        var e = base(key, "process", t, out: false, failed: held)
        e[Fields.sender] = .string(sender)
        e[Fields.emailSubject] = .string("Q3 numbers")
        if !attachments.isEmpty {
            e[Fields.emailAttachments] = .list(attachments)
            e[Fields.emailAttachment] = .string(attachments[0])
        }
        e[Fields.attachmentCount] = .int(Int64(attachments.count))
        e[Fields.attachmentSize] = .int(size - 2_000)
        e[Fields.bytes] = .int(size)
        e[Fields.action] = .string(held ? "Hld" : "Acc")
        e[Fields.user] = .string(sender)
        return e
    }

    static func delivery(_ key: String, _ t: Int64 = t0 + 2_000, from sender: String = "alice@corp.com",
                         to rcpt: String = "bob@partner.net", dir: String = "outbound", ok: Bool = true,
                         sent: Int64 = 6_001_234, ip: String = "142.251.5.26") -> Event {
        var e = base(key, "delivery", t, out: dir != "inbound", failed: !ok)
        e[Fields.sender] = .string(sender)
        e[Fields.destEmailAddress] = .string(rcpt)
        e[Fields.direction] = .string(dir)
        e[Fields.destIP] = .string(ip)
        e[Fields.bytes] = .int(sent)
        e["delivered"] = .string(ok ? "true" : "false")
        if !ok { e[Fields.failureReason] = .string("550 5.4.1 Recipient address rejected") }
        e[Fields.user] = .string(dir == "inbound" ? rcpt : sender)
        return e
    }

    static func audit(_ t: Int64, user: String = "admin@corp.com") -> Event {
        var e = Event(parser: "test-audit", activityType: .appActivity, timeMillis: t)
        e[Fields.user] = .string(user)
        e[Fields.operation] = .string("Search Action")
        return e
    }
}

extension Event {
    var text: [String: String] {
        var d: [String: String] = [:]
        for i in 0..<fieldCount { let (f, v) = field(at: i); d[f.name] = v.text }
        return d
    }
    /// A stable rendering for whole-output comparisons.
    var rendered: String {
        var s = "\(parser)|\(activityType.rawValue)|\(timeMillis)"
        for i in 0..<fieldCount {
            let (f, v) = field(at: i)
            let kind: String
            switch v {
            case .string: kind = "s"
            case .int: kind = "i"
            case .double: kind = "d"
            case .bool: kind = "b"
            case .list(let l): kind = "l\(l.count)"
            }
            s += "|\(f.name)=\(kind):\(v.text)"
        }
        return s
    }
}

final class AssemblerTests: XCTestCase {
    func assemble(_ events: [Event], _ config: AssemblyConfig = AssemblyConfig()) -> ([Event], AssemblyStats) {
        Assembler.assemble(events, config: config)
    }

    func testJoinsReceiptProcessDeliveryIntoOneEvent() {
        let (out, stats) = assemble([Mail.receipt("k1"), Mail.process("k1"), Mail.delivery("k1")])
        XCTAssertEqual(out.count, 1)
        let e = out[0]
        XCTAssertEqual(e.activityType, .emailOut)
        XCTAssertEqual(e.timeMillis, Mail.t0)
        XCTAssertEqual(e.string(Fields.user), "alice@corp.com")
        XCTAssertEqual(e.string(Fields.emailDomain), "corp.com")
        XCTAssertEqual(e.string(Fields.sender), "alice@corp.com")
        XCTAssertEqual(e.string(Fields.destEmailAddress), "bob@partner.net")
        XCTAssertEqual(e.string(Fields.destDomain), "partner.net")
        XCTAssertEqual(e[Fields.emailRecipients], .list(["bob@partner.net"]))
        XCTAssertEqual(e.string(Fields.direction), "outbound")
        XCTAssertEqual(e[Fields.emailAttachments], .list(["budget.xlsx", "main.py"]))
        XCTAssertEqual(e.string(Fields.fileExt), "xlsx")
        XCTAssertEqual(e.int(Fields.attachmentCount), 2)
        XCTAssertEqual(e.int(Fields.bytes), 6_000_000, "message size comes from the process line")
        XCTAssertEqual(e.int(AssemblyField.bytesSent), 6_001_234, "bytes sent come from the delivery line")
        XCTAssertEqual(e.string(Fields.srcIP), "81.2.69.1", "connecting IP from the receipt")
        XCTAssertEqual(e.string(Fields.destIP), "142.251.5.26", "destination IP from the delivery")
        XCTAssertEqual(e[AssemblyField.parts], .list(["receipt", "process", "delivery"]))
        XCTAssertEqual(e[AssemblyField.assembled], .bool(true))
        XCTAssertEqual(e[AssemblyField.partial], .bool(false))
        XCTAssertEqual(e.string(AssemblyField.mailOutcome), "delivered")
        XCTAssertEqual(e.string(Fields.outcome), "success")
        XCTAssertEqual(e.string(Fields.recordType), "message")
        XCTAssertEqual(e.string(Fields.joinKey), "k1")
        XCTAssertEqual(e.parser, "test-receipt")
        XCTAssertEqual(stats.partsIn, 3)
        XCTAssertEqual(stats.emailEvents, 1)
        XCTAssertEqual(stats.partialEvents, 0)
        XCTAssertEqual(stats.orphanParts, 0)
        XCTAssertEqual(stats.eventsOut, 1)
    }

    func testInboundUserIsTheRecipient() {
        let (out, _) = assemble([
            Mail.receipt("k", from: "x@ext.org", to: "Bob@Corp.com", dir: "inbound"),
            Mail.process("k", from: "x@ext.org"),
            Mail.delivery("k", from: "x@ext.org", to: "bob@corp.com", dir: "inbound"),
        ])
        XCTAssertEqual(out.count, 1, "recipients match case-insensitively")
        XCTAssertEqual(out[0].activityType, .emailIn)
        XCTAssertEqual(out[0].string(Fields.user), "bob@corp.com")
        XCTAssertEqual(out[0].string(Fields.destEmailAddress), "Bob@Corp.com")
    }

    func testInternalUserIsTheSender() {
        let (out, _) = assemble([Mail.receipt("k", to: "carol@corp.com", dir: "Internal"), Mail.process("k"),
                                 Mail.delivery("k", to: "carol@corp.com", dir: "internal")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].activityType, .emailOut)
        XCTAssertEqual(out[0].string(Fields.direction), "internal")
        XCTAssertEqual(out[0].string(Fields.user), "alice@corp.com")
    }

    func testPerRecipientOutcomes() {
        let (out, stats) = assemble([
            Mail.receipt("k", to: "bob@partner.net"),
            Mail.receipt("k", to: "eve@gmail.com", ip: "81.2.69.1"),
            Mail.process("k"),
            Mail.delivery("k", to: "bob@partner.net", ok: true, ip: "1.1.1.1"),
            Mail.delivery("k", to: "eve@gmail.com", ok: false, sent: 140, ip: "2.2.2.2"),
        ])
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out.map { $0.string(Fields.destEmailAddress) }, ["bob@partner.net", "eve@gmail.com"])
        XCTAssertEqual(out.map(\.activityType), [.emailOut, .emailOutFailed])
        XCTAssertEqual(out.map { $0.string(AssemblyField.mailOutcome) }, ["delivered", "failed"])
        XCTAssertEqual(out.map { $0.string(Fields.destIP) }, ["1.1.1.1", "2.2.2.2"])
        XCTAssertNil(out[0][Fields.failureReason])
        XCTAssertEqual(out[1].string(Fields.failureReason), "550 5.4.1 Recipient address rejected")
        XCTAssertEqual(out[0][Fields.emailRecipients], .list(["bob@partner.net", "eve@gmail.com"]))
        XCTAssertEqual(out[1].int(Fields.bytes), 6_000_000)
        XCTAssertEqual(out[1].int(AssemblyField.bytesSent), 140)
        XCTAssertEqual(out[1][AssemblyField.parts], .list(["receipt", "process", "delivery"]))
        XCTAssertEqual(stats.partialEvents, 0)
    }

    func testHeldMessageIsFailedAndComplete() {
        let (out, _) = assemble([Mail.receipt("k"), Mail.process("k", held: true)])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].activityType, .emailOutFailed)
        XCTAssertEqual(out[0].string(AssemblyField.mailOutcome), "held")
        XCTAssertEqual(out[0].string(Fields.action), "Hld", "the action of the part that decided the outcome")
        XCTAssertEqual(out[0].string(Fields.outcome), "failure")
        XCTAssertEqual(out[0][AssemblyField.partial], .bool(false))
    }

    func testRejectedAtReceiptIsComplete() {
        let (out, stats) = assemble([Mail.receipt("k", from: "spam@bad.biz", to: "bob@corp.com", dir: "inbound", rejected: true)])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].activityType, .emailInFailed)
        XCTAssertEqual(out[0].string(AssemblyField.mailOutcome), "rejected")
        XCTAssertEqual(out[0].string(Fields.failureReason), "Envelope blocked - User Entry")
        XCTAssertEqual(out[0][AssemblyField.partial], .bool(false))
        XCTAssertEqual(stats.partialEvents, 0)
    }

    func testRetryThenDeliveredIsDelivered() {
        let (out, _) = assemble([
            Mail.receipt("k"), Mail.process("k"),
            Mail.delivery("k", Mail.t0 + 2_000, ok: false, sent: 140, ip: "9.9.9.9"),
            Mail.delivery("k", Mail.t0 + 5 * Mail.minute, ok: true, sent: 6_001_000, ip: "8.8.8.8"),
        ])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].string(AssemblyField.mailOutcome), "delivered")
        XCTAssertEqual(out[0].activityType, .emailOut)
        XCTAssertEqual(out[0].int(AssemblyField.deliveryAttempts), 2)
        XCTAssertEqual(out[0].string(Fields.destIP), "8.8.8.8")
        XCTAssertEqual(out[0].int(AssemblyField.bytesSent), 6_001_000)
        XCTAssertNil(out[0][Fields.failureReason], "no failure reason from the earlier attempt")
    }

    func testHeldThenReleasedAndDeliveredIsDelivered() {
        let (out, _) = assemble([Mail.receipt("k"), Mail.process("k", held: true),
                                 Mail.delivery("k", Mail.t0 + 10 * Mail.minute)])
        XCTAssertEqual(out.map { $0.string(AssemblyField.mailOutcome) }, ["delivered"])
        XCTAssertEqual(out[0].activityType, .emailOut)
    }

    func testAcceptedWithoutDeliveryIsPartialSuccess() {
        let (out, stats) = assemble([Mail.receipt("k"), Mail.process("k")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].string(AssemblyField.mailOutcome), "accepted")
        XCTAssertEqual(out[0].activityType, .emailOut)
        XCTAssertEqual(out[0][AssemblyField.partial], .bool(true))
        XCTAssertEqual(stats.partialEvents, 1)
    }

    func testProcessAloneIsAnOrphanPartialEvent() {
        let (out, stats) = assemble([Mail.process("lonely")])
        XCTAssertEqual(out.count, 1)
        let e = out[0]
        XCTAssertEqual(e[AssemblyField.partial], .bool(true))
        XCTAssertEqual(e[AssemblyField.parts], .list(["process"]))
        XCTAssertNil(e[Fields.destEmailAddress])
        XCTAssertEqual(e[Fields.emailAttachments], .list(["budget.xlsx", "main.py"]))
        XCTAssertEqual(e.string(Fields.user), "alice@corp.com", "no direction, no recipient: the part's own user")
        XCTAssertEqual(stats.orphanParts, 1)
        XCTAssertEqual(stats.orphanMessages, 1)
        XCTAssertEqual(stats.messagesWithoutRecipient, 1)
    }

    func testDeliveryWithoutReceiptTakesDirectionFromItself() {
        let (out, stats) = assemble([Mail.process("k"), Mail.delivery("k")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].activityType, .emailOut)
        XCTAssertEqual(out[0].string(Fields.user), "alice@corp.com")
        XCTAssertEqual(out[0][AssemblyField.partial], .bool(true))
        XCTAssertEqual(out[0][AssemblyField.parts], .list(["process", "delivery"]))
        XCTAssertEqual(stats.orphanParts, 2)
    }

    func testReceiptForOneRecipientGivesMessageFieldsToAnother() {
        // bob's receipt line is missing; alice's gives the sender IP and subject, but not the outcome.
        var r = Mail.receipt("k", to: "carol@partner.net", rejected: true)
        r[Fields.emailSubject] = .string("only on the receipt")
        let (out, _) = assemble([r, Mail.delivery("k", to: "bob@partner.net")])
        XCTAssertEqual(out.count, 2)
        let bob = out.first { $0.string(Fields.destEmailAddress) == "bob@partner.net" }!
        XCTAssertEqual(bob.string(Fields.emailSubject), "only on the receipt")
        XCTAssertEqual(bob.string(Fields.srcIP), "81.2.69.1")
        XCTAssertEqual(bob.string(AssemblyField.mailOutcome), "delivered")
        XCTAssertEqual(bob[AssemblyField.parts], .list(["delivery"]))
        XCTAssertEqual(bob[AssemblyField.partial], .bool(true))
        let carol = out.first { $0.string(Fields.destEmailAddress) == "carol@partner.net" }!
        XCTAssertEqual(carol.string(AssemblyField.mailOutcome), "rejected")
    }

    func testProtectionRecordJoinsAndCanHold() {
        var imp = Mail.base("k", "impersonation", Mail.t0 + 500, out: false, failed: true)
        imp[Fields.destEmailAddress] = .string("bob@corp.com")
        imp[Fields.action] = .string("Hold")
        imp["alert_name"] = .string("Default Impersonation Definition")
        let (out, _) = assemble([Mail.receipt("k", from: "ceo@c0rp.com", to: "bob@corp.com", dir: "inbound"),
                                 Mail.process("k", from: "ceo@c0rp.com"), imp])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].string(AssemblyField.mailOutcome), "held")
        XCTAssertEqual(out[0].activityType, .emailInFailed)
        XCTAssertEqual(out[0].string(Field.named("alert_name")), "Default Impersonation Definition")
        XCTAssertEqual(out[0][AssemblyField.parts], .list(["receipt", "process", "impersonation"]))
    }

    func testWindowIsEventTime() {
        let late = Mail.delivery("k", Mail.t0 + 20 * Mail.minute)
        let (split, s1) = assemble([Mail.receipt("k"), Mail.audit(Mail.t0 + 16 * Mail.minute), late])
        XCTAssertEqual(split.filter { $0[AssemblyField.assembled] != nil }.count, 2, "15-minute window: two messages")
        XCTAssertEqual(s1.closedByWindow, 1)
        XCTAssertEqual(s1.partialEvents, 2)
        let (joined, _) = assemble([Mail.receipt("k"), Mail.audit(Mail.t0 + 16 * Mail.minute), late],
                                   AssemblyConfig(windowMillis: 30 * Mail.minute))
        XCTAssertEqual(joined.filter { $0[AssemblyField.assembled] != nil }.count, 1)
    }

    func testPassThroughEventsWaitBehindOpenMessages() {
        var a = Assembler()
        var out: [Event] = []
        a.push(Mail.audit(Mail.t0 - 1), into: &out)
        XCTAssertEqual(out.count, 1, "nothing open: straight through")
        a.push(Mail.receipt("k"), into: &out)
        a.push(Mail.audit(Mail.t0 + 1), into: &out)
        a.push(Mail.process("k"), into: &out)
        a.push(Mail.audit(Mail.t0 + 5 * Mail.minute), into: &out)
        XCTAssertEqual(out.count, 1, "later events wait for the open message")
        XCTAssertEqual(a.stats.bufferedEvents, 4)
        a.push(Mail.audit(Mail.t0 + 15 * Mail.minute + 1), into: &out)
        XCTAssertEqual(out.count, 5, "the window closed: message then the audits, in time order")
        XCTAssertEqual(out.map(\.timeMillis), [Mail.t0 - 1, Mail.t0, Mail.t0 + 1, Mail.t0 + 5 * Mail.minute,
                                               Mail.t0 + 15 * Mail.minute + 1])
        XCTAssertEqual(out[1][AssemblyField.assembled], .bool(true))
        a.finish(into: &out)
        XCTAssertEqual(out.count, 5)
        XCTAssertEqual(a.stats.eventsOut, 5)
        XCTAssertEqual(a.stats.bufferedEvents, 0)
    }

    func testAdvanceClosesIdleMessages() {
        var a = Assembler()
        var out: [Event] = []
        a.push(Mail.receipt("k"), into: &out)
        a.advance(toMillis: Mail.t0 + 10 * Mail.minute, into: &out)
        XCTAssertTrue(out.isEmpty)
        a.advance(toMillis: Mail.t0 + 16 * Mail.minute, into: &out)
        XCTAssertEqual(out.count, 1)
    }

    func testOutOfOrderPartsStillJoin() {
        let (out, _) = assemble([Mail.delivery("k", Mail.t0 + 2_000), Mail.process("k"), Mail.receipt("k")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].timeMillis, Mail.t0, "the message's time is its earliest part")
        XCTAssertEqual(out[0].parser, "test-receipt")
        XCTAssertEqual(out[0][AssemblyField.partial], .bool(false))
    }

    func testLatePartBecomesItsOwnPartialEvent() {
        var a = Assembler()
        var out: [Event] = []
        a.push(Mail.receipt("k"), into: &out)
        a.push(Mail.audit(Mail.t0 + 30 * Mail.minute), into: &out)
        XCTAssertEqual(out.count, 2)
        a.push(Mail.delivery("k", Mail.t0 + 2_000), into: &out)
        XCTAssertEqual(a.stats.lateParts, 1)
        XCTAssertEqual(out.count, 3, "closed at once, never held")
        XCTAssertEqual(out[2][AssemblyField.partial], .bool(true))
        XCTAssertEqual(out[2][AssemblyField.parts], .list(["delivery"]))
    }

    func testJoinKeyNormalization() {
        XCTAssertEqual(Assembler.normalizeJoinKey("ycS8ZuP_MPunTsp6ErzBSA_1731499054"), "ycS8ZuP_MPunTsp6ErzBSA")
        XCTAssertEqual(Assembler.normalizeJoinKey("x0J66B7HOZCFDsdRtjBrdg"), "x0J66B7HOZCFDsdRtjBrdg")
        XCTAssertEqual(Assembler.normalizeJoinKey("HhuwRf_AOcuJZINE2ZgcKw"), "HhuwRf_AOcuJZINE2ZgcKw")
        XCTAssertEqual(Assembler.normalizeJoinKey("abc_173149905"), "abc_173149905", "9 digits: not a suffix")
        XCTAssertEqual(Assembler.normalizeJoinKey("_1731499054"), "_1731499054")
        let (out, _) = assemble([Mail.receipt("Zyc2YQp5NiebreJzicSY0g_1731827848"),
                                 Mail.process("Zyc2YQp5NiebreJzicSY0g_1731827123"),
                                 Mail.delivery("Zyc2YQp5NiebreJzicSY0g")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].string(Fields.joinKey), "Zyc2YQp5NiebreJzicSY0g")
        let (raw, _) = assemble([Mail.receipt("a_1731827848"), Mail.process("a_1731827123")],
                                AssemblyConfig(normalizeJoinKeys: false))
        XCTAssertEqual(raw.count, 2)
    }

    func testRecipientListsAndEmptyJoinKeys() {
        var r = Mail.receipt("k")
        r[Fields.destEmailAddress] = nil
        r[Fields.emailRecipients] = .list(["a@x.com", "<B@y.com>", "a@x.com"])
        var noKey = Mail.receipt("unused")
        noKey[Fields.joinKey] = .string("")
        let (out, stats) = assemble([r, Mail.delivery("k", to: "b@y.com"), noKey])
        XCTAssertEqual(out.filter { $0[AssemblyField.assembled] != nil }.map { $0.string(Fields.destEmailAddress) }, ["a@x.com", "B@y.com"])
        XCTAssertEqual(stats.passThrough, 1, "an empty join key is no join key")
        XCTAssertEqual(out.last?.string(Fields.recordType), "receipt")
    }

    func testAccounting() {
        let events = MailStream.events(messages: 3_000, seed: 3)
        let (out, s) = assemble(events)
        XCTAssertEqual(s.eventsIn, events.count)
        XCTAssertEqual(s.partsIn + s.passThrough, s.eventsIn)
        XCTAssertEqual(s.eventsOut, out.count)
        XCTAssertEqual(out.count, s.passThrough + s.emailEvents)
        XCTAssertEqual(s.messagesOpened, s.messagesClosed)
        XCTAssertEqual(s.messagesOpened, 3_000)
        XCTAssertEqual(s.openMessages, 0)
        XCTAssertEqual(s.bufferedEvents, 0)
        XCTAssertEqual(s.orphanParts, 0)
        XCTAssertEqual(s.closedByOpenLimit + s.closedByBufferLimit, 0)
        // every recipient of every message: one event
        var perKey: [String: Set<String>] = [:]
        for e in events { if let k = e.string(Fields.joinKey), let r = e.string(Fields.destEmailAddress) { perKey[k, default: []].insert(r) } }
        XCTAssertEqual(s.emailEvents, perKey.values.reduce(0) { $0 + $1.count })
    }
}
