import OspreyCore

/// A session aggregate's running value.
enum AggValue {
    case count(Int)
    case sum(Double)
    case distinct([String])
    case countBy([String: Int])
    case max(Double)

    var value: Double {
        switch self {
        case .count(let n): return Double(n)
        case .sum(let s): return s
        case .distinct(let l): return Double(l.count)
        case .countBy(let m): return Double(m.values.max() ?? 0)
        case .max(let m): return m
        }
    }

    var evidenceText: String {
        switch self {
        case .distinct(let l): return l.joined(separator: ", ")
        default: return OutputJSONWriter.format(value)
        }
    }
}

/// One user's activity between gaps: what fired, what was trained, the aggregates.
final class Session {
    /// Interned user name (renumbered when the interner compacts).
    var userId: UInt32
    let user: String
    let start: Int64
    @exclusivity(unchecked) var last: Int64
    /// The user's last event before this session (nil: no history).
    let previousActivity: Int64?
    @exclusivity(unchecked) var events = 0
    @exclusivity(unchecked) var score = 0
    @exclusivity(unchecked) var rules: [Int] = []
    /// family index << 32 | interned dedup value
    @exclusivity(unchecked) var dedup = U64Set()
    /// model | scope id | value id (see AnalyticsState.train)
    @exclusivity(unchecked) var trained = U64Set()
    @exclusivity(unchecked) var aggs: [AggValue?] = []
    /// Scored triggers per rule index (the session cap; not part of the durable state).
    @exclusivity(unchecked) var scoredFires: [Int: Int] = [:]

    init(userId: UInt32, user: String, start: Int64, previousActivity: Int64?) {
        self.userId = userId; self.user = user; self.start = start; self.last = start
        self.previousActivity = previousActivity
    }

    lazy var id: String = user + "#" + UTCTime.format(start)

    func expiry(gap: Int64, maxLength: Int64) -> Int64 {
        let a = last.addingReportingOverflow(gap), b = start.addingReportingOverflow(maxLength)
        return min(a.overflow ? Int64.max : a.partialValue, b.overflow ? Int64.max : b.partialValue)
    }

    @inline(__always) func aggregate(_ slot: Int) -> AggValue? { slot < aggs.count ? aggs[slot] : nil }

    func update(_ spec: AggregateSpec, _ ctx: EvalContext) {
        if let f = spec.filter, !f(ctx).truthy { return }
        if aggs.count <= spec.slot { aggs.append(contentsOf: repeatElement(nil, count: spec.slot + 1 - aggs.count)) }
        switch spec.kind {
        case .count:
            if case .count(let n)? = aggs[spec.slot] { aggs[spec.slot] = .count(n &+ 1 < n ? n : n &+ 1) } else { aggs[spec.slot] = .count(1) }
        case .sum:
            let v = spec.arg!(ctx).number ?? 0
            if case .sum(let s)? = aggs[spec.slot] { aggs[spec.slot] = .sum(s + v) } else { aggs[spec.slot] = .sum(v) }
        case .max:
            guard let v = spec.arg!(ctx).number else { return }
            if case .max(let s)? = aggs[spec.slot] { aggs[spec.slot] = .max(Swift.max(s, v)) } else { aggs[spec.slot] = .max(v) }
        case .distinct:
            let values = spec.arg!(ctx).elements
            if values.isEmpty { return }
            var l: [String] = []
            if case .distinct(let old)? = aggs[spec.slot] { l = old }
            aggs[spec.slot] = nil   // unique reference: mutate in place
            for v in values where !l.contains(v) { l.append(v) }
            aggs[spec.slot] = .distinct(l)
        case .countBy:
            guard let k = spec.arg!(ctx).text else { return }
            var m: [String: Int] = [:]
            if case .countBy(let old)? = aggs[spec.slot] { m = old }
            aggs[spec.slot] = nil
            m[k] = Session.saturatingIncrement(m[k] ?? 0)
            aggs[spec.slot] = .countBy(m)
        }
    }

    @inline(__always) static func saturatingIncrement(_ n: Int) -> Int { n == Int.max ? n : n + 1 }

    var approximateBytes: Int {
        var b = 200 + user.utf8.count
        b += dedup.approximateBytes + trained.approximateBytes + aggs.count * 24 + rules.count * 8
        return b
    }
}

/// Min-heap of session expiries ordered by (expiry, user) so closing order never depends on hashing.
struct ExpiryHeap {
    struct Entry { var expiry: Int64; var user: String; var uid: UInt32 }
    private(set) var items: [Entry] = []

    var count: Int { items.count }
    var top: Entry? { items.first }

    @inline(__always) static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.expiry != b.expiry ? a.expiry < b.expiry : a.user < b.user
    }

    /// Interner compaction: renumbers each entry's user id; entries whose id was dropped (their session is
    /// gone: a stale entry, skipped when popped) are removed. Pop order is by (expiry, user) whatever the
    /// array's shape, and a stale entry never closes a session earlier than its own entry would.
    mutating func renumber(_ remap: [UInt32]) {
        let old = items
        items.removeAll(keepingCapacity: false)
        for var e in old where Int(e.uid) < remap.count && remap[Int(e.uid)] != UInt32.max {
            e.uid = remap[Int(e.uid)]
            push(e)
        }
    }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if ExpiryHeap.less(items[i], items[p]) { items.swapAt(i, p); i = p } else { break }
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, ExpiryHeap.less(items[l], items[m]) { m = l }
                if r < items.count, ExpiryHeap.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m); i = m
            }
        }
        return top
    }
}
