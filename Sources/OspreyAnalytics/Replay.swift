import OspreyCore

/// Feeds events to an engine in time order and writes its outputs as JSON lines (design.md §5).
///
/// Input may arrive slightly out of order (log shippers, the assembly stage's window): events wait in a
/// buffer ordered by (time, arrival) until the newest time seen is `reorderWindowMillis` past them, so any
/// event that arrives at most that late is put back in its place (`reordered`). An event older than
/// everything already released cannot be placed any more: it is processed at the engine's clock and
/// counted (`late`), never dropped. The buffer also releases its oldest events when it holds
/// `maxBuffered`.
///
/// The bytes written depend only on the content, options and the event sequence — not on how the
/// sequence is split into `push` calls or on `flushBytes`.
public final class ReplayDriver {
    public struct Options: Sendable {
        public var reorderWindowMillis: Int64 = 15 * 60_000
        public var maxBuffered = 1_000_000
        /// Output is handed to the sink in chunks of about this many bytes (and at `finish`).
        public var flushBytes = 1 << 16
        public init() {}
    }

    public let engine: AnalyticsEngine
    public let options: Options
    private let sink: ([UInt8]) -> Void
    private var heap: [(time: Int64, seq: UInt64, event: Event)] = []
    private var seq: UInt64 = 0
    private var newest = Int64.min
    private var released = Int64.min
    private var writer = OutputJSONWriter()
    private var outputs: [AnalyticsOutput] = []

    /// Events put back in time order.
    public private(set) var reordered = 0
    /// Events that came later than the window allows (processed at the engine clock).
    public private(set) var late = 0
    public private(set) var events = 0
    public private(set) var lines = 0

    public init(engine: AnalyticsEngine, options: Options = Options(), sink: @escaping ([UInt8]) -> Void) {
        self.engine = engine
        self.options = options
        self.sink = sink
    }

    public func push(_ e: Event) {
        events += 1
        let t = e.timeMillis
        if t < released { late += 1 } else if t < newest { reordered += 1 }
        if t > newest { newest = t }
        seq += 1
        heapPush((t, seq, e))
        while let top = heap.first,
              heap.count > options.maxBuffered || (newest != Int64.min && top.time <= newest &- options.reorderWindowMillis) {
            release(heapPop())
        }
    }

    public func push<S: Sequence>(contentsOf events: S) where S.Element == Event {
        for e in events { push(e) }
    }

    /// Drains the buffer, closes every session and flushes the output.
    public func finish() {
        while !heap.isEmpty { release(heapPop()) }
        for o in engine.finish() { write(o) }
        flush()
    }

    private func release(_ item: (time: Int64, seq: UInt64, event: Event)) {
        if item.time > released { released = item.time }
        outputs.removeAll(keepingCapacity: true)
        engine.process(item.event, into: &outputs)
        for o in outputs { write(o) }
    }

    private func write(_ o: AnalyticsOutput) {
        o.write(to: &writer)
        lines += 1
        if writer.bytes.count >= options.flushBytes { flush() }
    }

    private func flush() {
        guard !writer.bytes.isEmpty else { return }
        sink(writer.bytes)
        writer.bytes.removeAll(keepingCapacity: true)
    }

    // MARK: heap ordered by (time, arrival)

    @inline(__always) private func less(_ a: (time: Int64, seq: UInt64, event: Event), _ b: (time: Int64, seq: UInt64, event: Event)) -> Bool {
        a.time != b.time ? a.time < b.time : a.seq < b.seq
    }

    private func heapPush(_ x: (time: Int64, seq: UInt64, event: Event)) {
        heap.append(x)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if less(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { break }
        }
    }

    private func heapPop() -> (time: Int64, seq: UInt64, event: Event) {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(heap[l], heap[m]) { m = l }
                if r < heap.count, less(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m); i = m
            }
        }
        return top
    }
}
