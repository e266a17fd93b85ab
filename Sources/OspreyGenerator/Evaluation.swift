import Foundation
import OspreyAnalytics
import OspreyCore

/// Scores a replay's alerts against the labelled scenarios (`osprey evaluate`). Tooling, not the hot path:
/// Foundation's JSONDecoder reads the labels, and the alerts are read through the one alert type
/// (OspreyAnalytics.AlertFile).
public struct Evaluation: Sendable {
    public struct ScenarioResult: Sendable {
        public var id: String
        public var user: String
        public var useCase: String
        public var detected: Bool
        public var score: Int
        public var fired: [String]
        public var missing: [String]
        public var sessions: [String]
    }

    public var scenarios: [ScenarioResult] = []
    public var notableSessions = 0
    public var benignNotableSessions = 0
    public var benignNotableUsers: [String] = []
    public var userDays = 0
    public var ruleFires: [(rule: String, fires: Int, users: Int)] = []
    public var topBenign: [(user: String, session: String, score: Int, rules: [String])] = []
    /// Per rule: triggers outside every labelled scenario (benign fires).
    public var benignFires: [String: Int] = [:]
    /// Per rule: in how many scenarios it fired.
    public var scenarioFires: [String: Int] = [:]
    /// Scores of the closed sessions with rules that overlap no scenario.
    public var benignScores: [Int] = []
    /// Expected rules that fired only as their new-user variant (same question, the victim's own model had
    /// not converged): counted as fired, listed here.
    public var variantMatches: [String] = []
    /// Alert lines that could not be read (line number and reason); the report names them.
    public var unreadableAlertLines: [AlertLineError] = []

    public var detectionRate: Double { scenarios.isEmpty ? 0 : Double(scenarios.filter(\.detected).count) / Double(scenarios.count) }
    public var benignRate: Double { userDays == 0 ? 0 : Double(benignNotableSessions) / Double(userDays) }
    public var passed: Bool { detectionRate >= 1.0 && benignRate <= 0.01 && unreadableAlertLines.isEmpty }

    struct Label { var id, user, useCase: String; var start, end: Int64; var expected: [String] }

    /// One line of labels.jsonl as the generator writes it (Scenarios.swift); keys it does not use are ignored.
    struct LabelLine: Decodable {
        var id: String?
        var user: String?
        var useCase: String?
        var start: String?
        var end: String?
        var expectedRules: [String]?
        enum CodingKeys: String, CodingKey { case id, user, useCase = "use_case", start, end, expectedRules = "expected_rules" }
    }

    /// A labels line that could not be read: the file, its 1-based line number and why.
    public struct LabelError: Error, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(path):\(line): \(reason)" }
    }

    /// The scenarios of a labels.jsonl file (blank lines skipped); a line that is not a label object, or
    /// whose start or end is not an ISO 8601 time, is an error naming the line.
    static func readLabels(_ path: String) throws -> [Label] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [Label] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            func fail(_ reason: String) -> LabelError { LabelError(path: path, line: i + 1, reason: reason) }
            let l: LabelLine
            do { l = try JSONDecoder().decode(LabelLine.self, from: Data(line.utf8)) } catch let DecodingError.typeMismatch(_, c) where !c.codingPath.isEmpty {
                throw fail("'\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
            } catch {
                throw fail("not a JSON object")
            }
            func time(_ key: String, _ v: String?) throws -> Int64 {
                guard let v else { return 0 }
                guard let ms = UTCTime.parse(v) else { throw fail("\(key) '\(v)' is not an ISO 8601 time") }
                return ms
            }
            out.append(Label(id: l.id ?? "?", user: (l.user ?? "").lowercased(), useCase: l.useCase ?? "",
                             start: try time("start", l.start), end: try time("end", l.end), expected: l.expectedRules ?? []))
        }
        return out
    }
    struct Session { var user, id: String; var start, end: Int64; var score: Int; var notable: Bool; var rules: [String] }
    struct RuleHit { var rule, user, session: String; var time: Int64 }

    public static func run(labels labelsPath: String, alerts alertsPath: String, userDays: Int?) throws -> Evaluation {
        let labels = try readLabels(labelsPath)
        // The alerts, read back as the one alert type (OspreyAnalytics.AnalyticsOutput); unreadable lines are
        // counted and reported, never skipped silently.
        let file = try AlertFile(path: alertsPath)
        var sessions: [Session] = []
        var hits: [RuleHit] = []
        var foldedHits: [RuleHit] = []
        for a in file.alerts {
            switch a {
            case .session(let s) where !s.live:
                sessions.append(Session(user: s.user.lowercased(), id: s.session, start: s.startMillis, end: s.endMillis,
                                        score: s.score, notable: s.notable, rules: s.rules))
            case .rule(let r):
                let user = r.user.lowercased()
                hits.append(RuleHit(rule: r.rule, user: user, session: r.session, time: r.timeMillis))
                // Rules of the same family that matched too but were folded into this one (scored once).
                for folded in r.evidence["also_matched"]?.arrayValue ?? [] {
                    guard let name = folded.stringValue else { continue }
                    foldedHits.append(RuleHit(rule: name, user: user, session: r.session, time: r.timeMillis))
                }
            default: break
            }
        }
        var e = Evaluation()
        e.unreadableAlertLines = file.rejected
        func overlaps(_ s: Session, _ l: Label) -> Bool { s.user == l.user && s.start <= l.end && s.end >= l.start }
        for l in labels {
            let overlapping = sessions.filter { overlaps($0, l) }
            let notable = overlapping.filter(\.notable)
            let ids = Set(overlapping.map(\.id))
            func inScenario(_ h: RuleHit) -> Bool { h.user == l.user && (ids.contains(h.session) || (h.time >= l.start && h.time <= l.end)) }
            var fired = Set(hits.filter(inScenario).map(\.rule)).union(foldedHits.filter(inScenario).map(\.rule))
            for r in fired { e.scenarioFires[r, default: 0] += 1 }
            // UA-OC-F and UA-OC-new ask the same question; which one fires depends on the victim's history.
            for (rule, variant) in Evaluation.variants where l.expected.contains(rule) && !fired.contains(rule) && fired.contains(variant) {
                fired.insert(rule); e.variantMatches.append("\(l.id): \(rule) as \(variant)")
            }
            e.scenarios.append(ScenarioResult(id: l.id, user: l.user, useCase: l.useCase, detected: !notable.isEmpty,
                                              score: overlapping.map(\.score).max() ?? 0,
                                              fired: l.expected.filter(fired.contains) + fired.subtracting(l.expected).sorted(),
                                              missing: l.expected.filter { !fired.contains($0) }, sessions: overlapping.map(\.id)))
        }
        let benign = sessions.filter { s in s.notable && !labels.contains { overlaps(s, $0) } }
        e.benignScores = sessions.filter { s in !labels.contains { overlaps(s, $0) } }.map(\.score)
        for h in hits where !labels.contains(where: { l in h.user == l.user && h.time >= l.start - 6 * 3_600_000 && h.time <= l.end + 6 * 3_600_000 }) {
            e.benignFires[h.rule, default: 0] += 1
        }
        e.notableSessions = sessions.filter(\.notable).count
        e.benignNotableSessions = benign.count
        e.benignNotableUsers = Array(Set(benign.map(\.user))).sorted()
        e.topBenign = benign.sorted { ($0.score, $0.user) > ($1.score, $1.user) }.prefix(10).map { ($0.user, $0.id, $0.score, $0.rules) }
        var fires: [String: (Int, Set<String>)] = [:]
        for h in hits { fires[h.rule, default: (0, [])].0 += 1; fires[h.rule, default: (0, [])].1.insert(h.user) }
        e.ruleFires = fires.map { ($0.key, $0.value.0, $0.value.1.count) }.sorted { ($0.fires, $1.rule) > ($1.fires, $0.rule) }
        if let userDays { e.userDays = userDays } else { e.userDays = Self.userDays(besideLabels: labelsPath) }
        return e
    }

    /// EM-OD-A defers to the user's own model when the user mailed the domain three times or more
    /// (its condition `model_count("EM-UD") < 3`): a vendor rare for the organization but regular for this
    /// person is then judged by EM-UD-A, the same "rare recipient domain" question at the user's scope.
    static let variants: [(String, String)] = [("UA-OC-F", "UA-OC-new"), ("UA-GC-F", "UA-GC-new"), ("UA-UC-F", "UA-UC-new"),
                                               ("EM-OD-A", "EM-UD-A")]

    /// People in context/users.csv × daily log files, when the labels sit in a generated directory.
    static func userDays(besideLabels path: String) -> Int {
        let dir = (path as NSString).deletingLastPathComponent
        let users = ((try? String(contentsOfFile: dir + "/context/users.csv", encoding: .utf8))?.split(separator: "\n").count ?? 1) - 1
        let days = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/logs"))?.filter { $0.hasSuffix(".log") || $0.hasSuffix(".gz") }.count ?? 0
        return max(0, users) * days
    }

    public func report() -> String {
        var s = "Scenarios (\(scenarios.filter(\.detected).count)/\(scenarios.count) detected):\n"
        for r in scenarios {
            s += "  \(r.detected ? "DETECTED" : "MISSED  ") \(r.id.padding(toLength: 30, withPad: " ", startingAt: 0)) score \(String(r.score).padding(toLength: 4, withPad: " ", startingAt: 0)) \(r.user)\n"
            s += "           fired: \(r.fired.isEmpty ? "-" : r.fired.joined(separator: ", "))\n"
            if !r.missing.isEmpty { s += "           missing: \(r.missing.joined(separator: ", "))\n" }
        }
        s += String(format: "Detection rate: %.1f%%\n", detectionRate * 100)
        s += "Notable sessions: \(notableSessions), of which benign: \(benignNotableSessions) (\(benignNotableUsers.count) users)"
        s += String(format: "; benign notable rate %.3f%% of %d user-days (bar: 1%%)\n", benignRate * 100, userDays)
        if !topBenign.isEmpty {
            s += "Benign notable sessions (top \(topBenign.count)):\n"
            for b in topBenign { s += "  \(b.score) \(b.user) \(b.rules.joined(separator: ", "))\n" }
        }
        s += "Rule fires (fires / users):\n"
        for f in ruleFires { s += "  \(f.rule.padding(toLength: 26, withPad: " ", startingAt: 0)) \(f.fires) / \(f.users)\n" }
        if let first = unreadableAlertLines.first {
            s += "Unreadable alert lines: \(unreadableAlertLines.count) (first: \(first))\n"
        }
        s += passed ? "PASS\n" : !unreadableAlertLines.isEmpty ? "FAIL: the alerts file has unreadable lines\n" : "FAIL: detection must be 100% and benign notable sessions at most 1% of user-days\n"
        return s
    }
}
