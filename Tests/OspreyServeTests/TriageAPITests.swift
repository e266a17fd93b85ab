import Foundation
import OspreyTestSupport
import XCTest

/// A query or fragment parameter, percent-encoded (session ids hold `#` and `:`).
func pct(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
}

/// The triage endpoints behind the page: GET /api/user, GET /api/pivot, GET|POST /api/triage.
final class TriageAPITests: XCTestCase {
    func post(_ server: ServerProcess, _ object: Any, token: String? = "default") -> (Int, [String: Any]) {
        let body = try! JSONSerialization.data(withJSONObject: object)
        let (status, d) = server.http("POST", "/api/triage", body: body, token: token)
        return (status, (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] ?? [:])
    }

    func testTokenRequired() throws {
        let dir = try makeTempDir("triage-auth")
        let server = try ServerProcess(dir: dir, context: nil)
        defer { server.stop() }
        for path in ["/api/user?user=a", "/api/pivot?field=ip&value=1.2.3.4", "/api/triage"] {
            XCTAssertEqual(server.http("GET", path, token: nil).0, 401, path)
            XCTAssertEqual(server.http("GET", path, token: "wrong").0, 401, path)
        }
        XCTAssertEqual(post(server, ["session": "s", "decision": "accept"], token: nil).0, 401)
        XCTAssertEqual(server.http("GET", "/api/user").0, 400, "user= required")
        XCTAssertEqual(server.http("GET", "/api/pivot?field=ip").0, 400, "value= required")
        XCTAssertEqual(post(server, ["session": "nope", "decision": "accept"]).0, 404, "unknown session")
    }

    /// A refused triage body names its first wrong key (the request is decoded with JSONDecoder).
    func testTriageRequestErrorsNameTheKey() throws {
        let dir = try makeTempDir("triage-errors")
        let server = try ServerProcess(dir: dir, context: nil)
        defer { server.stop() }
        func refused(_ body: Data) -> String {
            let (status, d) = server.http("POST", "/api/triage", body: body)
            XCTAssertEqual(status, 400, String(decoding: body, as: UTF8.self))
            return ((try? JSONSerialization.jsonObject(with: d)) as? [String: Any])?["error"] as? String ?? ""
        }
        func refused(_ object: Any) -> String { refused(try! JSONSerialization.data(withJSONObject: object)) }
        XCTAssertTrue(refused(Data("not json".utf8)).hasPrefix("body must be a JSON object"))
        XCTAssertTrue(refused([1, 2]).hasPrefix("body must be a JSON object"))
        XCTAssertTrue(refused(["decision": "accept"]).hasPrefix("session must be"))
        XCTAssertTrue(refused(["session": 5, "decision": "accept"]).hasPrefix("session must be"))
        XCTAssertTrue(refused(["session": "", "decision": "accept"]).hasPrefix("session must be"))
        XCTAssertTrue(refused(["session": "s"]).hasPrefix("decision must be"))
        XCTAssertTrue(refused(["session": "s", "decision": "maybe"]).hasPrefix("decision must be"))
        XCTAssertEqual(refused(["session": "s", "decision": "accept", "comment": NSNull()]), "comment must be a string")
        XCTAssertEqual(refused(["session": "s", "decision": "accept", "comment": 7]), "comment must be a string")
        XCTAssertEqual(refused(["session": "s", "decision": "accept", "comment": String(repeating: "x", count: 4001)]), "comment over 4000 characters")
        // Valid but unknown: the shape is fine, the session is not.
        XCTAssertEqual(post(server, ["session": "s", "decision": "accept", "extra": true]).0, 404)
    }

    func testUserCardPivotAndTriage() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("triage-api")
        let server = try ServerProcess(dir: dir, context: org + "/context")
        defer { server.stop() }
        XCTAssertEqual(server.http("POST", "/ingest", body: Data(try orgLines(org).joined(separator: "\n").utf8)).0, 200)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        let sessions = server.json("/api/notable")["sessions"] as? [[String: Any]] ?? []
        let top = try XCTUnwrap(sessions.first, "the generated organization has notable sessions")
        let user = try XCTUnwrap(top["user"] as? String), session = try XCTUnwrap(top["session"] as? String)

        // The user card: the context's record and the risk over time.
        let card = server.json("/api/user?user=" + pct(user))
        XCTAssertEqual(card["known"] as? Bool, true, "\(card)")
        XCTAssertEqual(card["id"] as? String, user)
        XCTAssertFalse((card["department"] as? String ?? "").isEmpty, "department")
        XCTAssertFalse((card["peer_group"] as? String ?? "").isEmpty, "peer group")
        for flag in ["executive", "service_account", "privileged", "deactivated"] { XCTAssertNotNil(card[flag] as? Bool, flag) }
        let points = card["sessions"] as? [[String: Any]] ?? []
        XCTAssertTrue(points.contains { $0["session"] as? String == session && $0["score"] as? Int == top["score"] as? Int },
                      "the notable session is a point of the user's risk over time")
        let days = card["days"] as? [[String: Any]] ?? []
        XCTAssertFalse(days.isEmpty)
        XCTAssertEqual(days.map { $0["day"] as? String ?? "" }, days.map { $0["day"] as? String ?? "" }.sorted(), "days in order")
        XCTAssertEqual(server.json("/api/user?user=nobody-here")["known"] as? Bool, false)

        // Pivot on an IP address of one of the session's events: that user is among those who touched it.
        let events = server.json("/api/timeline?session=" + pct(session))["events"] as? [[String: Any]] ?? []
        let ip = try XCTUnwrap(events.lazy.compactMap { ($0["fields"] as? [String: String])?["src_ip"] }.first, "an event with src_ip")
        let pivot = server.json("/api/pivot?field=src_ip&value=" + pct(ip))
        XCTAssertEqual(pivot["kind"] as? String, "ip")
        let touched = pivot["users"] as? [[String: Any]] ?? []
        XCTAssertTrue(touched.contains { $0["user"] as? String == user && ($0["events"] as? Int ?? 0) > 0 }, "\(pivot)")
        let none = server.json("/api/pivot?field=ip&value=203.0.113.254")
        XCTAssertEqual((none["users"] as? [Any])?.count, 0, "nobody touched an unused address")
        // A domain pivot from an address field.
        if let sender = events.lazy.compactMap({ ($0["fields"] as? [String: String])?["sender"] }).first(where: { $0.contains("@") }),
           let domain = sender.split(separator: "@").last.map(String.init) {
            let p = server.json("/api/pivot?field=domain&value=" + pct(domain))
            XCTAssertFalse((p["users"] as? [Any] ?? []).isEmpty, "someone touched \(domain)")
        }

        // Triage: validation, accept, listing, reopen.
        XCTAssertEqual(post(server, ["session": session, "decision": "maybe"]).0, 400)
        XCTAssertEqual(post(server, ["session": session, "decision": "accept", "comment": 7]).0, 400)
        XCTAssertEqual(post(server, ["session": session, "decision": "accept", "comment": String(repeating: "x", count: 4001)]).0, 400)
        XCTAssertEqual(server.http("POST", "/api/triage", body: Data("not json".utf8)).0, 400)
        let (status, saved) = post(server, ["session": session, "decision": "accept", "comment": "confirmed with HR <b>"])
        XCTAssertEqual(status, 200)
        XCTAssertEqual(saved["user"] as? String, user)
        let listed = server.json("/api/triage")
        XCTAssertEqual(listed["persistent"] as? Bool, false)
        let decisions = listed["decisions"] as? [[String: Any]] ?? []
        XCTAssertEqual(decisions.count, 1)
        XCTAssertEqual(decisions.first?["decision"] as? String, "accept")
        XCTAssertEqual(decisions.first?["comment"] as? String, "confirmed with HR <b>")
        let marked = (server.json("/api/user?user=" + pct(user))["sessions"] as? [[String: Any]] ?? []).first { $0["session"] as? String == session }
        XCTAssertEqual(marked?["triage"] as? String, "accept")
        XCTAssertEqual(post(server, ["session": session, "decision": "reopen"]).0, 200)
        XCTAssertEqual((server.json("/api/triage")["decisions"] as? [Any])?.count, 0)
    }

    /// With a state directory the decisions are in its SQLite database and survive a restart.
    func testTriageSurvivesRestartWithState() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("triage-state")
        let extra = "state = \(dir)/state\n"
        var session = "", user = ""
        do {
            let server = try ServerProcess(dir: dir, extraServe: extra, context: org + "/context")
            defer { server.stop() }
            XCTAssertEqual(server.http("POST", "/ingest", body: Data(try orgLines(org).joined(separator: "\n").utf8)).0, 200)
            XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
            let all = server.json("/api/notable")["sessions"] as? [[String: Any]] ?? []
            let top = try XCTUnwrap(all.first, "notable sessions after a checkpoint")
            session = top["session"] as? String ?? ""; user = top["user"] as? String ?? ""
            XCTAssertEqual(post(server, ["session": session, "decision": "dismiss", "comment": "known admin task"]).0, 200)
            XCTAssertEqual(server.json("/api/triage")["persistent"] as? Bool, true)
        }
        let again = try ServerProcess(dir: dir, extraServe: extra, context: org + "/context")
        defer { again.stop() }
        let decisions = again.json("/api/triage")["decisions"] as? [[String: Any]] ?? []
        XCTAssertEqual(decisions.count, 1)
        XCTAssertEqual(decisions.first?["session"] as? String, session)
        XCTAssertEqual(decisions.first?["user"] as? String, user)
        XCTAssertEqual(decisions.first?["decision"] as? String, "dismiss")
        XCTAssertEqual(decisions.first?["comment"] as? String, "known admin task")
    }
}
