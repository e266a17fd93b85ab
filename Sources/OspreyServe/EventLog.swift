import Foundation
import OspreyCore

/// The most recent events of each user (at most `perUser`, `maxUsers` users and about `memoryBytes` in all;
/// beyond a bound the least recently active users are evicted, a tenth at a time), so the API can show a
/// session's event timeline. In memory only: after a restart it holds the events seen since. Each event
/// keeps its time, activity type, parser and its fields as text (values over 300 characters cut).
final class EventLog: @unchecked Sendable {
    struct Entry {
        var timeMillis: Int64
        var activity: String
        var parser: String
        var fields: [(String, String)]

        /// Its strings' bytes plus the per-string and per-entry overhead of Swift's storage.
        var estimatedBytes: Int {
            var n = 96 + activity.utf8.count + parser.utf8.count
            for (k, v) in fields { n += k.utf8.count + v.utf8.count + 48 }
            return n
        }
    }
    let perUser: Int
    let maxUsers: Int
    let memoryBytes: Int
    private let lock = NSLock()
    private var rings: [String: [Entry]] = [:]
    private var lastTouch: [String: Int] = [:]
    private var tick = 0
    /// Estimated bytes of the kept entries (`Entry.estimatedBytes`).
    private var heldBytes = 0

    init(perUser: Int = 400, maxUsers: Int = 20_000, memoryBytes: Int = 32 << 20) {
        self.perUser = max(1, perUser); self.maxUsers = max(1, maxUsers); self.memoryBytes = max(1 << 20, memoryBytes)
    }

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
        let cost = entry.estimatedBytes
        lock.lock(); defer { lock.unlock() }
        tick += 1
        if (rings[user] == nil && rings.count >= maxUsers) || heldBytes + cost > memoryBytes { evictLeastRecent(keeping: user) }
        var ring = rings.removeValue(forKey: user) ?? []
        ring.append(entry)
        heldBytes += cost
        if ring.count > perUser {
            let extra = ring.count - perUser
            for x in ring.prefix(extra) { heldBytes -= x.estimatedBytes }
            ring.removeFirst(extra)
        }
        rings[user] = ring
        lastTouch[user] = tick
    }

    /// Drops the least recently active tenth of the users (at least one; never `keeping`): one sort per
    /// many insertions, so a flood of new names costs O(log n) per event, not a scan of every user.
    private func evictLeastRecent(keeping: String) {
        let order = lastTouch.filter { $0.key != keeping }.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
        for (user, _) in order.prefix(max(1, order.count / 10)) {
            for x in rings[user] ?? [] { heldBytes -= x.estimatedBytes }
            rings[user] = nil; lastTouch[user] = nil
        }
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
