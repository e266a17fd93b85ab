import Foundation
import XCTest
import OspreyAnalytics
import OspreyCore
import OspreyGenerator
import OspreyIO
@testable import OspreyPipeline

final class PipelineTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let content = root.appendingPathComponent("Content").path

    /// A small generated organization, shared by the tests of this class.
    nonisolated(unsafe) static let org: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-pipeline-\(getpid())").path
        var o = GeneratorOptions()
        o.users = 40; o.days = 21
        _ = try! OrganizationGenerator.generate(o, into: dir)
        return dir
    }()

    func replay(bufferBytes: Int, window: Int64 = 600_000, shuffleWithin: Int = 0) throws -> (String, Pipeline) {
        var options = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.org + "/context")
        options.reorderWindowMillis = window
        let pipeline = try Pipeline(options: options)
        var out = ""
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.org + "/logs").sorted()
        var pending: [[UInt8]] = []
        func flush() {
            // Swap neighbours inside small groups: out-of-order input the reorder window must absorb.
            if shuffleWithin > 1 {
                var i = 0
                while i + 1 < pending.count { pending.swapAt(i, i + 1); i += shuffleWithin }
            }
            for l in pending { l.withUnsafeBytes { pipeline.push(line: $0) { out += $0.jsonLine + "\n" } } }
            pending.removeAll()
        }
        for f in files {
            try LineReader(path: Self.org + "/logs/" + f, bufferBytes: bufferBytes).forEach { rec in
                if case .line(let b, _) = rec { pending.append(Array(b)) }
                if pending.count >= 64 { flush() }
            }
        }
        flush()
        pipeline.finish { out += $0.jsonLine + "\n" }
        return (out, pipeline)
    }

    func testReplayIsByteIdenticalAcrossRunsAndBufferSizes() throws {
        let (a, p) = try replay(bufferBytes: 1 << 20)
        let (b, _) = try replay(bufferBytes: 4096)
        let (c, _) = try replay(bufferBytes: 1 << 20)
        XCTAssertGreaterThan(a.count, 1000)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a, c)
        XCTAssertEqual(p.parseStats.rejects, 0)
        XCTAssertGreaterThan(p.analyticsStats.events, 1000)
    }

    func testOutOfOrderInputWithinTheWindowGivesTheSameOutput() throws {
        let (ordered, _) = try replay(bufferBytes: 1 << 20)
        let (shuffled, p) = try replay(bufferBytes: 1 << 20, shuffleWithin: 3)
        XCTAssertGreaterThan(p.reorderStats.reordered, 100, "the shuffle must have produced out-of-order events")
        XCTAssertEqual(p.reorderStats.late, 0)
        XCTAssertEqual(ordered, shuffled)
    }

    func testEveryScenarioOfTheSmallOrganizationIsLabelledAndOutputsAreWellFormed() throws {
        let (out, _) = try replay(bufferBytes: 1 << 20)
        var kinds: [String: Int] = [:]
        for line in out.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            kinds[o["kind"] as! String, default: 0] += 1
            if o["kind"] as? String == "rule" {
                XCTAssertNotNil(o["reason"] as? String)
                XCTAssertNotNil(o["evidence"] as? [String: Any])
                XCTAssertNotNil(o["mitre"] as? [[String: Any]])
            }
        }
        XCTAssertGreaterThan(kinds["rule"] ?? 0, 10)
        XCTAssertGreaterThan(kinds["session"] ?? 0, 5)
    }

    func testReorderBufferReleasesInTimeOrderAndCountsLateEvents() {
        var r = ReorderBuffer(windowMillis: 100)
        var out: [Event] = []
        for t: Int64 in [1000, 990, 1050, 1200, 1010, 1400] {
            r.push(Event(parser: "t", activityType: .appLogin, timeMillis: t), into: &out)
        }
        r.finish(into: &out)
        XCTAssertEqual(out.map(\.timeMillis), [990, 1000, 1050, 1010, 1200, 1400])
        XCTAssertEqual(r.late, 1)       // 1010 came after 1050 had been released
        XCTAssertEqual(r.reordered, 1)  // 990 arrived after 1000
    }

    // MARK: time sanity and bounded state

    func lines() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.org + "/logs").sorted() {
            try LineReader(path: Self.org + "/logs/" + f).forEach { rec in if case .line(let b, _) = rec { out.append(Array(b)) } }
        }
        return out
    }

    func run(_ options: PipelineOptions, _ input: [[UInt8]]) throws -> (String, Pipeline) {
        let p = try Pipeline(options: options)
        var out = ""
        for l in input { l.withUnsafeBytes { p.push(line: $0) { out += $0.jsonLine + "\n" } } }
        p.finish { out += $0.jsonLine + "\n" }
        return (out, p)
    }

    /// Freeing aged-out histograms eagerly (maintenance after every 64 events instead of 65536) gives the
    /// same output byte for byte: only memory the lazy path would free anyway is released.
    func testMaintenanceDoesNotChangeTheOutput() throws {
        let input = try lines()
        var o = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.org + "/context")
        let (a, _) = try run(o, input)
        o.maintenanceEvery = 64
        let (b, p) = try run(o, input)
        XCTAssertGreaterThan(a.count, 1000)
        XCTAssertTrue(a == b, "maintenance changed the output")
        XCTAssertEqual(p.maintenance.identitiesEvicted, 0, "everyone in the generated organization is in users.csv or under the cap")
    }

    func testUnknownIdentitiesAreCappedLeastRecentlySeenFirst() throws {
        var o = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.org + "/context")
        o.maintenanceEvery = 100
        o.maxUnknownIdentities = 50
        var input: [[UInt8]] = []
        for i in 0..<1000 {
            let t = String(format: "2026-09-28T%02d:%02d:%02d+0000", i / 3600, (i / 60) % 60, i % 60)
            let u = "flood\(i)@spam-example.net"
            input.append(Array("date=\(t)|mcType=auditLog|user=\(u)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(u)|app=mimecast-moa|src=198.51.100.7|action=success".utf8))
        }
        let (_, p) = try run(o, input)
        XCTAssertEqual(p.parseStats.rejects, 0)
        XCTAssertEqual(p.maintenance.identitiesEvicted, 950, "\(p.maintenance)")
        XCTAssertGreaterThan(p.maintenance.sessionsDropped, 0)
        XCTAssertLessThanOrEqual(p.analytics.openSessions.count, 50 + 100)
    }

    func testEventsFarAheadOfTheHighWaterMarkAreQuarantined() throws {
        let input = try lines()
        let o = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.org + "/context")
        let (clean, _) = try run(o, input)
        // One record a year ahead, early on.
        var poisoned = input
        let k = poisoned.indices.dropFirst(100).first { String(decoding: poisoned[$0], as: UTF8.self).contains("date=20") }!
        var text = String(decoding: poisoned[k], as: UTF8.self)
        let r = text.range(of: "date=20")!
        let yearRange = text.index(r.upperBound, offsetBy: -2)..<text.index(r.upperBound, offsetBy: 2)
        text.replaceSubrange(yearRange, with: String(Int(text[yearRange])! + 1))
        poisoned.insert(Array(text.utf8), at: k + 1)
        var rejected: [String] = []
        let p = try Pipeline(options: o)
        p.onReject = { r, _ in rejected.append(r.reason.rawValue) }
        var out = ""
        for l in poisoned { l.withUnsafeBytes { p.push(line: $0) { out += $0.jsonLine + "\n" } } }
        p.finish { out += $0.jsonLine + "\n" }
        XCTAssertEqual(p.futureRejects, 1)
        XCTAssertEqual(rejected, ["time in the future"])
        XCTAssertEqual(p.parseStats.rejectsByReason[.futureTime], 1)
        XCTAssertTrue(out == clean, "a quarantined record changed the output")
    }

    /// A stream that really moves on — no logs for days (a holiday), or a second archive months later — is not
    /// quarantined: once `futureJumpConfirmations` records in a row agree, the high-water mark jumps.
    func testAGapInTheLogsIsNotQuarantined() throws {
        func line(_ day: Int, _ minute: Int) -> [UInt8] {
            Array("datetime=2026-10-\(String(format: "%02d", day))T09:\(String(format: "%02d", minute)):00+0000|aCode=g\(day)-\(minute)|acc=C1|Sender=a@corp.example|Rcpt=b@corp.example|Act=Acc|Dir=Internal|IP=10.0.0.1".utf8)
        }
        var input: [[UInt8]] = (0..<20).map { line(1, $0) }
        input += (0..<20).map { line(9, $0) }           // eight days later: the stream moved on
        input += [line(9, 30)]
        let o = PipelineOptions(contentDirectory: Self.content, contextDirectory: Self.org + "/context")
        let p = try Pipeline(options: o)
        for l in input { l.withUnsafeBytes { p.push(line: $0) { _ in } } }
        p.finish { _ in }
        XCTAssertEqual(p.futureRejects, 0, "a real jump of the stream is accepted")
        XCTAssertEqual(p.parseStats.events, input.count)
        // A few stray records far ahead, then the stream goes on where it was: only those are rejected.
        var stray: [[UInt8]] = (0..<20).map { line(1, $0) }
        stray.insert(line(20, 1), at: 10); stray.insert(line(20, 2), at: 11)
        let q = try Pipeline(options: o)
        for l in stray { l.withUnsafeBytes { q.push(line: $0) { _ in } } }
        q.finish { _ in }
        XCTAssertEqual(q.futureRejects, 2)
        XCTAssertEqual(q.parseStats.events, 20)
    }

    /// Session sums of hostile sizes (two records of 5e18 bytes pass Int64.max) are written, not trapped.
    func testHugeNumbersAreWrittenWithoutTrapping() {
        XCTAssertEqual(OutputJSONWriter.format(5e18 + 5e18), "1e+19")
        XCTAssertEqual(OutputJSONWriter.format(-1e300), "-1e+300")
        XCTAssertEqual(OutputJSONWriter.format(9.2e18), "9200000000000000000")
        XCTAssertEqual(OutputJSONWriter.format(Double(Int64.max)), "9.223372036854776e+18")
        XCTAssertEqual(OutputJSONWriter.format(.infinity), "null")
        XCTAssertEqual(OutputJSONWriter.format(1234.5), "1234.5")
        XCTAssertEqual(JSONValue.object([("sum", .double(1e19))]).serialized(), #"{"sum":1e+19}"#)
    }
}
