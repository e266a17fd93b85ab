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

    /// Field lookup compares eight ids per step: every position around the step boundaries, ids past 255
    /// (no presence bit), removals and re-adds agree with a plain model of the event.
    func testFieldLookupAgreesWithAModelAtEveryPosition() {
        var rng = SplitMix64(state: 11)
        let pool = (0..<40).map { Field.named("lookup_test_\($0)") } + [Fields.user, Fields.srcIP, Fields.time]
        for n in 0...33 {
            var e = Event(parser: "p", activityType: .appActivity, timeMillis: 0)
            var model: [(Field, Value)] = []
            for k in 0..<n {
                let f = pool[Int(rng.next() % UInt64(pool.count))]
                e[f] = .int(Int64(k))
                if let i = model.firstIndex(where: { $0.0 == f }) { model[i].1 = .int(Int64(k)) } else { model.append((f, .int(Int64(k)))) }
                if rng.next() % 5 == 0, !model.isEmpty {
                    let drop = Int(rng.next() % UInt64(model.count))
                    e[model[drop].0] = nil
                    model.remove(at: drop)
                }
            }
            XCTAssertEqual(e.fieldCount, model.count, "n \(n)")
            for f in pool {
                XCTAssertEqual(e[f], model.first(where: { $0.0 == f })?.1, "n \(n), \(f.name)")
                XCTAssertEqual(e.index(of: f), model.firstIndex(where: { $0.0 == f }), "n \(n), \(f.name)")
            }
        }
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
