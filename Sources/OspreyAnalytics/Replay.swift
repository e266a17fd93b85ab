import OspreyCore

/// Feeds events to an engine in time order and writes its outputs as JSON lines (docs/architecture.md#outputs).
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
        public var reorderWindowMillis: Int64 = ReorderBuffer.defaultWindowMillis
        public var maxBuffered = 1_000_000
        /// Output is handed to the sink in chunks of about this many bytes (and at `finish`).
        public var flushBytes = 1 << 16
        public init() {}
    }

    public let engine: AnalyticsEngine
    public let options: Options
    private let sink: ([UInt8]) -> Void
    private var buffer: ReorderBuffer
    private var ready: [Event] = []
    private var writer = OutputJSONWriter()
    private var outputs: [AnalyticsOutput] = []

    /// Events put back in time order.
    public var reordered: Int { buffer.reordered }
    /// Events that came later than the window allows (processed at the engine clock).
    public var late: Int { buffer.late }
    public private(set) var events = 0
    public private(set) var lines = 0

    public init(engine: AnalyticsEngine, options: Options = Options(), sink: @escaping ([UInt8]) -> Void) {
        self.engine = engine
        self.options = options
        self.sink = sink
        buffer = ReorderBuffer(windowMillis: options.reorderWindowMillis, maxBuffered: options.maxBuffered)
    }

    public func push(_ e: Event) {
        events += 1
        buffer.push(e, into: &ready)
        releaseReady()
    }

    private func releaseReady() {
        for e in ready { release(e) }
        ready.removeAll(keepingCapacity: true)
    }

    public func push<S: Sequence>(contentsOf events: S) where S.Element == Event {
        for e in events { push(e) }
    }

    /// Drains the buffer, closes every session and flushes the output.
    public func finish() {
        buffer.finish(into: &ready)
        releaseReady()
        for o in engine.finish() { write(o) }
        flush()
    }

    private func release(_ e: Event) {
        outputs.removeAll(keepingCapacity: true)
        engine.process(e, into: &outputs)
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
}
