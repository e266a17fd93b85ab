import Foundation
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

    /// Files saved with CRLF line ends read like LF files. As Characters CR LF is one grapheme, so a split at
    /// "\n" used to see one line: a config starting with a comment then loaded as empty, without an error.
    func testCRLFFilesReadLikeLFFiles() throws {
        let lf = "# settings\n[parser one]\nvendor = Mimecast\n\n[parser two]\nvendor = Other\nmap A = a\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let a = try ContentFile.parse(lf, file: "f"), b = try ContentFile.parse(crlf, file: "f")
        XCTAssertEqual(b.map(\.name), ["one", "two"])
        XCTAssertEqual(b.map { $0.entries.map(\.value) }, a.map { $0.entries.map(\.value) })
        XCTAssertEqual(b[1].all("map A").first?.line, 7)
        XCTAssertEqual(b[1].all("map A").first?.value, "a", "no CR left on a value")

        let psl = try PublicSuffixList(text: "// VERSION: 2026-01-01\r\ncom\r\n*.ck\r\n!www.ck\r\nco.uk\r\n", file: "psl")
        XCTAssertEqual(psl.ruleCount, 4)
        XCTAssertEqual(psl.version, "2026-01-01")
        XCTAssertEqual(psl.suffixLabelCount("mail.example.co.uk"), 2)

        var lines: [String] = []
        TextLines.forEach(in: "a\r\n\nb\rc\r\n") { n, l in lines.append("\(n):\(String(decoding: l, as: UTF8.self))") }
        XCTAssertEqual(lines, ["1:a", "2:", "3:b\rc"], "only a CR right before LF is a line end's")
    }
}
