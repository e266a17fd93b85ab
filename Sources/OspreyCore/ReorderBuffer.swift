/// Puts events back in time order within a bounded window of event time. An event is released once the
/// newest time seen is more than `window` past it. Events of the same millisecond are ordered by a hash of
/// their source line (then arrival), so lines that arrive swapped inside the window still come out in one
/// order: the output depends on the input's content, not on how it was chunked or interleaved. An event older than one already released is late: it
/// is released at once and counted (never dropped). At most `maxBuffered` events wait: past that the oldest
/// is released early (memory stays bounded under a flood of far-future times).
/// Used by the pipeline (before assembly) and by the analytics ReplayDriver.
public struct ReorderBuffer {
    /// The one default reorder window (10 minutes) of replay, serve, demo and calibrate.
    public static let defaultWindowMillis: Int64 = 10 * 60_000
    public static let defaultWindowSeconds = Int(defaultWindowMillis / 1000)
    public let windowMillis: Int64
    public let maxBuffered: Int
    public private(set) var reordered = 0     // arrived after a newer event, put back in place
    public private(set) var late = 0          // older than what was already released
    public private(set) var peak = 0
    // The heap orders small (time, seq, slot) keys; events stay put in `slots` (moving an Event means
    // retaining and releasing its arrays, which made sifting the heap's main cost).
    private var heap: [(time: Int64, tie: UInt64, seq: Int, slot: Int32)] = []
    private var slots: [Event?] = []
    private var freeSlots: [Int32] = []
    private var seq = 0
    private var newest = Int64.min
    private var released = Int64.min

    public init(windowMillis: Int64, maxBuffered: Int = 1_000_000) {
        self.windowMillis = windowMillis
        self.maxBuffered = max(1, maxBuffered)
    }

    public var count: Int { heap.count }

    /// Takes the event (`consuming`: moved into the buffer, not copied and retained).
    public mutating func push(_ e: consuming Event, tiebreak: UInt64 = 0, into out: inout [Event]) {
        let time = e.timeMillis
        if time < released {
            late += 1
            out.append(e)
            return
        }
        if time < newest { reordered += 1 }
        newest = max(newest, time)
        seq += 1
        let slot: Int32
        if let f = freeSlots.popLast() { slot = f; slots[Int(f)] = consume e } else { slot = Int32(slots.count); slots.append(consume e) }
        heap.append((time, tiebreak, seq, slot))
        siftUp(heap.count - 1)
        peak = max(peak, heap.count)
        while let top = heap.first, heap.count > maxBuffered || top.time <= newest &- windowMillis { if let e = pop() { out.append(e) } }
    }

    public mutating func finish(into out: inout [Event]) {
        while !heap.isEmpty { if let e = pop() { out.append(e) } }
    }

    /// Event time moved on to `t` without an event (serve, when input is idle): releases what is past the
    /// window of `t`.
    public mutating func advance(toMillis t: Int64, into out: inout [Event]) {
        newest = max(newest, t)
        while let top = heap.first, top.time <= newest &- windowMillis { if let e = pop() { out.append(e) } }
    }

    /// The held events and counters, for a checkpoint: the heap in array order, so `init(reading:)` rebuilds
    /// the same heap and later releases come out exactly as they would have.
    public func write(to w: inout SnapshotWriter) {
        w.int(reordered); w.int(late); w.int(peak); w.int(seq); w.i64(newest); w.i64(released)
        w.u32(UInt32(heap.count))
        for h in heap {
            w.i64(h.time); w.u64(h.tie); w.int(h.seq)
            if let e = slots[Int(h.slot)] { w.event(e) }
            w.spill()
        }
    }

    public init(reading r: inout SnapshotReader, windowMillis: Int64, maxBuffered: Int = 1_000_000) throws {
        self.init(windowMillis: windowMillis, maxBuffered: maxBuffered)
        reordered = try r.counter("reorder reordered"); late = try r.counter("reorder late")
        peak = try r.counter("reorder peak"); seq = try r.counter("reorder sequence")
        newest = try r.i64(); released = try r.i64()
        let n = try r.count("reorder buffer events", each: 40)
        guard n < Int(Int32.max) else { throw r.corrupt("reorder buffer: \(n) events") }
        heap.reserveCapacity(n); slots.reserveCapacity(n)
        for i in 0..<n {
            let time = try r.i64(), tie = try r.u64(), s = try r.counter("reorder entry sequence")
            let e = try r.event()
            guard e.timeMillis == time else { throw r.corrupt("reorder entry \(i): time \(time) is not its event's") }
            heap.append((time, tie, s, Int32(i)))
            slots.append(e)
        }
        for i in heap.indices.dropFirst() where less(i, (i - 1) / 2) {
            throw r.corrupt("reorder entry \(i) is out of heap order")
        }
    }

    /// The earliest event, moved out of its slot. Every heap entry's slot is filled (by `push` and by
    /// `init(reading:)`, one event per entry), so nil does not happen; it is an optional only so that no
    /// force unwrap stands here.
    private mutating func pop() -> Event? {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty { heap[0] = last; siftDown(0) }
        released = max(released, top.time)
        let e = slots[Int(top.slot)].take()   // moved out: no retain/release of its storage
        freeSlots.append(top.slot)
        return e
    }

    @inline(__always) private func less(_ a: Int, _ b: Int) -> Bool {
        (heap[a].time, heap[a].tie, heap[a].seq) < (heap[b].time, heap[b].tie, heap[b].seq)
    }

    private mutating func siftUp(_ i0: Int) {
        var i = i0
        while i > 0 {
            let p = (i - 1) / 2
            guard less(i, p) else { break }
            heap.swapAt(i, p); i = p
        }
    }

    private mutating func siftDown(_ i0: Int) {
        var i = i0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, less(l, m) { m = l }
            if r < heap.count, less(r, m) { m = r }
            if m == i { return }
            heap.swapAt(i, m); i = m
        }
    }
}
