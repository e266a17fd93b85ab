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

extension ScenarioTests {
    /// Replays a generated organization through the whole pipeline; returns its directory (caller removes it).
    func replay(_ o: GeneratorOptions) throws -> (dir: String, summary: GenerationSummary) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-profile-\(UUID().uuidString)").path
        let g = try OrganizationGenerator.generate(o, into: dir)
        let pipeline = try Pipeline(options: PipelineOptions(contentDirectory: PipelineTests.content, contextDirectory: dir + "/context"))
        let alerts = try OutputWriter(path: dir + "/alerts.jsonl")
        for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/logs").sorted() {
            try LineReader(path: dir + "/logs/" + f).forEach { rec in
                if case .line(let b, let n) = rec { pipeline.push(line: b, lines: n) { alerts.write($0.jsonLine + "\n") } }
            }
        }
        pipeline.finish { alerts.write($0.jsonLine + "\n") }
        alerts.flush()
        XCTAssertEqual(pipeline.parseStats.rejects, 0)
        return (dir, g)
    }

    /// The small realistic profile (60 people, low activity, holidays, travellers, shared mailboxes, a billing
    /// team mailing webmail daily, single-signal scenarios): every scenario notable with its expected rules,
    /// benign notable ≤ 0.5% of user-days, and the benign patterns of issue 16 never notable.
    func testSmallRealisticProfileDetectsEveryScenarioAndKeepsBenignPatternsQuiet() throws {
        var o = GeneratorOptions()
        o.profile = .small; o.users = 60; o.days = 45; o.seed = 3
        let (dir, g) = try replay(o)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertGreaterThanOrEqual(g.scenarios, 21, "victims found for the scenarios")
        let e = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: dir + "/alerts.jsonl", userDays: nil)
        for s in e.scenarios {
            XCTAssertTrue(s.detected, "\(s.id) not notable (score \(s.score)); fired \(s.fired)")
            XCTAssertEqual(s.missing, [], "\(s.id): expected rules that did not fire")
        }
        XCTAssertLessThanOrEqual(e.benignRate, 0.005, "benign notable sessions: \(e.topBenign)")
        // Issue 16's benign patterns: billing mailing webmail daily, a week abroad, remote staff, shared mailboxes.
        let patterns = try String(contentsOfFile: dir + "/benign.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        XCTAssertTrue(Set(patterns.compactMap { $0["pattern"] }).isSuperset(of: ["billing-mails-webmail-daily", "conference-week-abroad", "shared-mailbox"]))
        let quiet = Set(patterns.compactMap { $0["user"] })
        let text = try String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  obj["kind"] as? String == "session", obj["notable"] as? Bool == true, let user = obj["user"] as? String else { continue }
            XCTAssertFalse(quiet.contains(user), "benign pattern notable: \(line)")
        }
    }
}

typealias AnalyticsOutputLine = String
