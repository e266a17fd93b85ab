import Foundation
import OspreyTestSupport
import XCTest

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
