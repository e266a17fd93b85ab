import Foundation
import OspreyTestSupport
import XCTest

/// The real binary's user-facing errors: one line, the file and what is wrong, exit 1, never a Foundation
/// error domain or the usage text; `osprey check` validates a context directory without running.
final class CLITests: XCTestCase {
    func assertOneLine(_ r: (status: Int32, stderr: String), contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Error Domain="), r.stderr, file: file, line: line)
        XCTAssertFalse(r.stderr.contains("USAGE:") || r.stderr.contains("Usage:"), r.stderr, file: file, line: line)
    }

    func testFileErrorsAreOneLine() throws {
        let dir = try makeTempDir("cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        assertOneLine(try runOsprey(["evaluate", "--labels", dir + "/missing.jsonl", "--alerts", dir + "/missing.jsonl"]),
                      contains: dir + "/missing.jsonl")
        assertOneLine(try runOsprey(["serve", "--config", dir + "/missing.conf"]), contains: dir + "/missing.conf")
        try "[serve x]\nhttp = 127.0.0.1:0\ntoken = short\n".write(toFile: dir + "/s.conf", atomically: true, encoding: .utf8)
        assertOneLine(try runOsprey(["serve", "--config", dir + "/s.conf"]), contains: "s.conf:3")
        // A command-line mistake still gets ArgumentParser's usage help.
        let bad = try runOsprey(["replay", "--no-such-flag"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("Usage:") || bad.stderr.contains("USAGE:"), bad.stderr)
    }

    func testCheckRejectsAMisnamedContextFolderAndABadTuningFile() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = dir + "/context"
        try FileManager.default.copyItem(atPath: org + "/context", toPath: ctx)
        let ok = try runOsprey(["check", "--context", ctx])
        XCTAssertEqual(ok.status, 0, ok.stderr)

        try FileManager.default.createDirectory(atPath: ctx + "/keyword", withIntermediateDirectories: true)
        try "salary\n".write(toFile: ctx + "/keyword/financial.txt", atomically: true, encoding: .utf8)
        let misnamed = try runOsprey(["check", "--context", ctx])
        XCTAssertEqual(misnamed.status, 1, misnamed.stderr)
        XCTAssertTrue(misnamed.stderr.contains("keywords"), "did you mean keywords/: \(misnamed.stderr)")
        try FileManager.default.removeItem(atPath: ctx + "/keyword")

        try "[allow a]\nrules = *\nfield = src_ip\nvalues = 10.0.0.0/8\n".write(toFile: ctx + "/tuning.conf", atomically: true, encoding: .utf8)
        let tuning = try runOsprey(["check", "--context", ctx])
        XCTAssertEqual(tuning.status, 1, tuning.stderr)
        XCTAssertTrue(tuning.stderr.contains("tuning.conf:1") && tuning.stderr.contains("comment"), tuning.stderr)
    }
}
