import XCTest
import OspreyCore
@testable import OspreyParsing

/// The activity table (Content/mappings/activity.conf): the user field per direction, and malformed
/// sections refused with their line.
final class ActivityMapTests: XCTestCase {
    let table = """
    [activity mail]
    kind = email
    direction inbound = inbound, in
    direction outbound = outbound
    user outbound = sender
    user any = dest_email_address, sender
    """

    func testUserFieldsPerDirectionFallBackToAny() throws {
        let rule = try XCTUnwrap(try ActivityMap.parse(table, file: "a.conf").rules["mail"])
        XCTAssertEqual(rule.userFields.forDirection("outbound"), [Fields.sender])
        XCTAssertEqual(rule.userFields.forDirection("inbound"), [Fields.destEmailAddress, Fields.sender], "no inbound list: any")
        XCTAssertEqual(rule.userFields.forDirection(nil), [Fields.destEmailAddress, Fields.sender])
        XCTAssertEqual(rule.userFields.forDirection("sideways"), [Fields.destEmailAddress, Fields.sender])

        // Through the event builder: an outbound record's user is its sender, an inbound one's its recipient.
        func user(_ direction: String) -> String? {
            var e = Event(parser: "p", activityType: .appActivity, timeMillis: 0)
            e[Fields.direction] = .string(direction)
            e[Fields.sender] = .string("S@x.example")
            e[Fields.destEmailAddress] = .string("r@y.example")
            EventBuilder.finish(&e, rule: rule)
            return e.string(Fields.user)
        }
        XCTAssertEqual(user("Outbound"), "s@x.example")
        XCTAssertEqual(user("IN"), "r@y.example")
    }

    func testMalformedSectionsNameTheLine() {
        func loadError(_ text: String) -> ContentError? {
            do { _ = try ActivityMap.parse(text, file: "bad.conf"); return nil } catch { return error as? ContentError }
        }
        XCTAssertNil(loadError(table))
        let badUser = loadError(table + "\nuser sideways = sender\n")
        XCTAssertEqual(badUser?.line, 7)
        XCTAssertEqual(badUser?.reason, "user sideways: the direction must be inbound, outbound, internal or any")
        XCTAssertEqual(loadError(table + "\ndirection up = u\n")?.line, 7)
        XCTAssertEqual(loadError("[activity x]\nkind = mystery\n")?.reason, "unknown kind 'mystery' (email, audit, login, fixed)")
    }
}
