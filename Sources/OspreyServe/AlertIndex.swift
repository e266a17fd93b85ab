import Foundation
import OspreyAnalytics

/// One emitted output as the API shows it.
public struct AlertRecord: Sendable {
    public var seq: Int
    public var kind: String          // "rule" or "session"
    public var user: String
    public var session: String
    public var rule: String?
    public var score: Int
    public var notable: Bool
    public var timeMillis: Int64
    public var line: String
}

/// The outputs kept in memory for the API (at most `limit`; the oldest half is dropped beyond it),
/// indexed by user and session. Thread-safe.
public final class AlertIndex: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var records: [AlertRecord] = []
    private var base = 0                       // records[0] is the base-th record ever kept
    private var byUser: [String: [Int]] = [:]  // absolute positions
    private var bySession: [String: [Int]] = [:]

    init(limit: Int) { self.limit = max(1000, limit) }

    func add(seq: Int, _ output: AnalyticsOutput?, line: String) {
        let r: AlertRecord
        switch output {
        case .rule(let t)?:
            r = AlertRecord(seq: seq, kind: "rule", user: t.user, session: t.session, rule: t.rule, score: t.score,
                            notable: false, timeMillis: t.timeMillis, line: line)
        case .session(let s)?:
            r = AlertRecord(seq: seq, kind: s.live ? "notable" : "session", user: s.user, session: s.session, rule: nil, score: s.score,
                            notable: s.notable, timeMillis: s.endMillis, line: line)
        case nil:
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return }
            let kind = o["kind"] as? String ?? "rule"
            let time = (o["time"] as? String).flatMap { AlertIndex.parseTime($0) } ?? 0
            r = AlertRecord(seq: seq, kind: kind, user: o["user"] as? String ?? "", session: o["session"] as? String ?? "",
                            rule: o["rule"] as? String, score: o["score"] as? Int ?? 0, notable: o["notable"] as? Bool ?? false,
                            timeMillis: time, line: line)
        }
        lock.lock(); defer { lock.unlock() }
        if records.count >= limit {
            let drop = records.count / 2
            records.removeFirst(drop)
            base += drop
            byUser.removeAll(); bySession.removeAll()
            for (i, x) in records.enumerated() {
                byUser[x.user, default: []].append(base + i)
                bySession[x.session, default: []].append(base + i)
            }
        }
        let pos = base + records.count
        records.append(r)
        byUser[r.user, default: []].append(pos)
        bySession[r.session, default: []].append(pos)
    }

    static func parseTime(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    public var count: Int { lock.lock(); defer { lock.unlock() }; return records.count }

    public func all() -> [AlertRecord] { lock.lock(); defer { lock.unlock() }; return records }

    public func forUser(_ user: String) -> [AlertRecord] {
        lock.lock(); defer { lock.unlock() }
        return (byUser[user] ?? []).compactMap { $0 >= base ? records[$0 - base] : nil }
    }

    public func forSession(_ session: String) -> [AlertRecord] {
        lock.lock(); defer { lock.unlock() }
        return (bySession[session] ?? []).compactMap { $0 >= base ? records[$0 - base] : nil }
    }

    /// Notable sessions, highest score first: closed ones (notable = true) and open ones that crossed the
    /// threshold (their live `notable` record, until the session's closing record arrives).
    public func notableSessions(limit: Int = 100) -> [AlertRecord] {
        lock.lock(); defer { lock.unlock() }
        let closed = Set(records.lazy.filter { $0.kind == "session" }.map(\.session))
        return Array(records.filter { ($0.kind == "session" && $0.notable) || ($0.kind == "notable" && !closed.contains($0.session)) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.seq < $1.seq }.prefix(limit))
    }

    public var ruleCount: Int { lock.lock(); defer { lock.unlock() }; return records.lazy.filter { $0.kind == "rule" }.count }
}
