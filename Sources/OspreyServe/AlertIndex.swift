import Foundation
import OspreyAnalytics
import OspreyCore

/// One emitted output as the API shows it: the alert (OspreyAnalytics' one alert type) and its line.
public struct AlertRecord: Sendable {
    public var seq: Int
    public var alert: AnalyticsOutput
    public var line: String

    /// "rule", "session" or "notable" (a live notable of a still open session).
    public var kind: String { alert.kind }
    public var user: String { alert.user }
    public var session: String { alert.session }
    public var rule: String? { if case .rule(let r) = alert { return r.rule }; return nil }
    public var score: Int { alert.score }
    public var notable: Bool { if case .session(let s) = alert { return s.notable }; return false }
    public var timeMillis: Int64 { alert.timeMillis }

    /// What one kept record costs in memory, estimated from its line: the line itself and the decoded alert
    /// (the same strings again, in a dictionary of evidence), plus the indexes' entries and the allocator's
    /// slack. Fitted on a flood of new names (release): 200,000 alerts held ~290 MB, and a 64 MiB budget at
    /// 2 × line + 256 held 82 MB.
    static func estimatedBytes(line: String) -> Int { line.utf8.count * 5 / 2 + 320 }
}

/// The outputs kept in memory for the API (at most `limit` records and about `memoryBytes`; the oldest
/// half is dropped beyond either), indexed by user and session. Thread-safe.
public final class AlertIndex: @unchecked Sendable {
    let limit: Int
    let memoryBytes: Int
    /// Estimated bytes held by the kept records (`AlertRecord.estimatedBytes`).
    private var heldBytes = 0
    private let lock = NSLock()
    private var records: [AlertRecord] = []
    private var base = 0                       // records[0] is the base-th record ever kept
    private var byUser: [String: [Int]] = [:]  // absolute positions
    private var bySession: [String: [Int]] = [:]
    private var unreadable: [AlertLineError] = []
    private var unreadableCount = 0

    init(limit: Int, memoryBytes: Int = 32 << 20) {
        self.limit = max(1000, limit)
        self.memoryBytes = max(1 << 20, memoryBytes)
    }

    /// Adds an emitted alert; without `output` (alerts loaded from the state at start) its line is decoded,
    /// and a line that cannot be read is counted (`unreadableLines`), not indexed.
    func add(seq: Int, _ output: AnalyticsOutput?, line: String) {
        let alert: AnalyticsOutput
        if let output { alert = output } else {
            switch Result(catching: { () throws(AlertLineError) -> AnalyticsOutput in try AnalyticsOutput(line: line) }) {
            case .success(let a): alert = a
            case .failure(var e):
                e.line = seq
                lock.lock(); defer { lock.unlock() }
                unreadableCount += 1
                if unreadable.count < 10 { unreadable.append(e) }
                return
            }
        }
        let r = AlertRecord(seq: seq, alert: alert, line: line)
        let cost = AlertRecord.estimatedBytes(line: line)
        lock.lock(); defer { lock.unlock() }
        if records.count >= limit || (heldBytes + cost > memoryBytes && records.count >= 2) {
            let drop = records.count / 2
            for x in records.prefix(drop) { heldBytes -= AlertRecord.estimatedBytes(line: x.line) }
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
        heldBytes += cost
        byUser[r.user, default: []].append(pos)
        bySession[r.session, default: []].append(pos)
    }

    /// Stored alert lines that could not be decoded, and the first ten errors (their `line` is the seq).
    public var unreadableLines: (count: Int, first: [AlertLineError]) {
        lock.lock(); defer { lock.unlock() }
        return (unreadableCount, unreadable)
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
