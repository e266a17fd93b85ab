import Foundation
import OspreyAnalytics
import OspreyCore
import OspreyTestSupport
import XCTest
@testable import OspreyServe

/// Each alert sink against a listener the test starts on 127.0.0.1 (or a file it reads back).
final class SinkTests: XCTestCase {
    let lines = [
        #"{"kind":"rule","rule":"APP-F-FL","name":"First login from a new country","score":30,"user":"ann@corp.example","session":"ann@corp.example#3","time":"2026-11-02T08:15:02.113Z","mitre":[{"id":"T1078","name":"Valid Accounts"}],"use_cases":["account compromise"],"reason":"login from DE","evidence":{"src_ip":"203.0.113.9"},"event":{"activity_type":"app-login","src_ip":"203.0.113.9"}}"#,
        #"{"kind":"session","user":"ann@corp.example","session":"ann@corp.example#3","start":"2026-11-02T08:14:02.113Z","end":"2026-11-02T08:15:02.113Z","score":120,"notable":true,"rules":["APP-F-FL"]}"#,
    ]

    var items: [SinkItem] {
        lines.enumerated().compactMap { i, l in (try? AnalyticsOutput(line: l)).map { SinkItem(seq: i + 1, alert: $0, line: l) } }
    }

    func testFileSinkWritesLinesAndECS() throws {
        XCTAssertEqual(items.count, 2)
        let dir = try makeTempDir("sink-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jsonl = try FileSink(name: "f", path: dir + "/a.jsonl", format: .line)
        XCTAssertTrue(jsonl.send(items))
        jsonl.close()
        XCTAssertEqual(try String(contentsOfFile: dir + "/a.jsonl", encoding: .utf8), items.map { $0.line + "\n" }.joined())
        let ecs = try FileSink(name: "e", path: dir + "/a.ecs", format: .ecs)
        XCTAssertTrue(ecs.send(items))
        ecs.close()
        let docs = try String(contentsOfFile: dir + "/a.ecs", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(docs.count, 2)
        XCTAssertEqual(String(docs[0]), AlertFormat.ecs(AlertView(items[0].alert)))
        XCTAssertThrowsError(try FileSink(name: "x", path: dir + "/missing/dir/a.jsonl", format: .line))
    }

    func testSyslogOverUDP() throws {
        let (fd, port) = Loopback.udpListen()
        defer { close(fd) }
        let sink = try SyslogSink(name: "u", udp: true, host: "127.0.0.1", port: port, format: .cef)
        XCTAssertTrue(sink.send(items))
        var got: [String] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(10)
        while got.count < 2 && Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { got.append(String(decoding: buf[0..<n], as: UTF8.self)) }
        }
        sink.close()
        XCTAssertEqual(got, items.map { AlertFormat.cef(AlertView($0.alert)) })
        XCTAssertTrue(got.first?.contains("CEF:0|Osprey|Osprey UEBA|") == true)
    }

    func testSyslogOverTCPIsOctetCounted() throws {
        let (fd, port) = Loopback.tcpListen()
        defer { close(fd) }
        let sink = try SyslogSink(name: "t", udp: false, host: "localhost", port: port, format: .rfc5424)
        XCTAssertTrue(sink.send(items))
        sink.close()
        let bytes = Loopback.acceptAndRead(fd)
        let expected = items.map { i -> String in
            let m = AlertFormat.rfc5424(AlertView(i.alert))
            return "\(m.utf8.count) " + m
        }.joined()
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), expected)
        // Nothing listening: the send fails (Sinks counts a failure), and a name is no IPv4 target.
        close(fd)
        XCTAssertFalse(sink.send(items))
        XCTAssertThrowsError(try SyslogSink(name: "bad", udp: true, host: "syslog.example", port: 514, format: .cef))
    }

    func testWebhookPostsNDJSON() throws {
        let (fd, port) = Loopback.tcpListen()
        defer { close(fd) }
        let request = LockedBox<[UInt8]>([])
        let served = DispatchSemaphore(value: 0)
        func serve(status: String) {
            DispatchQueue.global().async {
                let c = accept(fd, nil, nil)
                var got: [UInt8] = []
                var buf = [UInt8](repeating: 0, count: 65536)
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                // Headers, then Content-Length bytes of body.
                while true {
                    let n = recv(c, &buf, buf.count, 0)
                    if n <= 0 { break }
                    got += buf[0..<n]
                    let text = String(decoding: got, as: UTF8.self)
                    if let h = text.range(of: "\r\n\r\n") {
                        let head = text[..<h.lowerBound].lowercased()
                        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                            .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                        if text.utf8.count - text.utf8.distance(from: text.startIndex, to: h.upperBound) >= length { break }
                    }
                }
                request.value = got
                Loopback.sendAll(c, Array("HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                close(c)
                served.signal()
            }
        }
        let sink = try WebhookSink(name: "w", url: "http://127.0.0.1:\(port)/alerts")
        serve(status: "200 OK")
        XCTAssertTrue(sink.send(items))
        XCTAssertEqual(served.wait(timeout: .now() + 30), .success)
        let text = String(decoding: request.value, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("POST /alerts HTTP/1.1\r\n"), text)
        XCTAssertTrue(text.lowercased().contains("content-type: application/x-ndjson"), text)
        XCTAssertTrue(text.lowercased().contains("user-agent: osprey/" + OspreyVersion.string.lowercased()), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\n" + items.map { $0.line + "\n" }.joined()), text)
        // A non-2xx answer is not a delivery.
        serve(status: "503 Service Unavailable")
        XCTAssertFalse(sink.send(items))
        XCTAssertEqual(served.wait(timeout: .now() + 30), .success)
        sink.close()
    }

    /// The sinks together: every delivered batch reaches each output in order; stats count it.
    func testSinksDeliverToEveryOutput() throws {
        let dir = try makeTempDir("sinks")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (fd, port) = Loopback.udpListen()
        defer { close(fd) }
        let sinks = try Sinks([ServeConfig.Output(name: "file", kind: .jsonl(path: dir + "/a.jsonl")),
                               ServeConfig.Output(name: "cef", kind: .cef(udp: true, host: "127.0.0.1", port: port))])
        sinks.deliver(items.map { ($0.seq, $0.alert, $0.line) })
        sinks.close()
        XCTAssertEqual(try String(contentsOfFile: dir + "/a.jsonl", encoding: .utf8), items.map { $0.line + "\n" }.joined())
        XCTAssertEqual(sinks.stats.map(\.delivered), [2, 2])
        XCTAssertEqual(sinks.stats.map(\.failures), [0, 0])
    }
}
