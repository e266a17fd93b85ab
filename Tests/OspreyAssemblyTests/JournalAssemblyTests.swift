import XCTest
import OspreyCore
@testable import OspreyAssembly

/// Journal copies (record_type journal) name the journal's recipients: they must not add recipients to a
/// message whose other parts name its real ones (issue 14).
final class JournalAssemblyTests: XCTestCase {
    func journal(_ key: String, to rcpts: [String], _ t: Int64 = Mail.t0 + 500) -> Event {
        var e = Event(parser: "test-journal", activityType: .emailOut, timeMillis: t)
        e[Fields.joinKey] = .string(key)
        e[Fields.recordType] = .string("journal")
        e[Fields.sender] = .string("alice@corp.com")
        e[Fields.emailRecipients] = .list(rcpts)
        e[Fields.destEmailAddress] = .string(rcpts[0])
        e[Fields.direction] = .string("outbound")
        return e
    }

    func testJournalAddsNoRecipientWhenOtherPartsNameThem() {
        for order in [[0, 1, 2], [1, 0, 2], [2, 1, 0]] {
            let parts = [Mail.receipt("k1"), journal("k1", to: ["journal@corp.com", "bob@partner.net"]), Mail.delivery("k1")]
            let (out, stats) = Assembler.assemble(order.map { parts[$0] })
            XCTAssertEqual(out.count, 1, "order \(order)")
            XCTAssertEqual(out.first?.string(Fields.destEmailAddress), "bob@partner.net")
            XCTAssertEqual(out.first?[Fields.emailRecipients], .list(["bob@partner.net"]))
            XCTAssertEqual(out.first?[AssemblyField.parts], .list(["receipt", "delivery", "journal"]))
            XCTAssertEqual(stats.emailEvents, 1)
        }
    }

    func testJournalAloneKeepsItsRecipients() {
        let (out, _) = Assembler.assemble([journal("k2", to: ["journal@corp.com"]), Mail.process("k2")])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first?.string(Fields.destEmailAddress), "journal@corp.com")
    }
}
