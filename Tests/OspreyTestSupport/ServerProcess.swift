import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// An `osprey serve` child process on 127.0.0.1 with kernel-chosen ports, read from its "listening" line
/// (the one helper of the serve and collect tests).
public final class ServerProcess {
    public let process = Process()
    /// The directory of the config file.
    public let dir: String
    /// The token of the config `init(dir:extraServe:outputs:context:)` writes; `http` sends it by default.
    public let token = "test-token-0123456789"
    public private(set) var udpPort = 0, tcpPort = 0, httpPort = 0
    private let stderrBuffer = LockedText()

    /// A server with every listener on an ephemeral port, the test token, a jsonl output DIR/alerts.jsonl,
    /// and `extraServe` lines in its serve section.
    public convenience init(dir: String, extraServe: String = "", outputs: String = "", context: String?) throws {
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
    public convenience init(dir: String, config cfg: String, environment: [String: String]? = nil) throws {
        try cfg.write(toFile: dir + "/serve.conf", atomically: true, encoding: .utf8)
        try self.init(configPath: dir + "/serve.conf", environment: environment)
    }

    /// A server started on an existing config file (its listeners may use port 0: the ports are read back).
    /// Throws when the server does not report listening within 60 s, with its stderr.
    public init(configPath: String, environment: [String: String]? = nil) throws {
        dir = URL(fileURLWithPath: configPath).deletingLastPathComponent().path
        if let environment { process.environment = environment }
        process.executableURL = URL(fileURLWithPath: try ospreyBinary())
        process.arguments = ["serve", "--config", configPath]
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
        throw ServerStartError(stderr: buf.text)
    }

    public struct ServerStartError: Error, CustomStringConvertible {
        public var stderr: String
        public var description: String { "osprey serve did not start: \(stderr)" }
    }

    public var stderrText: String { stderrBuffer.text }

    /// The ports of `[tenant NAME]` from its "tenant NAME: ready on udp=… tcp=… http=…" line (0: none),
    /// waiting up to 60 s for it; nil when it never comes.
    public func tenantPorts(_ name: String) -> (udp: Int, tcp: Int, http: Int)? {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = stderrText.split(separator: "\n").first(where: { $0.contains("tenant \(name): ready on") }) {
                var ports = (udp: 0, tcp: 0, http: 0)
                for part in line.split(separator: " ") {
                    let kv = part.split(separator: "=")
                    guard kv.count == 2, let v = Int(kv[1]) else { continue }
                    switch kv[0] { case "udp": ports.udp = v; case "tcp": ports.tcp = v; case "http": ports.http = v; default: break }
                }
                return ports
            }
            if !process.isRunning { return nil }
            usleep(50_000)
        }
        return nil
    }

    /// SIGTERM, then SIGKILL after 30 s; waits for the exit.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// A blocking HTTP request to the server (status, body); `token` "default" sends the test token, nil none;
    /// `port` another HTTP listener of the process (a tenant's).
    public func http(_ method: String, _ path: String, body: Data? = nil, token: String? = "default", timeout: TimeInterval = 60,
                     port: Int? = nil) -> (Int, Data) {
        guard let url = URL(string: "http://127.0.0.1:\(port ?? httpPort)\(path)") else { return (0, Data()) }
        var req = URLRequest(url: url, timeoutInterval: timeout)
        req.httpMethod = method
        req.httpBody = body
        let t = token == "default" ? self.token : token
        if let t { req.setValue("Bearer " + t, forHTTPHeaderField: "Authorization") }
        let sem = DispatchSemaphore(value: 0)
        let result = LockedBox<(Int, Data)>((0, Data()))
        let task = URLSession.shared.dataTask(with: req) { d, r, e in
            if let e { print("HTTP \(method) \(path): \(e)") }
            result.value = ((r as? HTTPURLResponse)?.statusCode ?? 0, d ?? Data())
            sem.signal()
        }
        task.resume()
        // timeoutInterval is an idle timeout: bound the whole exchange too, so no request hangs the run.
        if sem.wait(timeout: .now() + timeout * 2 + 30) == .timedOut {
            task.cancel()
            FileHandle.standardError.write(Data("HTTP \(method) \(path): no answer within \(Int(timeout * 2 + 30)) s\n".utf8))
            return (0, Data())
        }
        return result.value
    }

    /// GET `path` (expecting 200) as a JSON object (empty when it is not one).
    public func json(_ path: String) -> [String: Any] {
        let (status, d) = http("GET", path)
        XCTAssertEqual(status, 200, "GET \(path)")
        return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any] ?? [:]
    }

    /// The sum of every sample of a metric (all label sets).
    public func metricSum(_ name: String) -> Double {
        var sum = 0.0
        for line in metricLines() where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            sum += line.split(separator: " ").last.flatMap { Double($0) } ?? 0
        }
        return sum
    }

    /// A sample (`name` with its labels, if any) of /metrics, or -1 when absent.
    public func metric(_ name: String, port: Int? = nil) -> Double {
        for line in metricLines(port: port) where line.hasPrefix(name + " ") {
            return line.split(separator: " ").last.flatMap { Double($0) } ?? -1
        }
        return -1
    }

    private func metricLines(port: Int? = nil) -> [Substring] {
        let (_, d) = http("GET", "/metrics", token: nil, port: port)
        return String(decoding: d, as: UTF8.self).split(separator: "\n")
    }

    /// Waits until a metric is present and within [atLeast, atMost].
    public func waitMetric(_ name: String, atLeast: Double = -.infinity, atMost: Double = .infinity, timeout: TimeInterval = 120,
                           port: Int? = nil) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let v = metric(name, port: port)
            if v >= atLeast && v <= atMost && v >= 0 { return true }
            usleep(50_000)
        }
        return false
    }

    /// Waits until `count` records arrived over `transport` and nothing is pending.
    public func waitProcessed(transport: String, count: Int, timeout: TimeInterval = 120, port: Int? = nil) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if metric("osprey_records_in_total{transport=\"\(transport)\"}", port: port) >= Double(count),
               metric("osprey_pending_records", port: port) == 0 {
                return true
            }
            usleep(20_000)
        }
        return false
    }
}
