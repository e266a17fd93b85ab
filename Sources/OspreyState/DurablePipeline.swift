import Foundation
import OspreyAnalytics
import OspreyCore
import OspreyParsing
import OspreyPipeline

/// A Pipeline whose state survives restarts.
///
/// Every `checkpointEvery` records (counted over all inputs, across restarts) and at `checkpoint()`:
/// the reorder buffer and assembler are flushed (Pipeline.flushBuffers), then one SQLite transaction
/// saves the analytics state, the input positions and the outputs made since the previous checkpoint.
/// Outputs are handed to `deliver` only after their transaction committed, so an output is either
/// durable and delivered, or (killed before the commit) re-made by the restarted run from the same input.
///
/// Determinism: the outputs are a function of the input sequence and `checkpointEvery`: a run killed
/// at any moment and restarted over the same inputs delivers exactly the alerts of an uninterrupted run
/// with the same `checkpointEvery` (tested by killing the process). Without a state directory there are
/// no flushes, so a stateless replay can differ from a stateful one only where a message or an
/// out-of-order event straddles a checkpoint.
public final class DurablePipeline {
    public let pipeline: Pipeline
    public let store: StateStore
    public let checkpointEvery: Int
    public private(set) var positions: [String: StateStore.InputPosition]
    /// Records consumed over all inputs (the checkpoint schedule counts these).
    public private(set) var records: Int
    /// Seq of the last output made (committed or pending).
    public private(set) var seq: Int
    public private(set) var checkpoints = 0
    public private(set) var restored: Bool
    private var pending: [(seq: Int, output: AnalyticsOutput, line: String)] = []
    private let deliver: ([(seq: Int, output: AnalyticsOutput, line: String)]) -> Void

    public init(options: PipelineOptions, stateDirectory: String, checkpointEvery: Int,
                deliver: @escaping ([(seq: Int, output: AnalyticsOutput, line: String)]) -> Void) throws {
        pipeline = try Pipeline(options: options)
        store = try StateStore(directory: stateDirectory)
        self.checkpointEvery = max(1, checkpointEvery)
        self.deliver = deliver
        if let cp = try store.loadCheckpoint() {
            try pipeline.analytics.restore(snapshot: cp.analytics)
            pipeline.parseStats = cp.parseStats
            positions = cp.inputs
            records = cp.records
            seq = cp.seq
            restored = true
        } else {
            positions = [:]
            records = 0
            seq = 0
            restored = false
        }
    }

    /// Records of `source` already consumed by earlier runs.
    public func consumed(_ source: String) -> StateStore.InputPosition { positions[source] ?? .init() }

    private func collect(_ o: AnalyticsOutput) {
        seq += 1
        pending.append((seq, o, o.jsonLine))
    }

    /// One record of `source` (`bytes` of input, `lines` physical lines). `line` nil = a record rejected
    /// before parsing (counted with `reject`), or a blank one (both nil).
    public func push(source: String, line: UnsafeRawBufferPointer?, reject: Reject? = nil, lines: Int = 1, bytes: Int) throws {
        if let line {
            pipeline.push(line: line, lines: lines, emit: collect)
        } else if let reject {
            pipeline.countReject(reject, lines: lines)
        }
        var p = positions[source] ?? .init()
        p.records += 1; p.lines += lines; p.bytes += bytes
        positions[source] = p
        records += 1
        if records % checkpointEvery == 0 { try checkpoint() }
    }

    /// Flushes the buffers, commits, then delivers the outputs made since the last checkpoint.
    public func checkpoint() throws {
        pipeline.flushBuffers(emit: collect)
        try commit()
    }

    /// End of input for good: closes every open session, then commits (models are kept).
    public func finish() throws {
        pipeline.finish(emit: collect)
        try commit()
    }

    private func commit() throws {
        try store.save(seq: seq, records: records, analytics: pipeline.analytics.snapshot(),
                       parseStats: pipeline.parseStats, inputs: positions, newAlerts: pending)
        checkpoints += 1
        let out = pending
        pending.removeAll(keepingCapacity: true)
        if !out.isEmpty { deliver(out) }
    }
}
