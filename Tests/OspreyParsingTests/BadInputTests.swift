import Foundation
import XCTest
import OspreyCore
import OspreyIO
@testable import OspreyParsing

/// Bad input ends as a counted reject with a specific reason, never a crash or a silent loss (docs/architecture.md#bad-input).
final class BadInputTests: XCTestCase {
    func reason(_ line: [UInt8], engine: ParseEngine) -> RejectReason? {
        var out: [ParseResult] = []
        line.withUnsafeBytes { engine.parse(line: $0) { out.append($0) } }
        XCTAssertEqual(out.count, 1)
        if case .reject(let r) = out.first { return r.reason }
        return nil
    }

    let good = #"{"acc":"A","aCode":"1","datetime":"2021-10-19T07:04:55+0100","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc","Subject":"caf"#

    func testInvalidUTF8AndNUL() throws {
        let engine = try Support.engine()
        XCTAssertEqual(reason(Array((good + "\u{FF}\"}").utf8).map { $0 == 0xC3 ? 0xFF : $0 }, engine: engine), .invalidBytes)
        var withNUL = Array((good + "e\"}").utf8)
        withNUL.insert(0, at: 10)
        XCTAssertEqual(reason(withNUL, engine: engine), .invalidBytes)
        XCTAssertEqual(reason(Array((good + "\u{E9}\"}").utf8), engine: engine), nil, "valid UTF-8 parses")
    }

    /// The byte check reads 32 bytes per step: a bad byte is found at every offset around the steps, and
    /// in the tail after the last full step.
    func testInvalidByteAtEveryOffset() throws {
        let engine = try Support.engine()
        let line = Array((good + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\"}").utf8)
        for at in 1..<(line.count - 2) {
            for bad: UInt8 in [0xFF, 0x80, 0x00] {
                var l = line
                l[at] = bad
                XCTAssertEqual(reason(l, engine: engine), .invalidBytes, "byte \(bad) at \(at) of \(l.count)")
            }
        }
    }

    func testTruncatedJSON() throws {
        let engine = try Support.engine()
        XCTAssertEqual(reason(Array(good.utf8), engine: engine), .malformedJSON)
        XCTAssertEqual(reason(Array(#"{"type":"MTA","data":[{"acc":"A""#.utf8), engine: engine), .malformedJSON)
    }

    /// Text after a JSON record is malformed input, counted as such, not dropped: before, a plain record
    /// followed by `junk}` became an event with the tail ignored, while the same line with an envelope key
    /// was rejected.
    func testTextAfterAJSONRecordIsMalformed() throws {
        let engine = try Support.engine()
        let record = good + "e\"}"
        XCTAssertNil(reason(Array(record.utf8), engine: engine), "the record alone parses")
        XCTAssertNil(reason(Array((record + "  \t ").utf8), engine: engine), "trailing spaces are not text")
        XCTAssertEqual(reason(Array((record + " junk}").utf8), engine: engine), .malformedJSON)
        XCTAssertEqual(reason(Array((record + " {\"data\":1} junk}").utf8), engine: engine), .malformedJSON)
        var out: [ParseResult] = []
        engine.parse(line: record + " x}") { out.append($0) }
        if case .reject(let r) = out.first { XCTAssertTrue(r.detail.contains("unexpected text after JSON value"), r.detail) } else { XCTFail("\(out)") }
    }

    /// A connector record cut inside its `cs6` JSON has none of the JSON's keys, so no parser takes it; the
    /// reject says why.
    func testTruncatedConnectorRecordNamesItsBrokenJSON() throws {
        let engine = try Support.engine()
        let json = good + "e\"}"
        let cut = Support.connector(String(json.prefix(60)), dproc: "SIEM Logs")
        var out: [ParseResult] = []
        engine.parse(line: cut) { out.append($0) }
        guard case .reject(let r) = out.first else { return XCTFail("\(out)") }
        XCTAssertEqual(r.reason, .noParser)
        XCTAssertTrue(r.detail.hasPrefix("format cef; cs6: "), r.detail)
        XCTAssertEqual(try Support.events(Support.connector(json, dproc: "SIEM Logs"), engine: engine).count, 1, "whole, it parses")
    }

    func testUnknownShapes() throws {
        let engine = try Support.engine()
        XCTAssertEqual(reason(Array("hello world".utf8), engine: engine), .noParser)
        XCTAssertEqual(reason(Array(#"{"some":"other product","time":"2021-10-19T07:04:55Z"}"#.utf8), engine: engine), .noParser)
        XCTAssertEqual(reason(Array("a=b|c=d".utf8), engine: engine), .noParser)
    }

    func testBadTimeAndMissingFields() throws {
        let engine = try Support.engine()
        let badTime = #"{"acc":"A","aCode":"1","datetime":"last tuesday","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc"}"#
        XCTAssertEqual(reason(Array(badTime.utf8), engine: engine), .badTime)
        let noTime = #"{"acc":"A","aCode":"1","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc"}"#
        XCTAssertEqual(reason(Array(noTime.utf8), engine: engine), .missingField)
    }

    func testFiveMegabyteLineIsRejectedAsTooLongAndTheNextLineStillParses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.log").path
        var data = Data(("{\"x\":\"" + String(repeating: "A", count: 5 << 20) + "\"}\n").utf8)
        data.append(Data((good + "e\"}\n").utf8))
        try data.write(to: URL(fileURLWithPath: path))
        let results = try Support.parseFile(path, engine: try Support.engine())
        XCTAssertEqual(results.count, 2)
        if case .reject(let r) = results[0] { XCTAssertEqual(r.reason, .tooLong) } else { XCTFail("too long expected") }
        if case .event(let e) = results[1] { XCTAssertEqual(e.user, "b@y.example") } else { XCTFail("event expected") }
    }

    func testGzipInputAndCRLF() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("in.log")
        try Data((good + "e\"}\r\n" + good + "f\"}\r\n").utf8).write(to: plain)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-k", plain.path]
        try p.run(); p.waitUntilExit()
        let results = try Support.parseFile(plain.path + ".gz", engine: try Support.engine())
        XCTAssertEqual(results.compactMap { if case .event(let e) = $0 { return e.s("email_subject") }; return nil }, ["cafe", "caff"])
    }

    func testMalformedParserFilesNameFileLineAndReason() {
        func loadError(_ text: String) -> ContentError? {
            do { _ = try ParserLoader.parse(text, file: "bad.parser"); return nil } catch { return error as? ContentError }
        }
        let head = "[parser p]\nvendor = V\nproduct = P\nformat = json\nactivity = email\nactivity_types = app-login\ntime = t\n"
        XCTAssertNil(loadError(head))
        let regex = loadError(head + "extract line = (?<x>abc\n")
        XCTAssertEqual(regex?.line, 8)
        XCTAssertTrue(regex?.reason.contains("regex error") ?? false, "\(String(describing: regex))")
        XCTAssertEqual(loadError(head + "map K = not a field\n")?.line, 8)
        XCTAssertEqual(loadError(head + "map K = user | shout\n")?.reason, "map K: unknown transform 'shout'")
        XCTAssertEqual(loadError(head.replacingOccurrences(of: "format = json", with: "format = xml"))?.line, 4)
        XCTAssertEqual(loadError(head.replacingOccurrences(of: "app-login", with: "app-logon"))?.reason, "unknown activity type 'app-logon'")
        XCTAssertEqual(loadError(head + "colour = blue\n")?.reason, "unknown key 'colour' in [parser p]")
        XCTAssertEqual(loadError(head + "extract line = (?:plain)\n")?.reason, "extract line: the regex has no named capture")
        XCTAssertNotNil(loadError("[parser p]\nvendor = V\n"))
        XCTAssertEqual(loadError("[rule p]\n")?.line, 1)
    }

    func testUnknownActivityMappingStopsStartUp() throws {
        let parsers = try ParserLoader.parse("[parser p]\nvendor = V\nproduct = P\nformat = json\nactivity = nowhere\nactivity_types = app-login\ntime = t\n", file: "x.parser")
        XCTAssertThrowsError(try ParseEngine(parsers: parsers, activityMap: ActivityMap(rules: [:])))
    }
}
