import Foundation
import XCTest
import OspreyCore
import OspreyGenerator
import OspreyIO
@testable import OspreyPipeline

/// End to end over the labelled scenarios: a generated organization (80 people, 45 days) is replayed
/// through the whole pipeline; every scenario must be notable with all its expected rules, and benign
/// notable sessions must stay within 1% of user-days.
final class ScenarioTests: XCTestCase {
    func testEveryScenarioIsDetectedWithItsExpectedRulesAndBenignNoiseIsWithinTheBar() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-scenarios-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = GeneratorOptions()
        o.users = 80; o.days = 45; o.seed = 7
        let g = try OrganizationGenerator.generate(o, into: dir)
        XCTAssertEqual(g.scenarios, 18)

        let pipeline = try Pipeline(options: PipelineOptions(contentDirectory: PipelineTests.content, contextDirectory: dir + "/context"))
        let alerts = try OutputWriter(path: dir + "/alerts.jsonl")
        let emit: (AnalyticsOutputLine) -> Void = { alerts.write($0 + "\n") }
        for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/logs").sorted() {
            try LineReader(path: dir + "/logs/" + f).forEach { rec in
                if case .line(let b, let n) = rec { pipeline.push(line: b, lines: n) { emit($0.jsonLine) } }
            }
        }
        pipeline.finish { emit($0.jsonLine) }
        alerts.flush()
        XCTAssertEqual(pipeline.parseStats.rejects, 0)

        let e = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: dir + "/alerts.jsonl", userDays: nil)
        for s in e.scenarios {
            XCTAssertTrue(s.detected, "\(s.id) not notable (score \(s.score)); fired \(s.fired)")
            XCTAssertEqual(s.missing, [], "\(s.id): expected rules that did not fire")
        }
        XCTAssertEqual(e.detectionRate, 1.0)
        XCTAssertLessThanOrEqual(e.benignRate, 0.01, "benign notable sessions: \(e.topBenign)")
        XCTAssertGreaterThanOrEqual(e.userDays, 82 * 45)
    }
}

typealias AnalyticsOutputLine = String
