import OspreyTestSupport
import XCTest
@testable import OspreyServe

final class SyslogTests: XCTestCase {
    func payload(_ s: String) -> String { String(decoding: Syslog.payload(Array(s.utf8)[...]), as: UTF8.self) }

    func testHeaders() {
        // No PRI: as is.
        XCTAssertEqual(payload("{\"a\":1}"), "{\"a\":1}")
        // RFC 5424 with nil and real structured data, BOM.
        XCTAssertEqual(payload("<134>1 2026-11-02T08:15:02.113Z relay01 app - - - {\"a\":1}"), "{\"a\":1}")
        XCTAssertEqual(payload("<134>1 2026-11-02T08:15:02Z h app 12 ID7 [ex@1 k=\"v]x\"][y@2 a=\"b\"] datetime=x|a=b"), "datetime=x|a=b")
        XCTAssertEqual(payload("<134>1 2026-11-02T08:15:02Z h app - - - \u{FEFF}{\"a\":1}\n"), "{\"a\":1}")
        // RFC 5424 carrying CEF: the whole message (the cef parsers read its header).
        let cef = "<110>1 2026-11-02T08:15:02.113Z exa-cc-01 Skyformation - 686 - CEF:0|Skyformation|X|2|sig|name|0|a=b"
        XCTAssertEqual(payload(cef), cef)
        // RFC 3164 with and without a tag, ISO timestamp.
        XCTAssertEqual(payload("<134>Nov  2 08:15:02 relay01 mimecast[42]: {\"a\":1}"), "{\"a\":1}")
        XCTAssertEqual(payload("<134>Nov 12 08:15:02 relay01 {\"a\":1}"), "{\"a\":1}")
        XCTAssertEqual(payload("<134>2026-11-02T08:15:02Z relay01 tag: {\"a\":1}"), "{\"a\":1}")
        XCTAssertEqual(payload("<13>Nov  2 08:15:02 relay01 CEF:0|Mimecast|x"), "CEF:0|Mimecast|x")
        // Bad PRI: untouched.
        XCTAssertEqual(payload("<abc>hello"), "<abc>hello")
        XCTAssertEqual(payload("<"), "<")
    }

    func frames(_ chunks: [String], max: Int = 100) -> [String] {
        var f = SyslogFramer(maxFrame: max)
        var out: [String] = []
        let sink: (SyslogFramer.Frame) -> Void = {
            switch $0 {
            case .message(let m): out.append(String(decoding: m, as: UTF8.self))
            case .tooLong(let n): out.append("TOO LONG \(n)")
            }
        }
        for c in chunks { Array(c.utf8).withUnsafeBytes { f.feed($0, sink) } }
        f.finish(sink)
        return out
    }

    func testFraming() {
        XCTAssertEqual(frames(["a\nb\r\n", "c"]), ["a", "b\r", "c"])
        XCTAssertEqual(frames(["5 hello3 ab", "c\n7 x\ny\nz!!"]), ["hello", "abc", "x\ny\nz!!"])
        // Split anywhere, byte by byte: the same frames.
        let stream = "10 <1>1 a b cplain line\n3 abc"
        XCTAssertEqual(frames([stream]), ["<1>1 a b c", "plain line", "abc"])
        XCTAssertEqual(frames(stream.map { String($0) }), ["<1>1 a b c", "plain line", "abc"])
        // Oversized: octet-counted skipped without holding, newline frame skipped to its end.
        XCTAssertEqual(frames(["500 " + String(repeating: "x", count: 200), String(repeating: "y", count: 300) + "ok\n"]),
                       ["TOO LONG 500", "ok"])
        XCTAssertEqual(frames([String(repeating: "z", count: 150), String(repeating: "z", count: 150) + "\nnext\n"]),
                       ["TOO LONG 300", "next"])
    }
}
