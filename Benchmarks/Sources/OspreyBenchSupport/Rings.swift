/// The suites measure 1,000 items per benchmark iteration (`scalingFactor: .kilo`, so the starred figures
/// are per line or per event) taken in turn from a pre-generated input, wrapping at its end. The input is
/// made in the benchmark's setup, outside the measurement.
public final class Ring<Item> {
    public let items: [Item]
    public var cursor = 0
    public init(_ items: [Item]) {
        precondition(!items.isEmpty, "a ring needs items")
        self.items = items
    }
    /// The next item, wrapping at the end.
    @inline(__always) public func next() -> Item {
        let item = items[cursor]
        cursor += 1
        if cursor == items.count { cursor = 0 }
        return item
    }
}

/// A stateful stage over a time-ordered stream (assembly, analytics, the pipeline): the stream is cut to a
/// whole number of 1,000-item batches; at its end the stage finishes (measured, as in a real run), and a new
/// stage is made for the next pass after the measurement stops.
public final class StreamState<Item, Stage> {
    public let items: [Item]
    public var cursor = 0
    public var stage: Stage
    let make: () throws -> Stage
    public init(_ items: [Item], batch: Int = 1_000, make: @escaping () throws -> Stage) throws {
        let whole = items.count / batch * batch
        precondition(whole > 0, "the stream needs at least one batch of \(batch)")
        self.items = Array(items.prefix(whole))
        self.make = make
        stage = try make()
    }
    /// Whether the last batch taken ended the stream.
    public var atEnd: Bool { cursor == items.count }
    @inline(__always) public func next() -> Item {
        let item = items[cursor]
        cursor += 1
        return item
    }
    /// Starts a new pass with a fresh stage (call after `stopMeasurement`); a stage that cannot be made is
    /// reported to `failed` (the suite's `benchmark.error`).
    public func restartIfAtEnd(failed: (String) -> Void) {
        guard atEnd else { return }
        cursor = 0
        do { stage = try make() } catch { failed("cannot restart: \(error)") }
    }
}
