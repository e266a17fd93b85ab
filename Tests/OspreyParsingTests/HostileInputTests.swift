import CZlib
import Foundation
import XCTest
import OspreyCore
import OspreyIO
@testable import OspreyParsing

/// Issue 11 (parse and IO): no trap reachable from input, framing that cannot swallow, time sanity.
final class HostileInputTests: XCTestCase {
    var engine: ParseEngine!
    override func setUpWithError() throws { engine = try Support.engine() }

    func tempFile(_ bytes: [UInt8], _ name: String = "in.log") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    let process = #"{"acc":"C0A0","aCode":"n1","datetime":"2025-02-03T04:05:06+0000","AttCnt":ATT,"AttSize":12,"MsgSize":SIZE,"Sender":"a@x.example"}"#

    // MARK: numbers (ParseEngine.value → ParseEngine.integer; Value.asInt for `| int`)

    func testNumbersBeyondInt64NeverTrap() throws {
        for (att, expected) in [("9223372036854775808", nil), ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
                                ("-9223372036854775809", nil), ("99999999999999999999999999", nil), ("1e400", nil), ("-", nil), ("12", Int64(12))] as [(String, Int64?)] {
            let line = process.replacingOccurrences(of: "ATT", with: att).replacingOccurrences(of: "SIZE", with: att)
            let events = try Support.events(line, engine: engine)
            XCTAssertEqual(events.count, 1, att)
            XCTAssertEqual(events.first?.int(Fields.attachmentCount), expected, att)
            XCTAssertEqual(events.first?.int(Fields.bytes), expected, att)
        }
        XCTAssertEqual("9223372036854775808".withBytes { ParseEngine.integer($0) }, nil)
        XCTAssertEqual("-0".withBytes { ParseEngine.integer($0) }, 0)
        XCTAssertEqual("".withBytes { ParseEngine.integer($0) }, nil)
        XCTAssertEqual("1.5".withBytes { ParseEngine.integer($0) }, nil)
        // key=value values go through Value.asInt (Int64(String) — checked)
        let kv = "datetime=2025-02-03T04:05:06+0000|aCode=n2|acc=C0A0|AttCnt=9223372036854775808|AttSize=1|MsgSize=-99999999999999999999"
        let e = try Support.events(kv, engine: engine).first
        XCTAssertNotNil(e)
        XCTAssertNil(e?[Fields.attachmentCount])
        XCTAssertNil(e?[Fields.bytes])
        XCTAssertEqual(Value.double(.infinity).asInt, nil)
        XCTAssertEqual(Value.double(.nan).asInt, nil)
        XCTAssertEqual(Value.double(9.3e18).asInt, nil)
    }

    // MARK: time

    func testYearsPastNineThousandNineHundredNinetyNineAreRejected() throws {
        let receipt = #"{"acc":"A","aCode":"1","datetime":"TIME","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc"}"#
        for bad in ["10000-01-01T00:00:00Z", "9999-12-31T23:30:00-0100", "0000-01-01T00:00:00+0100"] {
            let r = try Support.parse(receipt.replacingOccurrences(of: "TIME", with: bad), engine: engine)
            if case .reject(let j) = r.first { XCTAssertEqual(j.reason, .badTime, bad) } else { XCTFail("\(bad): \(r)") }
        }
        let v2 = #"{"aggregateId":"g","processingId":"p","timestamp":TS,"type":"receipt","senderIp":"192.0.2.1","senderEnvelope":"a@x.example","recipients":["b@y.example"],"direction":"Inbound"}"#
        for ts in ["9999999999999999", "253402300800000"] {
            let r = try Support.parse(v2.replacingOccurrences(of: "TS", with: ts), engine: engine)
            if case .reject(let j) = r.first { XCTAssertEqual(j.reason, .badTime, ts) } else { XCTFail("\(ts): \(r)") }
        }
        let last = try Support.events(v2.replacingOccurrences(of: "TS", with: "253402300799999"), engine: engine).first
        XCTAssertEqual(last?.timeText, "9999-12-31T23:59:59.999Z")
    }

    // MARK: framing

    func testTruncatedJSONLineDoesNotSwallowTheLinesAfterIt() throws {
        let good = (0..<1000).map { #"{"acc":"A","aCode":"\#($0)","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b\#($0)@y.example","Act":"Acc"}"# }
        let text = "{\"a\":{\n" + good.joined(separator: "\n") + "\n"
        let results = try Support.parseFile(try tempFile(Array(text.utf8)), engine: engine)
        let events = results.filter { if case .event = $0 { return true }; return false }.count
        let rejects = results.filter { if case .reject = $0 { return true }; return false }.count
        XCTAssertEqual(events, 1000)
        XCTAssertEqual(rejects, 1)
        // …and when the broken document "closes" later, the lines inside are still records.
        let closing = "{\"a\":{\n" + good.prefix(10).joined(separator: "\n") + "\n}}\n" + good[10]
        let r2 = try Support.parseFile(try tempFile(Array(closing.utf8)), engine: engine)
        XCTAssertEqual(r2.filter { if case .event = $0 { return true }; return false }.count, 11)
        XCTAssertEqual(r2.filter { if case .reject = $0 { return true }; return false }.count, 2)
    }

    func testPrettyPrintedDocumentsStillJoin() throws {
        let doc = "{\"type\":\"MTA\",\"data\":[\n  {\"acc\":\"A\",\"aCode\":\"1\",\"datetime\":\"2025-02-03T04:05:06+0000\",\"Dir\":\"Inbound\",\"Sender\":\"a@x.example\",\"Rcpt\":\"b@y.example\",\"Act\":\"Acc\"},\n  {\n    \"acc\": \"A\", \"aCode\": \"2\", \"datetime\": \"2025-02-03T04:05:07+0000\",\n    \"Dir\": \"Inbound\", \"Sender\": \"a@x.example\", \"Rcpt\": \"c@y.example\", \"Act\": \"Acc\"\n  }\n]}\n"
        var lines = 0
        let reader = try LineReader(path: try tempFile(Array(doc.utf8)))
        var records: [[UInt8]] = []
        try reader.forEach { if case .line(let b, let n) = $0 { records.append(Array(b)); lines += n } }
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(lines, 7)
        XCTAssertEqual(try Support.parseFile(try tempFile(Array(doc.utf8)), engine: engine).count, 2)
    }

    func testDocumentsAreBoundedInLines() throws {
        var text = "[\n"
        for i in 0..<50 { text += "  \"x\(i)\",\n" }
        text += "  \"end\"\n]\n"
        let reader = try LineReader(path: try tempFile(Array(text.utf8)), maxDocumentLines: 10)
        var records = 0, lines = 0
        try reader.forEach { rec in
            records += 1
            if case .line(_, let n) = rec { lines += n }
        }
        XCTAssertGreaterThan(records, 1, "a document past the line bound is not held")
        XCTAssertEqual(lines, 53, "every line is accounted for")
    }

    func testScalarsInEnvelopesAreRejectsWithAReason() throws {
        let rec = #"{"acc":"A","aCode":"1","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc"}"#
        let r = try Support.parse(#"{"data":[\#(rec),5,"junk"]}"#, engine: engine)
        XCTAssertEqual(r.count, 3)
        if case .event = r[0] {} else { XCTFail("\(r[0])") }
        for x in r.dropFirst() { if case .reject(let j) = x { XCTAssertEqual(j.reason, .notARecord) } else { XCTFail("\(x)") } }
        let arr = try Support.parse("[1,2,3]", engine: engine)
        XCTAssertEqual(arr.count, 3)
        for x in arr { if case .reject(let j) = x { XCTAssertEqual(j.reason, .notARecord); XCTAssertTrue(j.detail.contains("number")) } else { XCTFail("\(x)") } }
        if case .emptyPage = try Support.parse(#"{"data":[]}"#, engine: engine).first {} else { XCTFail("an empty page is still an empty page") }
    }

    func testTruncatedGzipIsAnErrorNamingTheFileAndOffset() throws {
        let lines = (0..<2000).map { #"{"acc":"A","aCode":"\#($0)","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b\#($0)@y.example","Act":"Acc","Subject":"\#(String(repeating: "z", count: $0 % 97))"}"# }
        let path = try tempFile([], "cut.log.gz")
        let gz = gzopen(path, "wb")!
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        _ = text.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        gzclose(gz)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        let reader = try LineReader(path: path)
        var records = 0
        var caught: InputError?
        do {
            try reader.forEach { if case .line = $0 { records += 1 } }
        } catch let e as InputError { caught = e }
        XCTAssertNotNil(caught)
        XCTAssertEqual(caught?.path, path)
        XCTAssertTrue(caught?.reason.contains("truncated gzip") ?? false, caught?.reason ?? "")
        XCTAssertTrue(caught?.reason.contains("compressed byte \(whole.count / 2)") ?? false, caught?.reason ?? "")
        XCTAssertGreaterThan(records, 100, "records before the cut still count")
        XCTAssertLessThan(records, 2000)
        // the whole file reads without error
        try whole.write(to: URL(fileURLWithPath: path))
        var all = 0
        try LineReader(path: path).forEach { if case .line = $0 { all += 1 } }
        XCTAssertEqual(all, 2000)
    }

    // MARK: fuzzing (bounded; `make fuzz` runs millions)

    func testSeededFuzzNeverTrapsAndEveryInputEnds() throws {
        var seeds = FuzzMutator.builtSeeds.map { Array($0.utf8) }
        if let shared = Support.sharedDir, let e = FileManager.default.enumerator(atPath: shared.appendingPathComponent("corpus").path) {
            for case let f as String in e {
                guard let d = FileManager.default.contents(atPath: shared.appendingPathComponent("corpus").appendingPathComponent(f).path) else { continue }
                for l in d.split(separator: 0x0A) where !l.isEmpty && l.count < 1 << 16 { seeds.append(Array(l)) }
            }
        } else {
            print("../shared/corpus absent: fuzzing over the built seed lines only")
        }
        let r = ParseFuzzer.run(engine: engine, seeds: seeds, count: 30_000, seed: 20_261_202)
        XCTAssertEqual(r.inputs, 30_000)
        XCTAssertEqual(r.silent, 0, "\(r)")
        XCTAssertGreaterThan(r.events, 0)
        XCTAssertGreaterThan(r.rejects, 0)
        // framing: the mutated lines joined with every line end, read back through LineReader
        var m = FuzzMutator(seed: 7)
        var bytes: [UInt8] = []
        for _ in 0..<3000 {
            bytes += m.mutate(seeds[m.below(seeds.count)], splice: seeds[m.below(seeds.count)])
            bytes += [[0x0A], [0x0D], [0x0D, 0x0A]][m.below(3)]
        }
        var silent = 0
        try LineReader(path: try tempFile(bytes), maxLineBytes: 1 << 16, maxDocumentLines: 20).forEach { rec in
            if case .line(let b, _) = rec, !b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                var n = 0
                engine.parse(line: b) { _ in n += 1 }
                if n == 0 { silent += 1 }
            }
        }
        XCTAssertEqual(silent, 0)
        print("fuzz: \(r)")
    }
}

extension String {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var s = self
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
