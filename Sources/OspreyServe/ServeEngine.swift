import Dispatch
import Foundation
import OspreyAnalytics
import OspreyCore
import OspreyParsing
import OspreyPipeline
import OspreyState

/// One record handed to the pipeline.
public enum IngestRecord: Sendable {
    case line([UInt8])
    case tooLong(Int)
}

/// Counters for /metrics (read under the engine lock).
public struct ServeCounters: Sendable {
    public var recordsIn: [String: Int] = [:]      // by transport
    public var droppedOverload = 0                  // UDP datagrams dropped while over max_pending_records
    public var connectionsTotal = 0
    public var connectionsRefused = 0
    public var connectionsTimedOut = 0
    public var httpBatches = 0
}

/// The one pipeline of the server, fed from one serial queue: every transport submits batches in the order
/// it received them, so a single connection's records are processed in order. Outputs go to the sinks and
/// to the in-memory alert index the API reads.
public final class ServeEngine: @unchecked Sendable {
    public let config: ServeConfig
    let queue = DispatchQueue(label: "osprey.pipeline")
    private let lock = NSLock()
    private var pending = 0
    private var waiters: [(Int, () -> Void)] = []
    public private(set) var counters = ServeCounters()

    // Owned by `queue`.
    let plain: Pipeline?
    let durable: DurablePipeline?
    var pipeline: Pipeline { plain ?? durable!.pipeline }
    private var seq = 0
    var sinceCheckpoint = 0  // internal: MimecastInput counts its records
    private var lastProcessedWall = Date()
    /// The stream's newest event time when input went idle, and how far idle time has advanced it.
    private var idleFrom: (wall: Date, eventMillis: Int64)?
    let index: AlertIndex
    let events: EventLog
    let sinks: Sinks
    /// Connection limits of the TCP syslog and HTTP listeners.
    let tcpLimiter: ConnectionLimiter
    let httpLimiter: ConnectionLimiter
    /// Rule triggers emitted, by rule id (for `osprey_rules_fired_total{rule}`).
    let fired = RuleCounts()
    private var timer: DispatchSourceTimer?
    /// `[input mimecast NAME]` inputs (MimecastInput.swift).
    public private(set) var mimecastInputs: [MimecastInput] = []

    public init(config: ServeConfig, contentDirectory: String) throws {
        self.config = config
        var options = PipelineOptions(contentDirectory: config.content ?? contentDirectory, contextDirectory: config.context)
        options.reorderWindowMillis = Int64(config.reorderSeconds) * 1000
        options.analytics.notableScore = config.notableThreshold
        options.maxFutureSkewMillis = config.maxFutureSkewSeconds == 0 ? nil : Int64(config.maxFutureSkewSeconds) * 1000
        options.wallClock = { Int64(Date().timeIntervalSince1970 * 1000) }
        options.maxUnknownIdentities = config.maxUnknownIdentities
        index = AlertIndex(limit: config.apiAlertLimit, memoryBytes: config.apiAlertMemoryMB << 20)
        events = EventLog(memoryBytes: config.eventLogMemoryMB << 20)
        tcpLimiter = ConnectionLimiter(max: config.maxConnections, maxPerSource: config.maxConnectionsPerSource)
        httpLimiter = ConnectionLimiter(max: config.maxConnections, maxPerSource: config.maxConnectionsPerSource)
        sinks = try Sinks(config.outputs)
        if let state = config.state {
            let idx = index, sinks = self.sinks, fired = self.fired
            durable = try DurablePipeline(options: options, stateDirectory: state, checkpointEvery: config.checkpointRecords) { batch in
                for o in batch { idx.add(seq: o.seq, o.output, line: o.line); fired.count(o.output) }
                sinks.deliver(batch)
            }
            plain = nil
            // The API sees every alert of the state; sinks resume after what they delivered.
            for (s, line) in try durable!.store.alertLines() { index.add(seq: s, nil, line: line) }
            try sinks.resume(store: durable!.store)
        } else {
            plain = try Pipeline(options: options)
            durable = nil
        }
        mimecastInputs = try config.mimecast.map { try MimecastInput(config: $0, engine: self) }
    }

    /// Starts the timer (checkpoints with state, idle advance) and the event log.
    public func start() {
        let log = events
        queue.sync { pipeline.onEvent = { log.add($0) } }
        for m in mimecastInputs { m.start() }
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + config.checkpointSeconds, repeating: config.checkpointSeconds)
        t.setEventHandler { [weak self] in
            guard let self else { return }
            self.advanceIfIdle()
            if self.durable != nil, self.sinceCheckpoint > 0 { self.checkpointNow() }
        }
        t.resume()
        timer = t
    }

    /// Input idle for a second or more: event time moves on with the wall clock from the newest event seen,
    /// so events held for reordering and open messages are released after their windows even when no newer
    /// event comes to push them out. While input flows, event time moves only with the events (a backfill
    /// through serve is reordered as replay would).
    private func advanceIfIdle() {
        let now = Date()
        guard now.timeIntervalSince(lastProcessedWall) >= 1, pipeline.heldEvents > 0, let newest = pipeline.highWater else {
            return
        }
        if idleFrom == nil { idleFrom = (lastProcessedWall, newest) }
        guard let from = idleFrom else { return }
        let idleMillis = Int64(min(now.timeIntervalSince(from.wall), 1e9) * 1000)
        let (t, overflow) = from.eventMillis.addingReportingOverflow(idleMillis)
        guard !overflow else { return }
        if let durable {
            do { try durable.advance(toMillis: t) } catch { report(error) }
        } else {
            pipeline.advance(toMillis: t, emit: emitNow)
        }
    }

    private func report(_ error: Error) {
        FileHandle.standardError.write("osprey serve: checkpoint failed: \(error)\n".data(using: .utf8)!)
    }

    private func checkpointNow(flush: Bool = false) {
        guard let durable else { return }
        do { try durable.checkpoint(flush: flush); sinceCheckpoint = 0 } catch { report(error) }
    }

    /// Stateless serve: an output goes to the API index and the sinks as it is made.
    private func emitNow(_ o: AnalyticsOutput) {
        seq += 1
        let line = o.jsonLine
        index.add(seq: seq, o, line: line)
        fired.count(o)
        sinks.deliver([(seq, o, line)])
    }

    /// Records accepted but not processed yet.
    public var pendingRecords: Int { lock.lock(); defer { lock.unlock() }; return pending }
    public var overloaded: Bool { pendingRecords >= config.maxPendingRecords }

    func count(_ update: (inout ServeCounters) -> Void) { lock.lock(); update(&counters); lock.unlock() }
    public var countersSnapshot: ServeCounters { lock.lock(); defer { lock.unlock() }; return counters }

    /// Queues a batch from one transport; `done` runs on the pipeline queue once it was processed.
    public func submit(_ records: [IngestRecord], source: String, done: (@Sendable () -> Void)? = nil) {
        guard !records.isEmpty else { done?(); return }
        lock.lock()
        pending += records.count
        counters.recordsIn[source, default: 0] += records.count
        lock.unlock()
        queue.async { [self] in
            process(records, source: source)
            lock.lock()
            pending -= records.count
            var ready: [() -> Void] = []
            waiters.removeAll { if pending <= $0.0 { ready.append($0.1); return true }; return false }
            lock.unlock()
            for r in ready { r() }
            done?()
        }
    }

    /// Async form for HTTP: waits until the batch was processed (so a client is held back by the pipeline).
    public func submitAndWait(_ records: [IngestRecord], source: String) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            submit(records, source: source) { c.resume() }
        }
    }

    /// Waits until at most `limit` records are pending.
    public func waitBelow(_ limit: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if pending <= limit { lock.unlock(); c.resume(); return }
            waiters.append((limit, { c.resume() }))
            lock.unlock()
        }
    }

    /// Calls `body` when at most `limit` records are pending (at once if so now).
    public func whenBelow(_ limit: Int, _ body: @escaping @Sendable () -> Void) {
        lock.lock()
        if pending <= limit { lock.unlock(); body(); return }
        waiters.append((limit, body))
        lock.unlock()
    }

    private func process(_ records: [IngestRecord], source: String) {
        let emit: (AnalyticsOutput) -> Void = { [self] o in emitNow(o) }
        for r in records {
            switch r {
            case .line(let bytes):
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                bytes.withUnsafeBytes { b in
                    if let durable {
                        do { try durable.push(source: source, line: b, lines: 1, bytes: b.count + 1) } catch { report(error) }
                    } else { pipeline.push(line: b, emit: emit) }
                }
            case .tooLong(let n):
                let reject = Reject(reason: .tooLong, detail: "\(n) bytes")
                if let durable {
                    do { try durable.push(source: source, line: nil, reject: reject, bytes: n) } catch { report(error) }
                }
                else { pipeline.countReject(reject) }
            }
        }
        sinceCheckpoint += records.count
        lastProcessedWall = Date()
        idleFrom = nil
    }

    /// Releases held events now and, with state, checkpoints (`POST /api/flush`).
    public func flush() async { await settle(releasing: true) }

    /// Shutdown: with state, a checkpoint keeps the events in flight for the next start; without, nothing
    /// would keep them, so they are released.
    public func shutdown() async {
        for m in mimecastInputs { await m.stop() }
        await settle(releasing: false)
        timer?.cancel()
        sinks.close()
    }

    /// On the pipeline queue: with state, a checkpoint (first releasing held events when asked); without,
    /// held events are released.
    private func settle(releasing: Bool) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                if durable != nil { checkpointNow(flush: releasing) } else { pipeline.flushBuffers(emit: emitNow) }
                c.resume()
            }
        }
    }

    /// Runs `body` on the pipeline queue (reads of pipeline state for the API and metrics).
    public func read<T>(_ body: (Pipeline) -> T) -> T { queue.sync { body(pipeline) } }

    /// Reloads the context directory and its tuning.conf on the pipeline queue (between records): both
    /// replace the running ones, or the error is returned and the running ones stay.
    public func reloadContext() async -> Error? {
        await withCheckedContinuation { (c: CheckedContinuation<Error?, Never>) in
            queue.async { [self] in
                do { try pipeline.reloadContext(); c.resume(returning: nil) } catch { c.resume(returning: error) }
            }
        }
    }
}

/// Rule triggers by rule id, counted as they are emitted.
final class RuleCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func count(_ o: AnalyticsOutput) {
        guard case .rule(let r) = o else { return }
        lock.lock(); counts[r.rule, default: 0] += 1; lock.unlock()
    }
    var snapshot: [String: Int] { lock.lock(); defer { lock.unlock() }; return counts }
}
