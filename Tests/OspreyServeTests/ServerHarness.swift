import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var s = ""
    func append(_ t: String) { lock.lock(); s += t; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return s }
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

/// Plain POSIX sockets to 127.0.0.1.
enum Loopback {
    static func address(_ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port)).bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    static func tcpConnect(_ port: Int, from source: String? = nil) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            // Another loopback address as the source (all of 127/8 is local on Linux).
            var b = sockaddr_in()
            b.sin_family = sa_family_t(AF_INET)
            b.sin_addr.s_addr = inet_addr(source)
            let r = withUnsafePointer(to: &b) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if r != 0 { close(fd); return -1 }
        }
        var a = address(port)
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if r != 0 { close(fd); return -1 }
        return fd
    }

    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    static func udpSocket() -> Int32 { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }

    static func udpSend(_ fd: Int32, _ port: Int, _ bytes: [UInt8]) {
        var a = address(port)
        _ = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A UDP listener on an ephemeral port: (fd, port).
    static func udpListen() -> (Int32, Int) {
        let fd = udpSocket()
        var a = address(0)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var b = sockaddr_in(); var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &b) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return (fd, Int(UInt16(bigEndian: b.sin_port)))
    }

    /// A TCP listener on an ephemeral port: (fd, port).
    static func tcpListen() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
        var a = address(0)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var b = sockaddr_in(); var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &b) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: b.sin_port)))
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

/// Rule trigger lines of a JSONL alert file.
func ruleLines(_ path: String) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").map(String.init).filter { $0.contains("\"kind\":\"rule\"") }
}
