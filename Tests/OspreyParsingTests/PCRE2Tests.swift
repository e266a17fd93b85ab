import XCTest
@testable import OspreyParsing

final class PCRE2Tests: XCTestCase {
    func testNamedCapturesOnBytes() throws {
        let r = try PCRE2Regex(#"IP:\s*(?<src_ip>[0-9.]+)"#)
        XCTAssertTrue(r.isJIT)
        XCTAssertEqual(r.captures(in: "x, IP: 10.1.2.3, y")?["src_ip"], "10.1.2.3")
        XCTAssertNil(r.captures(in: "no address here"))
    }

    func testDuplicateNamesTakeTheGroupThatMatched() throws {
        let r = try PCRE2Regex(#"(?:src=(?<ip>[0-9.]+)|IP: (?<ip>[0-9.]+))"#)
        XCTAssertEqual(r.groups.first?.numbers.count, 2)
        XCTAssertEqual(r.captures(in: "IP: 1.2.3.4")?["ip"], "1.2.3.4")
        XCTAssertEqual(r.captures(in: "src=5.6.7.8")?["ip"], "5.6.7.8")
    }

    func testCompileErrorNamesPatternAndOffset() {
        XCTAssertThrowsError(try PCRE2Regex("abc(?<x>def")) { e in
            let err = e as! PCRE2Regex.CompileError
            XCTAssertEqual(err.pattern, "abc(?<x>def")
            XCTAssertEqual(err.offset, 11)
            XCTAssertTrue(err.description.contains("offset 11"))
        }
    }

    func testInvalidUTF8SubjectDoesNotCrash() throws {
        let r = try PCRE2Regex(#"(?<w>b+)"#)
        let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0x62, 0xC3]
        var got: Range<Int>?
        let ok = bytes.withUnsafeBytes { b in r.match(b) { _, range in got = range } }
        XCTAssertTrue(ok)
        XCTAssertEqual(got, 2..<4)
    }

    func testMatchLimitStopsCatastrophicBacktracking() throws {
        let r = try PCRE2Regex(#"^(?<a>(a+)+)$"#, matchLimit: 10_000)
        let subject = String(repeating: "a", count: 40) + "b"
        XCTAssertNil(r.captures(in: subject))
        XCTAssertGreaterThan(r.limitHits, 0)
    }
}
