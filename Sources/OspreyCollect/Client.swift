import Foundation
import OspreyCore

/// Time and waiting, injectable so tests run the retry paths without real sleeps.
public protocol CollectClock: Sendable {
    func now() -> Double
    func sleep(seconds: Double) async throws
}

public struct SystemClock: CollectClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1e9))
    }
}

/// Counters of one stream (a source, or one SIEM type of a SIEM source).
public struct StreamCounters: Sendable, Equatable {
    public var requests = 0
    public var records = 0
    public var duplicates = 0
    public var errors = 0
    public var retries = 0
    public var rateLimited = 0
    public var tokenRefreshes = 0
    public var files = 0
    public var lastEventMillis: Int64 = 0
    public var lastPollMillis: Int64 = 0
    public init() {}
}

/// Per-stream counters shared by the collector and /metrics.
public final class CollectMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var streams: [String: StreamCounters] = [:]
    public init() {}
    public func update(_ stream: String, _ body: (inout StreamCounters) -> Void) {
        lock.lock(); body(&streams[stream, default: StreamCounters()]); lock.unlock()
    }
    public var snapshot: [String: StreamCounters] { lock.lock(); defer { lock.unlock() }; return streams }
}

/// The Mimecast API 2.0 client: OAuth 2.0 client credentials (token cached, refreshed before expiry and once
/// on a 401), a bounded request rate, 429 with Retry-After / X-RateLimit-Reset honoured, 5xx and network
/// errors retried with exponential backoff and jitter.
public final class MimecastClient: @unchecked Sendable {
    public let config: CollectConfig
    public let transport: APITransport
    public let clock: CollectClock
    /// A number in [0, 1) per call; the backoff is base * 2^attempt * (0.5 + jitter).
    let jitter: @Sendable () -> Double
    public let metrics: CollectMetrics
    private let lock = NSLock()
    private var token: (value: String, expires: Double)?
    private var nextSlot: Double = 0
    private var credentials: (id: String, secret: String)?
    /// First backoff step in seconds.
    public var backoffBase: Double = 1
    public var backoffCap: Double = 120

    public init(config: CollectConfig, transport: APITransport, clock: CollectClock = SystemClock(),
                metrics: CollectMetrics = CollectMetrics(),
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.config = config; self.transport = transport; self.clock = clock; self.metrics = metrics; self.jitter = jitter
    }

    /// Reads the credentials now (so a missing secret fails at start, not at the first poll).
    public func loadCredentials() throws {
        let id = try config.clientID.resolve(), secret = try config.clientSecret.resolve()
        lock.withLock { credentials = (id, secret) }
    }

    /// Waits for the next request slot (at most `rate` requests per second).
    func throttle() async throws {
        let interval = 1 / max(config.rate, 0.001)
        let (now, at): (Double, Double) = lock.withLock {
            let now = clock.now()
            let at = max(now, nextSlot)
            nextSlot = at + interval
            return (now, at)
        }
        if at > now { try await clock.sleep(seconds: at - now) }
    }

    func backoff(_ attempt: Int) -> Double {
        let exp = min(backoffCap, backoffBase * pow(2, Double(min(attempt, 30))))
        return exp * (0.5 + min(max(jitter(), 0), 1))
    }

    /// The wait a 429 asks for: Retry-After (seconds) or X-RateLimit-Reset (milliseconds, Mimecast's unit).
    static func retryWait(_ r: APIResponse) -> Double? {
        if let v = r.header("Retry-After")?.trimmingCharacters(in: .whitespaces), let s = Double(v), s.isFinite, s >= 0 {
            return min(s, 3600)
        }
        if let v = r.header("X-RateLimit-Reset")?.trimmingCharacters(in: .whitespaces), let ms = Double(v), ms.isFinite, ms >= 0 {
            return min(ms / 1000, 3600)
        }
        return nil
    }

    public func invalidateToken() { lock.withLock { token = nil } }

    /// A valid access token: the cached one unless it expires within a minute (or a tenth of its life).
    func accessToken(stream: String) async throws -> String {
        let (cached, creds): (String?, (id: String, secret: String)?) = lock.withLock {
            if let t = token, clock.now() < t.expires { return (t.value, nil) }
            return (nil, credentials)
        }
        if let cached { return cached }
        guard let creds else { throw CollectError.credentials("not loaded") }
        let body = "grant_type=client_credentials&client_id=\(MimecastClient.formEncode(creds.id))&client_secret=\(MimecastClient.formEncode(creds.secret))"
        let resp = try await send(stream: stream, APIRequest(method: "POST", url: config.baseURL + "/oauth/token",
                                                               headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                                               body: Array(body.utf8)), authorized: false)
        guard let t = try? JSONDecoder().decode(TokenResponse.self, from: Data(resp.body)), let access = t.accessToken, !access.isEmpty else {
            throw CollectError.auth("token response without access_token")
        }
        var life = 1800.0
        if let e = t.expiresIn, e.isFinite, e > 0 { life = min(e, 86_400 * 30) }
        let margin = min(60, life / 10)
        let expires = clock.now() + life - margin
        lock.withLock { token = (access, expires) }
        metrics.update(stream) { $0.tokenRefreshes += 1 }
        return access
    }

    /// The OAuth token answer: `access_token`, and `expires_in` seconds as a number or a numeric string
    /// (anything else there reads as absent: the default life applies).
    struct TokenResponse: Decodable {
        var accessToken: String?
        var expiresIn: Double?
        enum CodingKeys: String, CodingKey { case accessToken = "access_token", expiresIn = "expires_in" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try? c.decode(String.self, forKey: .accessToken)
            expiresIn = (try? c.decode(Double.self, forKey: .expiresIn)) ?? (try? c.decode(String.self, forKey: .expiresIn)).flatMap(Double.init)
        }
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func queryEncode(_ s: String) -> String { formEncode(s) }

    /// An API call with the bearer token. `url` absolute; 401 refreshes the token once.
    public func call(stream: String, method: String, url: String, json: [UInt8]? = nil) async throws -> APIResponse {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await send(stream: stream, APIRequest(method: method, url: url, headers: headers, body: json), authorized: true)
    }

    /// A pre-signed download (no Authorization header: the URL carries its own signature).
    public func download(stream: String, url: String) async throws -> APIResponse {
        try await send(stream: stream, APIRequest(method: "GET", url: url), authorized: false, download: true)
    }

    func send(stream: String, _ base: APIRequest, authorized: Bool, download: Bool = false) async throws -> APIResponse {
        var attempt = 0
        var refreshed = false
        let path = HTTPTransportPath.of(base.url)
        while true {
            try Task.checkCancellation()
            var req = base
            if authorized { req.headers.append(("Authorization", "Bearer " + (try await accessToken(stream: stream)))) }
            try await throttle()
            metrics.update(stream) { $0.requests += 1 }
            let resp: APIResponse
            do {
                resp = try await transport.send(req, timeoutSeconds: config.timeoutSeconds, maxBodyBytes: config.maxBodyBytes)
            } catch let e as CollectError {
                if case .response = e { metrics.update(stream) { $0.errors += 1 }; throw e }
                try await retry(stream, &attempt, wait: backoff(attempt), error: e)
                continue
            } catch is CancellationError {
                throw CollectError.cancelled
            } catch {
                try await retry(stream, &attempt, wait: backoff(attempt), error: CollectError.network("\(error)"))
                continue
            }
            switch resp.status {
            case 200..<300:
                return resp
            case 401 where authorized && !refreshed:
                // The token expired early or was revoked: one fresh token, then the request again.
                refreshed = true
                invalidateToken()
                metrics.update(stream) { $0.retries += 1 }
                continue
            case 429:
                metrics.update(stream) { $0.rateLimited += 1 }
                try await retry(stream, &attempt, wait: MimecastClient.retryWait(resp) ?? backoff(attempt),
                                error: CollectError.http(status: 429, path: path, detail: "rate limited"))
            case 408, 500...599:
                try await retry(stream, &attempt, wait: max(MimecastClient.retryWait(resp) ?? 0, backoff(attempt)),
                                error: CollectError.http(status: resp.status, path: path, detail: MimecastClient.snippet(resp.body)))
            default:
                metrics.update(stream) { $0.errors += 1 }
                if !authorized && !download && (resp.status == 400 || resp.status == 401 || resp.status == 403) {
                    throw CollectError.auth("HTTP \(resp.status) from \(path): \(MimecastClient.snippet(resp.body))")
                }
                throw CollectError.http(status: resp.status, path: path, detail: MimecastClient.snippet(resp.body))
            }
        }
    }

    private func retry(_ stream: String, _ attempt: inout Int, wait: Double, error: CollectError) async throws {
        metrics.update(stream) { $0.errors += 1 }
        guard attempt < config.maxRetries else { throw error }
        attempt += 1
        metrics.update(stream) { $0.retries += 1 }
        do { try await clock.sleep(seconds: wait) } catch { throw CollectError.cancelled }
    }

    /// The start of an error body for messages (bounded; secrets never reach it: requests carry them, not responses).
    static func snippet(_ b: [UInt8]) -> String {
        let s = String(decoding: b.prefix(300), as: UTF8.self)
        return s.replacingOccurrences(of: "\n", with: " ")
    }

    /// Retries `body` when it fails with a truncated download (a gzip that ends early), up to max_retries.
    func withDownloadRetries<T>(stream: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do { return try await body() } catch let e as GzipError {
                try await retry(stream, &attempt, wait: backoff(attempt), error: CollectError.response(path: "batch file", detail: "\(e)"))
            }
        }
    }
}
