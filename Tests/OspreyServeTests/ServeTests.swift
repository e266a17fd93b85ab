import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OspreyTestSupport
import XCTest

/// `osprey serve` over loopback: the generated organization's logs sent over UDP, TCP and HTTP give the
/// same rule triggers as `osprey replay` over the files; the API, metrics and outputs answer; bad clients
/// do not stop the service.
final class ServeTests: XCTestCase {
    static let reference = LockedBox<[String]?>(nil)

    /// Rule triggers of a stateless replay over the same organization.
    func referenceRules(_ org: String) throws -> [String] {
        if let r = ServeTests.reference.value { return r }
        let tmp = try makeTempDir("ref")
        let r = try runOsprey(["replay", org + "/logs", "--context", org + "/context", "--out", tmp + "/ref.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rules = ruleLines(tmp + "/ref.jsonl")
        ServeTests.reference.value = rules
        return rules
    }

    /// Sends `lines` with `send`, waits until processed, flushes the held events, returns the server's rule lines.
    func serveRules(transport: String, org: String, send: (ServerProcess, [String]) throws -> Void) throws -> (ServerProcess, [String]) {
        let dir = try makeTempDir("serve-" + transport)
        let server = try ServerProcess(dir: dir, context: org + "/context")
        let lines = try orgLines(org)
        try send(server, lines)
        XCTAssertTrue(server.waitProcessed(transport: transport, count: lines.count), "\(transport): not all records arrived: \(server.stderrText)")
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        return (server, ruleLines(dir + "/alerts.jsonl"))
    }

    /// Wraps raw lines that are not already syslog messages in a transport header, alternating RFC 5424
    /// and RFC 3164, so the server has to strip both.
    static func syslogMessage(_ line: String, _ i: Int) -> String {
        if line.hasPrefix("<") { return line }
        return i % 2 == 0 ? "<134>1 2026-11-02T08:15:02.113Z relay01 mimecast - - - " + line
                          : "<134>Nov  2 08:15:02 relay01 mimecast[42]: " + line
    }

    func testTCPGivesReplayAlerts() throws {
        let org = try GeneratedOrg.shared.path()
        let expected = try referenceRules(org)
        let (server, got) = try serveRules(transport: "tcp", org: org) { server, lines in
            // Two connections in sequence: newline framing, then octet counting.
            let half = lines.count / 2
            let a = Loopback.tcpConnect(server.tcpPort)
            XCTAssertGreaterThan(a, 0)
            var buf: [UInt8] = []
            for (i, l) in lines[..<half].enumerated() { buf += Array(ServeTests.syslogMessage(l, i).utf8); buf.append(0x0A) }
            XCTAssertTrue(Loopback.sendAll(a, buf))
            close(a)
            XCTAssertTrue(server.waitProcessed(transport: "tcp", count: half))
            let b = Loopback.tcpConnect(server.tcpPort)
            buf = []
            for (i, l) in lines[half...].enumerated() {
                let m = Array(ServeTests.syslogMessage(l, i).utf8)
                buf += Array("\(m.count) ".utf8) + m
            }
            XCTAssertTrue(Loopback.sendAll(b, buf))
            close(b)
        }
        defer { server.stop() }
        XCTAssertGreaterThan(expected.count, 10)
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "TCP rule triggers differ from replay's")
    }

    func testUDPGivesReplayAlerts() throws {
        let org = try GeneratedOrg.shared.path()
        let expected = try referenceRules(org)
        let (server, got) = try serveRules(transport: "udp", org: org) { server, lines in
            let fd = Loopback.udpSocket()
            defer { close(fd) }
            // Paced: a burst, then wait until the server read it (UDP has no flow control).
            var sent = 0
            while sent < lines.count {
                let end = min(lines.count, sent + 40)
                for i in sent..<end { Loopback.udpSend(fd, server.udpPort, Array(ServeTests.syslogMessage(lines[i], i).utf8)) }
                sent = end
                let deadline = Date().addingTimeInterval(10)
                while server.metric("osprey_records_in_total{transport=\"udp\"}") < Double(sent) && Date() < deadline { usleep(1000) }
            }
        }
        defer { server.stop() }
        XCTAssertEqual(server.metric("osprey_records_dropped_total"), 0)
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "UDP rule triggers differ from replay's")
    }

    func testHTTPGivesReplayAlertsAndAPIAnswers() throws {
        let org = try GeneratedOrg.shared.path()
        let expected = try referenceRules(org)
        let (server, got) = try serveRules(transport: "http", org: org) { server, lines in
            var i = 0
            while i < lines.count {
                let end = min(lines.count, i + 2000)
                let body = Data((lines[i..<end].joined(separator: "\n") + "\n").utf8)
                let (status, _) = server.http("POST", "/ingest", body: body)
                XCTAssertEqual(status, 200)
                i = end
            }
        }
        defer { server.stop() }
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "HTTP rule triggers differ from replay's")

        // API.
        XCTAssertEqual(server.http("GET", "/api/users", token: nil).0, 401)
        XCTAssertEqual(server.http("GET", "/api/users", token: "wrong").0, 401)
        XCTAssertEqual(server.http("GET", "/health", token: nil).0, 200)
        let users = server.json("/api/users")["users"] as? [[String: Any]] ?? []
        XCTAssertFalse(users.isEmpty)
        let user = users[0]["user"] as! String
        let sessions = server.json("/api/sessions?user=" + user.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let list = sessions["sessions"] as? [[String: Any]] ?? []
        XCTAssertFalse(list.isEmpty)
        let withRules = list.first { !(($0["rules"] as? [Any]) ?? []).isEmpty }
        XCTAssertNotNil(withRules)
        if let s = withRules {
            let rule = (s["rules"] as! [[String: Any]])[0]
            XCTAssertNotNil(rule["reason"]); XCTAssertNotNil(rule["evidence"])
            let sid = (s["session"] as! String).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let tl = server.json("/api/timeline?session=" + sid)
            XCTAssertFalse((tl["timeline"] as? [Any] ?? []).isEmpty)
            XCTAssertFalse((tl["events"] as? [Any] ?? []).isEmpty, "the session's events")
        }
        let models = server.json("/api/models?user=" + user.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        XCTAssertFalse((models["baselines"] as? [Any] ?? []).isEmpty, "a user with alerts has baselines")
        let content = server.json("/api/content")
        XCTAssertGreaterThan((content["rules"] as? [Any] ?? []).count, 50)
        _ = server.json("/api/notable")
        let (_, m) = server.http("GET", "/metrics", token: nil)
        let metrics = String(decoding: m, as: UTF8.self)
        for name in ["osprey_records_in_total", "osprey_events_parsed_total", "osprey_records_rejected_total",
                     "osprey_rules_fired_total", "osprey_notable_sessions_total", "osprey_event_lag_seconds"] {
            XCTAssertTrue(metrics.contains(name), name)
        }
        XCTAssertEqual(server.metricSum("osprey_rules_fired_total"), Double(expected.count))
        XCTAssertTrue(metrics.contains("osprey_rules_fired_total{rule=\""), "rules fired by rule")
        XCTAssertFalse(metrics.contains("osprey_uptime_seconds"))
        // The Grafana dashboard (deploy/grafana-dashboard.json) is valid JSON and queries only metrics that
        // serve exports.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dash = try Data(contentsOf: root.appendingPathComponent("deploy/grafana-dashboard.json"))
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: dash) as? [String: Any])
        var names: Set<String> = []
        var rest = Substring(String(decoding: dash, as: UTF8.self))
        while let r = rest.range(of: "osprey_") {
            names.insert(String(rest[r.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }))
            rest = rest[r.upperBound...]
        }
        XCTAssertGreaterThan(names.count, 8)
        for n in names { XCTAssertTrue(metrics.contains(n + "{") || metrics.contains(n + " "), "dashboard metric \(n) is not exported") }
    }

    func testBadClientsDoNotStopTheService() throws {
        let dir = try makeTempDir("bad")
        let server = try ServerProcess(dir: dir, extraServe: "max_frame_bytes = 4096\nmax_http_body_bytes = 65536", context: nil)
        defer { server.stop() }
        // Garbage over TCP, including NUL and invalid UTF-8.
        let g = Loopback.tcpConnect(server.tcpPort)
        var junk: [UInt8] = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        junk += Array("\nnot a log line\n\u{0}\u{0}\n".utf8)
        Loopback.sendAll(g, junk); close(g)
        // Oversized frames: a newline frame and an octet-counted one above max_frame_bytes.
        let o = Loopback.tcpConnect(server.tcpPort)
        Loopback.sendAll(o, Array(String(repeating: "x", count: 50_000).utf8) + [0x0A])
        Loopback.sendAll(o, Array("999999 ".utf8) + Array(repeating: 0x41, count: 20_000))
        close(o)
        // Slow client: half a frame, held open.
        let slow = Loopback.tcpConnect(server.tcpPort)
        Loopback.sendAll(slow, Array("120 <134>1 2026".utf8))
        // Vanished client: reset while sending.
        let v = Loopback.tcpConnect(server.tcpPort)
        Loopback.sendAll(v, Array("<134>1 2026-11-02T08:15:02Z h a - - - {\"partial\":".utf8))
        var lg = linger(l_onoff: 1, l_linger: 0)
        setsockopt(v, SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
        close(v)
        // UDP garbage and an oversized datagram.
        let u = Loopback.udpSocket()
        Loopback.udpSend(u, server.udpPort, [0xFF, 0xFE, 0x00, 0x01])
        Loopback.udpSend(u, server.udpPort, Array(repeating: 0x42, count: 9000))
        close(u)
        // HTTP: no token, oversized body, garbage body.
        XCTAssertEqual(server.http("POST", "/ingest", body: Data("x\n".utf8), token: nil).0, 401)
        XCTAssertEqual(server.http("POST", "/ingest", body: Data(repeating: 0x41, count: 200_000)).0, 413)
        XCTAssertEqual(server.http("POST", "/ingest", body: Data([0xC3, 0x28, 0x0A, 0x00, 0x0A])).0, 200)
        // Many connections opened and dropped.
        for _ in 0..<50 { let c = Loopback.tcpConnect(server.tcpPort); if c >= 0 { close(c) } }

        // The service still works: a valid line over TCP is processed.
        let ok = Loopback.tcpConnect(server.tcpPort)
        XCTAssertGreaterThan(ok, 0)
        Loopback.sendAll(ok, Array("<134>1 2026-11-02T08:15:02Z h a - - - {\"hello\":1}\n".utf8))
        close(ok)
        let deadline = Date().addingTimeInterval(20)
        while server.metric("osprey_records_rejected_total{reason=\"line too long\"}") < 3 && Date() < deadline { usleep(50_000) }
        XCTAssertGreaterThanOrEqual(server.metric("osprey_records_rejected_total{reason=\"line too long\"}"), 3)
        XCTAssertEqual(server.http("GET", "/health", token: nil).0, 200)
        XCTAssertGreaterThan(server.metric("osprey_lines_total"), 3)
        close(slow)
        XCTAssertTrue(server.process.isRunning, server.stderrText)
    }
}
