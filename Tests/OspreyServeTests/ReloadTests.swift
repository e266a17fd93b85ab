import Foundation
import OspreyTestSupport
import XCTest

/// POST /api/reload re-reads the context directory and its tuning.conf: a valid change applies, an invalid
/// one is refused with the file and line and the running tuning stays.
final class ReloadTests: XCTestCase {
    func testReloadAppliesValidTuningAndRefusesBrokenOne() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("reload")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = dir + "/context"
        try FileManager.default.copyItem(atPath: org + "/context", toPath: ctx)
        let server = try ServerProcess(dir: dir, context: ctx)
        defer { server.stop() }

        XCTAssertEqual(server.http("POST", "/api/reload", token: nil).0, 401, "reload needs the token")
        let (ok, body) = server.http("POST", "/api/reload")
        XCTAssertEqual(ok, 200, String(decoding: body, as: UTF8.self))

        try "[rule APP-F-FL]\nscore = 5\n".write(toFile: ctx + "/tuning.conf", atomically: true, encoding: .utf8)
        XCTAssertEqual(server.http("POST", "/api/reload").0, 200)

        try "[rule APP-F-FX]\ndisabled = true\n".write(toFile: ctx + "/tuning.conf", atomically: true, encoding: .utf8)
        let (bad, text) = server.http("POST", "/api/reload")
        XCTAssertEqual(bad, 422)
        let message = String(decoding: text, as: UTF8.self)
        XCTAssertTrue(message.contains("tuning.conf:1"), message)
        XCTAssertTrue(message.contains("APP-F-FL"), "did you mean: \(message)")
        XCTAssertEqual(server.http("GET", "/api/health").0, 200, "still serving")
    }
}
