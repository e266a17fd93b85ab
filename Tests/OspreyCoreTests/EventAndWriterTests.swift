import XCTest
@testable import OspreyCore

final class EventAndWriterTests: XCTestCase {
    func testFieldsSetGetRemove() {
        var e = Event(parser: "p", activityType: .emailOut, timeMillis: 0)
        e[Fields.user] = .string("a@b.c")
        e["custom_field"] = .int(3)
        XCTAssertEqual(e.string(Fields.user), "a@b.c")
        XCTAssertEqual(e.int(Field.named("custom_field")), 3)
        e[Fields.user] = nil
        XCTAssertNil(e[Fields.user])
        XCTAssertEqual(e.fieldCount, 1)
    }

    func testEventJSONIsValidAndEscaped() throws {
        var e = Event(parser: "p", activityType: .appLogin, timeMillis: 1_634_544_163_670)
        e[Fields.emailSubject] = .string("line\nbreak \"q\" \u{01} é")
        e[Fields.emailAttachments] = .list(["a.pdf", "b\"c.doc"])
        e[Fields.bytes] = .int(-42)
        var w = JSONWriter()
        w.event(e)
        let obj = try JSONSerialization.jsonObject(with: Data(w.bytes)) as! [String: Any]
        XCTAssertEqual(obj["time"] as? String, "2021-10-18T08:02:43.670Z")
        XCTAssertEqual(obj["activity_type"] as? String, "app-login")
        let fields = obj["fields"] as! [String: Any]
        XCTAssertEqual(fields["email_subject"] as? String, "line\nbreak \"q\" \u{01} é")
        XCTAssertEqual(fields["email_attachments"] as? [String], ["a.pdf", "b\"c.doc"])
        XCTAssertEqual(fields["bytes"] as? Int, -42)
    }

    func testUTF8Validation() {
        func valid(_ b: [UInt8]) -> Bool { b.withUnsafeBytes { Bytes.isValidUTF8($0) } }
        XCTAssertTrue(valid(Array("héllo 😀".utf8)))
        XCTAssertFalse(valid([0x68, 0xFF, 0x69]))
        XCTAssertFalse(valid([0xC3]))                 // truncated sequence
        XCTAssertFalse(valid([0xED, 0xA0, 0x80]))     // surrogate
        XCTAssertFalse(valid([0xC0, 0xAF]))           // overlong
    }
}
