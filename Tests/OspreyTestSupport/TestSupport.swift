import Foundation
import XCTest

// Helpers every test target that runs the `osprey` binary or talks to loopback sockets shares (one
// definition each; the test targets import OspreyTestSupport). Test code only: no library target uses it.

/// The package root (this file is Tests/OspreyTestSupport/TestSupport.swift).
public let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `osprey` binary `swift test` built next to the test bundle.
public func ospreyBinary() throws -> String {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir, dir.deletingLastPathComponent()] {
        let p = candidate.appendingPathComponent("osprey").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    let p = FileManager.default.currentDirectoryPath + "/.build/debug/osprey"
    if FileManager.default.isExecutableFile(atPath: p) { return p }
    throw XCTSkip("osprey binary not found next to \(dir.path) (run `swift build` first)")
}

/// A new scratch directory under the temporary directory.
public func makeTempDir(_ name: String) throws -> String {
    let d = NSTemporaryDirectory() + "osprey-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Runs the binary to the end (stdout discarded, stderr returned); `env` adds to the environment.
@discardableResult
public func runOsprey(_ args: [String], env: [String: String] = [:], timeout: TimeInterval = 300) throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try ospreyBinary())
    p.arguments = args
    if !env.isEmpty {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
    }
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); XCTFail("osprey \(args) timed out") }
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A value behind a lock.
public final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    public init(_ v: T) { self.v = v }
    public var value: T {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

/// Text appended from several threads (a child's stderr).
public final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var s = ""
    public init() {}
    public func append(_ t: String) { lock.lock(); s += t; lock.unlock() }
    public var text: String { lock.lock(); defer { lock.unlock() }; return s }
}

/// Blocks on an async body (tests drive async code from XCTest's thread).
public func blocking<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = LockedBox<Result<T, Error>?>(nil)
    let sem = DispatchSemaphore(value: 0)
    Task.detached { do { box.value = .success(try await body()) } catch { box.value = .failure(error) }; sem.signal() }
    // Bounded, so a body that never returns fails its test instead of hanging the whole run.
    if sem.wait(timeout: .now() + 600) == .timedOut {
        XCTFail("blocking: no result within 600 s")
        throw CancellationError()
    }
    guard let r = box.value else { throw XCTSkip("blocking: no result") }
    return try r.get()
}

/// Rule trigger lines of a JSONL alert file.
public func ruleLines(_ path: String) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").map(String.init).filter { $0.contains("\"kind\":\"rule\"") }
}

/// Plain POSIX sockets to 127.0.0.1: clients, and listeners a test starts on kernel-chosen ports.
public enum Loopback {
    public static func address(_ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port)).bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    public static func tcpConnect(_ port: Int, from source: String? = nil) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        // A test never waits forever on the server: connect() and each send() give up after 120 s (on Linux
        // SO_SNDTIMEO bounds connect too), so a full accept backlog or a server that stopped reading fails
        // the test instead of hanging the run. Not shorter: serve holds a sender back (no reads) while its
        // pipeline works through a backlog, which takes tens of seconds in a debug build under load.
        var tv = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
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
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    public static func udpSocket() -> Int32 { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }

    public static func udpSend(_ fd: Int32, _ port: Int, _ bytes: [UInt8]) {
        var a = address(port)
        _ = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A UDP listener on an ephemeral port: (fd, port); receives time out after 200 ms.
    public static func udpListen() -> (Int32, Int) {
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
    public static func tcpListen() -> (Int32, Int) {
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

    /// Everything one accepted TCP connection sends until the peer closes or `seconds` pass.
    public static func acceptAndRead(_ listener: Int32, seconds: Int = 10) -> [UInt8] {
        let c = accept(listener, nil, nil)
        guard c >= 0 else { return [] }
        defer { close(c) }
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
