import Foundation
@testable import OspreyCollect
import OspreyTestSupport
import XCTest

/// A clock whose sleeps return at once and are recorded (retry waits become assertions, not delays).
final class RecordingClock: CollectClock, @unchecked Sendable {
    private let lock = NSLock()
    private var offset = 0.0
    private var waits: [Double] = []
    func now() -> Double { lock.lock(); defer { lock.unlock() }; return Date().timeIntervalSince1970 + offset }
    func sleep(seconds: Double) async throws {
        lock.withLock { waits.append(seconds); offset += max(0, seconds) }
    }
    var sleeps: [Double] { lock.lock(); defer { lock.unlock() }; return waits }
}

/// Test data: the shared corpus's API 2.0 shapes and a generated organization's, loaded into an emulator.
enum TestData {
    static var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// Records of the shared corpus (API 2.0 shapes: SIEM CG, audit, TTP, DLP, held release); nil when absent.
    static func corpusLines() -> [String]? {
        let dir = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/elastic_integrations").path
        guard FileManager.default.fileExists(atPath: dir) else { return nil }
        var out: [String] = []
        let files = ["siem_logs/test-siem-v2-logs.log", "audit_events/test-audit-events.log", "dlp_logs/test-dlp-logs.log",
                     "ttp_ap_logs/test-ttp-ap-logs.log", "ttp_ip_logs/test-ttp-ip-logs.log", "ttp_url_logs/test-ttp-url-logs.log"]
        for f in files {
            guard let text = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) else { continue }
            out += text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") && !$0.hasPrefix("{\"meta\"") }
        }
        // Held release logs: {"events":[{"message":"<record JSON>"}]}.
        if let d = FileManager.default.contents(atPath: dir + "/message_release_logs/test-release-logs.json"),
           let o = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any], let evs = o["events"] as? [[String: Any]] {
            out += evs.compactMap { $0["message"] as? String }
        }
        return out.compactMap(compactLine)
    }

    /// A record as compact JSON (the emulator serves records compact, as the API does).
    static func compactLine(_ s: String) -> String? {
        let b = Array(s.utf8)
        let r = RecordJSON.lines(b)
        guard r.count == 1 else { return nil }
        return String(decoding: r[0], as: UTF8.self)
    }

    /// The generated organization (made once per test process) and its JSON records of API 2.0 shapes.
    static let org = LockedBox<(String, [String])?>(nil)
    static func generated() throws -> (dir: String, lines: [String]) {
        if let o = org.value { return o }
        let d = try makeTempDir("collect-org")
        let r = try runOsprey(["generate", "--out", d, "--users", "30", "--days", "21"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var lines: [String] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: d + "/logs").sorted() {
            let text = try String(contentsOfFile: d + "/logs/" + f, encoding: .utf8)
            lines += text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("{") }.compactMap(compactLine)
        }
        org.value = (d, lines)
        return (d, lines)
    }

    static func config(_ emu: MimecastEmulator, name: String = "test", sources: String, pageSize: Int = 50, rate: Double = 1000,
                       secretFile: String, kind: String = "collect", interval: Int = 1, extra: String = "") -> String {
        """
        [\(kind) \(name)]
        base_url = \(emu.baseURL)
        client_id = \(emu.clientID)
        client_secret_file = \(secretFile)
        sources = \(sources)
        page_size = \(pageSize)
        rate = \(rate)
        interval = \(interval)
        \(extra)
        """
    }
}

extension Array where Element == String {
    /// Multiset: line → count.
    var counted: [String: Int] { reduce(into: [:]) { $0[$1, default: 0] += 1 } }
}
