import Foundation
import XCTest
import OspreyCore
import OspreyIO
import OspreyParsing
import OspreyTestSupport
@testable import OspreyPipeline

/// Replay's two-stage feed (a parse thread ahead of the stateful step) against the single-thread one:
/// the same records, results, rejects, errors and outputs, whatever the batch size.
final class ReplayFeedTests: XCTestCase {
    static let golden = GoldenReplayTests.fixture

    /// Lines of every kind the feed treats apart: records of the golden organization, blank lines, junk the
    /// parser rejects, invalid UTF-8, a pretty-printed JSON document (one record of several lines), a line
    /// too long for the reader, and a record a year ahead (held, then rejected by the time check).
    static func mixedInput() throws -> String {
        var lines: [String] = []
        try LineReader(path: golden + "/logs/mimecast-2026-09-28.log.gz").forEach { rec in
            if case .line(let b, _) = rec, lines.count < 400 { lines.append(String(decoding: b, as: UTF8.self)) }
        }
        XCTAssertEqual(lines.count, 400)
        var out: [String] = []
        for (i, l) in lines.enumerated() {
            out.append(l)
            switch i % 37 {
            case 3: out.append("")
            case 7: out.append(" \t ")
            case 11: out.append("this is no Mimecast record | at all")
            case 19: out.append("{\"truncated\": ")
            case 23: out.append(String(repeating: "x", count: 5000))
            case 29: out += ["{", "  \"datetime\": \"2026-09-28T10:00:00+0000\",", "  \"junk\": [1, 2]", "}"]
            default: break
            }
        }
        if let k = out.indices.dropFirst(200).first(where: { out[$0].contains("datetime=2026") }) {
            out.insert(out[k].replacingOccurrences(of: "datetime=2026", with: "datetime=2027"), at: k + 1)
        }
        let path = try makeTempDir("feed") + "/mixed.log"
        var data = Data(out.joined(separator: "\n").utf8)
        data.append(contentsOf: [0x0A, 0xC3, 0x28, 0x0A])   // a line of invalid UTF-8
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Everything the feed gives, as text: records, bytes, results, and the error it ends with.
    func transcript(_ path: String, threads: Int, skip: Int = 0, batchRecords: Int = 4096, inFlight: Int = 3) throws -> [String] {
        let parser = try ParseEngine(contentDirectory: PipelineTests.content)
        var out: [String] = []
        do {
            try ReplayFeed.forEach(reader: try LineReader(path: path, maxLineBytes: 2000), parser: parser, threads: threads,
                                   skip: skip, batchRecords: batchRecords, inFlight: inFlight) { record, parsed in
                switch record {
                case .tooLong(let bytes, let lines): out.append("tooLong \(bytes) \(lines)")
                case .line(let b, let lines):
                    out.append("line \(lines) \(String(decoding: b, as: UTF8.self))")
                    if let parsed { out.append("tie \(parsed.tie) " + parsed.results.map { String(describing: $0) }.joined(separator: " ; ")) }
                }
            }
        } catch {
            out.append("error \(error)")
        }
        return out
    }

    func testTheFeedGivesTheSameRecordsAndResultsWithOneAndTwoThreads() throws {
        let path = try Self.mixedInput()
        let one = try transcript(path, threads: 1)
        XCTAssertGreaterThan(one.count, 800)
        XCTAssertTrue(one.contains { $0.hasPrefix("tooLong ") })
        XCTAssertTrue(one.contains { $0.contains("reject(") })
        XCTAssertFalse(one.contains { $0.hasPrefix("error") })
        for (batch, inFlight) in [(4096, 3), (1, 1), (7, 2), (64, 4)] {
            XCTAssertEqual(try transcript(path, threads: 2, batchRecords: batch, inFlight: inFlight), one, "batches of \(batch), \(inFlight) in flight")
        }
        // Skipped records (a resumed run) are given unparsed, the rest parsed.
        let skipped = try transcript(path, threads: 1, skip: 100)
        XCTAssertEqual(try transcript(path, threads: 2, skip: 100, batchRecords: 13, inFlight: 2), skipped)
        XCTAssertLessThan(skipped.filter { $0.hasPrefix("tie ") }.count, one.filter { $0.hasPrefix("tie ") }.count)
    }

    /// A truncated gzip file: the records before the cut, then the reader's error, with either thread count.
    func testAReaderErrorSurfacesAfterTheRecordsBeforeIt() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.golden + "/logs/mimecast-2026-10-01.log.gz"))
        let path = try makeTempDir("feed-gz") + "/cut.log.gz"
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: path))
        let one = try transcript(path, threads: 1)
        XCTAssertTrue(one.last?.hasPrefix("error ") == true && one.last?.contains("truncated gzip") == true, one.last ?? "")
        XCTAssertGreaterThan(one.count, 100)
        XCTAssertEqual(try transcript(path, threads: 2, batchRecords: 50, inFlight: 2), one)
        XCTAssertEqual(try transcript(path, threads: 2), one)
    }

    /// An error of the stateful step stops the parse thread: rethrown, nothing hangs, the parser is free again.
    func testAnErrorOfTheCallerStopsTheParseThread() throws {
        struct Stop: Error {}
        let parser = try ParseEngine(contentDirectory: PipelineTests.content)
        let path = Self.golden + "/logs/mimecast-2026-10-02.log.gz"
        var seen = 0
        XCTAssertThrowsError(try ReplayFeed.forEach(reader: try LineReader(path: path), parser: parser, threads: 2,
                                                    batchRecords: 10, inFlight: 2) { _, _ in
            seen += 1
            if seen == 25 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(seen, 25)
        var again = 0
        try ReplayFeed.forEach(reader: try LineReader(path: path), parser: parser, threads: 2) { _, p in if p != nil { again += 1 } }
        XCTAssertGreaterThan(again, 100)
    }

    /// The pipeline fed by the two-stage feed writes what `push(line:)` writes, rejects included.
    func testThePipelineFedByTheParseThreadMatchesPushLine() throws {
        let inputs = try GoldenReplayTests.inputs() + [try Self.mixedInput()]
        func replay(threads: Int?) throws -> (String, [String], ParseStats) {
            let pipeline = try Pipeline(options: PipelineOptions(contentDirectory: PipelineTests.content, contextDirectory: Self.golden + "/context"))
            var out = "", rejects: [String] = []
            pipeline.onReject = { r, text in rejects.append("\(r.reason.rawValue) \(r.detail) \(String(decoding: text, as: UTF8.self))") }
            for f in inputs {
                let reader = try LineReader(path: f)
                if let threads {
                    try ReplayFeed.forEach(reader: reader, parser: pipeline.parser, threads: threads, batchRecords: 500) { rec, parsed in
                        if case .line(let b, let n) = rec, let parsed { pipeline.push(parsed: parsed, line: b, lines: n) { out += $0.jsonLine + "\n" } }
                    }
                } else {
                    try reader.forEach { rec in
                        if case .line(let b, let n) = rec, !Pipeline.isBlank(b) { pipeline.push(line: b, lines: n) { out += $0.jsonLine + "\n" } }
                    }
                }
            }
            pipeline.finish { out += $0.jsonLine + "\n" }
            return (out, rejects, pipeline.parseStats)
        }
        let (base, baseRejects, baseStats) = try replay(threads: nil)
        XCTAssertGreaterThan(baseRejects.count, 20)
        XCTAssertTrue(baseRejects.contains { $0.hasPrefix(RejectReason.futureTime.rawValue) })
        for threads in [1, 2] {
            let (out, rejects, stats) = try replay(threads: threads)
            XCTAssertTrue(out == base, "\(threads) threads: the output differs")
            XCTAssertEqual(rejects, baseRejects)
            XCTAssertEqual(stats.events, baseStats.events)
            XCTAssertEqual(stats.lines, baseStats.lines)
            XCTAssertEqual(stats.rejectsByReason, baseStats.rejectsByReason)
        }
    }

    /// `osprey replay --threads 1` and `--threads 2`: the same output file, rejects file and summary counts,
    /// without and with durable state.
    func testReplayWithOneAndTwoThreadsWritesTheSameFiles() throws {
        let dir = try makeTempDir("threads")
        // A line past the reader's 4 MiB bound, between two records.
        let long = dir + "/long.log"
        try Data((["not a record", String(repeating: "y", count: 4_300_000), "still not one"].joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: long))
        let inputs = try GoldenReplayTests.inputs() + [try Self.mixedInput(), long]
        func replay(_ threads: Int, _ extra: [String] = [], name: String, files: [String]) throws -> (out: Data, rejects: Data, summary: String) {
            let out = "\(dir)/\(name)-\(threads).jsonl", rejects = "\(dir)/\(name)-\(threads).rejects.jsonl"
            let r = try runOsprey(["replay", "--quiet", "--threads", "\(threads)", "--context", Self.golden + "/context",
                                   "--out", out, "--rejects", rejects] + extra + files)
            XCTAssertEqual(r.status, 0, r.stderr)
            // The counts stay; the timing goes.
            let summary = r.stderr.replacingOccurrences(of: #" in [0-9.]+ s( \([0-9]+ lines/s\))?"#, with: "", options: .regularExpression)
            return (try Data(contentsOf: URL(fileURLWithPath: out)), try Data(contentsOf: URL(fileURLWithPath: rejects)), summary)
        }
        let one = try replay(1, name: "plain", files: inputs), two = try replay(2, name: "plain", files: inputs)
        XCTAssertGreaterThan(one.out.count, 100_000)
        XCTAssertGreaterThan(one.rejects.count, 1000)
        XCTAssertTrue(one.summary.contains("line too long") && one.summary.contains("time in the future"), one.summary)
        XCTAssertTrue(one.out == two.out, "the outputs differ")
        XCTAssertTrue(one.rejects == two.rejects, "the rejects files differ")
        XCTAssertEqual(one.summary, two.summary)

        // Durable: checkpoints between records, and a resumed run that skips what the first consumed.
        for threads in [1, 2] {
            let state = ["--state", "\(dir)/state-\(threads)", "--checkpoint-records", "997"]
            _ = try replay(threads, state, name: "durable-first", files: Array(inputs.prefix(5)))
        }
        let d1 = try replay(1, ["--state", "\(dir)/state-1", "--checkpoint-records", "997", "--finish"], name: "durable", files: inputs)
        let d2 = try replay(2, ["--state", "\(dir)/state-2", "--checkpoint-records", "997", "--finish"], name: "durable", files: inputs)
        XCTAssertTrue(d1.summary.contains("skipped"), d1.summary)
        XCTAssertGreaterThan(d1.out.count, 100_000)
        XCTAssertTrue(d1.out == d2.out, "the durable outputs differ")
        XCTAssertTrue(d1.rejects == d2.rejects, "the durable rejects files differ")
        XCTAssertEqual(d1.summary.replacingOccurrences(of: "state-1", with: "state-N"), d2.summary.replacingOccurrences(of: "state-2", with: "state-N"))
    }
}
