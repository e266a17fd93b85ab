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
    public var reorderWindowMillis: Int64 = 10 * 60_000
    public var assembly = AssemblyConfig()
    public var analytics = AnalyticsOptions()
    public init(contentDirectory: String, contextDirectory: String?) {
        self.contentDirectory = contentDirectory
        self.contextDirectory = contextDirectory
    }
}

/// The whole pipeline of design.md §1 for one organization, fed line by line:
/// parse → reorder (bounded window) → assemble → enrich → sessions, rules and models.
/// Replay and serve both drive it; the same lines in the same order always give the same outputs.
public final class Pipeline {
    public let parser: ParseEngine
    public let contextStore: ContextStore
    public let enricher: Enricher
    public let analytics: AnalyticsEngine
    public var parseStats = ParseStats()
    private let options: PipelineOptions
    private var reorder: ReorderBuffer
    private var assembler: Assembler
    private var ordered: [Event] = []
    private var assembled: [Event] = []
    private var outputs: [AnalyticsOutput] = []
    /// Sees every enriched event just before analytics (serve keeps recent events per user for the API).
    public var onEvent: ((Event) -> Void)?

    public init(options: PipelineOptions) throws {
        self.options = options
        let lists = options.contentDirectory + "/lists"
        parser = try ParseEngine(contentDirectory: options.contentDirectory)
        if let dir = options.contextDirectory {
            contextStore = try ContextStore(directory: dir, lists: lists)
        } else {
            contextStore = ContextStore(context: try Context.defaults(lists: lists))
        }
        enricher = Enricher(store: contextStore)
        analytics = AnalyticsEngine(content: try AnalyticsContent.load(directory: options.contentDirectory),
                                        context: EnrichmentContextProvider(store: contextStore), options: options.analytics)
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
    public func push(line: UnsafeRawBufferPointer, lines: Int = 1, emit: (AnalyticsOutput) -> Void) {
        parseStats.lines += lines
        parseStats.records += 1
        ordered.removeAll(keepingCapacity: true)
        let tie = Pipeline.lineHash(line)
        parser.parse(line: line) { result in
            parseStats.count(result)
            if case .event(let e) = result { reorder.push(e, tiebreak: tie, into: &ordered) }
        }
        drain(emit)
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

    /// A checkpoint boundary (durable state): releases every event held by the reorder buffer and the
    /// assembler, then starts both afresh, so that everything up to here lives only in the analytics state.
    /// Sessions stay open. A run that checkpoints at the same input positions gives the same outputs
    /// whether or not it was restarted there.
    public func flushBuffers(emit: (AnalyticsOutput) -> Void) {
        releaseHeld(emit)
        reorder = ReorderBuffer(windowMillis: options.reorderWindowMillis)
        assembler = Assembler(config: options.assembly)
    }

    /// Releases everything the reorder buffer and the assembler hold, through enrichment and analytics.
    private func releaseHeld(_ emit: (AnalyticsOutput) -> Void) {
        ordered.removeAll(keepingCapacity: true)
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
        }
        assembled.removeAll(keepingCapacity: true)
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
