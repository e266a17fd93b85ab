import ArgumentParser
import Foundation
import OspreyCore
import OspreyGenerator

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a synthetic organization, replay its logs, evaluate the detections and show the notable users.")

    @Option(help: "Number of people (default: the profile's).") var users: Int?
    @Option(help: "Days of history.") var days: Int = 45
    @Option(help: "Organization profile: classic, small, medium, large (see osprey generate).") var profile: String = "classic"
    @Option(help: "Random seed.") var seed: UInt64 = 7
    @Option(help: "Keep the generated data and alerts in this directory (default: a temporary one, removed).") var keep: String?
    @Option(help: "Notable sessions to show.") var top: Int = 10
    @OptionGroup var contentOptions: ContentOptions

    func validate() throws { try GeneratorArguments.validate(users: users, days: days, profile: profile) }

    func run() throws {
        let dir = keep ?? NSTemporaryDirectory() + "osprey-demo-\(getpid())"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let t0 = Date()
        let o = try GeneratorArguments.options(users: users, days: days, seed: seed, profile: profile)
        let g = try OrganizationGenerator.generate(o, into: dir)
        print("1. generate: \(g.users) accounts, \(g.days) days, \(g.lines) log lines in every supported shape, \(g.scenarios) labelled attack scenarios (\(secs(t0)) s)")
        let t1 = Date()
        let alerts = dir + "/alerts.jsonl"
        let summary = try ReplayRunner.run(inputs: try expandInputs([dir + "/logs"]), context: dir + "/context", out: alerts,
                                           content: contentOptions.content, reorderSeconds: ReorderBuffer.defaultWindowSeconds)
        print("2. replay (\(secs(t1)) s):")
        print(summary.split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        let e = try Evaluation.run(labels: dir + "/labels.jsonl", alerts: alerts, userDays: nil)
        print("3. notable users (top \(top) sessions by score):")
        print(try NotableReport.render(alerts: alerts, top: top))
        print("4. evaluation:")
        print(e.report().split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        print("demo finished in \(secs(t0)) s" + (keep != nil ? "; data in \(dir)" : ""))
        if !e.passed { throw ExitCode(1) }
    }

    func secs(_ t: Date) -> String { String(format: "%.1f", Date().timeIntervalSince(t)) }
}

/// The notable sessions of an alerts file, with each rule's reason and MITRE techniques.
enum NotableReport {
    static func render(alerts: String, top: Int) throws -> String {
        let text = try String(contentsOfFile: alerts, encoding: .utf8)
        var sessions: [[String: Any]] = []
        var rules: [String: [[String: Any]]] = [:]
        for line in text.split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if o["kind"] as? String == "session", o["notable"] as? Bool == true { sessions.append(o) }
            if o["kind"] as? String == "rule" { rules["\(o["session"] ?? "")", default: []].append(o) }
        }
        sessions.sort { (($0["score"] as? Int) ?? 0, "\($1["session"] ?? "")") > (($1["score"] as? Int) ?? 0, "\($0["session"] ?? "")") }
        var out = ""
        for s in sessions.prefix(top) {
            let id = "\(s["session"] ?? "")"
            out += "   \(s["user"] ?? "?")  score \(s["score"] ?? 0)  \(s["start"] ?? "") → \(s["end"] ?? "")\n"
            for r in rules[id] ?? [] {
                let mitre = (r["mitre"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.joined(separator: ",") ?? ""
                out += "     +\(r["score"] ?? 0) \(r["rule"] ?? "") [\(mitre)] \(r["reason"] ?? "")\n"
            }
        }
        return out.isEmpty ? "   (no notable session)\n" : out
    }
}
