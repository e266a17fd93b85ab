import Foundation
import OspreyCore

// The alert type: `AnalyticsOutput` (a rule trigger, or a session: closed, or live notable) is the one
// definition of the alert lines of docs/architecture.md#outputs. The analytics write it on the byte writer
// (`AnalyticsOutput.json` / `jsonLine`, unchanged: the golden replay test pins the bytes); every reader —
// serve's alert index, triage API and sinks (re-delivery after a restart), the demo's notable report and
// `osprey evaluate` — decodes the same line back into it here, with `AnalyticsOutput(line:)` or `AlertFile`.
// Reading alerts is never per event, so Foundation's JSONDecoder is used.

/// Why an alerts line could not be read (a counted, named error: never a trap).
public struct AlertLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// Not a JSON object (truncated, binary, another format).
        case notJSON = "not a JSON object"
        /// `kind` is not rule, session or notable.
        case unknownKind = "unknown kind"
        /// A field the kind requires is absent.
        case missingField = "missing field"
        /// A field has the wrong type (or a number beyond Int).
        case badValue = "bad value"
        /// A time is not an ISO 8601 instant.
        case badTime = "bad time"
    }
    public var reason: Reason
    /// The field concerned, or the kind for `unknownKind`.
    public var field: String
    /// The 1-based line number in its file, when read from a file (0 otherwise).
    public var line: Int = 0

    public init(_ reason: Reason, _ field: String = "", line: Int = 0) {
        self.reason = reason; self.field = field; self.line = line
    }

    public var description: String {
        (line > 0 ? "line \(line): " : "") + reason.rawValue + (field.isEmpty ? "" : " '\(field)'")
    }
}

/// Coding keys of every alert kind (the names of docs/architecture.md#outputs).
enum AlertKey: String, CodingKey {
    case kind, rule, name, score, user, session, time, mitre, use_cases, reason, evidence, event
    case start, end, notable, rules, watchlist, threshold
    case id
}

extension AnalyticsOutput: Codable {
    /// Decodes one alerts line (without or with its newline).
    public init(line: some StringProtocol) throws(AlertLineError) {
        try self.init(data: Data(line.utf8))
    }

    public init(data: Data) throws(AlertLineError) {
        do {
            self = try JSONDecoder().decode(AnalyticsOutput.self, from: data)
        } catch let e as AlertLineError {
            throw e
        } catch let DecodingError.keyNotFound(key, _) {
            throw AlertLineError(.missingField, key.stringValue)
        } catch let DecodingError.typeMismatch(_, c) where c.codingPath.isEmpty {
            throw AlertLineError(.notJSON)
        } catch let DecodingError.typeMismatch(_, c) {
            throw AlertLineError(.badValue, c.codingPath.map(\.stringValue).joined(separator: "."))
        } catch let DecodingError.valueNotFound(_, c) {
            throw AlertLineError(.badValue, c.codingPath.map(\.stringValue).joined(separator: "."))
        } catch let DecodingError.dataCorrupted(c) where !c.codingPath.isEmpty {
            throw AlertLineError(.badValue, c.codingPath.map(\.stringValue).joined(separator: "."))
        } catch {
            throw AlertLineError(.notJSON)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AlertKey.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "rule": self = .rule(try RuleTrigger(from: decoder))
        case "session", "notable": self = .session(try SessionSummary(from: decoder))
        default: throw AlertLineError(.unknownKind, kind)
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .rule(let r): try r.encode(to: encoder)
        case .session(let s): try s.encode(to: encoder)
        }
    }

    /// `rule`, `session` or `notable` (a live notable: the session is still open).
    public var kind: String {
        switch self {
        case .rule: return "rule"
        case .session(let s): return s.live ? "notable" : "session"
        }
    }

    public var user: String {
        switch self { case .rule(let r): return r.user; case .session(let s): return s.user }
    }

    public var session: String {
        switch self { case .rule(let r): return r.session; case .session(let s): return s.session }
    }

    public var score: Int {
        switch self { case .rule(let r): return r.score; case .session(let s): return s.score }
    }

    /// A rule trigger's event time; a session's end (a live notable's crossing time).
    public var timeMillis: Int64 {
        switch self { case .rule(let r): return r.timeMillis; case .session(let s): return s.endMillis }
    }
}

extension KeyedDecodingContainer where K == AlertKey {
    /// An integer field; a number that is not an Int (a fraction, beyond Int) or not a number is `badValue`.
    func int(_ key: AlertKey) throws -> Int? {
        guard contains(key) else { return nil }
        if let i = try? decode(Int.self, forKey: key) { return i }
        throw AlertLineError(.badValue, key.stringValue)
    }


    func time(_ key: AlertKey) throws -> Int64 {
        let text = try decode(String.self, forKey: key)
        guard let ms = UTCTime.parse(text) else { throw AlertLineError(.badTime, key.stringValue) }
        return ms
    }
}

extension MitreTechnique: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AlertKey.self)
        self.init(id: try c.decode(String.self, forKey: .id), name: try c.decodeIfPresent(String.self, forKey: .name) ?? "")
    }

    /// As the alert lines carry it: id and the ATT&CK table's name.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AlertKey.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
    }
}

extension RuleTrigger: Codable {
    /// `rule`, `user`, `session` and `time` are required; the rest default (empty), as a hand-written or
    /// older line may lack them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AlertKey.self)
        let rule = try c.decode(String.self, forKey: .rule)
        self.init(rule: rule, name: try c.decodeIfPresent(String.self, forKey: .name) ?? rule,
                  score: try c.int(.score) ?? 0,
                  user: try c.decode(String.self, forKey: .user), session: try c.decode(String.self, forKey: .session),
                  timeMillis: try c.time(.time),
                  mitre: try c.decodeIfPresent([MitreTechnique].self, forKey: .mitre) ?? [],
                  useCases: try c.decodeIfPresent([String].self, forKey: .use_cases) ?? [],
                  reason: try c.decodeIfPresent(String.self, forKey: .reason) ?? "",
                  evidence: try c.decodeIfPresent(JSONValue.self, forKey: .evidence) ?? .null,
                  event: try c.decodeIfPresent(JSONValue.self, forKey: .event))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AlertKey.self)
        try c.encode("rule", forKey: .kind)
        try c.encode(rule, forKey: .rule)
        try c.encode(name, forKey: .name)
        try c.encode(score, forKey: .score)
        try c.encode(user, forKey: .user)
        try c.encode(session, forKey: .session)
        try c.encode(UTCTime.format(timeMillis), forKey: .time)
        try c.encode(mitre, forKey: .mitre)
        try c.encode(useCases, forKey: .use_cases)
        try c.encode(reason, forKey: .reason)
        try c.encode(evidence, forKey: .evidence)
        try c.encodeIfPresent(event, forKey: .event)
    }
}

extension SessionSummary: Codable {
    /// A `session` line (closed) or a `notable` line (live: `time` is the crossing event's, `threshold` the
    /// score it crossed). The event count is not written, so it decodes as 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AlertKey.self)
        let live = try c.decode(String.self, forKey: .kind) == "notable"
        guard let score = try c.int(.score) else { throw AlertLineError(.missingField, "score") }
        self.init(user: try c.decode(String.self, forKey: .user), session: try c.decode(String.self, forKey: .session),
                  startMillis: try c.time(.start), endMillis: try c.time(live ? .time : .end),
                  score: score,
                  notable: live ? true : try c.decodeIfPresent(Bool.self, forKey: .notable) ?? false,
                  rules: try c.decodeIfPresent([String].self, forKey: .rules) ?? [], events: 0, live: live,
                  threshold: live ? try c.int(.threshold) ?? 0 : 0,
                  watchlist: live ? nil : try c.decodeIfPresent(String.self, forKey: .watchlist))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AlertKey.self)
        try c.encode(live ? "notable" : "session", forKey: .kind)
        try c.encode(user, forKey: .user)
        try c.encode(session, forKey: .session)
        try c.encode(UTCTime.format(startMillis), forKey: .start)
        if live {
            try c.encode(UTCTime.format(endMillis), forKey: .time)
            try c.encode(score, forKey: .score)
            try c.encode(threshold, forKey: .threshold)
        } else {
            try c.encode(UTCTime.format(endMillis), forKey: .end)
            try c.encode(score, forKey: .score)
            try c.encode(notable, forKey: .notable)
        }
        try c.encode(rules, forKey: .rules)
        if !live { try c.encodeIfPresent(watchlist, forKey: .watchlist) }
    }
}

/// JSON values read back from alert lines (evidence, event). Object keys come back sorted by name: a
/// decoder does not keep the document's order (the writer keeps construction order).
extension JSONValue: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let c = try? decoder.container(keyedBy: Key.self) {
            var kv: [(String, JSONValue)] = []
            for k in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                kv.append((k.stringValue, try c.decode(JSONValue.self, forKey: k)))
            }
            self = .object(kv)
            return
        }
        if var a = try? decoder.unkeyedContainer() {
            var out: [JSONValue] = []
            if let n = a.count { out.reserveCapacity(min(n, 4096)) }
            while !a.isAtEnd { out.append(try a.decode(JSONValue.self)) }
            self = .array(out)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .double(let d): var c = encoder.singleValueContainer(); try c.encode(d.isFinite ? d : 0)
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for x in a { try c.encode(x) }
        case .object(let kv):
            var c = encoder.container(keyedBy: Key.self)
            for (k, x) in kv { try c.encode(x, forKey: Key(stringValue: k)) }
        }
    }

    /// The same value with every object's keys sorted by name (how a decoded value comes back).
    public var keysSorted: JSONValue {
        switch self {
        case .array(let a): return .array(a.map(\.keysSorted))
        case .object(let kv): return .object(kv.sorted { $0.0 < $1.0 }.map { ($0.0, $0.1.keysSorted) })
        default: return self
        }
    }
}

/// An alerts JSONL file (replay `--out`, a serve `jsonl` output) read back: every line decoded, the lines
/// that could not be read counted with their line number and reason.
public struct AlertFile: Sendable {
    public var alerts: [AnalyticsOutput] = []
    /// Every line that could not be read (blank lines are skipped, not errors).
    public var rejected: [AlertLineError] = []

    public init(alerts: [AnalyticsOutput] = [], rejected: [AlertLineError] = []) {
        self.alerts = alerts; self.rejected = rejected
    }

    /// Reads the file (an I/O error throws; a bad line is counted in `rejected`).
    public init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        self.init(bytes: data)
    }

    public init(bytes data: Data) {
        var number = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            var l = line
            if l.last == 0x0D { l = l.dropLast() }
            guard l.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            switch Result(catching: { () throws(AlertLineError) -> AnalyticsOutput in try AnalyticsOutput(data: Data(l)) }) {
            case .success(let a): alerts.append(a)
            case .failure(var e): e.line = number; rejected.append(e)
            }
        }
    }

    /// `N alert lines unreadable (line 3: not a JSON object; …)`, or nil when every line was read.
    public var rejectSummary: String? {
        guard let first = rejected.first else { return nil }
        return "\(rejected.count) alert line\(rejected.count == 1 ? "" : "s") unreadable (first: \(first))"
    }
}
