import Foundation
import XCTest
import OspreyCore
@testable import OspreyParsing

/// Every record of the real public samples in ../shared/corpus parses, and its key fields agree with an
/// independent reading of the same record (Foundation JSON here, never the engine's scanner); or it is
/// listed below as deliberately out of scope, with the reason, and must then be a counted reject.
final class CorpusConformanceTests: XCTestCase {
    /// (file, record index) → why Osprey does not turn it into an event. Only the Code42 line: Elastic's ECS
    /// documents are read through their `event.original`, the system audit event and the "<>" archive search
    /// are events without a user, and the release record without `released` takes its page's time.
    static let outOfScope: [String: [Int: String]] = [
        "ciscosecurity_tr05_exabeam/skyformation_cef_code42_example.log": [0: "a Code42 line in the connector wrapper (the wrapper's only public sample): not a Mimecast record"],
    ]
    static let skippedFiles: Set<String> = ["SOURCES.md", "ciscosecurity_tr05_exabeam/conftest.py"]

    func testEveryCorpusRecord() throws {
        let shared = try Support.requireShared()
        let corpus = shared.appendingPathComponent("corpus")
        let engine = try Support.engine()
        let files = FileManager.default.enumerator(atPath: corpus.path)!.compactMap { $0 as? String }
            .filter { !$0.hasSuffix("/") && !Self.skippedFiles.contains($0) }
            .filter { var d: ObjCBool = false; FileManager.default.fileExists(atPath: corpus.appendingPathComponent($0).path, isDirectory: &d); return !d.boolValue }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 15)
        var checked = 0, outOfScope = 0
        for file in files {
            let path = corpus.appendingPathComponent(file).path
            let results = try Support.parseFile(path, engine: engine).filter { if case .emptyPage = $0 { return false }; return true }
            let records = try Self.records(path)
            XCTAssertEqual(results.count, records.count, "\(file): \(results.count) results for \(records.count) records")
            for (i, (result, record)) in zip(results, records).enumerated() {
                if let reason = Self.outOfScope[file]?[i] {
                    outOfScope += 1
                    if case .event(let e) = result { XCTFail("\(file)#\(i) is listed out of scope (\(reason)) but parsed by \(e.parser)") }
                    continue
                }
                guard case .event(let e) = result else { XCTFail("\(file)#\(i): \(result)"); continue }
                check(e, against: record, where: "\(file)#\(i)")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 160)
        print("corpus conformance: \(checked) records checked, \(outOfScope) out of scope with reasons")
    }

    // MARK: the independent oracle

    func check(_ e: Event, against r: [String: Any], where loc: String) {
        func str(_ keys: String...) -> String? {
            for k in keys {
                var v: Any? = r[k]
                if k.contains(".") { let p = k.split(separator: "."); v = (r[String(p[0])] as? [String: Any])?[String(p[1])] }
                if let s = v as? String, !s.isEmpty { return s }
                if let n = v as? NSNumber { return n.stringValue }
            }
            return nil
        }
        // Time: the record's own time field, converted with an independent ISO-8601 / epoch reading.
        if let t = str("datetime", "eventTime", "date", "released", "createTime", "created", "viewed") {
            XCTAssertEqual(e.timeMillis, Self.oracleTime(t), "\(loc) time \(t)")
        } else if let ms = r["timestamp"] as? NSNumber {
            XCTAssertEqual(e.timeMillis, ms.int64Value, "\(loc) timestamp")
        } else {
            XCTAssertEqual(e.s("time_source"), "page", "\(loc): a record without time must take its page's time, marked")
        }

        let sender = str("Sender", "senderAddress", "senderEnvelope", "fromUserEmailAddress", "fromAddress", "fromEnv.emailAddress", "sender", "from")
            .map { $0.lowercased() }.flatMap { $0 == "<>" ? nil : $0 }
        var recipient = str("Rcpt", "Recipient", "recipientAddress", "recipients", "userEmailAddress", "toAddress", "recipient", "to")?.lowercased()
        if recipient == nil, let to = r["to"] as? [[String: Any]] { recipient = (to.first?["emailAddress"] as? String)?.lowercased() }
        if let s = sender { XCTAssertEqual(e.s("sender"), s, "\(loc) sender") }
        if let rc = recipient { XCTAssertEqual(e.s("dest_email_address"), rc, "\(loc) recipient") }

        // IP: on delivery records it is the destination server, elsewhere the source (mimecast-formats.md §3.4).
        let isDelivery = r["Delivered"] != nil || r["delivered"] != nil
        if isDelivery {
            if let ip = str("IP", "destinationIp") { XCTAssertEqual(e.s("dest_ip"), ip, "\(loc) dest_ip"); XCTAssertNil(e["src_ip"], "\(loc) src_ip on delivery") }
        } else if let ip = str("IP", "senderIp", "senderIpAddress", "SourceIP", "sourceIp", "sendingIp", "ipAddress"), ip != "Internal IP" {
            XCTAssertEqual(e.s("src_ip"), ip, "\(loc) src_ip")
        } else if let info = r["eventInfo"] as? String, let ip = Self.firstIPv4(info) {
            XCTAssertEqual(e.s("src_ip"), ip, "\(loc) src_ip from eventInfo")
        }

        // Direction (not from delivery Route, which is a policy name) and the user it implies.
        let rawDir = str("Dir", "direction") ?? (isDelivery ? nil : str("Route", "route"))
        let dir = rawDir.map { $0.lowercased() }.flatMap { ["inbound", "outbound", "internal"].contains($0) ? $0 : nil }
        if let d = dir { XCTAssertEqual(e.s("direction"), d, "\(loc) direction") }
        if r["auditType"] != nil, str("user") == nil {
            XCTAssertNil(e.user, "\(loc): audit event with an empty user has no user")
            XCTAssertEqual(e.activityType, .appActivity, loc)
        } else if let audited = r["auditType"] != nil ? str("user") : nil {
            XCTAssertEqual(e.user, audited.lowercased(), "\(loc) audit user")
            XCTAssertTrue([.appActivity, .appLogin, .failedAppLogin].contains(e.activityType), loc)
        } else if r["searchText"] != nil || r["viewer"] != nil {
            XCTAssertEqual(e.activityType, .appActivity, loc)
        } else {
            XCTAssertTrue(e.activityType.isEmail, "\(loc) mail record read as \(e.activityType)")
            switch dir {
            case "outbound", "internal" where r["userEmailAddress"] == nil && r["Recipient"] == nil && r["recipient"] == nil:
                XCTAssertEqual(e.user, sender, "\(loc) user of outgoing mail is the sender")
                XCTAssertTrue(e.activityType == .emailOut || e.activityType == .emailOutFailed, "\(loc) \(e.activityType)")
            case "inbound":
                XCTAssertEqual(e.user, recipient, "\(loc) user of incoming mail is the recipient")
                XCTAssertTrue(e.activityType == .emailIn || e.activityType == .emailInFailed, "\(loc) \(e.activityType)")
            default: break
            }
            // Outcome: held, rejected, undelivered, blocked or malicious mail is the -failed type.
            let failed = (str("Act", "action")?.lowercased()).map { ["rej", "hld", "hold", "block"].contains($0) } ?? false
                || str("Delivered", "delivered").map { $0 == "false" || $0 == "0" } ?? false
                || str("scanResult", "result").map { $0 == "malicious" } ?? false
                || r["Virus"] != nil
            if failed { XCTAssertTrue(e.activityType.isFailure, "\(loc) should be a failure: \(e.activityType)") }
        }
        if let att = r["AttCnt"] as? NSNumber { XCTAssertEqual(e.int(Fields.attachmentCount), att.int64Value, "\(loc) attachment_count") }
        if let size = r["MsgSize"] as? NSNumber { XCTAssertEqual(e.int(Fields.bytes), size.int64Value, "\(loc) bytes") }
    }

    static func oracleTime(_ s: String) -> Int64? {
        // Independent of UTCTime: DateFormatter with the patterns Mimecast uses; unpadded hours padded first.
        var t = s
        if let r = t.range(of: #"T(\d):"#, options: .regularExpression) { t.replaceSubrange(r, with: "T0" + t[r].dropFirst()) }
        for pattern in ["yyyy-MM-dd'T'HH:mm:ssZ", "yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.dateFormat = pattern
            if let d = f.date(from: t) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }

    static func firstIPv4(_ s: String) -> String? {
        guard let r = s.range(of: #"\b(?:IP(?: Address)?|remote IP|Remote IP is)\s*:?\s*(\d{1,3}(?:\.\d{1,3}){3})"#, options: .regularExpression) else { return nil }
        return s[r].range(of: #"\d{1,3}(?:\.\d{1,3}){3}"#, options: .regularExpression).map { String(s[r][$0]) }
    }

    /// A legacy key=value line read naively: split on `|`, first `=`, free text unwrapped from backslashes.
    static func kv(_ line: String) -> [String: Any] {
        var out: [String: Any] = [:]
        for part in line.split(separator: "|") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            var v = String(part[part.index(after: eq)...])
            if v.hasPrefix("\\"), v.hasSuffix("\\"), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            out[String(part[..<eq])] = v
        }
        return out
    }

    /// The records of a corpus file, read with Foundation: JSON lines, multi-line documents, envelopes
    /// (`data`, `heldReleaseLogs`, `events[].message` strings), arrays, and `},{`-joined objects.
    static func records(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var docs: [Any] = []
        if let whole = try? JSONSerialization.jsonObject(with: Data(text.utf8)), text.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n") {
            docs = [whole]
        } else {
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                if let v = try? JSONSerialization.jsonObject(with: Data(line.utf8)) { docs.append(v) }
                else if let v = try? JSONSerialization.jsonObject(with: Data(("[" + line + "]").utf8)) { docs.append(v) }
                else if line.contains("=") && line.contains("|") { docs.append(kv(String(line))) }
                else { docs.append(["_unparsable": String(line)]) }
            }
        }
        var out: [[String: Any]] = []
        func walk(_ v: Any) {
            if let a = v as? [Any] { a.forEach(walk); return }
            guard let o = v as? [String: Any] else {
                if let s = v as? String, let inner = try? JSONSerialization.jsonObject(with: Data(s.utf8)) { walk(inner) }
                return
            }
            var envelope = false
            for k in ["data", "heldReleaseLogs", "events"] { if let a = o[k] as? [Any] { envelope = true; a.forEach(walk) } }
            if envelope { return }
            if o.count == 1, let s = o.values.first as? String, s.hasPrefix("{") { walk(s); return }
            if let ev = o["event"] as? [String: Any], let original = ev["original"] as? String, original.hasPrefix("{") { walk(original); return }
            out.append(o)
        }
        docs.forEach(walk)
        return out
    }
}
