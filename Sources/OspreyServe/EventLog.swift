import Foundation
import OspreyCore

/// The most recent events of each user (at most `perUser`, `maxUsers` users, least recently active user
/// evicted), so the API can show a session's event timeline. In memory only: after a restart it holds the
/// events seen since. Each event keeps its time, activity type, parser and its fields as text (values over
/// 300 characters cut).
final class EventLog: @unchecked Sendable {
    struct Entry {
        var timeMillis: Int64
        var activity: String
        var parser: String
        var fields: [(String, String)]
    }
    let perUser: Int
    let maxUsers: Int
    private let lock = NSLock()
    private var rings: [String: [Entry]] = [:]
    private var lastTouch: [String: Int] = [:]
    private var tick = 0

    init(perUser: Int = 400, maxUsers: Int = 20_000) { self.perUser = perUser; self.maxUsers = maxUsers }

    func add(_ e: Event) {
        guard let user = e.user, !user.isEmpty else { return }
        var fields: [(String, String)] = []
        fields.reserveCapacity(e.fieldCount)
        for i in 0..<e.fieldCount {
            let (f, v) = e.field(at: i)
            var t = v.text
            if t.count > 300 { t = String(t.prefix(300)) + "…" }
            fields.append((f.name, t))
        }
        let entry = Entry(timeMillis: e.timeMillis, activity: e.activityType.rawValue, parser: e.parser, fields: fields)
        lock.lock(); defer { lock.unlock() }
        tick += 1
        if rings[user] == nil, rings.count >= maxUsers,
           let oldest = lastTouch.min(by: { $0.value < $1.value })?.key {
            rings[oldest] = nil; lastTouch[oldest] = nil
        }
        rings[user, default: []].append(entry)
        if rings[user]!.count > perUser { rings[user]!.removeFirst(rings[user]!.count - perUser) }
        lastTouch[user] = tick
    }

    /// The user's kept events with from ≤ time ≤ to, in time order.
    func events(user: String, from: Int64, to: Int64) -> [Entry] {
        lock.lock(); defer { lock.unlock() }
        return (rings[user] ?? []).filter { $0.timeMillis >= from && $0.timeMillis <= to }.sorted { $0.timeMillis < $1.timeMillis }
    }

    /// Every user's kept events (a copy, for the pivot API).
    func snapshot() -> [String: [Entry]] {
        lock.lock(); defer { lock.unlock() }
        return rings
    }
}
