import Foundation
import OspreyTestSupport
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
        // Checkpoints flush the reorder buffer and the assembler (README, "Durable state"), so a message whose
        // parts straddle a checkpoint is assembled in two pieces: the stateful run is compared with an
        // uninterrupted run at the same interval, not with a stateless replay. What a stateless replay
        // raises must still all be there: the same rules fire for the same people.
        let plain = try runOsprey(["replay", org + "/logs", "--context", org + "/context", "--out", tmp + "/plain.jsonl"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        func ruleUsers(_ text: String) -> Set<String> {
            Set(text.split(separator: "\n").compactMap { line -> String? in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      o["kind"] as? String == "rule" else { return nil }
                return "\(o["rule"] ?? "") \(o["user"] ?? "")"
            })
        }
        let stateless = ruleUsers(try String(contentsOfFile: tmp + "/plain.jsonl", encoding: .utf8))
        let stateful = ruleUsers(expected)
        let missing = stateless.subtracting(stateful)
        XCTAssertLessThanOrEqual(missing.count, max(1, stateless.count / 50),
                                 "checkpoints lose detections a stateless replay makes: \(missing.sorted().prefix(10))")

        // 2. Killed at several points, then let finish. A kill counts as mid-stream when the committed
        //    output grew since the previous attempt and is still short of the full run's.
        let binary = try ospreyBinary()
        let expectedCount = expected.split(separator: "\n").count
        func committed() -> Int {
            ((try? String(contentsOfFile: tmp + "/b.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        var midStreamKills = 0
        var finished = false
        var attempts = 0
        var before = 0
        while !finished && attempts < 12 {
            attempts += 1
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = replayArgs(org, state: tmp + "/stateB", out: tmp + "/b.jsonl")
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            if attempts <= 6 {
                let deadline = Date().addingTimeInterval(max(1.0, fullSeconds * 0.3))
                while p.isRunning && Date() < deadline { usleep(10_000) }
                if p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                    p.waitUntilExit()
                    let now = committed()
                    if now > before && now < expectedCount { midStreamKills += 1 }
                    before = now
                    continue
                }
                p.waitUntilExit()
            } else {
                p.waitUntilExit()
            }
            XCTAssertEqual(p.terminationStatus, 0)
            finished = true
        }
        XCTAssertTrue(finished)
        print("restart test: \(midStreamKills) mid-stream kills in \(attempts) runs (full run \(String(format: "%.1f", fullSeconds)) s)")
        XCTAssertGreaterThanOrEqual(midStreamKills, 2, "the run should have been killed mid-stream (after some checkpoints) at least twice")
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
