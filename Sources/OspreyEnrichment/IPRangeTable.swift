import OspreyCore

/// Maps IP addresses to values through disjoint, sorted ranges and a binary search.
///
/// Built from possibly overlapping ranges (CIDR lists nest: `10.0.0.0/8` and `10.1.0.0/16`); where ranges
/// overlap the smallest one wins (longest-prefix match), ties going to the entry given first.
public struct IPRangeTable<V: Sendable>: Sendable {
    public private(set) var firsts: [IPAddress] = []
    public private(set) var lasts: [IPAddress] = []
    public private(set) var slots: [Int32] = []
    public private(set) var payloads: [V] = []

    public init() {}

    public var isEmpty: Bool { firsts.isEmpty }
    /// Number of disjoint ranges after building.
    public var rangeCount: Int { firsts.count }

    /// Builds the table. `entries` may overlap; input order breaks ties between equal-sized ranges.
    public init(_ entries: [(IPRange, V)]) {
        payloads = entries.map { $0.1 }
        guard !entries.isEmpty else { return }
        // Fast path: already sorted and disjoint (tor-geoipdb, merged lists).
        var sortedDisjoint = true
        for i in 1..<entries.count where !(entries[i - 1].0.last < entries[i].0.first) { sortedDisjoint = false; break }
        if sortedDisjoint {
            firsts.reserveCapacity(entries.count); lasts.reserveCapacity(entries.count); slots.reserveCapacity(entries.count)
            for (i, e) in entries.enumerated() { append(e.0.first, e.0.last, Int32(i)) }
            return
        }
        // Sweep over boundaries; the active entry with the smallest span owns each elementary interval.
        var events: [RangeEvent] = []
        events.reserveCapacity(entries.count * 2)
        for (i, e) in entries.enumerated() {
            events.append(RangeEvent(at: e.0.first, open: true, idx: i))
            if let after = e.0.last.successor { events.append(RangeEvent(at: after, open: false, idx: i)) }
        }
        events.sort { $0.at != $1.at ? $0.at < $1.at : (!$0.open && $1.open) }
        var active: [Int] = []
        func span(_ i: Int) -> IPAddress { entries[i].0.last.minus(entries[i].0.first) }
        func best() -> Int? {
            var b: Int? = nil
            for i in active {
                if let cur = b {
                    let si = span(i), sc = span(cur)
                    if si < sc || (si == sc && i < cur) { b = i }
                } else { b = i }
            }
            return b
        }
        var k = 0
        while k < events.count {
            let point = events[k].at
            while k < events.count, events[k].at == point {
                let ev = events[k]
                if ev.open { active.append(ev.idx) } else if let pos = active.firstIndex(of: ev.idx) { active.remove(at: pos) }
                k += 1
            }
            guard let owner = best() else { continue }
            let end: IPAddress = k < events.count ? events[k].at.predecessor! : IPAddress(hi: ~0, lo: ~0)
            append(point, end, Int32(owner))
        }
    }

    private mutating func append(_ first: IPAddress, _ last: IPAddress, _ slot: Int32) {
        if let lastSlot = slots.last, lastSlot == slot, let prev = lasts.last, prev.successor == first {
            lasts[lasts.count - 1] = last
            return
        }
        firsts.append(first); lasts.append(last); slots.append(slot)
    }

    /// Index into `payloads` of the range holding `a`.
    @inline(__always) public func slot(_ a: IPAddress) -> Int? {
        var lo = 0, hi = firsts.count
        // Find the last range whose first <= a.
        while lo < hi {
            let mid = (lo + hi) >> 1
            if a < firsts[mid] { hi = mid } else { lo = mid + 1 }
        }
        guard lo > 0 else { return nil }
        let i = lo - 1
        return lasts[i] < a ? nil : Int(slots[i])
    }

    @inline(__always) public func lookup(_ a: IPAddress) -> V? {
        slot(a).map { payloads[$0] }
    }
}

struct RangeEvent { var at: IPAddress; var open: Bool; var idx: Int }

extension IPAddress {
    var successor: IPAddress? {
        if lo == ~0 { return hi == ~0 ? nil : IPAddress(hi: hi + 1, lo: 0) }
        return IPAddress(hi: hi, lo: lo + 1)
    }
    var predecessor: IPAddress? {
        if lo == 0 { return hi == 0 ? nil : IPAddress(hi: hi - 1, lo: ~0) }
        return IPAddress(hi: hi, lo: lo - 1)
    }
    func minus(_ b: IPAddress) -> IPAddress {
        let (l, borrow) = lo.subtractingReportingOverflow(b.lo)
        return IPAddress(hi: hi &- b.hi &- (borrow ? 1 : 0), lo: l)
    }
}
