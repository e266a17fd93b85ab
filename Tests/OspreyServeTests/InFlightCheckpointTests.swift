import Foundation
import OspreyTestSupport
import XCTest
import OspreyAnalytics
import OspreyCore
import OspreyPipeline
import OspreyState

/// Checkpoints keep the events in flight (reorder buffer, open messages, held future records) instead of
/// releasing them, so where checkpoints and restarts fall changes no output.
final class InFlightCheckpointTests: XCTestCase {
    static let content = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Content").path

    func lines(_ org: String) throws -> [(source: String, line: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: org + "/logs").sorted() {
            let data = try Data(contentsOf: URL(fileURLWithPath: org + "/logs/" + f))
            for line in data.split(separator: 0x0A) { out.append((org + "/logs/" + f, Array(line))) }
        }
        return out
    }

    /// Stateless: the reference.
    func stateless(_ org: String, _ input: [(source: String, line: [UInt8])]) throws -> [String] {
        let p = try Pipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"))
        var out: [String] = []
        for r in input { r.line.withUnsafeBytes { p.push(line: $0) { out.append($0.jsonLine) } } }
        p.finish { out.append($0.jsonLine) }
        return out
    }

    /// With state, a checkpoint every `every` records, the pipeline dropped and restored from the state
    /// directory after every `restartEvery`-th checkpoint.
    func stateful(_ org: String, _ input: [(source: String, line: [UInt8])], every: Int, restartEvery: Int) throws
        -> (lines: [String], restarts: Int, maxInFlight: Int) {
        let dir = try makeTempDir("inflight"); defer { try? FileManager.default.removeItem(atPath: dir) }
        var out: [String] = []
        func open() throws -> DurablePipeline {
            try DurablePipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"),
                                stateDirectory: dir, checkpointEvery: every) { batch in out.append(contentsOf: batch.map(\.line)) }
        }
        var d = try open()
        var restarts = 0, maxInFlight = 0
        for r in input {
            try r.line.withUnsafeBytes { try d.push(source: r.source, line: $0, bytes: r.line.count + 1) }
            maxInFlight = max(maxInFlight, d.pipeline.heldEvents)
            if d.records % every == 0, (d.records / every) % restartEvery == 0 {
                d = try open()
                XCTAssertTrue(d.restored)
                restarts += 1
            }
        }
        try d.finish()
        return (out, restarts, maxInFlight)
    }

    func testCheckpointsAndRestartsChangeNoOutput() throws {
        let org = try GeneratedOrg.shared.path()
        let input = try lines(org)
        XCTAssertGreaterThan(input.count, 5000)
        let reference = try stateless(org, input)
        XCTAssertGreaterThan(reference.count, 20)
        // A checkpoint every 997 records (a prime, so they fall everywhere in the mail flow), a restart after
        // every third.
        let run = try stateful(org, input, every: 997, restartEvery: 3)
        XCTAssertGreaterThan(run.restarts, 1)
        XCTAssertGreaterThan(run.maxInFlight, 0, "nothing was ever in flight: the test proves nothing")
        XCTAssertEqual(run.lines.count, reference.count)
        XCTAssertTrue(run.lines == reference, "a checkpoint or restart changed the outputs: first difference at \(run.lines.indices.first { $0 < reference.count && run.lines[$0] != reference[$0] } ?? -1)")
    }

    func testFlushingCheckpointReleasesWhatIsInFlight() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("flush"); defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DurablePipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"),
                                    stateDirectory: dir, checkpointEvery: 1 << 40) { _ in }
        for r in try lines(org).prefix(3000) {
            try r.line.withUnsafeBytes { try d.push(source: r.source, line: $0, bytes: r.line.count + 1) }
        }
        XCTAssertGreaterThan(d.pipeline.heldEvents, 0)
        let before = d.pipeline.analytics.stats.events
        try d.checkpoint()
        XCTAssertGreaterThan(d.pipeline.heldEvents, 0, "a plain checkpoint keeps the events in flight")
        try d.checkpoint(flush: true)
        XCTAssertEqual(d.pipeline.heldEvents, 0)
        XCTAssertGreaterThan(d.pipeline.analytics.stats.events, before)
    }

    func testCorruptInFlightImagesAreErrors() throws {
        let org = try GeneratedOrg.shared.path()
        let p = try Pipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"))
        for r in try lines(org).prefix(3000) { r.line.withUnsafeBytes { p.push(line: $0) { _ in } } }
        var w = SnapshotWriter()
        p.writeInFlight(to: &w)
        let image = w.bytes
        XCTAssertGreaterThan(p.heldEvents, 0)
        func fresh() throws -> Pipeline {
            try Pipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"))
        }
        let q = try fresh()
        try q.restoreInFlight(image)
        XCTAssertEqual(q.heldEvents, p.heldEvents)
        var again = SnapshotWriter()
        q.writeInFlight(to: &again)
        XCTAssertEqual(again.bytes, image, "restore then write gives the same image")
        // A counter set to Int.max would trap at its next increment: it is refused by name.
        var huge = image
        for k in 0..<8 { huge[8 + k] = k == 7 ? 0x7F : 0xFF }   // the reorder buffer's first counter
        XCTAssertThrowsError(try fresh().restoreInFlight(huge)) { XCTAssertTrue("\($0)".contains("reorder reordered = 9223372036854775807 is not a counter"), "\($0)") }
        var rng = SplitMix64(state: 5)
        var failures = 0
        for k in 0..<48 {
            var b = image
            if k % 2 == 0 {
                b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
            } else {
                for _ in 0..<3 { let i = Int(rng.next() % UInt64(b.count)); b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            }
            let t = try fresh()
            do {
                try t.restoreInFlight(b)
                t.finish { _ in }   // a restored pipeline must be usable
            } catch is StateImageError {
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 24, "most corruptions must be detected (\(failures)/48)")
    }
}
