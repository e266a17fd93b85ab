import Foundation
import OspreyTestSupport
import XCTest

/// The web page in real headless Chromium (Debian's `chromium` package): the rendered DOM after the page's
/// scripts ran against the REST API, and a screenshot. Skipped with a message when chromium is absent.
/// Chromium is confined to loopback: every host name but 127.0.0.1 resolves to nothing and every
/// non-loopback request goes to a dead local proxy; background networking is off.
final class WebPageTests: XCTestCase {
    static func chromium() -> String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    func runChromium(_ args: [String], timeout: TimeInterval = 90) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: WebPageTests.chromium()!)
        let profile = try makeTempDir("chromium-profile")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                       "--user-data-dir=" + profile,
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
                       "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
                       "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                       "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
                       "--virtual-time-budget=15000", "--window-size=1400,1100"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = LockedBox(Data())
        let reader = Thread { data.value = out.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("chromium timed out") }
        p.waitUntilExit()
        while reader.isExecuting { usleep(10_000) }
        try? FileManager.default.removeItem(atPath: profile)
        return String(decoding: data.value, as: UTF8.self)
    }

    /// A subject that would run script if the page inserted data as markup.
    static let xss = "<img src=x onerror=document.body.setAttribute('data-pwned',1)>"

    /// The rows of the notable-session list in the rendered DOM: (session, user, score), in page order.
    static func queueRows(_ dom: String) -> [(session: String, user: String, score: Int)] {
        let re = try! NSRegularExpression(pattern: #"<tr class="notable-session[^"]*" data-session="([^"]*)" data-user="([^"]*)" data-score="(-?[0-9]+)""#)
        let ns = dom as NSString
        return re.matches(in: dom, range: NSRange(location: 0, length: ns.length)).map {
            (ns.substring(with: $0.range(at: 1)), ns.substring(with: $0.range(at: 2)), Int(ns.substring(with: $0.range(at: 3))) ?? -1)
        }
    }

    func testTriagePage() throws {
        guard WebPageTests.chromium() != nil else {
            throw XCTSkip("chromium is not installed (apt-get install -y chromium); the browser test is skipped")
        }
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("web")
        let server = try ServerProcess(dir: dir, context: org + "/context")
        defer { server.stop() }
        // One of the generator's ordinary subjects becomes markup an unsafe page would execute.
        let lines = try orgLines(org).map { $0.replacingOccurrences(of: "Meeting notes", with: WebPageTests.xss) }
        XCTAssertEqual(server.http("POST", "/ingest", body: Data(lines.joined(separator: "\n").utf8)).0, 200)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        let sessions = server.json("/api/notable")["sessions"] as? [[String: Any]] ?? []
        XCTAssertGreaterThan(sessions.count, 1, "the generated organization has notable sessions")
        let maxScore = sessions.compactMap { $0["score"] as? Int }.max() ?? -1
        let base = "http://127.0.0.1:\(server.httpPort)/ui#token=\(server.token)"

        // Ranking: highest score first; the first row's user is shown with card, chart, triggers and events.
        let dom = try runChromium(["--dump-dom", base])
        XCTAssertTrue(dom.contains("id=\"session-rows\""), "page did not load: \(dom.prefix(500))")
        XCTAssertFalse(dom.contains("HTTP 401"), "token not accepted")
        let rows = WebPageTests.queueRows(dom)
        XCTAssertEqual(rows.count, sessions.count, "every notable session is listed")
        XCTAssertEqual(rows.first?.score, maxScore, "the highest score is first")
        XCTAssertEqual(rows.map(\.score), rows.map(\.score).sorted(by: >), "ranked by score")
        XCTAssertTrue(dom.contains(">Notable sessions</h2>"), "the list's header")
        let top = try XCTUnwrap(rows.first)
        let card = server.json("/api/user?user=" + pct(top.user))
        XCTAssertTrue(dom.contains("class=\"card\" data-user=\"\(top.user)\""), "user card")
        XCTAssertTrue(dom.contains("<dt>Department</dt><dd>\(card["department"] as? String ?? "?")</dd>"), "department on the card")
        XCTAssertTrue(dom.contains("<dt>Title</dt><dd>\(card["title"] as? String ?? "?")</dd>"), "title on the card")
        XCTAssertTrue(dom.contains("<dt>Peer group</dt><dd>\(card["peer_group"] as? String ?? "?")</dd>"), "peer group on the card")
        for flag in ["executive", "service_account", "privileged", "deactivated"] {
            XCTAssertEqual(dom.contains("data-flag=\"\(flag)\""), card[flag] as? Bool == true, "flag \(flag)")
        }
        XCTAssertTrue(dom.contains("id=\"risk-chart\""), "risk chart")
        let points = (card["sessions"] as? [Any])?.count ?? 0
        XCTAssertEqual(dom.components(separatedBy: "<circle class=\"pt").count - 1, points, "one chart point per session with rules")
        XCTAssertTrue(dom.contains("class=\"pt notable selected\" data-session=\"\(top.session)\""), "the chosen session is marked on the chart")
        XCTAssertTrue(dom.contains("class=\"trigger\" data-rule="), "triggers")
        XCTAssertTrue(dom.contains("class=\"badge mitre\" data-technique=\"T"), "MITRE tags")
        XCTAssertTrue(dom.contains("<table class=\"evidence\"><tr><th>"), "evidence as a key / value table")
        XCTAssertFalse(dom.contains("{&quot;") || dom.contains("{\""), "no raw JSON evidence")
        XCTAssertTrue(dom.contains("class=\"hbar"), "baseline histogram bars for a model rule")
        XCTAssertTrue(dom.contains("<tr class=\"event\"><td class=\"time\">"), "events as rows")
        XCTAssertTrue(dom.contains("<th>sender → recipient</th>"), "event columns")
        XCTAssertTrue(dom.contains("class=\"pivot\" data-pivot-field=\"src_ip\""), "IP addresses are pivots")

        // Filter: a user name narrows the list to that user's sessions.
        let other = rows.first { $0.user != top.user }?.user ?? top.user
        let filtered = WebPageTests.queueRows(try runChromium(["--dump-dom", base + "&q=\(pct(other))"]))
        XCTAssertFalse(filtered.isEmpty)
        XCTAssertTrue(filtered.allSatisfy { $0.user.contains(other) }, "filter by user")
        // Filter by ATT&CK technique (through the rules' MITRE ids) and by a date range.
        let content = server.json("/api/content")["rules"] as? [[String: Any]] ?? []
        var mitreOf: [String: [String]] = [:]
        for r in content { mitreOf[r["id"] as? String ?? ""] = r["mitre"] as? [String] ?? [] }
        let rulesOf = Dictionary(sessions.map { ($0["session"] as? String ?? "", $0["rules"] as? [String] ?? []) }, uniquingKeysWith: { a, _ in a })
        let technique = try XCTUnwrap(rulesOf[top.session]?.lazy.compactMap { mitreOf[$0]?.first }.first, "a technique of the top session")
        let byTechnique = WebPageTests.queueRows(try runChromium(["--dump-dom", base + "&q=\(technique)"]))
        let expected = sessions.filter { s in (s["rules"] as? [String] ?? []).contains { (mitreOf[$0] ?? []).contains { $0.hasPrefix(technique) } } }
        XCTAssertEqual(byTechnique.count, expected.count, "filter by technique \(technique)")
        XCTAssertTrue(byTechnique.contains { $0.session == top.session })
        let day = String((sessions.first { $0["session"] as? String == top.session }?["start"] as? String ?? "").prefix(10))
        let byDate = WebPageTests.queueRows(try runChromium(["--dump-dom", base + "&from=\(day)&to=\(day)"]))
        XCTAssertEqual(byDate.count, sessions.filter { ($0["start"] as? String ?? "").hasPrefix(day) }.count, "filter by date \(day)")

        // Pivot on an IP of the session: everyone who touched it, the user among them.
        let events = server.json("/api/timeline?session=" + pct(top.session))["events"] as? [[String: Any]] ?? []
        let ip = try XCTUnwrap(events.lazy.compactMap { ($0["fields"] as? [String: String])?["src_ip"] }.first)
        let pivotDom = try runChromium(["--dump-dom", base + "&session=\(pct(top.session))&pivot=src_ip:\(ip)"])
        XCTAssertTrue(pivotDom.contains("Everyone who touched ip \(ip)"), "pivot panel")
        XCTAssertTrue(pivotDom.contains("class=\"pivot-user\" data-user=\"\(top.user)\""), "the user touched their own IP")

        // XSS: the subject is text in the event rows, never an element.
        let xssSession = try XCTUnwrap(sessions.compactMap { $0["session"] as? String }.first { s in
            (server.json("/api/timeline?session=" + pct(s))["events"] as? [[String: Any]] ?? []).contains {
                ($0["fields"] as? [String: String])?["email_subject"] == WebPageTests.xss
            }
        }, "a notable session with the crafted subject")
        let xssDom = try runChromium(["--dump-dom", base + "&session=\(pct(xssSession))"])
        XCTAssertTrue(xssDom.contains("<td class=\"subject\">&lt;img src=x onerror=document.body.setAttribute('data-pwned',1)&gt;</td>"),
                      "the subject shown as text")
        XCTAssertFalse(xssDom.contains("<img"), "no element from data")
        XCTAssertFalse(xssDom.contains("data-pwned=\""), "no script from data ran")

        // Screenshot of the triage view, kept for people to look at.
        let shot = dir + "/page.png"
        _ = try runChromium(["--screenshot=" + shot, base])
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "not a PNG")
        XCTAssertGreaterThan(png.count, 20_000, "screenshot looks empty")
        try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "osprey-ui.png")
        try? FileManager.default.copyItem(atPath: shot, toPath: NSTemporaryDirectory() + "osprey-ui.png")

        // Triage: an accepted session leaves the list; the toggle shows it again, marked.
        let body = try JSONSerialization.data(withJSONObject: ["session": top.session, "decision": "accept", "comment": "<b>escalated</b>"])
        XCTAssertEqual(server.http("POST", "/api/triage", body: body).0, 200)
        let after = WebPageTests.queueRows(try runChromium(["--dump-dom", base]))
        XCTAssertEqual(after.count, rows.count - 1)
        XCTAssertFalse(after.contains { $0.session == top.session }, "the accepted session left the notable list")
        let toggled = try runChromium(["--dump-dom", base + "&triaged=1&session=\(pct(top.session))"])
        XCTAssertTrue(WebPageTests.queueRows(toggled).contains { $0.session == top.session }, "shown with the toggle")
        XCTAssertTrue(toggled.contains("<span class=\"badge accept\">accepted</span> “&lt;b&gt;escalated&lt;/b&gt;”"), "decision and comment shown as text")
    }
}
