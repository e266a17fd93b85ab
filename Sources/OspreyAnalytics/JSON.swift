import OspreyCore

/// A JSON value with ordered object keys, so output is byte-stable: key order is the order of
/// construction, never a dictionary's.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Written with at most 4 decimals (trailing zeros dropped).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    public var doubleValue: Double? {
        switch self { case .double(let d): return d; case .int(let i): return Double(i); default: return nil }
    }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }

    public func serialized() -> String {
        var w = OutputJSONWriter()
        w.write(self)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// Writes `JSONValue` trees; strings and integers go through OspreyCore's `JSONWriter` (one escaping
/// routine for every output of the project), doubles through the deterministic `format`.
public struct OutputJSONWriter {
    private var core = OspreyCore.JSONWriter(capacity: 512)
    public var bytes: [UInt8] {
        get { core.bytes }
        set { core.bytes = newValue }
    }
    public init() {}

    public mutating func write(_ v: JSONValue) {
        switch v {
        case .null: core.raw("null")
        case .bool(let b): core.bool(b)
        case .int(let i): core.int(i)
        case .double(let d): core.bytes.append(contentsOf: OutputJSONWriter.format(d).utf8)
        case .string(let s): core.string(s)
        case .array(let a):
            core.bytes.append(0x5B)
            for (i, x) in a.enumerated() { if i > 0 { core.bytes.append(0x2C) }; write(x) }
            core.bytes.append(0x5D)
        case .object(let kv):
            core.bytes.append(0x7B)
            for (i, (k, x)) in kv.enumerated() {
                if i > 0 { core.bytes.append(0x2C) }
                core.string(k); core.bytes.append(0x3A); write(x)
            }
            core.bytes.append(0x7D)
        }
    }

    public mutating func writeString(_ s: String) { core.string(s) }

    /// Deterministic decimal form: integers without a fraction, else up to 4 decimals.
    public static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        let scaled = (d * 10_000).rounded()
        if abs(scaled) >= 9.0e15 {
            // Beyond 2^53 / 10^4 every double is printed whole; beyond Int64 (sums of hostile sizes) in
            // exponent form, which is still a JSON number. Never a Double→Int64 conversion that can trap.
            let whole = d.rounded()
            if let i = Int64(exactly: whole) { return String(i) }
            return whole.description
        }
        var n = Int64(scaled)
        let negative = n < 0
        if negative { n = -n }
        let whole = n / 10_000
        var frac = n % 10_000
        var s = (negative && n != 0 ? "-" : "") + String(whole)
        if frac != 0 {
            var digits = 4
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }
}

/// One triggered rule, as written to the replay output.
public struct RuleTrigger: Sendable {
    public var rule: String
    public var name: String
    public var score: Int
    public var user: String
    public var session: String
    public var timeMillis: Int64
    public var mitre: [MitreTechnique]
    public var useCases: [String]
    public var reason: String
    public var evidence: JSONValue
    /// What the triggering event was: its activity type and the fields an analyst and a SIEM pivot on
    /// (source IP and country, sender, recipient, subject, file, application) — see `RuleTrigger.eventFields`.
    public var event: JSONValue? = nil

    /// The event fields a trigger carries, in this order, when the event has them.
    public static let eventFields = ["outcome", "src_ip", "src_country", "src_isp", "sender", "dest_email_address",
                                     "email_subject", "file_name", "app", "operation", "url"]

    public var json: JSONValue {
        .object([
            ("kind", .string("rule")),
            ("rule", .string(rule)),
            ("name", .string(name)),
            ("score", .int(Int64(score))),
            ("user", .string(user)),
            ("session", .string(session)),
            ("time", .string(UTCTime.format(timeMillis))),
            ("mitre", .array(mitre.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) })),
            ("use_cases", .array(useCases.map(JSONValue.string))),
            ("reason", .string(reason)),
            ("evidence", evidence),
        ] + (event.map { [("event", $0)] } ?? []))
    }
}

/// A closed session with at least one rule.
public struct SessionSummary: Sendable {
    public var user: String
    public var session: String
    public var startMillis: Int64
    public var endMillis: Int64
    public var score: Int
    public var notable: Bool
    public var rules: [String]
    public var events: Int
    /// The tuning watchlist the user is on (the session is listed whatever its rules).
    public var watchlist: String? = nil
    /// A live notable: the session is still open and has just crossed `threshold` (kind "notable", its
    /// `end` is the crossing event's time). The closing `session` line follows when it closes.
    public var live = false
    public var threshold = 0

    public init(user: String, session: String, startMillis: Int64, endMillis: Int64, score: Int, notable: Bool,
                rules: [String], events: Int, live: Bool = false, threshold: Int = 0, watchlist: String? = nil) {
        self.user = user; self.session = session; self.startMillis = startMillis; self.endMillis = endMillis
        self.score = score; self.notable = notable; self.rules = rules; self.events = events
        self.live = live; self.threshold = threshold; self.watchlist = watchlist
    }

    public var json: JSONValue {
        if live {
            return .object([
                ("kind", .string("notable")), ("user", .string(user)), ("session", .string(session)),
                ("start", .string(UTCTime.format(startMillis))), ("time", .string(UTCTime.format(endMillis))),
                ("score", .int(Int64(score))), ("threshold", .int(Int64(threshold))),
                ("rules", .array(rules.map(JSONValue.string))),
            ])
        }
        return .object([
            ("kind", .string("session")),
            ("user", .string(user)),
            ("session", .string(session)),
            ("start", .string(UTCTime.format(startMillis))),
            ("end", .string(UTCTime.format(endMillis))),
            ("score", .int(Int64(score))),
            ("notable", .bool(notable)),
            ("rules", .array(rules.map(JSONValue.string))),
        ] + (watchlist.map { [("watchlist", JSONValue.string($0))] } ?? []))
    }
}

public enum AnalyticsOutput: Sendable {
    case rule(RuleTrigger)
    case session(SessionSummary)

    public var json: JSONValue {
        switch self {
        case .rule(let r): return r.json
        case .session(let s): return s.json
        }
    }

    /// One line of docs/architecture.md#outputs (without the newline).
    public var jsonLine: String { json.serialized() }

    public func write(to w: inout OutputJSONWriter) {
        w.write(json)
        w.bytes.append(0x0A)
    }
}
