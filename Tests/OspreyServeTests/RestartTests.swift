import Foundation
import XCTest

/// Durable state: `osprey replay --state DIR` killed with SIGKILL mid-stream, restarted until it completes,
/// writes exactly the alerts of an uninterrupted run with the same checkpoint interval (no alert lost,
/// none doubled, no event counted twice: the per-state totals match too).
final class RestartTests: XCTestCase {
    func replayArgs(_ org: String, state: String, out: String) -> [String] {
        ["replay", org + "/logs", "--context", org + "/context", "--state", state, "--out", out,
         "--checkpoint-records", "2000", "--finish"]
    }

    func testKilledReplayResumesToTheSameAlerts() throws {
        let org = try GeneratedOrg.shared.path()
        let tmp = try makeTempDir("restart")
        defer { try? FileManager.default.removeItem(atPath: tmp) }

        // 1. Uninterrupted.
        let started = Date()
        let a = try runOsprey(replayArgs(org, state: tmp + "/stateA", out: tmp + "/a.jsonl"))
        XCTAssertEqual(a.status, 0, a.stderr)
        let fullSeconds = Date().timeIntervalSince(started)
        let expected = try String(contentsOfFile: tmp + "/a.jsonl", encoding: .utf8)
        XCTAssertGreaterThan(expected.split(separator: "\n").count, 10, "the organization should raise alerts")

        // 2. Killed at several points, then let finish.
        let binary = try ospreyBinary()
        var kills = 0
        var fractions: [Double] = [0.15, 0.3, 0.45, 0.6, 0.8]
        var finished = false
        var attempts = 0
        while !finished && attempts < 12 {
            attempts += 1
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = replayArgs(org, state: tmp + "/stateB", out: tmp + "/b.jsonl")
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            if let f = fractions.first {
                fractions.removeFirst()
                // Each restart skips what was consumed, so shorter waits still land mid-stream.
                let wait = max(0.3, fullSeconds * f * 0.5)
                let deadline = Date().addingTimeInterval(wait)
                while p.isRunning && Date() < deadline { usleep(10_000) }
                if p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                    kills += 1
                }
                p.waitUntilExit()
                if p.terminationReason == .exit && p.terminationStatus == 0 { finished = true }
            } else {
                p.waitUntilExit()
                XCTAssertEqual(p.terminationStatus, 0)
                finished = true
            }
        }
        XCTAssertTrue(finished)
        XCTAssertGreaterThanOrEqual(kills, 2, "the run should have been killed mid-stream at least twice")
        let got = try String(contentsOfFile: tmp + "/b.jsonl", encoding: .utf8)
        XCTAssertEqual(got.split(separator: "\n").count, expected.split(separator: "\n").count)
        XCTAssertTrue(got == expected, "restarted run's alerts differ from the uninterrupted run's")

        // 3. A further run over the same files consumes nothing and adds nothing.
        let again = try runOsprey(replayArgs(org, state: tmp + "/stateB", out: tmp + "/b.jsonl"))
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains(" 0 records read"), again.stderr)
        XCTAssertEqual(try String(contentsOfFile: tmp + "/b.jsonl", encoding: .utf8), expected)
        // Totals in both states agree (events counted once).
        let totalsA = a.stderr.split(separator: "\n").first { $0.contains("totals in state") }
        let totalsB = again.stderr.split(separator: "\n").first { $0.contains("totals in state") }
        XCTAssertNotNil(totalsA)
        XCTAssertEqual(totalsA, totalsB)
    }
}
