import Foundation
import OspreyTestSupport
import XCTest

final class OutputAndStateTests: XCTestCase {
    /// Alerts reach every configured output: JSONL file, CEF over UDP and TCP, webhook.
    func testOutputsReceiveEveryAlert() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("outputs")
        let (udpFD, udpPort) = Loopback.udpListen()
        let (cefFD, cefPort) = Loopback.tcpListen()
        let (hookFD, hookPort) = Loopback.tcpListen()
        defer { close(udpFD); close(cefFD); close(hookFD) }

        let udpMessages = LockedBox<[String]>([])
        let tcpBytes = LockedBox<[UInt8]>([])
        let hookBodies = LockedBox<[String]>([])
        let hookHeads = LockedBox<[String]>([])
        let stop = LockedBox(false)
        let threads = [
            Thread {
                var buf = [UInt8](repeating: 0, count: 65536)
                while !stop.value {
                    let n = recv(udpFD, &buf, buf.count, 0)
                    if n > 0 { let s = String(decoding: buf[0..<n], as: UTF8.self); udpMessages.value.append(s) }
                }
            },
            Thread {
                let c = accept(cefFD, nil, nil)
                guard c >= 0 else { return }
                var buf = [UInt8](repeating: 0, count: 65536)
                while true { let n = recv(c, &buf, buf.count, 0); if n <= 0 { break }; tcpBytes.value += buf[0..<n] }
                close(c)
            },
            Thread {
                // A minimal HTTP/1.1 server: one request per connection, answered 200.
                while !stop.value {
                    let c = accept(hookFD, nil, nil)
                    guard c >= 0 else { return }
                    var data: [UInt8] = []
                    var buf = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let n = recv(c, &buf, buf.count, 0); if n <= 0 { break }
                        data += buf[0..<n]
                        let text = String(decoding: data, as: UTF8.self)
                        if let r = text.range(of: "\r\n\r\n") {
                            let head = text[..<r.lowerBound].lowercased()
                            let len = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                            let bodyStart = text.utf8.distance(from: text.utf8.startIndex, to: r.upperBound)
                            if data.count - bodyStart >= len {
                                hookHeads.value.append(String(head))
                                hookBodies.value.append(String(decoding: data[bodyStart..<(bodyStart + len)], as: UTF8.self))
                                break
                            }
                        }
                    }
                    Loopback.sendAll(c, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                    close(c)
                }
            },
        ]
        for t in threads { t.start() }

        let outputs = """
        [output cef-udp]
        type = cef
        target = udp://127.0.0.1:\(udpPort)

        [output cef-tcp]
        type = cef
        target = tcp://127.0.0.1:\(cefPort)

        [output hook]
        type = webhook
        url = http://127.0.0.1:\(hookPort)/alerts

        [output elastic]
        type = ecs
        path = \(dir)/ecs.jsonl

        """
        let server = try ServerProcess(dir: dir, outputs: outputs, context: org + "/context")
        let lines = try orgLines(org)
        var i = 0
        while i < lines.count {
            let end = min(lines.count, i + 3000)
            XCTAssertEqual(server.http("POST", "/ingest", body: Data((lines[i..<end].joined(separator: "\n")).utf8)).0, 200)
            i = end
        }
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)
        server.stop()   // waits for the outputs
        stop.value = true

        let jsonl = (try String(contentsOfFile: dir + "/alerts.jsonl", encoding: .utf8)).split(separator: "\n")
        XCTAssertGreaterThan(jsonl.count, 10)
        let hookLines = hookBodies.value.joined().split(separator: "\n")
        XCTAssertEqual(hookLines.count, jsonl.count, "webhook")
        XCTAssertEqual(hookLines.map(String.init), jsonl.map(String.init))
        let deadline = Date().addingTimeInterval(5)
        while udpMessages.value.count < jsonl.count && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(udpMessages.value.count, jsonl.count, "CEF over UDP")
        XCTAssertTrue(udpMessages.value.allSatisfy { ["<114>1 ", "<116>1 ", "<117>1 "].contains(String($0.prefix(7))) && $0.contains("CEF:0|Osprey|Osprey UEBA|") })
        // CEF carries the session id, score and, for sessions only, a correct notable flag.
        // Closed sessions and live notables (an open session that crossed the threshold: notable by definition).
        let sessionsJSON = jsonl.filter { $0.contains("\"kind\":\"session\"") || $0.contains("\"kind\":\"notable\"") }
        let notableJSON = sessionsJSON.filter { $0.contains("\"notable\":true") || $0.contains("\"kind\":\"notable\"") }.count
        XCTAssertEqual(udpMessages.value.filter { $0.contains("cs2Label=notable cs2=true") }.count, notableJSON)
        XCTAssertEqual(udpMessages.value.filter { $0.contains("cs2Label=notable") }.count, sessionsJSON.count)
        XCTAssertTrue(udpMessages.value.allSatisfy { $0.contains(" cs1Label=sessionId cs1=") && $0.contains(" cn1Label=score cn1=") && $0.contains(" suser=") })
        XCTAssertTrue(udpMessages.value.contains { $0.contains(" src=") }, "some alert carries its source IP")
        XCTAssertTrue(udpMessages.value.contains { $0.contains(" cs3Label=mitreTechniqueIds cs3=T") }, "MITRE ids")
        // The webhook names the version.
        XCTAssertTrue(hookHeads.value.allSatisfy { $0.contains("user-agent: osprey/") }, hookHeads.value.first ?? "")
        // ECS: one document per alert.
        let ecs = (try String(contentsOfFile: dir + "/ecs.jsonl", encoding: .utf8)).split(separator: "\n")
        XCTAssertEqual(ecs.count, jsonl.count, "ECS output")
        for (doc, line) in zip(ecs, jsonl) {
            let d = try JSONSerialization.jsonObject(with: Data(doc.utf8)) as? [String: Any] ?? [:]
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            XCTAssertEqual((d["event"] as? [String: Any])?["kind"] as? String, "alert")
            XCTAssertEqual((d["user"] as? [String: Any])?["name"] as? String, o["user"] as? String)
            XCTAssertEqual((d["osprey"] as? [String: Any])?["session"] as? String, o["session"] as? String)
            XCTAssertEqual(d["@timestamp"] as? String, (o["time"] ?? o["end"]) as? String)
        }
        // TCP: RFC 6587 octet-counted frames.
        var frames = 0
        var framer = 0
        let bytes = tcpBytes.value
        while framer < bytes.count {
            var len = 0
            while framer < bytes.count, bytes[framer] != 0x20 { len = len * 10 + Int(bytes[framer] - 0x30); framer += 1 }
            framer += 1 + len
            frames += 1
        }
        XCTAssertEqual(frames, jsonl.count, "CEF over TCP")
    }

    /// Serve with a state directory, stopped (SIGTERM) halfway and restarted: the rule triggers equal
    /// `osprey replay --state` with a checkpoint at the same record.
    func testServeStateSurvivesRestart() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("serve-state")
        let lines = try orgLines(org)
        let half = lines.count / 2
        let extra = "state = \(dir)/state\ncheckpoint_records = 1000000\ncheckpoint_seconds = 3600"
        for part in [lines[..<half], lines[half...]] {
            let server = try ServerProcess(dir: dir, extraServe: extra, context: org + "/context")
            XCTAssertEqual(server.http("POST", "/ingest", body: Data(part.joined(separator: "\n").utf8)).0, 200)
            server.stop()
            XCTAssertTrue(server.stderrText.contains("stopped"), server.stderrText)
        }
        // Reference: the same lines as one file, checkpointed after `half` records.
        let ref = try makeTempDir("serve-state-ref")
        try FileManager.default.createDirectory(atPath: ref + "/logs", withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: ref + "/logs/all.log", atomically: true, encoding: .utf8)
        let r = try runOsprey(["replay", ref + "/logs", "--context", org + "/context", "--state", ref + "/state",
                               "--out", ref + "/out.jsonl", "--checkpoint-records", String(half)])
        XCTAssertEqual(r.status, 0, r.stderr)
        let expected = ruleLines(ref + "/out.jsonl")
        let got = ruleLines(dir + "/alerts.jsonl")
        XCTAssertGreaterThan(expected.count, 10)
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "restarted serve differs from replay with the same checkpoint")
    }
}
