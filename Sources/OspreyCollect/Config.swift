import Foundation
import OspreyCore

/// One Mimecast API 2.0 account to collect from: a `[collect NAME]` section (for `osprey collect`) or an
/// `[input mimecast NAME]` section (in the serve config), in Osprey's content format:
///
///     [collect acme]
///     base_url = https://api.services.mimecast.com
///     client_id_env = MIMECAST_CLIENT_ID
///     client_secret_file = /etc/osprey/mimecast.secret
///     sources = siem-batch, audit, ttp-url, ttp-attachment, ttp-impersonation, dlp, held-release
///     siem_types = receipt, process, delivery, journal, av, spam, url protect, attachment protect, impersonation protect, internal email protect
///     interval = 300
///     page_size = 500
///     rate = 2
///
/// Secrets come from a file (`client_secret_file`) or an environment variable (`client_secret_env`), never
/// from the config text itself or the command line. `client_id` may be given in the clear (it is no secret).
public struct CollectConfig: Sendable {
    public var name: String
    public var file: String
    public var line: Int
    public var baseURL: String
    public var clientID: SecretRef
    public var clientSecret: SecretRef
    public var sources: [SourceKind]
    public var siemTypes: [String]
    /// Seconds between polls (serve, and `osprey collect` without --once).
    public var intervalSeconds: Double = 300
    public var pageSize = 500
    /// Requests per second at most (token requests and downloads included).
    public var rate: Double = 2
    /// A first run starts this long before now (unless --since).
    public var lookbackSeconds: Int64 = 24 * 3600
    /// Each window after the first starts this long before the previous one ended (late events);
    /// records seen twice are dropped by identity.
    public var overlapSeconds: Int64 = 600
    /// Record identities kept per source for the duplicate check.
    public var dedupLimit = 10_000
    public var maxRetries = 6
    public var timeoutSeconds: Double = 60
    /// Largest response or batch file accepted (bytes, after decompression).
    public var maxBodyBytes = 256 << 20

    public enum SecretRef: Sendable, Equatable, CustomStringConvertible {
        case literal(String)   // client_id only
        case env(String)
        case file(String)
        public var description: String {
            switch self {
            case .literal: return "config value"
            case .env(let n): return "environment variable \(n)"
            case .file(let p): return "file \(p)"
            }
        }
        /// Reads the value (trailing newline and spaces removed). Errors name where, never the value.
        public func resolve() throws -> String {
            let v: String
            switch self {
            case .literal(let s): v = s
            case .env(let n):
                guard let s = ProcessInfo.processInfo.environment[n] else { throw CollectError.credentials("environment variable \(n) is not set") }
                v = s
            case .file(let p):
                guard let d = FileManager.default.contents(atPath: p) else { throw CollectError.credentials("cannot read \(p)") }
                v = String(decoding: d, as: UTF8.self)
            }
            let t = v.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !t.isEmpty else { throw CollectError.credentials("\(self) is empty") }
            return t
        }
    }

    public static let allowedKeys: Set<String> = [
        "base_url", "client_id", "client_id_env", "client_id_file", "client_secret_env", "client_secret_file",
        "sources", "siem_types", "interval", "page_size", "rate", "lookback", "overlap", "dedup_limit",
        "max_retries", "timeout", "max_body_bytes",
    ]

    /// Parses one section (`[collect NAME]` or `[input mimecast NAME]`).
    public static func parse(section s: ContentSection, name: String) throws -> CollectConfig {
        if let e = s.entries.first(where: { $0.key == "client_secret" }) {
            throw s.error(at: e.line, "client_secret is not read from the config: use client_secret_env or client_secret_file")
        }
        try s.checkKeys(allowed: allowedKeys)
        let base = try s.required("base_url")
        guard let u = URL(string: base.value), let scheme = u.scheme, scheme == "https" || scheme == "http", u.host != nil else {
            throw s.error(at: base.line, "base_url must be an http:// or https:// URL")
        }
        func secret(_ key: String, literalAllowed: Bool) throws -> SecretRef {
            var found: [(SecretRef, Int)] = []
            if literalAllowed, let e = try s.optional(key) { found.append((.literal(e.value), e.line)) }
            if let e = try s.optional(key + "_env") { found.append((.env(e.value), e.line)) }
            if let e = try s.optional(key + "_file") { found.append((.file(e.value), e.line)) }
            guard found.count == 1 else {
                let keys = literalAllowed ? "\(key), \(key)_env or \(key)_file" : "\(key)_env or \(key)_file"
                throw s.error(at: found.count > 1 ? found[1].1 : s.line, "give exactly one of \(keys)")
            }
            return found[0].0
        }
        let sources: [SourceKind]
        if let e = try s.optional("sources") {
            var out: [SourceKind] = []
            for n in splitList(e.value) {
                guard let k = SourceKind(rawValue: n) else {
                    throw s.error(at: e.line, "unknown source '\(n)' (\(SourceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                if !out.contains(k) { out.append(k) }
            }
            guard !out.isEmpty else { throw s.error(at: e.line, "sources is empty") }
            if out.contains(.siemBatch) && out.contains(.siemStream) {
                throw s.error(at: e.line, "choose siem-batch or siem-stream, not both (they return the same events)")
            }
            sources = out
        } else {
            sources = [.siemBatch, .audit, .ttpURL, .ttpAttachment, .ttpImpersonation, .dlp, .heldRelease]
        }
        var types = SIEMType.all
        if let e = try s.optional("siem_types") {
            types = []
            for t in splitList(e.value) {
                guard SIEMType.all.contains(t) else { throw s.error(at: e.line, "unknown SIEM type '\(t)' (\(SIEMType.all.joined(separator: ", ")))") }
                if !types.contains(t) { types.append(t) }
            }
            guard !types.isEmpty else { throw s.error(at: e.line, "siem_types is empty") }
        }
        var c = CollectConfig(name: name, file: s.file, line: s.line, baseURL: String(base.value.reversed().drop(while: { $0 == "/" }).reversed()),
                              clientID: try secret("client_id", literalAllowed: true),
                              clientSecret: try secret("client_secret", literalAllowed: false),
                              sources: sources, siemTypes: types)
        func positive(_ key: String) throws -> Double? {
            guard let e = try s.optional(key) else { return nil }
            guard let v = Double(e.value), v.isFinite, v > 0, v <= 1e9 else { throw s.error(at: e.line, "\(key) must be a positive number") }
            return v
        }
        func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let e = try s.optional(key) else { return nil }
            guard let v = Int(e.value), range.contains(v) else { throw s.error(at: e.line, "\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)") }
            return v
        }
        if let v = try positive("interval") { c.intervalSeconds = v }
        if let v = try positive("rate") { c.rate = v }
        if let v = try positive("timeout") { c.timeoutSeconds = v }
        if let v = try count("page_size", 1...1000) { c.pageSize = v }
        if let v = try count("lookback", 1...(400 * 86400)) { c.lookbackSeconds = Int64(v) }
        if let v = try count("overlap", 0...86400) { c.overlapSeconds = Int64(v) }
        if let v = try count("dedup_limit", 0...1_000_000) { c.dedupLimit = v }
        if let v = try count("max_retries", 0...50) { c.maxRetries = v }
        if let v = try count("max_body_bytes", 1024...(1 << 30)) { c.maxBodyBytes = v }
        return c
    }

    /// `osprey collect --config FILE`: every `[collect NAME]` section (at least one).
    public static func load(path: String) throws -> [CollectConfig] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [CollectConfig] {
        let sections = try ContentFile.parse(text, file: file)
        var out: [CollectConfig] = []
        for s in sections {
            guard s.kind == "collect" else { throw s.error(at: s.line, "unknown section kind '\(s.kind)' (collect)") }
            if out.contains(where: { $0.name == s.name }) { throw s.error(at: s.line, "[collect \(s.name)] given twice") }
            out.append(try parse(section: s, name: s.name))
        }
        guard !out.isEmpty else { throw ContentError(file: file, line: 1, reason: "no [collect NAME] section") }
        return out
    }
}

/// What the collector fetches. One source may have several streams (SIEM: one per event type).
public enum SourceKind: String, CaseIterable, Sendable {
    case siemBatch = "siem-batch"
    case siemStream = "siem-stream"
    case audit
    case ttpURL = "ttp-url"
    case ttpAttachment = "ttp-attachment"
    case ttpImpersonation = "ttp-impersonation"
    case dlp
    case heldRelease = "held-release"
}

/// SIEM event types of the Cloud Gateway endpoints (`type` / `types` query parameter), as the records carry them.
public enum SIEMType {
    public static let all = ["receipt", "process", "delivery", "journal", "av", "spam", "url protect",
                             "attachment protect", "impersonation protect", "internal email protect"]
}

public enum CollectError: Error, CustomStringConvertible, Sendable {
    case credentials(String)
    case auth(String)
    case http(status: Int, path: String, detail: String)
    case network(String)
    case response(path: String, detail: String)
    case cancelled

    public var description: String {
        switch self {
        case .credentials(let s): return "credentials: \(s)"
        case .auth(let s): return "authentication failed: \(s)"
        case .http(let st, let p, let d): return "HTTP \(st) from \(p)\(d.isEmpty ? "" : ": " + d)"
        case .network(let s): return "network: \(s)"
        case .response(let p, let d): return "bad response from \(p): \(d)"
        case .cancelled: return "cancelled"
        }
    }
}
