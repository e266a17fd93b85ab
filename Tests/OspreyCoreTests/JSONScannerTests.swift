import XCTest
@testable import OspreyCore

final class JSONScannerTests: XCTestCase {
    func members(_ text: String, depth: Int = 2) throws -> [String: String] {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { b in
            let s = JSONScanner(b)
            var out: [String: String] = [:]
            var keysByHash: [UInt64: String] = [:]
            _ = try s.members(ofObjectAt: 0, flattenDepth: depth) { h, k, v in
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: b[k]), as: UTF8.self)
                keysByHash[h] = key
                out[key + "#" + String(h, radix: 16)] = s.string(v)
            }
            return out.reduce(into: [:]) { $0[String($1.key.split(separator: "#")[0])] = $1.value }
        }
    }

    func testFlatRecordWithEscapes() throws {
        let m = try members(#"{"MsgId":"\u003cid@x\u003e","Subject":"a \"quoted\" \\ word","n":12,"b":true,"z":null,"u":"caf\u00e9 \ud83d\ude00"}"#)
        XCTAssertEqual(m["MsgId"], "<id@x>")
        XCTAssertEqual(m["Subject"], #"a "quoted" \ word"#)
        XCTAssertEqual(m["n"], "12")
        XCTAssertEqual(m["b"], "true")
        XCTAssertEqual(m["u"], "café 😀")
    }

    func testNestedObjectsAreFlattenedWithDottedHashes() throws {
        let text = #"{"fromEnv":{"emailAddress":"a@b.c"},"x":1}"#
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { b in
            let s = JSONScanner(b)
            var found: String?
            _ = try s.members(ofObjectAt: 0) { h, _, v in
                if h == FNV.hash("fromEnv.emailAddress") { found = s.string(v) }
            }
            XCTAssertEqual(found, "a@b.c")
        }
    }

    /// Strings are scanned 16 bytes at a time for `"` and `\`: escapes and closing quotes on either side of
    /// every step boundary, and strings that end in an escape or not at all.
    func testStringEndsAndEscapesAtEveryOffset() throws {
        for len in 0..<40 {
            for at in 0...len {
                var body = String(repeating: "x", count: len)
                body.insert(contentsOf: #"\""#, at: body.index(body.startIndex, offsetBy: at))   // an escaped quote
                let m = try members(#"{"k":""# + body + #"","after":1}"#)
                XCTAssertEqual(m["k"], String(repeating: "x", count: at) + "\"" + String(repeating: "x", count: len - at), "\(len) \(at)")
                XCTAssertEqual(m["after"], "1")
            }
            let plain = String(repeating: "y", count: len)
            XCTAssertEqual(try members(#"{"k":""# + plain + #""}"#)["k"], plain)
            XCTAssertThrowsError(try members(#"{"k":""# + plain), "unterminated, \(len) bytes")
            XCTAssertThrowsError(try members(#"{"k":""# + plain + #"\"#), "ends in a backslash, \(len) bytes")
        }
    }

    func testTruncatedJSONIsAnError() {
        for bad in [#"{"a":"b"#, #"{"a":1,"#, #"{"a":[1,2"#, #"{"a" 1}"#, #"{"a":tru}"#, "{"] {
            XCTAssertThrowsError(try members(bad), bad)
        }
    }

    func testDepthLimit() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let text = #"{"a":"# + deep + "}"
        XCTAssertThrowsError(try members(text))
    }
}
