import Foundation
import XCTest
import OspreyAnalytics
import OspreyCore
import OspreyGenerator
import OspreyIO
import OspreyPipeline
import OspreyState
import OspreyTestSupport
@testable import OspreyServe

/// Bounded state (README "Durable state"): interner compaction changes no output, survives a restart, and the
/// eviction counts reach `/metrics`.
final class BoundedStateTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let content = root.appendingPathComponent("Content").path

    /// A generated organization (21 days), a second one continuing it (same people, days 22–35), and a flood
    /// of identities not in users.csv interleaved with the first: the flood's strings die (evicted beyond the
    /// cap) among the organization's, so compaction renumbers ids the later activity still uses.
    nonisolated(unsafe) static let input: (context: String, lines: [[UInt8]]) = {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-bounded-\(getpid())").path
        var o = GeneratorOptions()
        o.users = 30; o.days = 21
        _ = try! OrganizationGenerator.generate(o, into: base + "/a")
        o.firstDay += 22 * 86_400_000; o.days = 14
        _ = try! OrganizationGenerator.generate(o, into: base + "/b")
        var lines: [[UInt8]] = []
        var flood = 0
        for part in ["a", "b"] {
            let dir = base + "/" + part + "/logs"
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? []
            for (d, f) in files.enumerated() {
                var day: [[UInt8]] = []
                try! LineReader(path: dir + "/" + f).forEach { rec in if case .line(let b, _) = rec { day.append(Array(b)) } }
                for (i, l) in day.enumerated() {
                    lines.append(l)
                    guard part == "a", i % 3 == 0 else { continue }
                    let t = (o.firstDay - 22 * 86_400_000) / 1000 + Int64(d) * 86_400 + Int64(i) * 86_400 / Int64(max(1, day.count))
                    let u = "flood\(flood)@spam-example.net", ip = "198.51.\(flood % 200).\(flood % 250)"
                    flood += 1
                    lines.append(Array("date=\(UTCTime.format(t * 1000).prefix(19))+0000|mcType=auditLog|user=\(u)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(u) <x>, IP: \(ip), Application: mimecast-moa|app=mimecast-moa|src=\(ip)|action=success".utf8))
                }
            }
        }
        return (base + "/a/context", lines)
    }()

    func options(compaction: Bool) -> PipelineOptions {
        var o = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.input.context)
        o.maintenanceEvery = 97
        o.maxUnknownIdentities = 40
        o.compactionMinDead = compaction ? 1 : nil
        return o
    }

    func replay(_ o: PipelineOptions) throws -> (String, Pipeline) {
        let p = try Pipeline(options: o)
        var out = ""
        for l in Self.input.lines { l.withUnsafeBytes { p.push(line: $0) { out += $0.jsonLine + "\n" } } }
        p.finish { out += $0.jsonLine + "\n" }
        return (out, p)
    }

    func testInternerCompactionDoesNotChangeTheOutput() throws {
        let (a, pa) = try replay(options(compaction: false))
        let (b, pb) = try replay(options(compaction: true))
        XCTAssertGreaterThan(a.split(separator: "\n").count, 100)
        XCTAssertTrue(a == b, "interner compaction changed the output")
        XCTAssertEqual(pa.maintenance.compactions, 0)
        XCTAssertGreaterThan(pb.maintenance.compactions, 10, "\(pb.maintenance)")
        XCTAssertGreaterThan(pb.maintenance.identitiesEvicted, 1000, "\(pb.maintenance)")
        XCTAssertEqual(pa.maintenance.identitiesEvicted, pb.maintenance.identitiesEvicted)
        // Without compaction every flood name stays interned; with it, only what the state refers to.
        XCTAssertGreaterThan(pa.analytics.internedStrings, pb.analytics.internedStrings + pb.maintenance.identitiesEvicted / 2)
        // A dropped string seen again later is interned again, so dropped + kept can exceed the uncompacted count.
        XCTAssertGreaterThanOrEqual(pb.analytics.internedStrings + pb.maintenance.stringsCompacted, pa.analytics.internedStrings)
        print("compaction: \(pb.maintenance.compactions) compactions dropped \(pb.maintenance.stringsCompacted) strings; interned \(pa.analytics.internedStrings) → \(pb.analytics.internedStrings)")
    }

    /// A durable run stopped between checkpoints (the object dropped, as a kill would) and resumed gives the
    /// alerts of an uninterrupted run, with compactions before and after the checkpoint it resumes from.
    func testCompactedStateResumesToTheSameAlerts() throws {
        let lines = Self.input.lines
        func run(_ dir: String, stopAt: Int?) throws -> [String] {
            var d = try DurablePipeline(options: options(compaction: true), stateDirectory: dir, checkpointEvery: 1000) { _ in }
            var i = d.consumed("input").records
            var stopped = false   // once: the resumed run passes stopAt again
            while i < lines.count {
                if let stopAt, i == stopAt, !stopped {
                    stopped = true
                    d = try DurablePipeline(options: options(compaction: true), stateDirectory: dir, checkpointEvery: 1000) { _ in }
                    XCTAssertTrue(d.restored)
                    i = d.consumed("input").records
                    XCTAssertLessThan(i, stopAt)
                    XCTAssertGreaterThan(i, 0)
                }
                try lines[i].withUnsafeBytes { try d.push(source: "input", line: $0, bytes: $0.count + 1) }
                i += 1
            }
            try d.finish()
            XCTAssertGreaterThan(d.pipeline.maintenance.compactions, 0)
            return try d.store.alertLines().map(\.line)
        }
        let whole = try run(try makeTempDir("bounded-whole"), stopAt: nil)
        let resumed = try run(try makeTempDir("bounded-resumed"), stopAt: lines.count * 2 / 3 + 17)
        XCTAssertGreaterThan(whole.count, 100)
        XCTAssertEqual(whole.count, resumed.count)
        XCTAssertTrue(whole == resumed, "a resumed run with compacted state gave other alerts")
    }

    /// Checkpoints write what changed: the analytics image is stored in content-defined chunks, and a
    /// checkpoint inserts only the chunks the previous one lacked. A damaged or missing chunk is a state error.
    func testCheckpointsWriteWhatChanged() throws {
        let dir = try makeTempDir("bounded-chunks")
        let lines = Self.input.lines
        // Without compaction: a compaction renumbers every id, so the checkpoint after one rewrites most chunks.
        let d = try DurablePipeline(options: options(compaction: false), stateDirectory: dir, checkpointEvery: 1 << 40) { _ in }
        for l in lines.prefix(lines.count / 2) { try l.withUnsafeBytes { try d.push(source: "input", line: $0, bytes: $0.count + 1) } }
        try d.checkpoint()
        let first = d.store.lastImageWrite
        XCTAssertEqual(first.bytes, first.imageBytes, "the first checkpoint writes the whole image")
        XCTAssertGreaterThan(first.of, 10)
        try d.checkpoint()
        XCTAssertEqual(d.store.lastImageWrite.chunks, 0, "nothing changed: \(d.store.lastImageWrite)")
        for l in lines[(lines.count / 2)..<(lines.count / 2 + 20)] { try l.withUnsafeBytes { try d.push(source: "input", line: $0, bytes: $0.count + 1) } }
        try d.checkpoint()
        let few = d.store.lastImageWrite
        XCTAssertGreaterThan(few.chunks, 0)
        // The fixture's image is small (~180 KB over 43 model stores) and 20 records touch some 30 stores, each
        // at least one ~2.5 KB chunk: less than half is rewritten here; in a large image the share is tiny.
        XCTAssertLessThan(few.bytes * 2, few.imageBytes, "20 records changed a few chunks: \(few)")
        XCTAssertLessThan(few.chunks * 2, few.of, "\(few)")
        print("chunked checkpoints: first \(first.bytes) bytes in \(first.of) chunks; after 20 records \(few.chunks) of \(few.of) chunks, \(few.bytes) of \(few.imageBytes) bytes")
        let image = d.pipeline.analytics.snapshot()
        let rows = try d.store.db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM analytics_chunks") }
        XCTAssertEqual(rows, few.of, "chunks no longer used are deleted")
        XCTAssertEqual(try d.store.loadCheckpoint()?.analytics, image)
        var inFlight = SnapshotWriter()
        d.pipeline.writeInFlight(to: &inFlight)
        XCTAssertEqual(try d.store.loadCheckpoint()?.inFlight, inFlight.bytes)
        try d.store.db.write { try $0.execute(sql: "UPDATE analytics_chunks SET h2 = h2 + 1 WHERE id = (SELECT min(id) FROM analytics_chunks)") }
        XCTAssertThrowsError(try d.store.loadCheckpoint()) { XCTAssertTrue("\($0)".contains("do not match their hash"), "\($0)") }
        try d.store.db.write { try $0.execute(sql: "DELETE FROM analytics_chunks WHERE id = (SELECT min(id) FROM analytics_chunks)") }
        XCTAssertThrowsError(try d.store.loadCheckpoint()) { XCTAssertTrue("\($0)".contains("is missing"), "\($0)") }
    }

    /// `/metrics` counts the identities evicted beyond `max_unknown_identities` and the interner compactions.
    func testEvictionsAreInTheMetrics() throws {
        var config = try ServeConfig.parse("[serve t]\nhttp = 127.0.0.1:0\nauth = none\nmax_unknown_identities = 5\n", file: "t.conf")
        config.reorderSeconds = 0
        XCTAssertEqual(config.maxUnknownIdentities, 5)
        let engine = try ServeEngine(config: config, contentDirectory: Self.content)
        let now = Int64(Date().timeIntervalSince1970) - 3600
        var records: [IngestRecord] = []
        for i in 0..<5000 {
            let u = "flood\(i)@spam-example.net"
            records.append(.line(Array("date=\(UTCTime.format((now + Int64(i) / 10) * 1000).prefix(19))+0000|mcType=auditLog|user=\(u)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(u) <x>, IP: 198.51.100.7, Application: mimecast-moa|app=mimecast-moa|src=198.51.100.7|action=success".utf8)))
        }
        let done = DispatchSemaphore(value: 0)
        engine.submit(records, source: "http") { done.signal() }
        done.wait()
        engine.read { $0.flushBuffers { _ in } }
        func metric(_ text: String, _ name: String) -> Double? {
            for l in text.split(separator: "\n") where l.hasPrefix(name + " ") { return Double(l.dropFirst(name.count + 1)) }
            return nil
        }
        let before = Metrics.render(engine: engine, started: Date())
        XCTAssertEqual(metric(before, "osprey_identities_evicted_total"), 0, before)
        XCTAssertEqual(metric(before, "osprey_tracked_identities"), 5000)
        engine.read { $0.maintain() }
        let after = Metrics.render(engine: engine, started: Date())
        XCTAssertEqual(metric(after, "osprey_identities_evicted_total"), 4995, after)
        XCTAssertEqual(metric(after, "osprey_tracked_identities"), 5)
        XCTAssertEqual(metric(after, "osprey_interner_compactions_total"), 1)
        XCTAssertGreaterThanOrEqual(metric(after, "osprey_interned_strings_dropped_total") ?? 0, 4995)
        XCTAssertLessThan(metric(after, "osprey_interned_strings") ?? .infinity, 100)
        XCTAssertNotNil(metric(after, "osprey_sessions_dropped_total"))
        XCTAssertNotNil(metric(after, "osprey_histograms_freed_total"))
    }
}
