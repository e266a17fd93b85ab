import Foundation
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

    func testPageRendersNotableUsersTimelineAndHistogram() throws {
        guard WebPageTests.chromium() != nil else {
            throw XCTSkip("chromium is not installed (apt-get install -y chromium); the browser test is skipped")
        }
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("web")
        let server = try ServerProcess(dir: dir, context: org + "/context")
        defer { server.stop() }
        let lines = try orgLines(org)
        XCTAssertEqual(server.http("POST", "/ingest", body: Data(lines.joined(separator: "\n").utf8)).0, 200)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        let notable = server.json("/api/notable")["users"] as? [[String: Any]] ?? []
        XCTAssertFalse(notable.isEmpty, "the generated organization has notable users")
        let user = notable.first!["user"] as! String
        let url = "http://127.0.0.1:\(server.httpPort)/ui#token=\(server.token)&user=\(user)&expand"

        let dom = try runChromium(["--dump-dom", url])
        XCTAssertTrue(dom.contains("id=\"user-rows\""), "page did not load: \(dom.prefix(500))")
        // Rows built by the page's script from /api/notable.
        XCTAssertTrue(dom.contains("class=\"user\" data-user=\"\(user)\""), "notable user row missing")
        XCTAssertTrue(dom.contains("Sessions of \(user)"), "the user's sessions were not shown")
        XCTAssertTrue(dom.contains("class=\"session"), "no session in the timeline")
        XCTAssertTrue(dom.contains("class=\"rule\""), "no rule in the timeline")
        XCTAssertTrue(dom.contains("class=\"reason\""), "no rule reason")
        XCTAssertTrue(dom.contains("class=\"evidence\""), "no evidence")
        XCTAssertTrue(dom.contains("class=\"bar"), "no histogram bar for a model rule")
        XCTAssertTrue(dom.contains("class=\"event\""), "no event in the session's event timeline")
        XCTAssertFalse(dom.contains("HTTP 401"), "token not accepted")

        let shot = dir + "/page.png"
        _ = try runChromium(["--screenshot=" + shot, url])
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "not a PNG")
        XCTAssertGreaterThan(png.count, 20_000, "screenshot looks empty")
        // Keep the last screenshot for people to look at.
        try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "osprey-ui.png")
        try? FileManager.default.copyItem(atPath: shot, toPath: NSTemporaryDirectory() + "osprey-ui.png")
    }
}
