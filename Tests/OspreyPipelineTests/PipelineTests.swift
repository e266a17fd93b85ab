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
}
