import Foundation
import XCTest

/// The `osprey` binary `swift test` built next to the test bundle.
func ospreyBinary() throws -> String {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir, dir.deletingLastPathComponent()] {
        let p = candidate.appendingPathComponent("osprey").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    let p = FileManager.default.currentDirectoryPath + "/.build/debug/osprey"
    if FileManager.default.isExecutableFile(atPath: p) { return p }
    throw XCTSkip("osprey binary not found next to \(dir.path) (run `swift build` first)")
}

func makeTempDir(_ name: String) throws -> String {
    let d = NSTemporaryDirectory() + "osprey-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@discardableResult
func runOsprey(_ args: [String], timeout: TimeInterval = 300) throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try ospreyBinary())
    p.arguments = args
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

/// A small generated organization, made once per test process.
final class GeneratedOrg: @unchecked Sendable {
    static let shared = GeneratedOrg()
    private var dir: String?
    private let lock = NSLock()

    func path() throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let dir { return dir }
        let d = try makeTempDir("org")
        let r = try runOsprey(["generate", "--out", d, "--users", "40", "--days", "21"])
        XCTAssertEqual(r.status, 0, r.stderr)
        dir = d
        return d
    }
}
