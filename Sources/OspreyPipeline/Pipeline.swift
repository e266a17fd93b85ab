import OspreyAnalytics
import OspreyAssembly
import OspreyCore
import OspreyEnrichment
import OspreyParsing

public struct PipelineOptions: Sendable {
    /// Content directory (parsers/, mappings/, lists/, models/, rules/).
    public var contentDirectory: String
    /// The organization's context directory (users, domains, lists, geo); nil = default lists only.
    public var contextDirectory: String?
    /// Out-of-order events within this much event time are put back in order (default 10 minutes).
    public var reorderWindowMillis: Int64 = ReorderBuffer.defaultWindowMillis
    public var assembly = AssemblyConfig()
    public var analytics = AnalyticsOptions()
    /// Time sanity: an event more than this far ahead of the reference time is quarantined (counted as a
    /// "time in the future" reject, never reordered, analysed or saved, so it cannot move the engine clock).
    /// nil disables the check. Default one day.
    public var maxFutureSkewMillis: Int64? = 86_400_000
    /// The reference time in epoch ms: nil = the stream's high-water mark (the latest event time accepted so
    /// far: replay); serve passes the wall clock.
    public var wallClock: (@Sendable () -> Int64)? = nil
    /// Against the high-water mark (replay), a record beyond the skew is held, not rejected at once: when this
    /// many such records in a row agree with each other (all within the skew of the first), the stream really
    /// moved on — after a holiday with no logs, or a second archive months later — and they are accepted;
    /// when a record within the skew arrives first, the held ones were stray and are rejected. (The wall
    /// clock of serve needs no confirmation.)
    public var futureJumpConfirmations = 8
    /// Bounded state: at most this many identities not in users.csv are kept (least recently seen dropped
    /// first, with their open session and user-scoped histograms; counted). nil = no cap.
    public var maxUnknownIdentities: Int? = 100_000
    /// Bounded state maintenance runs after every this many analysed events (counted by the engine and
    /// saved with it, so a restarted run maintains at the same events).
    public var maintenanceEvery = 1 << 16
    /// Bounded state: maintenance also compacts the interner (drops strings nothing refers to) when at least
    /// this many are dead and a quarter of it; nil = never (tests compare both).
    public var compactionMinDead: Int? = AnalyticsEngine.compactionMinDead
    public init(contentDirectory: String, contextDirectory: String?) {
        self.contentDirectory = contentDirectory
        self.contextDirectory = contextDirectory
    }
}

/// One line after the stateless step (`Pipeline.parse`): the parser's results in order, and the line's
/// reorder tiebreak.
public struct ParsedLine {
    public var results: ArraySlice<ParseResult>
    public var tie: UInt64
    public init(results: ArraySlice<ParseResult>, tie: UInt64) {
        self.results = results
        self.tie = tie
    }
}

/// The whole pipeline of docs/architecture.md#pipeline for one organization, fed line by line:
/// parse → reorder (bounded window) → assemble → enrich → sessions, rules and models.
/// Replay and serve both drive it; the same lines in the same order always give the same outputs.
public final class Pipeline {
    public let parser: ParseEngine
    public let contextStore: ContextStore
    public let enricher: Enricher
    public let analytics: AnalyticsEngine
    // The per-event state is unchecked for dynamic exclusivity: a pipeline is driven by one thread at a time
    // and no callback runs while one of these is being modified, and the runtime checks (a thread-local
    // access set per access) were 3% of replay across the stages.
    @exclusivity(unchecked) public var parseStats = ParseStats()
    private let options: PipelineOptions
    @exclusivity(unchecked) private var reorder: ReorderBuffer
    @exclusivity(unchecked) private var assembler: Assembler
    @exclusivity(unchecked) private var ordered: [Event] = []
    @exclusivity(unchecked) private var assembled: [Event] = []
    @exclusivity(unchecked) private var outputs: [AnalyticsOutput] = []
    /// The results of the line `push(line:…)` is parsing (kept for its capacity).
    private var parseScratch: [ParseResult] = []
    /// Sees every enriched event just before analytics (serve keeps recent events per user for the API).
    public var onEvent: ((Event) -> Void)?
    /// Sees every reject the parser or the time check makes, with the record's bytes (a rejects file).
    public var onReject: ((Reject, UnsafeRawBufferPointer) -> Void)?
    /// The latest event time accepted from the stream (time sanity's reference in replay; saved in state).
    @exclusivity(unchecked) public var highWater: Int64?
    /// Events quarantined as too far in the future.
    public private(set) var futureRejects = 0
    /// Records beyond the skew of the high-water mark, waiting to be confirmed as a jump of the stream or
    /// rejected as stray (at most `futureJumpConfirmations`; released at every checkpoint and at the end).
    private var futureHeld: [(event: Event, tie: UInt64, line: [UInt8])] = []
    /// Bounded state: what the maintenance passes released in this process.
    public private(set) var maintenance = MaintenanceReport()

    public init(options: PipelineOptions) throws {
        var options = options
        options.maintenanceEvery = max(1, options.maintenanceEvery)
        self.options = options
        let lists = options.contentDirectory + "/lists"
        parser = try ParseEngine(contentDirectory: options.contentDirectory)
        parser.spareFieldCapacity = Event.enrichmentHeadroom
        if let dir = options.contextDirectory {
            contextStore = try ContextStore(directory: dir, lists: lists)
        } else {
            contextStore = ContextStore(context: try Context.defaults(lists: lists))
        }
        enricher = Enricher(store: contextStore)
        analytics = AnalyticsEngine(content: try AnalyticsContent.load(directory: options.contentDirectory),
                                        context: EnrichmentContextProvider(store: contextStore), options: options.analytics)
        let fields = analytics.content.fields
        try fields.check(writes: AssemblyField.writes.map(\.name), at: .assembly, by: "assembly")
        try fields.check(writes: EnrichedFields.writes.map(\.name), at: .enrichment, by: "enrichment")
        reorder = ReorderBuffer(windowMillis: options.reorderWindowMillis)
        assembler = Assembler(config: options.assembly)
        analytics.tuning = try Pipeline.loadTuning(contextDirectory: options.contextDirectory, content: analytics.content)
    }

    /// `<context>/tuning.conf` (docs/tuning.md), validated against the content; none = no tuning.
    public static func loadTuning(contextDirectory: String?, content: AnalyticsContent) throws -> Tuning {
        guard let dir = contextDirectory else { return Tuning() }
        let path = dir + "/" + Pipeline.tuningFile
        guard let text = try ContentDirectory.readIfPresent(path) else { return Tuning() }
        return try Tuning.parse(text, file: path, content: content)
    }

    public static let tuningFile = "tuning.conf"

    /// Reloads the context directory and its tuning (serve: on SIGHUP or POST /api/reload). Either both
    /// load and replace the current ones, or an error is thrown and the running ones stay.
    public func reloadContext() throws {
        let tuning = try Pipeline.loadTuning(contextDirectory: options.contextDirectory, content: analytics.content)
        if options.contextDirectory != nil { try contextStore.reload() }
        analytics.tuning = tuning
    }

    /// One input line (or framed record): every output it makes final goes to `emit`, in order.
    /// The stateless step (`Pipeline.parse`) then the stateful one (`push(parsed:…)`) on this thread.
    public func push(line: UnsafeRawBufferPointer, lines: Int = 1, emit: (AnalyticsOutput) -> Void) {
        parseScratch.removeAll(keepingCapacity: true)
        let tie = Pipeline.parse(line: line, with: parser, into: &parseScratch)
        push(parsed: ParsedLine(results: parseScratch[...], tie: tie), line: line, lines: lines, emit: emit)
        parseScratch.removeAll(keepingCapacity: true)
    }

    /// The stateless step of `push`: what the parser makes of one line, appended to `results`, and the
    /// line's reorder tiebreak. It reads nothing of the pipeline's state, so replay runs it on a thread of
    /// its own (ReplayFeed); a ParseEngine is used by one thread at a time.
    public static func parse(line: UnsafeRawBufferPointer, with parser: ParseEngine, into results: inout [ParseResult]) -> UInt64 {
        parser.parse(line: line) { results.append($0) }
        return lineHash(line)
    }

    /// A line with nothing but spaces and tabs: neither parsed nor counted as a record.
    @inline(__always)
    public static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// The stateful step of `push`: one line's parse results (from `Pipeline.parse` over `line`), given in
    /// input order — time sanity, reorder, assembly, enrichment, analytics.
    public func push(parsed: ParsedLine, line: UnsafeRawBufferPointer, lines: Int = 1, emit: (AnalyticsOutput) -> Void) {
        parseStats.lines += lines
        parseStats.records += 1
        ordered.removeAll(keepingCapacity: true)
        let tie = parsed.tie
        for result in parsed.results {
            switch result {
            case .event(let e):
                if let reject = futureCheck(e) {
                    if options.wallClock == nil {
                        holdFuture(e, tie: tie, line: line, reject: reject)
                    } else {
                        rejectFuture(reject, line)
                    }
                    continue
                }
                releaseFutureHeld(accept: false)
                parseStats.count(result)
                reorder.push(e, tiebreak: tie, into: &ordered)
            case .reject(let r):
                parseStats.count(result)
                onReject?(r, line)
            case .emptyPage:
                parseStats.count(result)
            }
        }
        drain(emit)
    }

    /// Time sanity: a reject when `e` lies more than the allowed skew ahead of the reference (the wall
    /// clock, else the high-water mark); otherwise nil, and the high-water mark follows `e`.
    @inline(__always)
    private func futureCheck(_ e: Event) -> Reject? {
        let t = e.timeMillis
        if let skew = options.maxFutureSkewMillis, let ref = options.wallClock?() ?? highWater {
            let (limit, overflow) = ref.addingReportingOverflow(skew)
            if !overflow && t > limit {
                return Reject(reason: .futureTime, detail: "\(UTCTime.format(t)) is more than \(skew / 1000) s ahead of \(UTCTime.format(ref))")
            }
        }
        if highWater.map({ t > $0 }) ?? true { highWater = t }
        return nil
    }

    private func rejectFuture(_ reject: Reject, _ line: UnsafeRawBufferPointer) {
        futureRejects += 1
        parseStats.count(.reject(reject))
        onReject?(reject, line)
    }

    /// A record beyond the skew of the high-water mark: held until the stream confirms or contradicts it.
    private func holdFuture(_ e: Event, tie: UInt64, line: UnsafeRawBufferPointer, reject: Reject) {
        let skew = options.maxFutureSkewMillis ?? 0
        // A record that does not agree with the first held one ends that candidate: the held were stray.
        if let first = futureHeld.first?.event.timeMillis, abs(e.timeMillis.subtractingReportingOverflow(first).partialValue) > skew {
            releaseFutureHeld(accept: false)
        }
        futureHeld.append((e, tie, Array(line)))
        if futureHeld.count >= max(1, options.futureJumpConfirmations) { releaseFutureHeld(accept: true) }
    }

    /// Ends a held candidate: accepted (the stream moved on: the high-water mark jumps) or rejected.
    private func releaseFutureHeld(accept: Bool) {
        guard !futureHeld.isEmpty else { return }
        let held = futureHeld
        futureHeld.removeAll()
        for h in held {
            if accept {
                if highWater.map({ h.event.timeMillis > $0 }) ?? true { highWater = h.event.timeMillis }
                parseStats.count(.event(h.event))
                reorder.push(h.event, tiebreak: h.tie, into: &ordered)
            } else {
                let ref = highWater.map(UTCTime.format) ?? "-"
                let reject = Reject(reason: .futureTime,
                                    detail: "\(UTCTime.format(h.event.timeMillis)) is more than \((options.maxFutureSkewMillis ?? 0) / 1000) s ahead of \(ref)")
                h.line.withUnsafeBytes { rejectFuture(reject, $0) }
            }
        }
    }

    /// At a checkpoint or the end: held records that agree with each other (two or more) are a jump of the
    /// stream; a single one is stray.
    private func settleFutureHeld() {
        releaseFutureHeld(accept: futureHeld.count >= 2)
    }

    /// A record rejected before parsing (e.g. too long), counted like the parser's rejects.
    public func countReject(_ reject: Reject, lines: Int = 1) {
        parseStats.lines += lines
        parseStats.records += 1
        parseStats.count(.reject(reject))
    }

    /// End of input: releases held events, closes open messages and sessions.
    public func finish(emit: (AnalyticsOutput) -> Void) {
        releaseHeld(emit)
        for o in analytics.finish() { emit(o) }
    }

    /// Releases every event held by the reorder buffer and the assembler (`POST /api/flush`, and a stateless
    /// serve's shutdown, where nothing would keep them), then starts both afresh. Sessions stay open.
    /// Checkpoints do not flush: they keep the held events (`writeInFlight`).
    public func flushBuffers(emit: (AnalyticsOutput) -> Void) {
        releaseHeld(emit)
        reorder = ReorderBuffer(windowMillis: options.reorderWindowMillis)
        assembler = Assembler(config: options.assembly)
    }

    /// Event time moved on by itself (serve, input idle): the reorder buffer releases what is past its window
    /// of `t`, and the assembler closes messages whose window `t` passed. Replay never calls it (its output
    /// must depend on the input alone).
    public func advance(toMillis t: Int64, emit: (AnalyticsOutput) -> Void) {
        ordered.removeAll(keepingCapacity: true)
        reorder.advance(toMillis: t, into: &ordered)
        drain(emit)
        assembled.removeAll(keepingCapacity: true)
        assembler.advance(toMillis: t, into: &assembled)
        analyze(emit)
    }

    static let inFlightMagic: UInt32 = 0x4F53_4946   // "OSIF"
    static let inFlightVersion: UInt32 = 1

    /// The events in flight — held by the reorder buffer, the assembler and time sanity — for a checkpoint,
    /// so that a checkpoint changes nothing: a run restored from it goes on exactly as an uninterrupted one,
    /// wherever the checkpoints fell.
    public func writeInFlight(to w: inout SnapshotWriter) {
        w.u32(Pipeline.inFlightMagic); w.u32(Pipeline.inFlightVersion)
        reorder.write(to: &w)
        assembler.write(to: &w)
        w.u32(UInt32(futureHeld.count))
        for h in futureHeld {
            w.event(h.event); w.u64(h.tie)
            w.u32(UInt32(h.line.count)); w.raw(h.line)
        }
    }

    /// Restores what `writeInFlight` wrote (before any line is pushed). Throws `StateImageError` on a
    /// corrupt image; the pipeline must then be discarded.
    public func restoreInFlight(_ bytes: [UInt8]) throws {
        var r = SnapshotReader(bytes)
        guard try r.u32() == Pipeline.inFlightMagic else { throw StateImageError.badMagic }
        let version = try r.u32()
        guard version == Pipeline.inFlightVersion else { throw StateImageError.badVersion(version, expected: Pipeline.inFlightVersion) }
        reorder = try ReorderBuffer(reading: &r, windowMillis: options.reorderWindowMillis)
        assembler = try Assembler(reading: &r, config: options.assembly)
        let n = try r.count("held future records", each: 32)
        var held: [(event: Event, tie: UInt64, line: [UInt8])] = []
        for _ in 0..<n {
            let e = try r.event(), tie = try r.u64()
            let len = try r.count("held record bytes", each: 1)
            held.append((e, tie, Array(try r.take(len))))
        }
        guard r.atEnd else { throw r.corrupt("\(bytes.count - r.offset) bytes after the in-flight events") }
        futureHeld = held
    }

    /// Releases everything the reorder buffer and the assembler hold, through enrichment and analytics.
    private func releaseHeld(_ emit: (AnalyticsOutput) -> Void) {
        ordered.removeAll(keepingCapacity: true)
        settleFutureHeld()
        reorder.finish(into: &ordered)
        drain(emit)
        assembled.removeAll(keepingCapacity: true)
        assembler.finish(into: &assembled)
        analyze(emit)
    }

    /// Events held in the reorder buffer and the assembler (for lag and memory metrics).
    public var heldEvents: Int { reorder.count + assembler.stats.bufferedEvents }

    private func drain(_ emit: (AnalyticsOutput) -> Void) {
        guard !ordered.isEmpty else { return }
        assembled.removeAll(keepingCapacity: true)
        for e in ordered { assembler.push(e, into: &assembled) }
        ordered.removeAll(keepingCapacity: true)
        analyze(emit)
    }

    private func analyze(_ emit: (AnalyticsOutput) -> Void) {
        for i in assembled.indices {
            enricher.enrich(&assembled[i])
            onEvent?(assembled[i])
            outputs.removeAll(keepingCapacity: true)
            analytics.process(assembled[i], into: &outputs)
            for o in outputs { emit(o) }
            if analytics.stats.events % options.maintenanceEvery == 0 { maintain() }
        }
        assembled.removeAll(keepingCapacity: true)
    }

    /// Frees aged-out histograms and applies the unknown-identity cap (see `AnalyticsEngine.maintain`).
    public func maintain() {
        let users = contextStore.current.users
        let r = analytics.maintain(maxUnknownIdentities: options.maxUnknownIdentities, compactInterner: options.compactionMinDead != nil,
                                   compactionMinDead: options.compactionMinDead) { name in
            users.lookup(name) != nil || users.lookup(name.lowercased()) != nil
        }
        maintenance.add(r)
    }

    /// A fast 64-bit hash of the line (8 bytes at a time), the reorder tiebreak for equal times.
    static func lineHash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        while i + 8 <= b.count {
            h = (h ^ b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01B3
            h ^= h >> 29
            i += 8
        }
        while i < b.count { h = (h ^ UInt64(b[i])) &* 0x100_0000_01B3; i += 1 }
        return h ^ (h >> 32)
    }

    public var reorderStats: (reordered: Int, late: Int, peak: Int) { (reorder.reordered, reorder.late, reorder.peak) }
    public var assemblyStats: AssemblyStats { assembler.stats }
    public var enrichmentStats: EnrichmentStats { enricher.stats }
    public var analyticsStats: AnalyticsStats { analytics.stats }
}
