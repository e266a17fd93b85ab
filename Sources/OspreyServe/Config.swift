import Foundation
import OspreyCollect
import OspreyCore

/// `osprey serve --config FILE`: Osprey's content format (OspreyCore.ContentFile), with inline comments
/// (a `#` after a space or tab ends the line's content; a value cannot contain ` #`).
///
///     [serve main]
///     udp = 127.0.0.1:5514            # syslog over UDP (one message per datagram)
///     tcp = 127.0.0.1:5514            # syslog over TCP (octet-counting or newline framing)
///     http = 127.0.0.1:8080           # POST /ingest, REST API, /metrics, the web page
///     token_file = /etc/osprey/token  # or token_env = NAME, or token = … (at least 16 characters)
///     state = /var/lib/osprey         # durable state directory (optional)
///     context = /etc/osprey/context   # organization context directory (optional)
///
///     [output alerts]
///     type = jsonl
///     path = /var/log/osprey/alerts.jsonl
///
///     [tenant acme]                   # another organization in the same process: the keys of [serve]
///     http = 127.0.0.1:8081
///     token_env = OSPREY_TOKEN_ACME
///
///     [output acme-alerts]
///     tenant = acme                   # an output (or a Mimecast input) of that tenant
///     type = jsonl
///     path = /var/log/osprey/acme.jsonl
///
/// Safe defaults: the API token is required (at least `minTokenLength` characters) unless `auth = none` is
/// given and every listener is on loopback. Ports may be 0 (the kernel picks; the ports are printed on stderr).
public struct ServeConfig: Sendable {
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var isLoopback: Bool {
            let h = host.lowercased()
            return h == "localhost" || h == "::1" || h.hasPrefix("127.")
        }
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }
    public enum OutputKind: Sendable, Equatable {
        /// Osprey's alert JSON lines, to a file.
        case jsonl(path: String)
        /// ECS documents (Elastic Common Schema), one JSON line each, to a file.
        case ecs(path: String)
        /// RFC 5424 syslog carrying CEF, over UDP or TCP (octet-counted).
        case cef(udp: Bool, host: String, port: Int)
        /// RFC 5424 syslog with structured data `[osprey@32473 …]`, over UDP or TCP.
        case syslog(udp: Bool, host: String, port: Int)
        case webhook(url: String)
    }
    public struct Output: Sendable, Equatable { public var name: String; public var kind: OutputKind }
    public enum Auth: String, Sendable { case token, none }

    public static let minTokenLength = 16

    public var name = "main"
    public var udp: Endpoint?
    public var tcp: Endpoint?
    public var http: Endpoint?
    public var auth = Auth.token
    /// The API token (from `token`, `token_file` or `token_env`); nil only with `auth = none`.
    public var token: String?
    public var state: String?
    public var context: String?
    public var content: String?
    public var checkpointRecords = 50_000
    public var checkpointSeconds = 5.0
    public var reorderSeconds = ReorderBuffer.defaultWindowSeconds
    /// Sessions at or above this score are notable (live `notable` output at the crossing).
    public var notableThreshold = 90
    public var maxFrameBytes = 1 << 20
    public var maxHTTPBodyBytes = 16 << 20
    /// Records accepted but not yet processed, over all connections; above it TCP stops reading,
    /// UDP datagrams are dropped (counted) and HTTP requests wait.
    public var maxPendingRecords = 50_000
    /// Open connections per listener (TCP syslog, HTTP); at the limit a new connection evicts the one that
    /// has made no progress for the longest time (at least a second), else it is refused.
    public var maxConnections = 256
    /// Open connections per remote address, per listener.
    public var maxConnectionsPerSource = 32
    /// A syslog frame, or an HTTP request head, must complete within this many seconds of its first byte.
    public var frameTimeoutSeconds = 30
    /// An HTTP body must arrive at this rate at least (after `frame_timeout_seconds` of grace).
    public var minBytesPerSecond = 4096
    /// A connection without a complete frame (TCP) or request (HTTP) for this long is closed; bytes that do
    /// not complete a frame do not reset it.
    public var idleSeconds = 300
    /// Alerts kept in memory for the API (the state database keeps all of them), at most this many ...
    public var apiAlertLimit = 200_000
    /// ... and about this many MiB (the oldest half is dropped beyond either).
    public var apiAlertMemoryMB = 32
    /// The per-user event timeline of the API: about this many MiB in all (least recently active users go first).
    public var eventLogMemoryMB = 32
    /// Time sanity: events more than this far ahead of the wall clock are quarantined (0 = off).
    public var maxFutureSkewSeconds = 86_400
    /// Bounded state: identities not in users.csv kept at most (least recently seen dropped first, counted
    /// in `osprey_identities_evicted_total`).
    public var maxUnknownIdentities = 100_000
    public var outputs: [Output] = []
    /// `[input mimecast NAME]` sections (MimecastInput.swift; keys as in CollectConfig).
    public var mimecast: [CollectConfig] = []
    /// `[tenant NAME]` sections: further organizations served by the same process, each a complete instance
    /// (its own listeners, token, state, context, outputs and pipeline on its own queue), so tenants are
    /// routed by listener and never share state. Empty for a single organization.
    public var tenants: [ServeConfig] = []
    /// `sources =` of a `[tenant NAME]`: sender addresses (CIDRs, addresses, `first-last`) whose syslog
    /// records reaching the `[serve]` instance's UDP/TCP listeners belong to this tenant.
    public var sources: [IPRange] = []

    /// Every listener given (syslog UDP, TCP, HTTP) with its key.
    public var listeners: [(key: String, endpoint: Endpoint)] {
        [("udp", udp), ("tcp", tcp), ("http", http)].compactMap { k, e in e.map { (k, $0) } }
    }

    /// Warnings for stderr at start: listeners reachable from other hosts.
    public var warnings: [String] {
        listeners.filter { !$0.endpoint.isLoopback }.map {
            "warning: \($0.key) = \($0.endpoint) accepts connections from other hosts" +
                ($0.key == "udp" || $0.key == "tcp" ? " (syslog has no authentication; restrict it with a firewall)" : " (protected by the API token; there is no TLS)")
        }
    }

    public init() {}

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServeConfig {
        return try parse(try readConfigText(path), file: path, environment: environment)
    }

    /// Keys of `[serve NAME]` and `[tenant NAME]`.
    static let serveKeys: Set<String> = [
        "sources",
        "udp", "tcp", "http", "auth", "token", "token_file", "token_env", "state", "context", "content",
        "checkpoint_records", "checkpoint_seconds", "reorder_seconds", "max_frame_bytes", "max_http_body_bytes",
        "max_pending_records", "max_connections", "max_connections_per_source", "frame_timeout_seconds",
        "min_bytes_per_second", "idle_seconds", "api_alert_limit", "api_alert_memory_mb", "event_log_memory_mb", "notable_threshold", "max_future_skew_seconds",
        "max_unknown_identities",
    ]

    public static func parse(_ text: String, file: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServeConfig {
        let sections = try ContentFile.parse(text, file: file, inlineComments: true)
        let serves = sections.filter { $0.kind == "serve" }
        guard serves.count == 1, let s = serves.first else {
            throw ContentError(file: file, line: serves.dropFirst().first?.line ?? 1, reason: "expected exactly one [serve NAME] section")
        }
        if let e = try s.optional("sources") { throw s.error(at: e.line, "sources belongs in a [tenant NAME] section (the senders routed to it)") }
        var c = try instance(s, environment: environment)
        for t in sections where t.kind == "tenant" {
            var tc = try instance(t, environment: environment)
            if let e = try t.optional("sources") {
                for item in e.value.split(separator: ",").map({ String($0).trimmingSpaces }) where !item.isEmpty {
                    switch IPRange.parse(item) {
                    case .success(let r): tc.sources.append(r)
                    case .failure(let why): throw t.error(at: e.line, "sources: '\(item)': \(why)")
                    }
                }
                if tc.sources.isEmpty { throw t.error(at: e.line, "sources: no address given") }
                if c.udp == nil && c.tcp == nil { throw t.error(at: e.line, "sources routes the [serve] section's syslog listeners, and it has none (udp or tcp)") }
            }
            if tc.name == c.name || c.tenants.contains(where: { $0.name == tc.name }) {
                throw t.error(at: t.line, "tenant name '\(tc.name)' is used twice (the [serve] section counts as one)")
            }
            for other in c.tenants {
                for a in tc.sources { for b in other.sources where !(a.last < b.first || b.last < a.first) {
                    throw t.error(at: t.line, "sources \(a) overlaps \(b) of tenant '\(other.name)': a sender must belong to one tenant")
                } }
            }
            c.tenants.append(tc)
        }
        try c.readOutputsAndInputs(sections)
        for other in sections {
            switch other.kind {
            case "serve", "tenant", "output", "input": continue
            default: throw other.error(at: other.line, "unknown section kind '\(other.kind)' (serve, tenant, output, input)")
            }
        }
        try c.checkTenantsApart(sections)
        return c
    }

    /// One instance's keys: the `[serve NAME]` section, or a `[tenant NAME]` one (the same keys).
    static func instance(_ s: ContentSection, environment: [String: String]) throws -> ServeConfig {
        var c = ServeConfig()
        try s.checkKeys(allowed: serveKeys)
        c.name = s.name
        func endpoint(_ key: String) throws -> Endpoint? {
            guard let e = try s.optional(key) else { return nil }
            guard let colon = e.value.lastIndex(of: ":"), let port = Int(e.value[e.value.index(after: colon)...]),
                  (0...65535).contains(port) else { throw s.error(at: e.line, "\(key) must be HOST:PORT") }
            var host = String(e.value[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return Endpoint(host: host, port: port)
        }
        func int(_ key: String, _ d: Int) throws -> Int {
            guard let e = try s.optional(key) else { return d }
            guard let v = Int(e.value), v > 0 else { throw s.error(at: e.line, "\(key) must be a positive integer") }
            return v
        }
        c.udp = try endpoint("udp"); c.tcp = try endpoint("tcp"); c.http = try endpoint("http")
        try c.readAuth(s, environment: environment)
        c.state = try s.optional("state")?.value
        c.context = try s.optional("context")?.value
        c.content = try s.optional("content")?.value
        c.checkpointRecords = try int("checkpoint_records", c.checkpointRecords)
        if let e = try s.optional("checkpoint_seconds") {
            guard let v = Double(e.value), v > 0, v <= 86_400 else { throw s.error(at: e.line, "checkpoint_seconds must be a number of seconds, more than 0 and at most 86400") }
            c.checkpointSeconds = v
        }
        c.reorderSeconds = try int("reorder_seconds", c.reorderSeconds)
        c.notableThreshold = try int("notable_threshold", c.notableThreshold)
        c.maxFrameBytes = try int("max_frame_bytes", c.maxFrameBytes)
        c.maxHTTPBodyBytes = try int("max_http_body_bytes", c.maxHTTPBodyBytes)
        c.maxPendingRecords = try int("max_pending_records", c.maxPendingRecords)
        c.maxUnknownIdentities = try int("max_unknown_identities", c.maxUnknownIdentities)
        c.maxConnections = try int("max_connections", c.maxConnections)
        c.maxConnectionsPerSource = try int("max_connections_per_source", c.maxConnectionsPerSource)
        c.frameTimeoutSeconds = try int("frame_timeout_seconds", c.frameTimeoutSeconds)
        c.minBytesPerSecond = try int("min_bytes_per_second", c.minBytesPerSecond)
        c.idleSeconds = try int("idle_seconds", c.idleSeconds)
        c.apiAlertLimit = try int("api_alert_limit", c.apiAlertLimit)
        func mebibytes(_ key: String, _ d: Int) throws -> Int {
            let v = try int(key, d)
            if v > 65_536, let e = try s.optional(key) { throw s.error(at: e.line, "\(key) must be 1 … 65536 (MiB)") }
            return v
        }
        c.apiAlertMemoryMB = try mebibytes("api_alert_memory_mb", c.apiAlertMemoryMB)
        c.eventLogMemoryMB = try mebibytes("event_log_memory_mb", c.eventLogMemoryMB)
        if c.listeners.isEmpty { throw s.error(at: s.line, "[\(s.kind) \(s.name)] has no listener (udp, tcp or http)") }
        if let e = try s.optional("max_future_skew_seconds") {
            guard let v = Int(e.value), v >= 0, v <= 3_153_600_000 else {
                throw s.error(at: e.line, "max_future_skew_seconds must be 0 (off) … 3153600000")
            }
            c.maxFutureSkewSeconds = v
        }
        return c
    }

    /// The instance an `[output]` or `[input]` section belongs to: its `tenant = NAME`, else the serve one.
    mutating func withOwner(of section: ContentSection, _ body: (inout ServeConfig, ContentSection) throws -> Void) throws {
        var rest = section
        guard let t = try section.optional("tenant") else { try body(&self, rest); return }
        rest.entries.removeAll { $0.key == "tenant" }
        guard let i = tenants.firstIndex(where: { $0.name == t.value }) else {
            throw section.error(at: t.line, "tenant '\(t.value)' has no [tenant \(t.value)] section" +
                                (tenants.isEmpty ? "" : " (tenants: \(tenants.map(\.name).joined(separator: ", ")))"))
        }
        try body(&tenants[i], rest)
    }

    mutating func readOutputsAndInputs(_ sections: [ContentSection]) throws {
        for o in sections where o.kind == "output" {
            try withOwner(of: o) { c, o in try c.readOutput(o) }
        }
        // Mimecast API inputs (MimecastInput.swift).
        for i in sections where i.kind == "input" {
            guard i.name.hasPrefix("mimecast "), case let n = String(i.name.dropFirst(9)).trimmingSpaces, !n.isEmpty else {
                throw i.error(at: i.line, "input sections are '[input mimecast NAME]'")
            }
            try withOwner(of: i) { c, i in
                if c.mimecast.contains(where: { $0.name == n }) { throw i.error(at: i.line, "[input mimecast \(n)] given twice") }
                c.mimecast.append(try CollectConfig.parse(section: i, name: n))
            }
        }
    }

    mutating func readOutput(_ o: ContentSection) throws {
        let type = try o.required("type")
        switch type.value {
        case "jsonl", "ecs":
            try o.checkKeys(allowed: ["type", "path"])
            let path = try o.required("path").value
            outputs.append(Output(name: o.name, kind: type.value == "ecs" ? .ecs(path: path) : .jsonl(path: path)))
        case "cef", "syslog":
            try o.checkKeys(allowed: ["type", "target"])
            let t = try o.required("target")
            let udp: Bool
            var rest: Substring
            if t.value.hasPrefix("udp://") { udp = true; rest = t.value.dropFirst(6) }
            else if t.value.hasPrefix("tcp://") { udp = false; rest = t.value.dropFirst(6) }
            else { throw o.error(at: t.line, "target must be udp://HOST:PORT or tcp://HOST:PORT") }
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) else {
                throw o.error(at: t.line, "target must be udp://HOST:PORT or tcp://HOST:PORT")
            }
            guard (1...65535).contains(port) else { throw o.error(at: t.line, "target port must be 1-65535") }
            rest = rest[..<colon]
            outputs.append(Output(name: o.name, kind: type.value == "cef" ? .cef(udp: udp, host: String(rest), port: port)
                                                                           : .syslog(udp: udp, host: String(rest), port: port)))
        case "webhook":
            try o.checkKeys(allowed: ["type", "url"])
            let u = try o.required("url")
            guard u.value.hasPrefix("http://") || u.value.hasPrefix("https://") else {
                throw o.error(at: u.line, "url must be http:// or https://")
            }
            outputs.append(Output(name: o.name, kind: .webhook(url: u.value)))
        default:
            throw o.error(at: type.line, "output type must be jsonl, ecs, cef, syslog or webhook")
        }
    }

    /// Tenants must not share what would mix their data or fail at run time: a listener (host and port,
    /// port 0 aside), the API token (a token names one tenant), the state directory, or an output file.
    func checkTenantsApart(_ sections: [ContentSection]) throws {
        guard !tenants.isEmpty else { return }
        let all = [self] + tenants
        func section(_ c: ServeConfig) -> ContentSection? {
            sections.first { ($0.kind == "serve" || $0.kind == "tenant") && $0.name == c.name }
        }
        func fail(_ c: ServeConfig, _ what: String) throws -> Never {
            guard let s = section(c) else { throw ServeConfigError(what) }
            throw s.error(at: s.line, what)
        }
        var listeners: [String: String] = [:], tokens: [String: String] = [:], states: [String: String] = [:], files: [String: String] = [:]
        for c in all {
            for (key, e) in c.listeners where e.port != 0 {
                let id = (key == "udp" ? "udp " : "tcp ") + e.description
                if let other = listeners[id] { try fail(c, "\(key) = \(e) is also a listener of '\(other)': tenants are routed by listener, give each its own") }
                listeners[id] = c.name
            }
            if let t = c.token {
                if let other = tokens[t] { try fail(c, "the API token is also the token of '\(other)': give each tenant its own token") }
                tokens[t] = c.name
            }
            if let st = c.state {
                let path = URL(fileURLWithPath: st).standardizedFileURL.path
                if let other = states[path] { try fail(c, "state = \(st) is also the state directory of '\(other)'") }
                states[path] = c.name
            }
            for o in c.outputs {
                switch o.kind {
                case .jsonl(let p), .ecs(let p):
                    let path = URL(fileURLWithPath: p).standardizedFileURL.path
                    if let other = files[path] { try fail(c, "output \(o.name) writes \(p), which '\(other)' writes too") }
                    files[path] = c.name
                default: break
                }
            }
        }
    }

    /// `auth`, `token`, `token_file`, `token_env`: exactly one token source, unless `auth = none` with every
    /// listener on loopback.
    mutating func readAuth(_ s: ContentSection, environment: [String: String]) throws {
        let authEntry = try s.optional("auth")
        if let a = authEntry {
            guard let v = Auth(rawValue: a.value) else { throw s.error(at: a.line, "auth must be 'token' or 'none'") }
            auth = v
        }
        let sources = try ["token", "token_file", "token_env"].compactMap { k in try s.optional(k).map { (k, $0) } }
        if auth == .none {
            if let (k, e) = sources.first { throw s.error(at: e.line, "auth = none and \(k) given: choose one") }
            for (key, e) in listeners where !e.isLoopback {
                throw s.error(at: authEntry?.line ?? s.line,
                              "auth = none requires every listener on loopback, but \(key) = \(e) is not (set a token with token_file = PATH or token_env = NAME)")
            }
            return
        }
        guard let (key, e) = sources.first else {
            throw s.error(at: s.line, "[\(s.kind) \(s.name)] has no API token: give token_file = PATH, token_env = NAME or token = … (at least \(ServeConfig.minTokenLength) characters), or auth = none with every listener on loopback")
        }
        if sources.count > 1 { throw s.error(at: sources[1].1.line, "give only one of token, token_file, token_env") }
        var value: String
        switch key {
        case "token_file":
            do { value = try readConfigText(e.value) } catch let err as ServeConfigError {
                throw s.error(at: e.line, "token_file: \(err.description)")
            }
            while let l = value.last, l == "\n" || l == "\r" || l == " " || l == "\t" { value.removeLast() }
        case "token_env":
            guard let v = environment[e.value], !v.isEmpty else {
                throw s.error(at: e.line, "token_env: the environment variable \(e.value) is not set or empty")
            }
            value = v
        default:
            value = e.value
        }
        guard value.utf8.count >= ServeConfig.minTokenLength else {
            throw s.error(at: e.line, "the API token (\(key)) has \(value.utf8.count) characters; at least \(ServeConfig.minTokenLength) are required (e.g. `openssl rand -hex 24`)")
        }
        guard !value.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) else {
            throw s.error(at: e.line, "the API token (\(key)) must not contain spaces or control characters")
        }
        token = value
    }
}

/// A one-line error about a file the config names (or the config itself).
public struct ServeConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Reads a text file with a one-line error naming it (no Foundation error domains).
func readConfigText(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
        let why = String(cString: strerror(errno))
        throw ServeConfigError("\(path): cannot open: \(why)")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ServeConfigError("\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
        if bytes.count > 4 << 20 { throw ServeConfigError("\(path): larger than 4 MiB, not a config file") }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw ServeConfigError("\(path): not UTF-8 text") }
    return text
}
