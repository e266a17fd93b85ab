import Foundation
import XCTest
import OspreyCore
import OspreyIO
import OspreyParsing
@testable import OspreyGenerator

final class GeneratorTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-gen-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func small(seed: UInt64 = 7) -> GeneratorOptions {
        var o = GeneratorOptions()
        o.users = 60; o.days = 21; o.seed = seed
        return o
    }

    func digest(_ dir: String) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir)
            if isDir.boolValue { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
            var h = FNV.offset
            for b in data { h = FNV.add(h, b) }
            out[f] = h
        }
        return out
    }

    func testSameSeedSameBytesOtherSeedOtherBytes() throws {
        let a = try tempDir(), b = try tempDir(), c = try tempDir()
        _ = try OrganizationGenerator.generate(small(), into: a)
        _ = try OrganizationGenerator.generate(small(), into: b)
        _ = try OrganizationGenerator.generate(small(seed: 8), into: c)
        let da = try digest(a)
        XCTAssertGreaterThan(da.count, 30)
        XCTAssertEqual(da, try digest(b))
        XCTAssertNotEqual(da["logs/mimecast-2026-09-28.log"], try digest(c)["logs/mimecast-2026-09-28.log"])
    }

    func testEveryGeneratedLineParsesAndEveryShapeIsUsed() throws {
        let dir = try tempDir()
        let s = try OrganizationGenerator.generate(small(), into: dir)
        // 21 days: too short for a dormant account (30 silent days after its first week), so it is not labelled.
        XCTAssertEqual(s.scenarios, scenarioSpecs.count - 1)
        let engine = try ParseEngine(contentDirectory: Self.packageRoot.appendingPathComponent("Content").path)
        var parsers: [String: Int] = [:]
        var rejects: [String] = []
        var activity: Set<ActivityType> = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/logs").sorted() {
            try LineReader(path: dir + "/logs/" + f).forEach { rec in
                guard case .line(let b, _) = rec else { rejects.append("too long"); return }
                engine.parse(line: b) { r in
                    switch r {
                    case .event(let e): parsers[e.parser, default: 0] += 1; activity.insert(e.activityType)
                    case .reject(let j): rejects.append("\(j.reason.rawValue): \(j.detail)")
                    case .emptyPage: break
                    }
                }
            }
        }
        XCTAssertEqual(rejects.count, 0, "\(rejects.prefix(5))")
        // Every seed parser, raw API JSON, SIEM v2 and key=value shapes appear in the generated logs.
        for p in ["mimecast-seg-sk4-app-activity-success-auditevents", "mimecast-seg-kv-app-login-success-auditlog",
                  "mimecast-seg-cef-email-send-receive-rcpt", "mimecast-seg-cef-email-send-receive-attname",
                  "mimecast-seg-cef-email-url", "mimecast-seg-cef-email-hold", "mimecast-json-audit", "mimecast-json-siem-receipt",
                  "mimecast-json-siem-process", "mimecast-json-siem-delivery", "mimecast-json-siem-v2-receipt",
                  "mimecast-json-siem-v2-process", "mimecast-json-siem-v2-delivery", "mimecast-kv-siem-receipt",
                  "mimecast-kv-siem-process", "mimecast-kv-siem-delivery", "mimecast-json-ttp-url", "mimecast-json-ttp-attachment"] {
            XCTAssertGreaterThan(parsers[p] ?? 0, 0, "no \(p) lines generated")
        }
        XCTAssertEqual(activity, Set(ActivityType.allCases), "every activity type occurs")
    }

    func testLabelsCoverEveryUseCaseAndContextIsComplete() throws {
        let dir = try tempDir()
        _ = try OrganizationGenerator.generate(small(), into: dir)
        let labels = try String(contentsOfFile: dir + "/labels.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertGreaterThanOrEqual(labels.count, 15)
        let useCases = Set(labels.flatMap { ($0["use_cases"] as? [String]) ?? [] })
        for uc in ["Abnormal Authentication & Access", "Account Manipulation", "Compromised Credentials", "Data Leak",
                   "Lateral Movement", "Malware", "Phishing", "Privilege Abuse", "Privilege Escalation", "Privileged Activity",
                   "Ransomware", "Workforce Protection", "Data Access"] {
            XCTAssertTrue(useCases.contains(uc), "no scenario covers \(uc)")
        }
        for l in labels {
            XCTAssertNotNil(UTCTime.parse(l["start"] as! String))
            XCTAssertLessThan(UTCTime.parse(l["start"] as! String)!, UTCTime.parse(l["end"] as! String)!)
            XCTAssertFalse((l["expected_rules"] as! [String]).isEmpty)
        }
        let users = try String(contentsOfFile: dir + "/context/users.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(users.count, 60 + 2 + 1)
        for f in ["context.conf", "company_domains.txt", "competitor_domains.txt", "network_zones.txt", "ti/tor.txt",
                  "ti/ransomware.txt", "ti/blacklist.txt", "geo/ranges.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/context/" + f), f)
        }
    }

}
