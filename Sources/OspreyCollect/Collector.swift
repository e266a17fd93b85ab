import Foundation
import OspreyCore

/// Endpoints of Mimecast API 2.0 the collector reads (paths relative to base_url).
public enum MimecastAPI {
    public static let token = "/oauth/token"
    /// GET ?type=T&dateRangeStartsAt=YYYY-MM-DD&dateRangeEndsAt=YYYY-MM-DD&pageSize=N[&nextPage=…] →
    /// {"value":[{"url":pre-signed gzip NDJSON,"size":…,"expiry":…}],"@nextPage":…,"isCaughtUp":…}
    public static let siemBatch = "/siem/v1/batch/events/cg"
    /// GET ?types=T&pageSize=N&(dateRangeStartsAt=ISO | nextPage=…) → {"value":[records],"@nextPage":…,"isCaughtUp":…}
    public static let siemStream = "/siem/v1/events/cg"

    /// A paged POST endpoint: {"meta":{"pagination":{"pageSize":N,"pageToken":…}},"data":[{start,end}]} →
    /// {"meta":{"pagination":{"next":…}},"data":[…],"fail":[]}; records are `data[]` or `data[].<dataPath>[]`.
    public struct Paged: Sendable {
        public var path: String
        public var startKey: String
        public var endKey: String
        public var dataPath: String?
        public var timeFields: [String]
    }

    public static func paged(_ k: SourceKind) -> Paged? {
        switch k {
        case .audit: return Paged(path: "/api/audit/get-audit-events", startKey: "startDateTime", endKey: "endDateTime", dataPath: nil, timeFields: ["eventTime"])
        case .ttpURL: return Paged(path: "/api/ttp/url/get-logs", startKey: "from", endKey: "to", dataPath: "clickLogs", timeFields: ["date"])
        case .ttpAttachment: return Paged(path: "/api/ttp/attachment/get-logs", startKey: "from", endKey: "to", dataPath: "attachmentLogs", timeFields: ["date"])
        case .ttpImpersonation: return Paged(path: "/api/ttp/impersonation/get-logs", startKey: "from", endKey: "to", dataPath: "impersonationLogs", timeFields: ["eventTime"])
        case .dlp: return Paged(path: "/api/dlp/get-logs", startKey: "from", endKey: "to", dataPath: "dlpLogs", timeFields: ["eventTime"])
        case .heldRelease: return Paged(path: "/api/gateway/get-held-release-logs", startKey: "start", endKey: "end", dataPath: "heldReleaseLogs", timeFields: ["released"])
        case .siemBatch, .siemStream: return nil
        }
    }

    /// `2024-05-01T10:00:00+0000` (the form the API 2.0 logs endpoints take).
    public static func time(_ ms: Int64) -> String { String(UTCTime.format(ms).prefix(19)) + "+0000" }
    public static func day(_ ms: Int64) -> String { String(UTCTime.format(ms).prefix(10)) }
    static let siemTimeFields = [FNV.hash("timestamp"), FNV.hash("datetime"), FNV.hash("eventTime")]
}

/// Fetches the records of one account's sources. One `poll` walks every stream once, from its position
/// up to `until` (or now); every record, and every position change, goes to `sink` in order.
public final class Collector: @unchecked Sendable {
    public let config: CollectConfig
    public let client: MimecastClient
    private var work: [String: StreamState] = [:]

    public struct Stream: Sendable { public var name: String; public var kind: SourceKind; public var siemType: String? }
    public let streams: [Stream]

    /// `positions`: what earlier runs committed (the fetch side starts from a copy).
    public init(config: CollectConfig, client: MimecastClient, positions: CollectPositions) {
        self.config = config
        self.client = client
        var s: [Stream] = []
        for k in config.sources {
            if k == .siemBatch || k == .siemStream {
                for t in config.siemTypes { s.append(Stream(name: "\(config.name)/\(k.rawValue)/\(t)", kind: k, siemType: t)) }
            } else {
                s.append(Stream(name: "\(config.name)/\(k.rawValue)", kind: k, siemType: nil))
            }
        }
        streams = s
        for st in s { work[st.name] = positions.state(st.name) }
    }

    public struct PollResult: Sendable { public var records = 0; public var failures: [(stream: String, error: String)] = [] }

    /// One pass over every stream. `since`: where a stream without a position starts (default: now - lookback).
    public func poll(since: Int64?, until: Int64?, sink: (Step) async throws -> Void) async -> PollResult {
        var result = PollResult()
        let nowMs = Int64(client.clock.now() * 1000)
        let end = until ?? nowMs
        let start = since ?? (end - config.lookbackSeconds * 1000)
        for st in streams {
            if Task.isCancelled { break }
            let before = client.metrics.snapshot[st.name]?.records ?? 0
            do {
                switch st.kind {
                case .siemBatch: try await pollBatch(st, start: start, end: end, sink: sink)
                case .siemStream: try await pollStream(st, start: start, end: end, sink: sink)
                default: try await pollPaged(st, MimecastAPI.paged(st.kind)!, start: start, end: end, sink: sink)
                }
            } catch {
                result.failures.append((st.name, "\(error)"))
            }
            client.metrics.update(st.name) { $0.lastPollMillis = Int64(client.clock.now() * 1000) }
            result.records += (client.metrics.snapshot[st.name]?.records ?? 0) - before
        }
        return result
    }

    /// Hands one raw record on unless it was seen; `cursor` is the position after it.
    private func offer(_ st: Stream, _ record: [UInt8], cursor: Cursor, timeFields: [UInt64], sink: (Step) async throws -> Void) async throws {
        var c = cursor
        let id = RecordJSON.identity(record)
        if work[st.name]!.seen.contains(id) {
            client.metrics.update(st.name) { $0.duplicates += 1 }
            work[st.name]!.cursor = c
            try await sink(Step(stream: st.name, cursor: c, record: nil, identity: nil, fileDone: nil))
            return
        }
        let time = RecordJSON.eventTime(record, fields: timeFields)
        if let t = time, t > c.lastEventMillis { c.lastEventMillis = t }
        work[st.name]!.seen.insert(id)
        work[st.name]!.cursor = c
        let last = c.lastEventMillis
        client.metrics.update(st.name) { $0.records += 1; if last > $0.lastEventMillis { $0.lastEventMillis = last } }
        try await sink(Step(stream: st.name, cursor: c, record: record, identity: id, fileDone: nil, timeMillis: time))
    }

    private func position(_ st: Stream, _ c: Cursor, fileDone: String? = nil, sink: (Step) async throws -> Void) async throws {
        work[st.name]!.cursor = c
        if let fileDone { work[st.name]!.files.insert(fileDone) }
        try await sink(Step(stream: st.name, cursor: c, record: nil, identity: nil, fileDone: fileDone))
    }

    /// Opens the window (start at nextStart, or `start` the first time) unless one is in progress; returns
    /// the window, or nil when there is nothing to ask for yet. A saved window without a valid end (a cursor
    /// read back from state) gets one.
    private func openWindow(_ c: inout Cursor, start: Int64, end: Int64) -> (start: Int64, end: Int64)? {
        if let ws = c.windowStart {
            if let we = c.windowEnd, we >= ws { return (ws, we) }
            let we = max(end, ws)
            c.windowEnd = we
            return (ws, we)
        }
        let ws = c.nextStart ?? start
        guard ws < end else { return nil }
        c.windowStart = ws; c.windowEnd = end; c.pageToken = nil; c.file = nil; c.skip = 0
        return (ws, end)
    }

    private func closeWindow(_ c: inout Cursor) {
        if let we = c.windowEnd { c.nextStart = max(c.windowStart ?? we, we - config.overlapSeconds * 1000) }
        c.windowStart = nil; c.windowEnd = nil; c.pageToken = nil; c.file = nil; c.skip = 0
    }

    // MARK: paged POST sources

    private func pollPaged(_ st: Stream, _ spec: MimecastAPI.Paged, start: Int64, end: Int64, sink: (Step) async throws -> Void) async throws {
        var c = work[st.name]!.cursor
        guard let window = openWindow(&c, start: start, end: end) else { return }
        let fields = spec.timeFields.map(FNV.hash)
        while true {
            try Task.checkCancellation()
            let json = try Collector.pagedRequest(spec: spec, pageSize: config.pageSize, pageToken: c.pageToken,
                                                  start: MimecastAPI.time(window.start), end: MimecastAPI.time(window.end))
            let resp = try await client.call(stream: st.name, method: "POST", url: config.baseURL + spec.path, json: json)
            let (records, next) = try Collector.pagedRecords(resp.body, spec: spec)
            for i in records.indices where i >= c.skip {
                c.skip = i + 1
                try await offer(st, records[i], cursor: c, timeFields: fields, sink: sink)
                c = work[st.name]!.cursor
            }
            guard let next, !next.isEmpty, !records.isEmpty else { break }
            c.pageToken = next; c.skip = 0
            try await position(st, c, sink: sink)
        }
        closeWindow(&c)
        try await position(st, c, sink: sink)
    }

    /// The body of a paged POST request, keys sorted:
    /// `{"data":[{START_KEY: start, END_KEY: end}],"meta":{"pagination":{"pageSize":N,"pageToken":T}}}`
    /// (no pageToken on the first page).
    static func pagedRequest(spec: MimecastAPI.Paged, pageSize: Int, pageToken: String?, start: String, end: String) throws -> [UInt8] {
        struct Pagination: Encodable { var pageSize: Int; var pageToken: String? }
        struct Meta: Encodable { var pagination: Pagination }
        struct Body: Encodable { var meta: Meta; var data: [[String: String]] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = Body(meta: Meta(pagination: Pagination(pageSize: pageSize, pageToken: pageToken)),
                        data: [[spec.startKey: start, spec.endKey: end]])
        return [UInt8](try encoder.encode(body))
    }

    /// Records and the next page token of a paged POST response; a non-empty `fail` is an error.
    static func pagedRecords(_ body: [UInt8], spec: MimecastAPI.Paged) throws -> ([[UInt8]], String?) {
        try body.withUnsafeBytes { b in
            let s = JSONScanner(b)
            do {
                if let fail = try RecordJSON.member(s, "fail"), fail.kind == .array, !(try s.elements(of: fail)).isEmpty {
                    throw CollectError.response(path: spec.path, detail: "fail: " + String(decoding: RecordJSON.compact(b, fail).prefix(300), as: UTF8.self))
                }
                var next: String?
                if let meta = try RecordJSON.member(s, "meta"), meta.kind == .object,
                   let pag = try RecordJSON.member(s, object: meta.start, "pagination"), pag.kind == .object {
                    next = RecordJSON.string(s, try RecordJSON.member(s, object: pag.start, "next"))
                }
                guard let data = try RecordJSON.member(s, "data"), data.kind == .array else {
                    throw CollectError.response(path: spec.path, detail: "no data array")
                }
                var out: [[UInt8]] = []
                for d in try s.elements(of: data) {
                    if let key = spec.dataPath {
                        guard d.kind == .object, let logs = try RecordJSON.member(s, object: d.start, key), logs.kind == .array else { continue }
                        for r in try s.elements(of: logs) { out.append(RecordJSON.compact(b, r)) }
                    } else {
                        out.append(RecordJSON.compact(b, d))
                    }
                }
                return (out, next)
            } catch let e as JSONError {
                throw CollectError.response(path: spec.path, detail: "\(e)")
            }
        }
    }

    /// `value` records/entries, `@nextPage` and `isCaughtUp` of a SIEM response.
    static func siemPage(_ body: [UInt8], path: String) throws -> (value: [JSONValueRange], bytes: [[UInt8]], urls: [String], next: String?, caughtUp: Bool) {
        try body.withUnsafeBytes { b in
            let s = JSONScanner(b)
            do {
                guard let v = try RecordJSON.member(s, "value"), v.kind == .array else {
                    throw CollectError.response(path: path, detail: "no value array")
                }
                let items = try s.elements(of: v)
                var urls: [String] = []
                var recs: [[UInt8]] = []
                for it in items {
                    recs.append(RecordJSON.compact(b, it))
                    if it.kind == .object, let u = RecordJSON.string(s, try RecordJSON.member(s, object: it.start, "url")) { urls.append(u) }
                }
                let next = RecordJSON.string(s, try RecordJSON.member(s, "@nextPage"))
                var caught = false
                if let cu = try RecordJSON.member(s, "isCaughtUp"), cu.kind == .bool { caught = b[cu.start] == 0x74 }
                return (items, recs, urls, next, caught)
            } catch let e as JSONError {
                throw CollectError.response(path: path, detail: "\(e)")
            }
        }
    }

    // MARK: SIEM batch

    private func pollBatch(_ st: Stream, start: Int64, end: Int64, sink: (Step) async throws -> Void) async throws {
        var c = work[st.name]!.cursor
        guard let window = openWindow(&c, start: start, end: end) else { return }
        let type = st.siemType!
        while true {
            try Task.checkCancellation()
            var q = "type=\(MimecastClient.queryEncode(type))&pageSize=\(config.pageSize)"
            if let t = c.pageToken { q += "&nextPage=\(MimecastClient.queryEncode(t))" }
            else { q += "&dateRangeStartsAt=\(MimecastAPI.day(window.start))&dateRangeEndsAt=\(MimecastAPI.day(window.end))" }
            let resp = try await client.call(stream: st.name, method: "GET", url: config.baseURL + MimecastAPI.siemBatch + "?" + q)
            let page = try Collector.siemPage(resp.body, path: MimecastAPI.siemBatch)
            for url in page.urls {
                let key = HTTPTransportPath.of(url)
                if work[st.name]!.files.contains(key) { continue }
                let lines = try await client.withDownloadRetries(stream: st.name) { () -> [[UInt8]] in
                    let r = try await client.download(stream: st.name, url: url)
                    return RecordJSON.lines(try Gzip.decompress(r.body, limit: config.maxBodyBytes))
                }
                client.metrics.update(st.name) { $0.files += 1 }
                if c.file != key { c.file = key; c.skip = 0 }
                for i in lines.indices where i >= c.skip {
                    c.skip = i + 1
                    try await offer(st, lines[i], cursor: c, timeFields: MimecastAPI.siemTimeFields, sink: sink)
                    c = work[st.name]!.cursor
                }
                c.file = nil; c.skip = 0
                try await position(st, c, fileDone: key, sink: sink)
            }
            guard let next = page.next, !next.isEmpty, !page.urls.isEmpty, next != c.pageToken else { break }
            c.pageToken = next
            try await position(st, c, sink: sink)
        }
        closeWindow(&c)
        try await position(st, c, sink: sink)
    }

    // MARK: SIEM stream

    /// The stream keeps one token for good: the window is only the first request's start.
    private func pollStream(_ st: Stream, start: Int64, end: Int64, sink: (Step) async throws -> Void) async throws {
        var c = work[st.name]!.cursor
        let windowStart = c.windowStart ?? c.nextStart ?? start
        if c.windowStart == nil { c.windowStart = windowStart; c.skip = 0 }
        let type = st.siemType!
        while true {
            try Task.checkCancellation()
            var q = "types=\(MimecastClient.queryEncode(type))&pageSize=\(config.pageSize)"
            if let t = c.pageToken { q += "&nextPage=\(MimecastClient.queryEncode(t))" }
            else { q += "&dateRangeStartsAt=\(MimecastClient.queryEncode(UTCTime.format(windowStart)))" }
            let resp = try await client.call(stream: st.name, method: "GET", url: config.baseURL + MimecastAPI.siemStream + "?" + q)
            let page = try Collector.siemPage(resp.body, path: MimecastAPI.siemStream)
            for i in page.bytes.indices where i >= c.skip {
                c.skip = i + 1
                try await offer(st, page.bytes[i], cursor: c, timeFields: MimecastAPI.siemTimeFields, sink: sink)
                c = work[st.name]!.cursor
            }
            let last = page.bytes.count
            if let next = page.next, !next.isEmpty, next != c.pageToken {
                c.pageToken = next; c.skip = 0
                try await position(st, c, sink: sink)
            } else {
                // No new token: the same page may grow; keep the records of it already handed on.
                c.skip = max(c.skip, last)
                try await position(st, c, sink: sink)
                break
            }
            if page.caughtUp || page.bytes.isEmpty { break }
            if c.lastEventMillis >= end { break }
        }
    }
}
