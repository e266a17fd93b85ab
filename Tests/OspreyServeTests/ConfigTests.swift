import Foundation
import OspreyTestSupport
import XCTest
import OspreyCore
@testable import OspreyServe

/// The serve config: safe defaults for the token, inline comments, every README config block loads as written.
final class ConfigTests: XCTestCase {
    let token = "0123456789abcdef"   // 16 characters

    func parse(_ text: String, env: [String: String] = [:]) throws -> ServeConfig {
        try ServeConfig.parse(text, file: "t.conf", environment: env)
    }

    func error(_ text: String, env: [String: String] = [:]) -> String {
        do { _ = try parse(text, env: env); return "" } catch { return "\(error)" }
    }

    func testTokenRequiredAndLongEnough() throws {
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\n").contains("has no API token"))
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\ntoken =\n").contains("at least 16"))
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\ntoken = change-me\n").contains("t.conf:3: the API token (token) has 9 characters"))
        XCTAssertEqual(try parse("[serve a]\nhttp = 127.0.0.1:0\ntoken = \(token)\n").token, token)
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\ntoken = \(token)\ntoken_env = X\n").contains("only one of"))
        XCTAssertTrue(error("[serve a]\ntoken = \(token)\n").contains("no listener"))
    }

    func testAuthNoneOnlyOnLoopback() throws {
        let c = try parse("[serve a]\nhttp = 127.0.0.1:0\ntcp = [::1]:0\nudp = localhost:0\nauth = none\n")
        XCTAssertNil(c.token)
        XCTAssertEqual(c.auth, .none)
        XCTAssertTrue(c.warnings.isEmpty)
        let e = error("[serve a]\nhttp = 127.0.0.1:0\nudp = 0.0.0.0:5514\nauth = none\n")
        XCTAssertTrue(e.contains("t.conf:4: auth = none requires every listener on loopback, but udp = 0.0.0.0:5514 is not"), e)
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\nauth = none\ntoken = \(token)\n").contains("auth = none and token given"))
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\nauth = off\n").contains("auth must be 'token' or 'none'"))
    }

    func testNonLoopbackBindsWarn() throws {
        let c = try parse("[serve a]\nhttp = 0.0.0.0:8080\ntcp = 10.1.2.3:5514\nudp = 127.0.0.1:5514\ntoken = \(token)\n")
        XCTAssertEqual(c.warnings.count, 2)
        XCTAssertTrue(c.warnings[0].contains("tcp = 10.1.2.3:5514 accepts connections from other hosts"), c.warnings[0])
        XCTAssertTrue(c.warnings[1].contains("http = 0.0.0.0:8080"), c.warnings[1])
    }

    func testTokenFromFileAndEnvironment() throws {
        let dir = try makeTempDir("token")
        try (token + "\n").write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        XCTAssertEqual(try parse("[serve a]\nhttp = 127.0.0.1:0\ntoken_file = \(dir)/token\n").token, token)
        let missing = error("[serve a]\nhttp = 127.0.0.1:0\ntoken_file = \(dir)/nope\n")
        XCTAssertTrue(missing.contains("t.conf:3: token_file: \(dir)/nope: cannot open: No such file or directory"), missing)
        XCTAssertFalse(missing.contains("Domain"))
        XCTAssertEqual(try parse("[serve a]\nhttp = 127.0.0.1:0\ntoken_env = OSPREY_T\n", env: ["OSPREY_T": token]).token, token)
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\ntoken_env = OSPREY_T\n").contains("OSPREY_T is not set"))
        XCTAssertTrue(error("[serve a]\nhttp = 127.0.0.1:0\ntoken_env = OSPREY_T\n", env: ["OSPREY_T": "short"]).contains("has 5 characters"))
    }

    func testMissingConfigFileIsOneLine() {
        do { _ = try ServeConfig.load(path: "/nonexistent/osprey.conf"); XCTFail("loaded") } catch {
            XCTAssertEqual("\(error)", "/nonexistent/osprey.conf: cannot open: No such file or directory")
        }
    }

    func testInlineCommentsInConfigOnly() throws {
        // The README's form: the comment does not become part of the token.
        let c = try parse("[serve a]   # the server\nhttp = 127.0.0.1:8080\t# web\ntoken = \(token)   # API token\n# whole line\n")
        XCTAssertEqual(c.token, token)
        XCTAssertEqual(c.http, .init(host: "127.0.0.1", port: 8080))
        // '#' not after whitespace stays (a URL fragment).
        let w = try parse("[serve a]\nhttp = 127.0.0.1:0\ntoken = \(token)\n[output h]\ntype = webhook\nurl = http://x/a#b  # hook\n")
        XCTAssertEqual(w.outputs.first?.kind, .webhook(url: "http://x/a#b"))
        // Content files keep ` #` in values (regexes).
        let s = try ContentFile.parse("[parser p]\nregex = a #b\n", file: "p")
        XCTAssertEqual(s[0].entries[0].value, "a #b")
    }

    func testConstantTimeEquals() {
        let t = Array(token.utf8)
        XCTAssertTrue(constantTimeEquals(Array(token.utf8), t))
        XCTAssertFalse(constantTimeEquals(Array((token + "x").utf8), t))
        XCTAssertFalse(constantTimeEquals(Array(token.dropLast().utf8), t))
        XCTAssertFalse(constantTimeEquals(Array("1123456789abcdef".utf8), t))
        XCTAssertFalse(constantTimeEquals([UInt8](), t))
    }

    /// Every ```ini block of README.md loads as written (no binding: the config is parsed and validated).
    func testReadmeConfigBlocksLoad() throws {
        let blocks = try ConfigTests.readmeConfigBlocks()
        XCTAssertFalse(blocks.isEmpty, "README has ini config blocks")
        // Serve configs here; `[collect …]` blocks are loaded by the collector's tests (CollectorTests).
        for (line, text) in blocks where !text.hasPrefix("[collect ") {
            do { _ = try ServeConfig.parse(text, file: "README.md block at line \(line)", environment: ["OSPREY_TOKEN": token, "OSPREY_TOKEN_ACME": token + "-acme"]) } catch {
                XCTFail("README.md config block at line \(line): \(error)")
            }
        }
    }

    static func readmeConfigBlocks() throws -> [(line: Int, text: String)] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md").path
        guard let text = try? String(contentsOfFile: readme, encoding: .utf8) else { throw XCTSkip("README.md not found at \(readme)") }
        var out: [(Int, String)] = []
        var current: [String]?
        var start = 0
        for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if current == nil, l.hasPrefix("```ini") { current = []; start = i + 2; continue }
            if current != nil, l.hasPrefix("```") { out.append((start, current!.joined(separator: "\n"))); current = nil; continue }
            current?.append(String(l))
        }
        return out
    }

    func testLineSplitterAcrossChunks() {
        let text = "a\r\nbb\n\nccc\n" + String(repeating: "x", count: 50) + "\nlast"
        func run(_ chunks: [String]) -> [String] {
            var s = LineSplitter(maxLine: 20)
            var out: [String] = []
            let sink: (IngestRecord) -> Void = {
                switch $0 { case .line(let b): out.append(String(decoding: b, as: UTF8.self)); case .tooLong(let n): out.append("TOO LONG \(n)") }
            }
            for c in chunks { Array(c.utf8).withUnsafeBytes { s.feed($0, sink) } }
            s.finish(sink)
            return out
        }
        let expected = ["a", "bb", "ccc", "TOO LONG 50", "last"]
        XCTAssertEqual(run([text]), expected)
        XCTAssertEqual(run(text.map { String($0) }), expected)
        XCTAssertEqual(run([String(text.prefix(7)), String(text.dropFirst(7))]), expected)
    }

    /// A newline frame trickled one byte at a time is scanned once, not from its start on every read.
    func testPartialFrameScannedIncrementally() {
        var f = SyslogFramer(maxFrame: 1 << 20)
        var frames = 0
        let n = 100_000
        var byte: UInt8 = 0x61
        for _ in 0..<n { withUnsafeBytes(of: &byte) { f.feed($0) { _ in frames += 1 } } }
        var nl: UInt8 = 0x0A
        withUnsafeBytes(of: &nl) { f.feed($0) { _ in frames += 1 } }
        XCTAssertEqual(frames, 1)
        XCTAssertLessThanOrEqual(f.scannedBytes, 2 * (n + 1), "bytes scanned for one \(n)-byte frame fed byte by byte")
        XCTAssertFalse(f.inFrame)
    }
}
