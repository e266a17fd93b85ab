import Foundation
import OspreyCore

/// `osprey serve --config FILE`: Osprey's content format (OspreyCore.ContentFile).
///
///     [serve main]
///     udp = 127.0.0.1:5514            # syslog over UDP (one message per datagram)
///     tcp = 127.0.0.1:5514            # syslog over TCP (octet-counting or newline framing)
///     http = 127.0.0.1:8080           # POST /ingest, REST API, /metrics, the web page
///     token = change-me               # API token (header `Authorization: Bearer …` or `X-API-Token`)
///     state = /var/lib/osprey         # durable state directory (optional)
///     context = /etc/osprey/context   # organization context directory (optional)
///     checkpoint_records = 50000
///     checkpoint_seconds = 5
///
///     [output alerts]
///     type = jsonl
///     path = /var/log/osprey/alerts.jsonl
///
/// Ports may be 0 (the kernel picks; the actual ports are printed on stderr).
public struct ServeConfig: Sendable {
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
    }
    public enum OutputKind: Sendable, Equatable {
        case jsonl(path: String)
        case cef(udp: Bool, host: String, port: Int)
        case webhook(url: String)
    }
    public struct Output: Sendable, Equatable { public var name: String; public var kind: OutputKind }

    public var name = "main"
    public var udp: Endpoint?
    public var tcp: Endpoint?
    public var http: Endpoint?
    public var token: String?
    public var state: String?
    public var context: String?
    public var content: String?
    public var checkpointRecords = 50_000
    public var checkpointSeconds = 5.0
    public var reorderSeconds = 600
    public var maxFrameBytes = 1 << 20
    public var maxHTTPBodyBytes = 16 << 20
    /// Records accepted but not yet processed, over all connections; above it TCP stops reading,
    /// UDP datagrams are dropped (counted) and HTTP requests wait.
    public var maxPendingRecords = 50_000
    public var maxConnections = 256
    /// Alerts kept in memory for the API (the state database keeps all of them).
    public var apiAlertLimit = 200_000
    /// Time sanity: events more than this far ahead of the wall clock are quarantined (0 = off).
    public var maxFutureSkewSeconds = 86_400
    public var outputs: [Output] = []

    public init() {}

    public static func load(path: String) throws -> ServeConfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ServeConfig {
        var c = ServeConfig()
        let sections = try ContentFile.parse(text, file: file)
        let serves = sections.filter { $0.kind == "serve" }
        guard serves.count == 1, let s = serves.first else {
            throw ContentError(file: file, line: 1, reason: "expected exactly one [serve NAME] section")
        }
        try s.checkKeys(allowed: ["udp", "tcp", "http", "token", "state", "context", "content", "checkpoint_records",
                                  "checkpoint_seconds", "reorder_seconds", "max_frame_bytes", "max_http_body_bytes",
                                  "max_pending_records", "max_connections", "api_alert_limit", "max_future_skew_seconds"])
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
        c.token = try s.optional("token")?.value
        c.state = try s.optional("state")?.value
        c.context = try s.optional("context")?.value
        c.content = try s.optional("content")?.value
        c.checkpointRecords = try int("checkpoint_records", c.checkpointRecords)
        if let e = try s.optional("checkpoint_seconds") {
            guard let v = Double(e.value), v > 0 else { throw s.error(at: e.line, "checkpoint_seconds must be positive") }
            c.checkpointSeconds = v
        }
        c.reorderSeconds = try int("reorder_seconds", c.reorderSeconds)
        c.maxFrameBytes = try int("max_frame_bytes", c.maxFrameBytes)
        c.maxHTTPBodyBytes = try int("max_http_body_bytes", c.maxHTTPBodyBytes)
        c.maxPendingRecords = try int("max_pending_records", c.maxPendingRecords)
        c.maxConnections = try int("max_connections", c.maxConnections)
        c.apiAlertLimit = try int("api_alert_limit", c.apiAlertLimit)
        if let e = try s.optional("max_future_skew_seconds") {
            guard let v = Int(e.value), v >= 0, v <= 3_153_600_000 else {
                throw s.error(at: e.line, "max_future_skew_seconds must be 0 (off) … 3153600000")
            }
            c.maxFutureSkewSeconds = v
        }
        for o in sections where o.kind == "output" {
            let type = try o.required("type")
            switch type.value {
            case "jsonl":
                try o.checkKeys(allowed: ["type", "path"])
                c.outputs.append(Output(name: o.name, kind: .jsonl(path: try o.required("path").value)))
            case "cef":
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
                rest = rest[..<colon]
                c.outputs.append(Output(name: o.name, kind: .cef(udp: udp, host: String(rest), port: port)))
            case "webhook":
                try o.checkKeys(allowed: ["type", "url"])
                let u = try o.required("url")
                guard u.value.hasPrefix("http://") || u.value.hasPrefix("https://") else {
                    throw o.error(at: u.line, "url must be http:// or https://")
                }
                c.outputs.append(Output(name: o.name, kind: .webhook(url: u.value)))
            default:
                throw o.error(at: type.line, "output type must be jsonl, cef or webhook")
            }
        }
        for other in sections where other.kind != "serve" && other.kind != "output" {
            throw other.error(at: other.line, "unknown section kind '\(other.kind)' (serve, output)")
        }
        return c
    }
}
