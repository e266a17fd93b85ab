import Foundation
import XCTest
@testable import OspreyGenerator

/// `osprey evaluate` reads the alerts through the one alert type: a scenario is scored from its session and
/// rule lines, and an unreadable line is counted and named, and fails the evaluation (never skipped silently).
final class EvaluationTests: XCTestCase {
    func testScoresScenarioAndCountsUnreadableLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-eval-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labels = #"{"id":"s1","user":"Ann@corp.example","use_case":"account compromise","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T09:00:00.000Z","expected_rules":["APP-F-FL","EM-X"]}"#
        try (labels + "\n").write(toFile: dir + "/labels.jsonl", atomically: true, encoding: .utf8)
        let good = [
            #"{"kind":"rule","rule":"APP-F-FL","name":"n","score":30,"user":"ann@corp.example","session":"ann#1","time":"2026-11-02T08:15:02.113Z","mitre":[],"use_cases":[],"reason":"r","evidence":{"also_matched":["APP-F-FL-2"]}}"#,
            #"{"kind":"notable","user":"ann@corp.example","session":"ann#1","start":"2026-11-02T08:00:00.000Z","time":"2026-11-02T08:15:02.113Z","score":80,"threshold":70,"rules":["APP-F-FL"]}"#,
            #"{"kind":"session","user":"ann@corp.example","session":"ann#1","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T08:30:00.000Z","score":80,"notable":true,"rules":["APP-F-FL"]}"#,
        ]
        try (good.joined(separator: "\n") + "\n").write(toFile: dir + "/alerts.jsonl", atomically: true, encoding: .utf8)
        let e = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: dir + "/alerts.jsonl", userDays: 100)
        XCTAssertEqual(e.scenarios.map(\.detected), [true])
        XCTAssertEqual(e.scenarios.first?.missing, ["EM-X"])
        XCTAssertEqual(e.scenarios.first?.fired.sorted(), ["APP-F-FL", "APP-F-FL-2"])
        XCTAssertEqual(e.notableSessions, 1, "a live notable line is not a closed session")
        XCTAssertTrue(e.unreadableAlertLines.isEmpty)

        try (good.joined(separator: "\n") + "\n{\"kind\":\"rule\",\"rule\":\n").write(toFile: dir + "/alerts.jsonl", atomically: true, encoding: .utf8)
        let bad = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: dir + "/alerts.jsonl", userDays: 100)
        XCTAssertEqual(bad.unreadableAlertLines.map(\.line), [4])
        XCTAssertFalse(bad.passed)
        XCTAssertTrue(bad.report().contains("Unreadable alert lines: 1 (first: line 4: not a JSON object)"), bad.report())
    }
}
