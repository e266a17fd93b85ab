import XCTest
@testable import OspreyCore

final class ContentFileTests: XCTestCase {
    func testSectionsEntriesAndLines() throws {
        let text = """
        # comment
        [parser one]
        vendor = Mimecast
        map Rcpt = dest_email_address | lower
        extract line = (?<a>x=y)

        [parser two]
        vendor = Other
        """
        let s = try ContentFile.parse(text, file: "f.parser")
        XCTAssertEqual(s.map(\.name), ["one", "two"])
        XCTAssertEqual(s[0].prefixed("map").first?.arg, "Rcpt")
        XCTAssertEqual(s[0].all("extract line").first?.value, "(?<a>x=y)")
        XCTAssertEqual(s[0].all("extract line").first?.line, 5)
        XCTAssertEqual(s[0].all("vendor").first?.valueColumn, 10)
    }

    func testErrorsNameFileLineAndReason() {
        func error(_ text: String) -> ContentError? {
            do { _ = try ContentFile.parse(text, file: "bad.parser"); return nil } catch { return error as? ContentError }
        }
        XCTAssertEqual(error("key = value")?.line, 1)
        XCTAssertEqual(error("[parser x]\nno equals sign")?.line, 2)
        XCTAssertEqual(error("[parser x]\n[broken")?.reason, "section header must end with ']'")
        XCTAssertEqual(error("[parser]")?.line, 1)
        XCTAssertEqual(error("[parser x]\n = v")?.line, 2)
        XCTAssertEqual(error("key = value")?.description.hasPrefix("bad.parser:1:"), true)
    }

    func testUnknownKeysAreRejected() throws {
        let s = try ContentFile.parse("[parser x]\nvendr = M\n", file: "f")
        XCTAssertThrowsError(try s[0].checkKeys(allowed: ["vendor"])) { e in
            XCTAssertEqual((e as? ContentError)?.line, 2)
        }
    }
}
