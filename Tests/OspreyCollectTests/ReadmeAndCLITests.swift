import Foundation
@testable import OspreyCollect
import OspreyServe
import OspreyTestSupport
import XCTest

/// The README's config block loads as written (as `[collect …]` and as a serve `[input mimecast …]`), and
/// `osprey collect --help` names the credentials.
final class ReadmeAndCLITests: XCTestCase {
    func readmeBlock() throws -> String {
        let text = try String(contentsOf: TestData.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let sec = text.range(of: "## Collect from Mimecast") else { XCTFail("README has no Collect from Mimecast section"); return "" }
        let rest = text[sec.upperBound...]
        guard let open = rest.range(of: "```ini\n"), let close = rest[open.upperBound...].range(of: "```") else {
            XCTFail("no ini block in the section"); return ""
        }
        return String(rest[open.upperBound..<close.lowerBound])
    }

    func testReadmeConfigLoads() throws {
        let block = try readmeBlock()
        let cfgs = try CollectConfig.parse(block, file: "README.md")
        XCTAssertEqual(cfgs.count, 1)
        let c = cfgs[0]
        XCTAssertEqual(c.baseURL, "https://api.services.mimecast.com")
        XCTAssertEqual(c.clientID, .env("MIMECAST_CLIENT_ID"))
        XCTAssertEqual(c.clientSecret, .file("/etc/osprey/mimecast-client-secret"))
        XCTAssertEqual(c.sources, [.siemBatch, .audit, .ttpURL, .ttpAttachment, .ttpImpersonation, .dlp, .heldRelease])
        XCTAssertEqual(c.siemTypes, SIEMType.all)
        XCTAssertEqual(c.pageSize, 500); XCTAssertEqual(c.rate, 2); XCTAssertEqual(c.intervalSeconds, 300)
        // The same keys as a serve input.
        let serve = "[serve main]\nhttp = 127.0.0.1:0\nauth = none\n\n" + block.replacingOccurrences(of: "[collect acme]", with: "[input mimecast acme]")
        let sc = try ServeConfig.parse(serve, file: "serve.conf")
        XCTAssertEqual(sc.mimecast.map(\.name), ["acme"])
        XCTAssertEqual(sc.mimecast.first?.sources, c.sources)
    }

    func testHelpNamesTheCredentials() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ospreyBinary())
        p.arguments = ["collect", "--help"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        for word in ["Client ID", "Client Secret", "client_secret_env", "client_secret_file", "client_id_env", "--state", "--out", "--once"] {
            XCTAssertTrue(text.contains(word), "help lacks \(word): \(text)")
        }
    }

    func testSecretIsNotOnTheCommandLineNorInErrors() throws {
        let d = try makeTempDir("nosecret")
        try "[collect a]\nbase_url = http://127.0.0.1:9\nclient_id = x\nclient_secret_env = OSPREY_TEST_MISSING_SECRET\nsources = audit\nmax_retries = 0\ntimeout = 2\n"
            .write(toFile: d + "/c.conf", atomically: true, encoding: .utf8)
        let r = try runOsprey(["collect", "--config", d + "/c.conf", "--out", d + "/out", "--once"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OSPREY_TEST_MISSING_SECRET is not set"), r.stderr)
        let secret = "hunter2-\(UInt32.random(in: 0...UInt32.max))"
        let r2 = try runOsprey(["collect", "--config", d + "/c.conf", "--out", d + "/out", "--once"],
                               env: ["OSPREY_TEST_MISSING_SECRET": secret])
        XCTAssertFalse(r2.stderr.contains(secret), "the secret reached stderr")
    }
}
