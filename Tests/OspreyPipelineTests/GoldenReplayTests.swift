import Foundation
import XCTest
import OspreyCore
import OspreyIO
@testable import OspreyPipeline

/// Pins the whole pipeline's output, byte for byte, over fixed input: a small generated organization (30
/// people of the small profile, seed 11, 42 days, 20 labelled scenarios) frozen in Fixtures/golden together with its context directory, followed
/// by the bundled one-line-per-shape sample. Refactors of any stage must leave this output unchanged; a
/// deliberate change of content or behaviour rewrites the golden with `OSPREY_UPDATE_GOLDEN=1 swift test
/// --filter GoldenReplayTests` and the diff of Fixtures/golden/expected.jsonl is reviewed in the commit.
/// The fixture is frozen on purpose: generator changes do not move it.
final class GoldenReplayTests: XCTestCase {
    static let fixture = PipelineTests.root.appendingPathComponent("Tests/OspreyPipelineTests/Fixtures/golden").path
    static let expected = fixture + "/expected.jsonl"

    /// The input files, in replay order: the organization's daily logs, then the sample of every shape.
    static func inputs() throws -> [String] {
        let logs = try FileManager.default.contentsOfDirectory(atPath: fixture + "/logs").sorted().map { fixture + "/logs/" + $0 }
        return logs + [PipelineTests.root.appendingPathComponent("samples/mimecast-sample.log").path]
    }

    func replay() throws -> (output: String, pipeline: Pipeline) {
        let pipeline = try Pipeline(options: PipelineOptions(contentDirectory: PipelineTests.content, contextDirectory: Self.fixture + "/context"))
        var out = ""
        for f in try Self.inputs() {
            try LineReader(path: f).forEach { rec in
                if case .line(let b, let n) = rec { pipeline.push(line: b, lines: n) { out += $0.jsonLine + "\n" } }
            }
        }
        pipeline.finish { out += $0.jsonLine + "\n" }
        // The parse and analytics totals are part of what is pinned: a lost or extra record shows here too.
        out += "{\"kind\":\"golden-totals\",\"parse_rejects\":\(pipeline.parseStats.rejects),\"events\":\(pipeline.analyticsStats.events)}\n"
        return (out, pipeline)
    }

    func testReplayOutputIsByteIdenticalToTheGolden() throws {
        let (actual, pipeline) = try replay()
        XCTAssertGreaterThan(pipeline.analyticsStats.events, 4_000, "the fixture is replayed whole")
        if ProcessInfo.processInfo.environment["OSPREY_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: Self.expected, atomically: true, encoding: .utf8)
            print("golden rewritten: \(Self.expected) (\(actual.utf8.count) bytes); review its diff before committing")
            return
        }
        let expected = try String(contentsOfFile: Self.expected, encoding: .utf8)
        if actual == expected { return }
        // Name the first differing line, and keep the whole actual output for a diff.
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let at = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-golden-actual.jsonl").path
        try? actual.write(toFile: saved, atomically: true, encoding: .utf8)
        XCTFail("""
            replay output differs from the golden at line \(at + 1) (\(a.count) lines, golden \(e.count)); \
            actual kept in \(saved)
            expected: \(at < e.count ? String(e[at].prefix(600)) : "<end>")
            actual:   \(at < a.count ? String(a[at].prefix(600)) : "<end>")
            """)
    }

    /// The golden is only worth pinning if it exercises the stages: alerts of several kinds, notable sessions.
    func testTheGoldenCoversAlertsSessionsAndNotables() throws {
        let expected = try String(contentsOfFile: Self.expected, encoding: .utf8)
        XCTAssertGreaterThan(expected.components(separatedBy: "\"kind\":\"notable\"").count - 1, 0)
        XCTAssertGreaterThan(expected.components(separatedBy: "\"kind\":\"session\"").count - 1, 20)
        XCTAssertGreaterThan(expected.components(separatedBy: "\"kind\":\"rule\"").count - 1, 50)
    }
}
