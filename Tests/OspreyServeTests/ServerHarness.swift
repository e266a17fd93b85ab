import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OspreyTestSupport
import XCTest

/// An `osprey serve` child process on 127.0.0.1 with kernel-chosen ports.
final class ServerProcess {
    let process = Process()
    let dir: String
    let token = "test-token-0123456789"
    var udpPort = 0, tcpPort = 0, httpPort = 0
    private let stderrBuffer = LockedText()

    convenience init(dir: String, extraServe: String = "", outputs: String = "", context: String?) throws {
        var cfg = """
        [serve test]
        udp = 127.0.0.1:0
        tcp = 127.0.0.1:0
        http = 127.0.0.1:0
        token = test-token-0123456789

        """
        if let context { cfg += "context = \(context)\n" }
        cfg += extraServe + "\n"
        cfg += """
        [output file]
        type = jsonl
        path = \(dir)/alerts.jsonl

        """ + outputs
        try self.init(dir: dir, config: cfg)
    }

    /// A server with the config text as given (written to DIR/serve.conf).
    init(dir: String, config cfg: String, environment: [String: String]? = nil) throws {
        self.dir = dir
        try cfg.write(toFile: dir + "/serve.conf", atomically: true, encoding: .utf8)
        if let environment { process.environment = environment }
        process.executableURL = URL(fileURLWithPath: try ospreyBinary())
        process.arguments = ["serve", "--config", dir + "/serve.conf"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let buf = stderrBuffer
        err.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { buf.append(String(decoding: d, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = buf.text.split(separator: "\n").first(where: { $0.contains("listening") }) {
                for part in line.split(separator: " ") {
                    let kv = part.split(separator: "=")
                    guard kv.count == 2, let v = Int(kv[1]) else { continue }
                    switch kv[0] { case "udp": udpPort = v; case "tcp": tcpPort = v; case "http": httpPort = v; default: break }
                }
                if httpPort > 0 { return }
            }
            if !process.isRunning { break }
            usleep(50_000)
        }
        stop()
        throw XCTSkip("osprey serve did not start: \(buf.text)")
    }

    var stderrText: String { stderrBuffer.text }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// A blocking HTTP request to the server (status, body).
    func http(_ method: String, _ path: String, body: Data? = nil, token: String? = "default", timeout: TimeInterval = 60) -> (Int, Data) {
        var req = URLRequest(url: URL(string: "http://127.0.0.1:\(httpPort)\(path)")!, timeoutInterval: timeout)
        req.httpMethod = method
        req.httpBody = body
        let t = token == "default" ? self.token : token
        if let t { req.setValue("Bearer " + t, forHTTPHeaderField: "Authorization") }
        let sem = DispatchSemaphore(value: 0)
        let result = LockedBox<(Int, Data)>((0, Data()))
        URLSession.shared.dataTask(with: req) { d, r, e in
            if let e { print("HTTP \(method) \(path): \(e)") }
            result.value = ((r as? HTTPURLResponse)?.statusCode ?? 0, d ?? Data())
            sem.signal()
        }.resume()
        sem.wait()
        return result.value
    }

    func json(_ path: String) -> [String: Any] {
        let (status, d) = http("GET", path)
        XCTAssertEqual(status, 200, "GET \(path)")
        return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] ?? [:]
    }

    /// The sum of every sample of a metric (all label sets).
    func metricSum(_ name: String) -> Double {
        let (_, d) = http("GET", "/metrics", token: nil)
        var sum = 0.0
        for line in String(decoding: d, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            sum += Double(line.split(separator: " ").last!) ?? 0
        }
        return sum
    }

    func metric(_ name: String) -> Double {
        let (_, d) = http("GET", "/metrics", token: nil)
        for line in String(decoding: d, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last!) ?? -1
        }
        return -1
    }

    /// Waits until `count` records arrived over `transport` and nothing is pending.
    func waitProcessed(transport: String, count: Int, timeout: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if metric("osprey_records_in_total{transport=\"\(transport)\"}") >= Double(count), metric("osprey_pending_records") == 0 {
                return true
            }
            usleep(20_000)
        }
        return false
    }
}

/// The generated organization's log lines in replay order (files sorted by name, lines in file order).
func orgLines(_ org: String) throws -> [String] {
    let dir = org + "/logs"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted()
    var out: [String] = []
    for n in names {
        let text = try String(contentsOfFile: dir + "/" + n, encoding: .utf8)
        for l in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var s = String(l)
            if s.hasSuffix("\r") { s.removeLast() }
            if !s.trimmingCharacters(in: .whitespaces).isEmpty { out.append(s) }
        }
    }
    return out
}
