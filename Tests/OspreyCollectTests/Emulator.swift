import CZlib
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OspreyCore

/// A local Mimecast API 2.0 emulator on 127.0.0.1, written from the published endpoint descriptions:
///
/// - `POST /oauth/token` (form: grant_type=client_credentials, client_id, client_secret) →
///   {"access_token","token_type":"Bearer","expires_in"}
/// - `GET /siem/v1/batch/events/cg?type&dateRangeStartsAt&dateRangeEndsAt&pageSize&nextPage` →
///   {"value":[{"url","size","expiry"}],"@nextPage","isCaughtUp"}; each url a pre-signed gzip NDJSON file
///   (one file per type and hour here)
/// - `GET /siem/v1/events/cg?types&pageSize&(dateRangeStartsAt|nextPage)` → {"value":[records],"@nextPage","isCaughtUp"}
/// - paged POSTs (audit, TTP URL / attachment / impersonation, DLP, held release):
///   {"meta":{"pagination":{"pageSize","pageToken"}},"data":[{start,end}]} →
///   {"meta":{"pagination":{"pageSize","next"}},"data":[…],"fail":[]}
///
/// Faults (all optional): a 429 every `every429` requests (alternating Retry-After and X-RateLimit-Reset),
/// a 500 every `every500`, every token revoked after `expireTokenAfter` requests, the first download of
/// one batch file cut short, every paged response served twice (the first answer's next token repeats
/// the page), a delay per request.
final class MimecastEmulator: @unchecked Sendable {
    struct Faults {
        var every429 = 0
        var every500 = 0
        var expireTokenAfter = 0
        var truncateOneFile = false
        var duplicatePages = false
        var delayMillis = 0
        var retryAfterSeconds = 3
        /// Event time one batch file covers (Mimecast writes files every few minutes; tests use longer spans).
        var fileMillis: Int64 = 3_600_000
    }

    struct Paged { var path: String; var startKey: String; var endKey: String; var dataPath: String? }
    static let paged: [String: Paged] = [
        "audit": Paged(path: "/api/audit/get-audit-events", startKey: "startDateTime", endKey: "endDateTime", dataPath: nil),
        "ttp-url": Paged(path: "/api/ttp/url/get-logs", startKey: "from", endKey: "to", dataPath: "clickLogs"),
        "ttp-attachment": Paged(path: "/api/ttp/attachment/get-logs", startKey: "from", endKey: "to", dataPath: "attachmentLogs"),
        "ttp-impersonation": Paged(path: "/api/ttp/impersonation/get-logs", startKey: "from", endKey: "to", dataPath: "impersonationLogs"),
        "dlp": Paged(path: "/api/dlp/get-logs", startKey: "from", endKey: "to", dataPath: "dlpLogs"),
        "held-release": Paged(path: "/api/gateway/get-held-release-logs", startKey: "start", endKey: "end", dataPath: "heldReleaseLogs"),
    ]

    let clientID = "osprey-test-client"
    let clientSecret = "s3cr3t-\(UInt32.random(in: 0...UInt32.max))"
    let lock = NSLock()
    var faults: Faults
    /// Records by endpoint ("siem:TYPE", "audit", "ttp-url", …), each (time, compact JSON), time-sorted.
    private(set) var data: [String: [(Int64, String)]] = [:]
    private var tokens: Set<String> = []
    private var tokenCount = 0
    private var requests = 0
    private var truncatedDone = false
    private(set) var counts: [String: Int] = [:]
    var port = 0
    private var task: Task<Void, Error>?

    init(faults: Faults = Faults()) { self.faults = faults }

    func count(_ k: String) { counts[k, default: 0] += 1 }
    func counted(_ k: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[k] ?? 0 }

    /// Adds a record to the endpoint its keys say it belongs to; false = not an API 2.0 record shape.
    @discardableResult
    func add(_ line: String) -> Bool {
        guard let key = MimecastEmulator.endpoint(of: line), let t = MimecastEmulator.time(of: line) else { return false }
        lock.lock(); data[key, default: []].append((t, line)); lock.unlock()
        return true
    }

    func finishLoading() {
        lock.lock()
        for k in data.keys { data[k]!.sort { $0.0 < $1.0 } }
        lock.unlock()
    }

    /// Every record served, as a multiset of lines.
    var allRecords: [String] { lock.lock(); defer { lock.unlock() }; return data.values.flatMap { $0.map(\.1) } }

    static func object(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    static func endpoint(of line: String) -> String? {
        guard let o = object(line) else { return nil }
        if let type = o["type"] as? String, o["aggregateId"] != nil, ["receipt", "process", "delivery", "journal", "av", "spam",
            "url protect", "attachment protect", "impersonation protect", "internal email protect"].contains(type) { return "siem:" + type }
        if o["auditType"] != nil, o["eventTime"] != nil { return "audit" }
        if o["heldReason"] != nil || o["released"] != nil { return "held-release" }
        if o["url"] != nil, o["userEmailAddress"] != nil || o["scanResult"] != nil { return "ttp-url" }
        if o["impersonationResults"] != nil || o["hits"] != nil, o["eventTime"] != nil { return "ttp-impersonation" }
        if o["fileName"] != nil, o["result"] != nil, o["date"] != nil { return "ttp-attachment" }
        if o["policy"] != nil, o["action"] != nil, o["senderAddress"] != nil, o["eventTime"] != nil { return "dlp" }
        return nil
    }

    static func time(of line: String) -> Int64? {
        guard let o = object(line) else { return nil }
        if let n = o["timestamp"] as? NSNumber { return n.int64Value }
        for k in ["eventTime", "date", "released", "datetime"] {
            if let s = o[k] as? String, let t = UTCTime.parse(s) { return t }
        }
        return nil
    }

    // MARK: server

    func start() async throws {
        let router = Router()
        router.post("/oauth/token") { req, _ in try await self.token(req) }
        router.get("/siem/v1/batch/events/cg") { req, _ in try await self.guarded(req) { try self.batchList(req) } }
        router.get("/siem/v1/events/cg") { req, _ in try await self.guarded(req) { try self.stream(req) } }
        router.get("/storage/:type/:hour") { req, ctx in try await self.download(req, ctx) }
        for (name, p) in MimecastEmulator.paged {
            router.post(RouterPath(p.path)) { req, _ in
                var r = req
                let body = try await r.collectBody(upTo: 1 << 20)
                return try await self.guarded(req) { try self.pagedPost(name, p, Array(body.readableBytesView)) }
            }
        }
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(router: router,
                              configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "mimecast-emulator"),
                              onServerRunning: { ch in ready.continuation.yield(ch.localAddress?.port ?? 0) },
                              logger: { var l = Logger(label: "emulator"); l.logLevel = .critical; return l }())
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await p in ready.stream { port = p; break }
    }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private func json(_ o: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let d = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8)
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: d)))
    }

    private func raw(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func delay() async {
        let ms = faults.delayMillis
        if ms > 0 { try? await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000) }
    }

    /// Rate limit, server errors and revoked tokens, then the handler.
    private func guarded(_ req: Request, _ body: () throws -> Response) async throws -> Response {
        await delay()
        let auth = req.headers[.authorization] ?? ""
        enum Outcome { case unauthorized, limited(Int), failed, ok }
        let f = faults
        let outcome: Outcome = lock.withLock {
            requests += 1
            let n = requests
            if f.expireTokenAfter > 0, n % f.expireTokenAfter == 0 { tokens.removeAll(); counts["expired", default: 0] += 1 }
            if !(auth.hasPrefix("Bearer ") && tokens.contains(String(auth.dropFirst(7)))) { count("401"); return .unauthorized }
            if f.every429 > 0, n % f.every429 == 0 { count("429"); return .limited(n) }
            if f.every500 > 0, n % f.every500 == 0 { count("500"); return .failed }
            return .ok
        }
        switch outcome {
        case .unauthorized:
            return json(["fail": [["code": "token_expired", "message": "The access token has expired"]]], status: .unauthorized)
        case .limited(let n):
            var h = HTTPFields()
            if (n / f.every429) % 2 == 0 { h[HTTPField.Name("Retry-After")!] = String(f.retryAfterSeconds) }
            else { h[HTTPField.Name("X-RateLimit-Reset")!] = String(f.retryAfterSeconds * 1000) }
            return json(["fail": [["code": "too_many_requests"]]], status: .tooManyRequests, headers: h)
        case .failed:
            return json(["error": ["code": "internal", "message": "try later"]], status: .internalServerError)
        case .ok:
            return try lock.withLock { try body() }
        }
    }

    private func token(_ req: Request) async throws -> Response {
        await delay()
        var r = req
        let body = String(buffer: try await r.collectBody(upTo: 1 << 16))
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if kv.count == 2 { form[kv[0]] = kv[1] }
        }
        return lock.withLock { tokenLocked(form) }
    }

    private func tokenLocked(_ form: [String: String]) -> Response {
        count("token")
        guard form["grant_type"] == "client_credentials", form["client_id"] == clientID, form["client_secret"] == clientSecret else {
            return json(["fail": [["code": "invalid_client"]]], status: .unauthorized)
        }
        tokenCount += 1
        let t = "tok-\(tokenCount)-\(UInt32.random(in: 0...UInt32.max))"
        tokens.insert(t)
        return json(["access_token": t, "token_type": "Bearer", "expires_in": 1800])
    }

    private func q(_ req: Request, _ name: String) -> String? {
        guard let v = req.uri.queryParameters[name[...]] else { return nil }
        let s = String(v)
        return s.removingPercentEncoding ?? s
    }

    static func dayStart(_ s: String) -> Int64? { UTCTime.parse(s + "T00:00:00Z") }

    /// Batch files: one per type and hour with records, listed `pageSize` at a time.
    private func batchList(_ req: Request) throws -> Response {
        count("batch-list")
        guard let type = q(req, "type"), let size = q(req, "pageSize").flatMap(Int.init), size > 0 else {
            return json(["error": ["code": "bad_request"]], status: .badRequest)
        }
        var start: Int64, end: Int64, offset = 0
        if let tok = q(req, "nextPage") {
            let p = tok.split(separator: ":")
            guard p.count == 3, let s = Int64(p[0]), let e = Int64(p[1]), let o = Int(p[2]) else { return json(["error": "bad token"], status: .badRequest) }
            start = s; end = e; offset = o
        } else {
            guard let s = q(req, "dateRangeStartsAt").flatMap(MimecastEmulator.dayStart),
                  let e = q(req, "dateRangeEndsAt").flatMap(MimecastEmulator.dayStart) else { return json(["error": "dates"], status: .badRequest) }
            start = s; end = e + 86_400_000
        }
        let hours = Array(Set((data["siem:" + type] ?? []).filter { $0.0 >= start && $0.0 < end }.map { $0.0 / faults.fileMillis })).sorted()
        let page = hours.dropFirst(offset).prefix(size)
        let value: [[String: Any]] = page.map { h in
            ["url": "\(baseURL)/storage/\(type.replacingOccurrences(of: " ", with: "_"))/\(h).json.gz?X-Amz-Signature=\(UInt32.random(in: 0...UInt32.max))",
             "size": 1, "expiry": "2099-01-01T00:00:00.000Z"]
        }
        var o: [String: Any] = ["value": value, "isCaughtUp": offset + page.count >= hours.count]
        if offset + page.count < hours.count { o["@nextPage"] = "\(start):\(end):\(offset + page.count)" }
        return json(o)
    }

    private func download(_ req: Request, _ ctx: BasicRequestContext) async throws -> Response {
        await delay()
        guard let t = ctx.parameters.get("type"), let hs = ctx.parameters.get("hour"), let h = Int64(hs.replacingOccurrences(of: ".json.gz", with: "")),
              req.uri.query?.contains("X-Amz-Signature") == true else {
            return raw("{}", status: .forbidden)
        }
        let type = t.replacingOccurrences(of: "_", with: " ")
        let (lines, truncate): ([String], Bool) = lock.withLock {
            count("download")
            let lines = (data["siem:" + type] ?? []).filter { $0.0 / faults.fileMillis == h }.map(\.1)
            var truncate = false
            if faults.truncateOneFile && !truncatedDone && lines.count > 3 { truncatedDone = true; truncate = true; count("truncated") }
            return (lines, truncate)
        }
        var gz = MimecastEmulator.gzip(Array((lines.joined(separator: "\n") + "\n").utf8))
        if truncate { gz = Array(gz.prefix(gz.count / 2)) }
        return Response(status: .ok, headers: [.contentType: "application/gzip"], body: .init(byteBuffer: ByteBuffer(bytes: gz)))
    }

    private func stream(_ req: Request) throws -> Response {
        count("stream")
        guard let type = q(req, "types"), let size = q(req, "pageSize").flatMap(Int.init), size > 0 else {
            return json(["error": ["code": "bad_request"]], status: .badRequest)
        }
        let recs = data["siem:" + type] ?? []
        var offset = 0
        if let tok = q(req, "nextPage") {
            guard let o = Int(tok.dropFirst(2)) else { return json(["error": "bad token"], status: .badRequest) }
            offset = o
        } else if let s = q(req, "dateRangeStartsAt").flatMap({ UTCTime.parse($0) }) {
            offset = recs.firstIndex { $0.0 >= s } ?? recs.count
        }
        let page = recs.dropFirst(offset).prefix(size)
        let body = "{\"value\":[" + page.map(\.1).joined(separator: ",") + "],\"@nextPage\":\"s:\(offset + page.count)\",\"isCaughtUp\":\(offset + page.count >= recs.count)}"
        return raw(body)
    }

    private func pagedPost(_ name: String, _ p: Paged, _ body: [UInt8]) throws -> Response {
        count(name)
        guard let o = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let meta = o["meta"] as? [String: Any], let pag = meta["pagination"] as? [String: Any],
              let size = pag["pageSize"] as? Int, size > 0,
              let d = (o["data"] as? [[String: Any]])?.first,
              let s = (d[p.startKey] as? String).flatMap({ UTCTime.parse($0) }),
              let e = (d[p.endKey] as? String).flatMap({ UTCTime.parse($0) }) else {
            return json(["meta": ["status": 400], "data": [], "fail": [["errors": [["code": "validation_error"]]]]])
        }
        var offset = 0
        var dupServed = false
        if let tok = pag["pageToken"] as? String {
            let parts = tok.split(separator: ":")
            guard parts.count >= 2, let off = Int(parts[1]) else { return json(["meta": [:], "data": [], "fail": [["code": "bad_token"]]]) }
            offset = off
            dupServed = parts.count == 3
        }
        let recs = (data[name] ?? []).filter { $0.0 >= s && $0.0 < e }
        let page = recs.dropFirst(offset).prefix(size)
        var next: String?
        if faults.duplicatePages && !dupServed && !page.isEmpty { next = "p:\(offset):dup"; count("dup-page") }
        else if offset + page.count < recs.count { next = "p:\(offset + page.count)" }
        let items = page.map(\.1).joined(separator: ",")
        let dataJSON = p.dataPath.map { "[{\"\($0)\":[\(items)]}]" } ?? "[\(items)]"
        let metaJSON = "{\"status\":200,\"pagination\":{\"pageSize\":\(size)" + (next.map { ",\"next\":\"\($0)\"" } ?? "") + "}}"
        return raw("{\"meta\":\(metaJSON),\"data\":\(dataJSON),\"fail\":[]}")
    }

    static func gzip(_ input: [UInt8]) -> [UInt8] {
        var s = z_stream()
        deflateInit2_(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&s) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, UInt(input.count))) + 64)
        var inp = input
        let produced: Int = inp.withUnsafeMutableBufferPointer { ib in
            out.withUnsafeMutableBufferPointer { ob in
                s.next_in = ib.baseAddress; s.avail_in = UInt32(ib.count)
                s.next_out = ob.baseAddress; s.avail_out = UInt32(ob.count)
                deflate(&s, Z_FINISH)
                return ob.count - Int(s.avail_out)
            }
        }
        return Array(out.prefix(produced))
    }
}
