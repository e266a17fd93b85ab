import Foundation
import XCTest
import OspreyAnalytics
import OspreyCore
import OspreyIO
@testable import OspreyPipeline

/// The organization's tuning file (context/tuning.conf) changes what replay emits: a disabled rule is gone,
/// an allowlisted value fires for 0 with the allowlist in its evidence, an override changes the score, a
/// watched person's sessions are listed whatever their rules.
final class TuningTests: XCTestCase {
    func replay(context: String) throws -> [[String: Any]] {
        let options = PipelineOptions(contentDirectory: PipelineTests.content, contextDirectory: context)
        let pipeline = try Pipeline(options: options)
        var lines: [String] = []
        let logs = PipelineTests.org + "/logs"
        for f in try FileManager.default.contentsOfDirectory(atPath: logs).sorted() {
            try LineReader(path: logs + "/" + f).forEach { rec in
                if case .line(let b, _) = rec { pipeline.push(line: b) { lines.append($0.jsonLine) } }
            }
        }
        pipeline.finish { lines.append($0.jsonLine) }
        return try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    func copyContext(adding tuning: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-tuning-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: PipelineTests.org + "/context", toPath: dir)
        try tuning.write(toFile: dir + "/tuning.conf", atomically: true, encoding: .utf8)
        return dir
    }

    func testDisableAllowlistOverrideAndWatchlistChangeTheReplay() throws {
        let base = try replay(context: PipelineTests.org + "/context")
        let rules = base.filter { $0["kind"] as? String == "rule" }
        func count(_ id: String, in out: [[String: Any]]) -> Int { out.filter { $0["rule"] as? String == id }.count }
        // The two most frequent rules of this organization: one disabled, one allowlisted for one person.
        var byRule: [String: Int] = [:]
        for r in rules { byRule[r["rule"] as! String, default: 0] += 1 }
        let ranked = byRule.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        XCTAssertGreaterThanOrEqual(ranked.count, 3, "the generated organization fires at least three rules")
        let disabled = ranked[0], allowed = ranked[1], overridden = ranked[2]
        let allowedUser = try XCTUnwrap(rules.first { $0["rule"] as? String == allowed }?["user"] as? String)
        let quiet = "nobody-fires-for-this-person@example.org"
        let someone = try XCTUnwrap(base.first { $0["kind"] as? String == "session" }?["user"] as? String)
        let ctx = try copyContext(adding: """
        # tuning for the test
        [rule \(disabled)]
        disabled = true
        comment = too noisy here

        [rule \(overridden)]
        score = 1

        [allow one-person]
        rules = \(allowed)
        field = user
        values = \(allowedUser.uppercased())
        expires = 2999-12-31
        comment = SOC-1: expected for this person

        [watch vip]
        users = \(someone), \(quiet)
        comment = watched
        """)
        let tuned = try replay(context: ctx)
        XCTAssertGreaterThan(count(disabled, in: base), 0)
        XCTAssertEqual(count(disabled, in: tuned), 0, "a disabled rule never fires")

        let allowedTuned = tuned.filter { $0["rule"] as? String == allowed }
        XCTAssertEqual(allowedTuned.count, count(allowed, in: base), "allowlisted triggers are still shown (for 0)")
        for r in allowedTuned where r["user"] as? String == allowedUser {
            XCTAssertEqual(r["score"] as? Int, 0)
            let t = try XCTUnwrap((r["evidence"] as? [String: Any])?["tuning"] as? [String: Any])
            XCTAssertEqual(t["action"] as? String, "allowlisted")
            XCTAssertEqual(t["allowlist"] as? String, "one-person")
            XCTAssertEqual(t["comment"] as? String, "SOC-1: expected for this person")
        }
        XCTAssertTrue(allowedTuned.contains { $0["user"] as? String != allowedUser && ($0["score"] as? Int ?? 0) > 0 },
                      "other people's triggers of the allowlisted rule keep their score")

        let over = tuned.filter { $0["rule"] as? String == overridden }
        XCTAssertFalse(over.isEmpty)
        XCTAssertTrue(over.allSatisfy { $0["score"] as? Int == 1 })

        let watched = tuned.filter { $0["kind"] as? String == "session" && $0["user"] as? String == someone }
        XCTAssertFalse(watched.isEmpty)
        XCTAssertTrue(watched.allSatisfy { $0["watchlist"] as? String == "vip" })
        XCTAssertGreaterThanOrEqual(watched.count, base.filter { $0["kind"] as? String == "session" && $0["user"] as? String == someone }.count)
    }

    func testTuningErrorsNameFileAndLine() throws {
        let content = try AnalyticsContent.load(directory: PipelineTests.content)
        func error(_ text: String) -> String {
            do { _ = try Tuning.parse(text, file: "tuning.conf", content: content); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(error("[rule APP-F-FX]\ndisabled = true\n").contains("tuning.conf:1"))
        XCTAssertTrue(error("[rule APP-F-FX]\ndisabled = true\n").contains("did you mean 'APP-F-FL'"))
        XCTAssertTrue(error("[rule APP-F-FL]\nscore = lots\n").contains("tuning.conf:2"))
        XCTAssertTrue(error("[allow a]\nrules = *\nfield = src_ipp\nvalues = 1.2.3.4\ncomment = c\n").contains("unknown field 'src_ipp'"))
        XCTAssertTrue(error("[allow a]\nrules = *\nfield = src_ip\nvalues = 1.2.3.999\ncomment = c\n").contains("not an IP address, CIDR or first-last range"))
        // IPv6 and ranges are addresses like the context's lists; a domain field refuses an address, on its line.
        XCTAssertEqual(error("[allow a]\nrules = *\nfield = src_ip\nvalues = 2001:db8::/32, 10.0.0.5-10.0.0.9\ncomment = c\n"), "no error")
        let badDomain = error("[allow a]\nrules = *\nfield = sender_domain\nvalues = corp.com\nvalues = bob@corp.com\ncomment = c\n")
        XCTAssertTrue(badDomain.contains("tuning.conf:5") && badDomain.contains("is an address, not a domain"), badDomain)
        XCTAssertTrue(error("[allow a]\nrules = *\nfield = src_ip\nvalues = 10.0.0.0/8\nexpires = 2027-02-30\ncomment = c\n").contains("expires must be a date"))
        XCTAssertTrue(error("[allow a]\nrules = *\nfield = src_ip\nvalues = 10.0.0.0/8\n").contains("has no 'comment'"))
        XCTAssertTrue(error("[watch w]\ncomment = x\n").contains("names no users"))
        XCTAssertTrue(error("[block x]\n").contains("unknown section kind"))
        XCTAssertEqual(error("[allow a]\nrules = *\nfield = src_ip\nvalues = 10.0.0.0/8, 192.0.2.7\nexpires = 2027-01-31\ncomment = VPN\n"), "no error")
    }

    func testExpiredAllowlistNoLongerApplies() throws {
        let content = try AnalyticsContent.load(directory: PipelineTests.content)
        let t = try Tuning.parse("[allow a]\nrules = *\nfield = src_ip\nvalues = 10.0.0.0/8\nexpires = 2024-05-01\ncomment = c\n",
                                 file: "tuning.conf", content: content)
        let rule = try XCTUnwrap(content.rules.first)
        var e = Event(parser: "t", activityType: rule.activityTypes[0], timeMillis: 1_714_607_999_000)   // 2024-05-01T23:59:59Z
        e[Field.named("src_ip")] = .string("10.1.2.3")
        guard case .allowed = t.decide(rule: rule, event: e) else { return XCTFail("applies through its expiry day") }
        e.timeMillis = 1_714_608_000_000   // 2024-05-02T00:00:00Z
        guard case .keep = t.decide(rule: rule, event: e) else { return XCTFail("expired") }
        e.timeMillis = 1_714_600_000_000
        e[Field.named("src_ip")] = .string("11.1.2.3")
        guard case .keep = t.decide(rule: rule, event: e) else { return XCTFail("outside the CIDR") }
    }

    func testTheDocumentedExampleLoadsAsWritten() throws {
        let doc = try String(contentsOfFile: PipelineTests.root.appendingPathComponent("docs/tuning.md").path, encoding: .utf8)
        let block = try XCTUnwrap(doc.components(separatedBy: "```ini\n").dropFirst().first?.components(separatedBy: "```").first)
        let content = try AnalyticsContent.load(directory: PipelineTests.content)
        let t = try Tuning.parse(block, file: "docs/tuning.md", content: content)
        XCTAssertEqual(t.rules.count, 2)
        XCTAssertEqual(t.allows.count, 1)
        XCTAssertEqual(t.watches.count, 1)
    }
}
