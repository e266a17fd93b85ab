import ArgumentParser
import Foundation
import OspreyCore
import OspreyGenerator

/// `osprey calibrate`: replays the profile × seed matrix and prints, per rule, fires per 1,000 benign
/// user-days, the share of scenarios where it fired and the distribution of benign session scores; per cell,
/// detection and the benign notable rate. docs/calibration.md keeps the table.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay generated organizations (profile × seed) and print per-rule calibration figures and per-cell detection.")

    @Option(help: "Comma-separated profiles.") var profiles: String = "small,medium"
    @Option(help: "Seeds: a range (1-5) or a comma-separated list.") var seeds: String = "1-3"
    @Option(help: "Days of history.") var days: Int = 45
    @Option(help: "People per organization (default: each profile's).") var users: Int?
    @Option(help: "Benign notable sessions allowed, as a share of user-days.") var bar: Double = 0.005
    @OptionGroup var contentOptions: ContentOptions

    static func parseSeeds(_ s: String) throws -> [UInt64] {
        if let dash = s.firstIndex(of: "-"), let a = UInt64(s[..<dash]), let b = UInt64(s[s.index(after: dash)...]), a <= b, b - a < 1000 {
            return Array(a...b)
        }
        let list = s.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty else { throw ValidationError("--seeds must be a range (1-5) or a list (1,2,7)") }
        return list
    }

    func validate() throws {
        for p in profiles.split(separator: ",") { try GeneratorArguments.validate(users: users, days: days, profile: String(p)) }
        _ = try Calibrate.parseSeeds(seeds)
    }

    func run() throws {
        let seedList = try Calibrate.parseSeeds(seeds)
        var benignFires: [String: Int] = [:], scenarioFires: [String: Int] = [:]
        var scenarios = 0, userDays = 0
        var scores: [Int] = []
        var cells: [String] = []
        var ok = true
        for profile in profiles.split(separator: ",").map(String.init) {
            for seed in seedList {
                let dir = NSTemporaryDirectory() + "osprey-calibrate-\(getpid())-\(profile)-\(seed)"
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let o = try GeneratorArguments.options(users: users, days: days, seed: seed, profile: profile)
                let g = try OrganizationGenerator.generate(o, into: dir)
                _ = try ReplayRunner.run(inputs: try expandInputs([dir + "/logs"]), context: dir + "/context", out: dir + "/alerts.jsonl",
                                         content: contentOptions.content, reorderSeconds: ReorderBuffer.defaultWindowSeconds)
                let e = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: dir + "/alerts.jsonl", userDays: nil)
                for (r, n) in e.benignFires { benignFires[r, default: 0] += n }
                for (r, n) in e.scenarioFires { scenarioFires[r, default: 0] += n }
                scenarios += e.scenarios.count; userDays += e.userDays; scores += e.benignScores
                let missed = e.scenarios.filter { !$0.detected }.map(\.id)
                let incomplete = e.scenarios.filter { !$0.missing.isEmpty }.map { "\($0.id) (missing \($0.missing.joined(separator: "+")))" }
                let cellOK = missed.isEmpty && incomplete.isEmpty && e.benignRate <= bar
                ok = ok && cellOK
                var line = "\(profile.padding(toLength: 7, withPad: " ", startingAt: 0)) seed \(String(seed).padding(toLength: 3, withPad: " ", startingAt: 0)) "
                line += "\(g.users) people, \(e.userDays) user-days: detected \(e.scenarios.filter(\.detected).count)/\(e.scenarios.count), "
                line += String(format: "benign notable %d (%.3f%%) %@", e.benignNotableSessions, e.benignRate * 100, cellOK ? "ok" : "FAIL")
                if !missed.isEmpty { line += "\n    missed: " + missed.joined(separator: ", ") }
                if !incomplete.isEmpty { line += "\n    expected rules missing: " + incomplete.joined(separator: ", ") }
                for b in e.topBenign.prefix(3) { line += "\n    benign notable: \(b.score) \(b.user) \(b.rules.joined(separator: ","))" }
                cells.append(line)
                print(line)
            }
        }
        print("\nPer rule over \(userDays) user-days and \(scenarios) scenarios:")
        print("rule".padding(toLength: 26, withPad: " ", startingAt: 0) + " fires/1000 benign user-days   share of scenarios")
        for r in Set(benignFires.keys).union(scenarioFires.keys).sorted() {
            let per = userDays > 0 ? Double(benignFires[r] ?? 0) * 1000 / Double(userDays) : 0
            let share = scenarios > 0 ? Double(scenarioFires[r] ?? 0) / Double(scenarios) : 0
            print(r.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %10.2f                  %5.1f%%", per, share * 100))
        }
        scores.sort()
        func q(_ p: Double) -> Int { scores.isEmpty ? 0 : scores[min(scores.count - 1, Int(Double(scores.count) * p))] }
        print("\nBenign session scores (\(scores.count) sessions with rules): p50 \(q(0.5)), p90 \(q(0.9)), p99 \(q(0.99)), p99.9 \(q(0.999)), max \(scores.last ?? 0)")
        var buckets: [Int: Int] = [:]
        for s in scores { buckets[min(s / 10, 10), default: 0] += 1 }
        print("  " + (0...10).map { b in "\(b == 10 ? "100+" : "\(b * 10)-\(b * 10 + 9)"): \(buckets[b] ?? 0)" }.joined(separator: "  "))
        print(ok ? "\nPASS: every scenario notable with its expected rules; benign notable ≤ \(bar * 100)% of user-days in every cell"
                 : "\nFAIL")
        if !ok { throw ExitCode(1) }
    }
}
