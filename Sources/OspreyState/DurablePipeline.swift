import Foundation
import OspreyAnalytics
import OspreyCore
import OspreyParsing
import OspreyPipeline

/// A Pipeline whose state survives restarts.
///
/// Every `checkpointEvery` records (counted over all inputs, across restarts) and at `checkpoint()`:
/// one SQLite transaction saves the analytics state, the events still in flight (reorder buffer, open
/// messages, held future records), the input positions and the outputs made since the previous checkpoint.
/// Outputs are handed to `deliver` only after their transaction committed, so an output is either
/// durable and delivered, or (killed before the commit) re-made by the restarted run from the same input.
///
/// Determinism: the outputs are a function of the input sequence alone: a run killed at any moment and
/// restarted over the same inputs delivers exactly the alerts of an uninterrupted run, and a checkpoint
/// changes nothing, so a stateful replay equals a stateless one (both tested). Only an explicit flush
/// (`checkpoint(flush: true)`) and serve's idle advance release events before their time.
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
            do {
                try pipeline.analytics.restore(snapshot: cp.analytics)
                if let inFlight = cp.inFlight { try pipeline.restoreInFlight(inFlight) }
            } catch let e as StateImageError {
                throw StateError(directory: stateDirectory, problem: "\(e)")
            }
            pipeline.parseStats = cp.parseStats
            pipeline.highWater = cp.highWater
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

    /// Where to resume one input.
    public struct InputPlan: Sendable, Equatable {
        /// The key its position is saved under: the real path (symlinks resolved), or `stdin:NAME`.
        public var source: String
        /// Records earlier runs consumed from this same file (skip them).
        public var skip: Int
        /// Why it is read from its start though a position existed (rotated, truncated), else nil.
        public var restarted: String?
    }

    /// Resume by identity. A file is keyed by its real path (a symlink to a consumed file is that file) and
    /// recognised by device, inode, size and a hash of its first 4 KiB: a position is reused only when the
    /// file is the same one, at least as long as at the checkpoint, with the same head. A different file
    /// at the path (rotated) or a shorter one (truncated) is read from its start; a consumed file under
    /// another path (renamed by rotation, hard link) resumes where it was. Stdin needs a `sourceId`.
    public func plan(path: String, sourceId: String? = nil) throws -> InputPlan {
        if path == "-" {
            guard let sourceId, !sourceId.isEmpty else {
                throw StateError(directory: store.directory, problem: "stdin has no identity: name the stream with --source-id NAME")
            }
            let key = "stdin:" + sourceId
            return InputPlan(source: key, skip: positions[key]?.records ?? 0, restarted: nil)
        }
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        guard let id = FileIdentityReader.identity(of: real) else {
            // Unreadable: the reader reports it; nothing to skip.
            return InputPlan(source: real, skip: 0, restarted: nil)
        }
        if let p = positions[real] {
            guard let old = p.identity else {
                // Written by schema v1 (no identity): resume by record count, as v1 did.
                var q = p; q.identity = id; positions[real] = q
                return InputPlan(source: real, skip: p.records, restarted: nil)
            }
            if FileIdentityReader.sameFile(old, now: id, path: real) {
                var q = p; q.identity = id; positions[real] = q
                return InputPlan(source: real, skip: p.records, restarted: nil)
            }
            let why = old.device != id.device || old.inode != id.inode ? "a different file than at the last checkpoint (rotated)"
                : id.size < old.size ? "shorter than at the last checkpoint (truncated)" : "its first bytes changed (rewritten)"
            // Keep the old file's position under its identity, so that it is still recognised when read
            // under its new name (app.log.1).
            positions[real + "#dev=\(old.device),ino=\(old.inode)"] = p
            var q = StateStore.InputPosition(); q.identity = id
            positions[real] = q
            return InputPlan(source: real, skip: 0, restarted: why)
        }
        // A consumed file under another name (e.g. app.log renamed to app.log.1 by rotation).
        for (key, p) in positions.sorted(by: { $0.key < $1.key }) {
            if let old = p.identity, old.device == id.device, old.inode == id.inode,
               FileIdentityReader.sameFile(old, now: id, path: real) {
                var q = p; q.identity = id; positions[real] = q
                _ = key   // the old key keeps its row: it is still that file's position under the old name
                return InputPlan(source: real, skip: p.records, restarted: nil)
            }
        }
        var q = StateStore.InputPosition(); q.identity = id
        positions[real] = q
        return InputPlan(source: real, skip: 0, restarted: nil)
    }

    private func collect(_ o: AnalyticsOutput) {
        seq += 1
        pending.append((seq, o, o.jsonLine))
    }

    /// One record of `source` (`bytes` of input, `lines` physical lines). `line` nil = a record rejected
    /// before parsing (counted with `reject`), or a blank one (both nil). `parsed`: the line's parse
    /// results when they were made already (replay's parse thread), else the line is parsed here.
    public func push(source: String, line: UnsafeRawBufferPointer?, parsed: ParsedLine? = nil, reject: Reject? = nil,
                     lines: Int = 1, bytes: Int) throws {
        if let line, let parsed {
            pipeline.push(parsed: parsed, line: line, lines: lines, emit: collect)
        } else if let line {
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

    /// Commits (the analytics state with the events still in flight), then delivers the outputs made since
    /// the last checkpoint. `flush`: first release the events in flight (`POST /api/flush`).
    public func checkpoint(flush: Bool = false) throws {
        if flush { pipeline.flushBuffers(emit: collect) }
        try commit()
    }

    /// Serve, input idle: event time moves on to `t` (see `Pipeline.advance`); what it releases is committed
    /// and delivered at once.
    public func advance(toMillis t: Int64) throws {
        pipeline.advance(toMillis: t, emit: collect)
        if !pending.isEmpty { try commit() }
    }

    /// End of input for good: closes every open session, then commits (models are kept).
    public func finish() throws {
        pipeline.finish(emit: collect)
        try commit()
    }

    private func commit() throws {
        let engine = pipeline.analytics
        var inFlight = SnapshotWriter()
        pipeline.writeInFlight(to: &inFlight)
        try store.save(seq: seq, records: records, image: { engine.snapshot(streamingTo: $0) }, inFlight: inFlight.bytes,
                       parseStats: pipeline.parseStats, highWater: pipeline.highWater, inputs: positions, newAlerts: pending)
        checkpoints += 1
        let out = pending
        pending.removeAll(keepingCapacity: true)
        if !out.isEmpty { deliver(out) }
    }
}

/// Reads a file's identity for resume: stat (device, inode, size) and a hash of the first 4 KiB.
public enum FileIdentityReader {
    public static let headBytes = 4096

    public static func identity(of path: String) -> StateStore.FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        let n = min(headBytes, max(0, size))
        guard let h = headHash(path, n) else { return nil }
        return StateStore.FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: size, headLength: n, headHash: h)
    }

    /// The same file as at the checkpoint: same device and inode, not shorter, same first bytes.
    public static func sameFile(_ old: StateStore.FileIdentity, now: StateStore.FileIdentity, path: String) -> Bool {
        guard old.device == now.device, old.inode == now.inode, now.size >= old.size else { return false }
        if old.headLength == now.headLength { return old.headHash == now.headHash }
        return headHash(path, old.headLength) == old.headHash
    }

    /// FNV-1a 64 of the first `n` bytes (nil when they cannot be read).
    public static func headHash(_ path: String, _ n: Int) -> UInt64? {
        guard let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        guard let d = try? fh.read(upToCount: n) ?? Data(), d.count == n else { return n == 0 ? hash(Data()) : nil }
        return hash(d)
    }

    static func hash(_ d: Data) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in d { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
