import Foundation
import Hummingbird
import NIOCore
import OspreyAnalytics
import OspreyCore
import OspreyParsing

/// Token check for /ingest and /api/*: `Authorization: Bearer TOKEN` or `X-API-Token: TOKEN`, compared in
/// constant time. No token only with `auth = none` (which the config allows on loopback listeners only).
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]?
    init(token: String?) { self.token = token.map { Array($0.utf8) } }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token, !APIToken.presented(token, in: request) {
            return jsonResponse(["error": "missing or wrong API token"], status: .unauthorized)
        }
        return try await next(request, context)
    }
}

/// The request's API token (`Authorization: Bearer TOKEN` or `X-API-Token: TOKEN`) against one expected
/// token, in constant time.
enum APIToken {
    static func presented(_ token: [UInt8], in request: Request) -> Bool {
        var ok = false
        if let auth = request.headers[.authorization] {
            let a = Array(auth.utf8)
            let prefix = Array("Bearer ".utf8)
            if a.count >= prefix.count, Array(a[..<prefix.count]) == prefix { ok = constantTimeEquals(a[prefix.count...], token) }
        }
        if let alt = request.headers.first(where: { $0.name.canonicalName == "x-api-token" })?.value {
            ok = constantTimeEquals(Array(alt.utf8), token) || ok
        }
        return ok
    }
}

/// Every JSON answer of the HTTP side: an Encodable value through JSONEncoder, keys sorted (stable bytes;
/// clients read keys by name). Alerts inside a response are the one alert type (`AnalyticsOutput`), so they
/// carry the keys of their JSONL line.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var status = status
    let data: Data
    do { data = try encoder.encode(value) } catch {
        // Only a non-finite number can fail here; answer with the reason rather than a truncated body.
        data = Data(#"{"error":"response could not be encoded"}"#.utf8)
        status = .internalServerError
    }
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// An optional that is written as `null` when absent: the API keeps such keys (a synthesized Encodable
/// would leave them out).
struct Nullable<Wrapped: Encodable>: Encodable {
    var value: Wrapped?
    init(_ value: Wrapped?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

func textResponse(_ s: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: s)))
}

extension Request {
    func query(_ name: String) -> String? {
        guard let v = uri.queryParameters[name[...]] else { return nil }
        let s = String(v)
        return s.removingPercentEncoding ?? s
    }
}

/// The HTTP side of `osprey serve`: ingest, REST API, metrics, web page.
enum HTTPRoutes {
    /// `tenantIngest`: tenants whose token `/ingest` here also accepts, handing the body to that tenant's
    /// pipeline (one ingest address for every tenant; the API stays on each tenant's own listener).
    static func router(engine: ServeEngine, started: Date,
                       tenantIngest: [(token: String, engine: ServeEngine)] = []) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in jsonResponse(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            textResponse(Metrics.render(engine: engine, started: started), contentType: "text/plain; version=0.0.4")
        }
        router.get("/") { _, _ in
            Response(status: .seeOther, headers: [.location: "/ui"])
        }
        router.get("/ui") { _, _ in textResponse(WebPage.html, contentType: "text/html; charset=utf-8") }

        let secured = router.group().add(middleware: TokenMiddleware(token: engine.config.token))
        // /ingest checks its token itself: with tenants it also takes theirs and picks the pipeline by token.
        let tenants = tenantIngest.map { (token: Array($0.token.utf8), engine: $0.engine) }
        let own = engine.config.token.map { Array($0.utf8) }
        router.post("/ingest") { request, _ -> Response in
            // Every expected token is compared, so the time taken does not tell which one matched.
            var target: ServeEngine?
            for t in tenants where APIToken.presented(t.token, in: request) { target = target ?? t.engine }
            if let own, APIToken.presented(own, in: request) { target = target ?? engine }
            if target == nil, own == nil { target = engine }   // auth = none (loopback only)
            guard let target else { return jsonResponse(["error": "missing or wrong API token"], status: .unauthorized) }
            return try await Ingest.handle(request, engine: target)
        }
        secured.post("/api/reload") { _, _ in
            if let error = await engine.reloadContext() {
                return jsonResponse(APIResponse.Reload(reloaded: false, error: "\(error)"), status: .init(code: 422, reasonPhrase: "Unprocessable Content"))
            }
            return jsonResponse(APIResponse.Reload(reloaded: true))
        }
        secured.post("/api/flush") { _, _ in
            await engine.flush()
            return jsonResponse(["flushed": true])
        }
        secured.get("/api/health") { _, _ in
            let held = engine.read { $0.heldEvents }
            return jsonResponse(APIResponse.Health(status: "ok", pendingRecords: engine.pendingRecords, heldEvents: held,
                                                   alerts: engine.index.count, state: Nullable(engine.config.state)))
        }
        secured.get("/api/content") { _, _ in
            let content = engine.read { $0.analytics.content }
            return jsonResponse(APIResponse.Content(
                models: content.models.map { .init(id: $0.id, name: $0.name, kind: $0.kind.rawValue, scope: $0.scopeText, feature: $0.featureText) },
                rules: content.rules.map { .init(id: $0.id, name: $0.name, kind: $0.kind.rawValue, score: $0.score, model: Nullable($0.model),
                                                 mitre: $0.mitre.map(\.id), useCases: $0.useCases) }))
        }
        secured.get("/api/notable") { _, _ in
            let notable = engine.index.notableSessions(limit: 200).map(\.alert)
            return jsonResponse(APIResponse.Notable(sessions: notable, users: API.users(engine, notableOnly: true)))
        }
        secured.get("/api/users") { _, _ in jsonResponse(["users": API.users(engine, notableOnly: false)]) }
        secured.get("/api/sessions") { request, _ in
            guard let user = request.query("user") else { return jsonResponse(["error": "user= required"], status: .badRequest) }
            return jsonResponse(API.userSessions(engine, user: user))
        }
        secured.get("/api/timeline") { request, _ in
            guard let session = request.query("session") else { return jsonResponse(["error": "session= required"], status: .badRequest) }
            return jsonResponse(API.timeline(engine, session: session))
        }
        secured.get("/api/models") { request, _ in
            guard let user = request.query("user") else { return jsonResponse(["error": "user= required"], status: .badRequest) }
            let model = request.query("model")
            let views = engine.read { $0.analytics.baselines(scope: user) }.filter { model == nil || $0.model == model }
            return jsonResponse(APIResponse.Baselines(user: user, baselines: views.map { v in
                .init(model: v.model, name: v.modelName, kind: v.kind, observations: v.observations, distinct: v.distinct,
                      converged: v.converged, values: v.values.map { .init(label: $0.label, count: $0.count) })
            }))
        }
        TriageAPI.register(secured, engine: engine)  // GET /api/user, GET /api/pivot, GET|POST /api/triage (TriageAPI.swift)
        return router
    }
}

/// `POST /ingest`: the body is split into lines as it streams and handed to the pipeline in batches of at
/// most `batchRecords` records or `batchBytes` bytes, each processed before the next is read; so a request
/// holds a few MB at most whatever its size. Answers once every line was processed.
enum Ingest {
    static let batchRecords = 4096
    static let batchBytes = 1 << 20

    static func handle(_ request: Request, engine: ServeEngine) async throws -> Response {
        let limit = engine.config.maxHTTPBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > Int64(limit) {
            return jsonResponse(["error": "body over \(limit) bytes (max_http_body_bytes)"], status: .contentTooLarge)
        }
        var splitter = LineSplitter(maxLine: engine.config.maxFrameBytes)
        var batch: [IngestRecord] = []
        var batchSize = 0
        var accepted = 0
        var received = 0
        func submit() async {
            guard !batch.isEmpty else { return }
            if engine.overloaded { await engine.waitBelow(engine.config.maxPendingRecords / 2) }
            engine.count { $0.httpBatches += 1 }
            accepted += batch.count
            await engine.submitAndWait(batch, source: "http")
            batch.removeAll(keepingCapacity: true)
            batchSize = 0
        }
        for try await chunk in request.body {
            received += chunk.readableBytes
            if received > limit {
                await submit()
                return jsonResponse(APIResponse.Ingested(accepted: accepted,
                                                         error: "body over \(limit) bytes (max_http_body_bytes); the first \(accepted) records were processed"),
                                    status: .contentTooLarge)
            }
            chunk.withUnsafeReadableBytes { raw in
                splitter.feed(raw) { r in
                    batch.append(r)
                    if case .line(let b) = r { batchSize += b.count }
                }
            }
            if batch.count >= batchRecords || batchSize >= batchBytes { await submit() }
        }
        splitter.finish { batch.append($0) }
        await submit()
        return jsonResponse(["accepted": accepted])
    }
}

/// Newline-delimited records from a stream of chunks (CR LF accepted); a line over `maxLine` bytes becomes
/// a `.tooLong` record and is skipped without being held. Blank lines are dropped.
struct LineSplitter {
    let maxLine: Int
    private var partial: [UInt8] = []
    private var skipping = false
    private var skipped = 0

    init(maxLine: Int) { self.maxLine = maxLine }

    mutating func feed(_ raw: UnsafeRawBufferPointer, _ out: (IngestRecord) -> Void) {
        var start = 0
        let n = raw.count
        while start < n {
            var end = start
            while end < n, raw[end] != 0x0A { end += 1 }
            if end == n {
                // No newline in the rest of the chunk: hold it (or keep skipping).
                if skipping { skipped += n - start }
                else if partial.count + (n - start) > maxLine { skipping = true; skipped = partial.count + n - start; partial.removeAll() }
                else { partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start..<n])) }
                return
            }
            if skipping {
                out(.tooLong(skipped + end - start))
                skipping = false; skipped = 0
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                emit(out)
            }
            start = end + 1
        }
    }

    private mutating func emit(_ out: (IngestRecord) -> Void) {
        if partial.last == 0x0D { partial.removeLast() }
        if partial.count > maxLine { out(.tooLong(partial.count)) }
        else if !partial.isEmpty { out(.line(partial)) }
        partial.removeAll(keepingCapacity: true)
    }

    mutating func finish(_ out: (IngestRecord) -> Void) {
        if skipping { out(.tooLong(skipped)); skipping = false; skipped = 0 }
        else { emit(out) }
    }
}
