import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing
import OspreyPipeline
import OspreyState

/// Files to read: each argument as given, directories expanded to their `.log`/`.gz`/`.json` files by name.
func expandInputs(_ args: [String]) throws -> [String] {
    var out: [String] = []
    for a in args.isEmpty ? ["-"] : args {
        var isDir: ObjCBool = false
        if a != "-", FileManager.default.fileExists(atPath: a, isDirectory: &isDir), isDir.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: a).filter {
                $0.hasSuffix(".log") || $0.hasSuffix(".gz") || $0.hasSuffix(".json") || $0.hasSuffix(".jsonl")
            }.sorted()
            out += names.map { a + "/" + $0 }
        } else {
            out.append(a)
        }
    }
    return out
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole pipeline over history in time order and write rule triggers and sessions as JSON lines.")

    @Argument(help: "Input files or directories (plain or .gz); '-' or none reads stdin.") var files: [String] = []
    @Option(help: "The organization's context directory (users.csv, domains, lists, geo).") var context: String?
    @Option(help: "Where to write the JSON lines ('-' for stdout).") var out: String
    @Option(help: "Reorder window for out-of-order input, in seconds.") var reorderSeconds: Int = ReorderBuffer.defaultWindowSeconds
    @Option(help: "Sessions at or above this score are notable; a {\"kind\":\"notable\"} line is written when an open session crosses it.")
    var notableThreshold: Int = 90
    @Option(help: "State directory (SQLite): resume from it and save checkpoints to it.") var state: String?
    @Option(help: "With --state: checkpoint every this many input records.") var checkpointRecords: Int = 50_000
    @Flag(help: "With --state: close every open session at the end of input (replay without --state always does).")
    var finish = false
    @Flag(help: "No progress line on a terminal.") var quiet = false
    @Option(help: "With --state and stdin: the name the stream's position is saved under (stdin has no file identity).")
    var sourceId: String?
    @Flag(help: "With --state: move the existing state database aside (osprey.sqlite.old-TIMESTAMP) and start afresh.")
    var resetState = false
    @Option(help: "Quarantine events more than this many seconds ahead of the latest event time seen (0 = off).")
    var maxFutureSkew: Int = 86_400
    @Option(help: "Write every reject (parser and time checks) as JSON lines to this file.")
    var rejects: String?
    @Option(help: "Threads: 2 reads and parses on a thread of its own, ahead of the rest of the pipeline; 1 runs all on one. The output is the same.")
    var threads: Int = 2
    @OptionGroup var contentOptions: ContentOptions

    func validate() throws {
        guard notableThreshold >= 1 else { throw ValidationError("--notable-threshold must be at least 1") }
        guard threads == 1 || threads == 2 else { throw ValidationError("--threads must be 1 or 2") }
        guard maxFutureSkew >= 0, maxFutureSkew <= 100 * 365 * 86_400 else {
            throw ValidationError("--max-future-skew: expected 0…3153600000 seconds")
        }
        if resetState && state == nil { throw ValidationError("--reset-state needs --state DIR") }
        if state != nil, sourceId == nil, (files.isEmpty || files.contains("-")) {
            throw ValidationError("--state with stdin needs --source-id NAME: stdin has no file identity, so its position is saved under that name")
        }
    }

    func run() throws {
        let skew: Int64? = maxFutureSkew == 0 ? nil : Int64(maxFutureSkew) * 1000
        let rejectOut = try rejects.map { try OutputWriter(path: $0) }
        defer { rejectOut?.flush() }
        if let state {
            if resetState, let old = try StateStore.moveAside(directory: state) {
                FileHandle.standardError.write("osprey replay: old state moved aside to \(old)\n".data(using: .utf8)!)
            }
            let summary: String
            do {
                summary = try ReplayRunner.runDurable(inputs: try expandInputs(files), context: context, out: out,
                                                      content: contentOptions.content, reorderSeconds: reorderSeconds,
                                                      notableThreshold: notableThreshold, state: state, checkpointRecords: checkpointRecords, finish: finish,
                                                      sourceId: sourceId, maxFutureSkewMillis: skew, rejects: rejectOut, threads: threads)
            } catch let e as StateError {
                throw CLIError("\(e)")
            }
            FileHandle.standardError.write(summary.data(using: .utf8)!)
            return
        }
        let summary = try ReplayRunner.run(inputs: try expandInputs(files), context: context, out: out,
                                           content: contentOptions.content, reorderSeconds: reorderSeconds,
                                           notableThreshold: notableThreshold, quiet: quiet,
                                           maxFutureSkewMillis: skew, rejects: rejectOut, threads: threads)
        FileHandle.standardError.write(summary.data(using: .utf8)!)
    }
}

enum ReplayRunner {
    /// Replay with durable state: skips what earlier runs consumed, checkpoints every `checkpointRecords`
    /// records, and writes `out` as the state's whole alert log (rewritten from the database, then appended
    /// as checkpoints commit), so a killed and restarted run leaves the same file as an uninterrupted one.
    static func runDurable(inputs: [String], context: String?, out: String, content: String?, reorderSeconds: Int,
                           notableThreshold: Int = 90, state: String, checkpointRecords: Int, finish: Bool, sourceId: String? = nil,
                           maxFutureSkewMillis: Int64? = 86_400_000, rejects: OutputWriter? = nil, threads: Int = 2) throws -> String {
        var options = PipelineOptions(contentDirectory: content ?? OspreyContent.directory.path, contextDirectory: context)
        options.reorderWindowMillis = Int64(reorderSeconds) * 1000
        options.maxFutureSkewMillis = maxFutureSkewMillis
        options.analytics.notableScore = notableThreshold
        let writer = out == "-" ? OutputWriter(fd: 1) : try OutputWriter(path: out)
        let durable: DurablePipeline
        do {
            durable = try DurablePipeline(options: options, stateDirectory: state, checkpointEvery: checkpointRecords) { batch in
                for o in batch { writer.write(o.line + "\n") }
                writer.flush()
            }
        } catch let e as ContentError {
            throw CLIError("content error: \(e)")
        }
        for (_, line) in try durable.store.alertLines() { writer.write(line + "\n") }
        writer.flush()
        let started = Date()
        var skipped = 0, read = 0
        var notes = ""
        var current = "", lineNo = 0
        if let rejects {
            durable.pipeline.onReject = { r, text in ReplayRunner.writeReject(rejects, path: current, line: lineNo, reject: r, text: text) }
        }
        for path in inputs {
            let plan = try durable.plan(path: path, sourceId: sourceId)
            if let why = plan.restarted { notes += "  \(path): \(why); read from its start\n" }
            let source = plan.source, done = plan.skip
            var index = 0
            current = path; lineNo = 0
            let reader = try LineReader(path: path)
            // Positions and checkpoints follow the records processed here, not those the parse thread is at.
            try ReplayFeed.forEach(reader: reader, parser: durable.pipeline.parser, threads: threads, skip: done) { record, parsed in
                index += 1
                switch record { case .line(_, let n), .tooLong(_, let n): lineNo += n }
                if index <= done { skipped += 1; return }
                read += 1
                switch record {
                case .tooLong(let bytes, let lines):
                    try durable.push(source: source, line: nil, reject: Reject(reason: .tooLong, detail: "\(bytes) bytes"),
                                     lines: lines, bytes: bytes)
                case .line(let b, let lines):
                    // Not parsed: blank.
                    try durable.push(source: source, line: parsed == nil ? nil : b, parsed: parsed, lines: lines, bytes: b.count + lines)
                }
            }
        }
        if finish { try durable.finish() } else { try durable.checkpoint() }
        writer.flush()
        let secs = Date().timeIntervalSince(started)
        let p = durable.pipeline.parseStats, a = durable.pipeline.analytics.stats
        var s = "osprey replay (state \(state)\(durable.restored ? ", resumed" : "")): \(read) records read, \(skipped) skipped (consumed before)"
        s += String(format: " in %.1f s; %d checkpoints", secs, durable.checkpoints)
        s += " (analytics image: \(durable.store.imageBytesWritten) bytes written of \(durable.store.imageBytesTotal) in the images)\n"
        s += "  totals in state: \(p.lines) lines, \(p.events) parsed events, \(p.rejects) rejects; \(a.ruleTriggers) rule triggers, \(a.sessionsEmitted) sessions with rules, \(a.notableSessions) notable; \(durable.seq) outputs logged\n"
        s += ReplayRunner.maintenanceLine(durable.pipeline)
        if durable.pipeline.futureRejects > 0 {
            s += "  time sanity: \(durable.pipeline.futureRejects) events quarantined as time in the future\n"
        }
        return s + notes
    }

    /// Replays `inputs` into `out`; returns the human summary.
    static func run(inputs: [String], context: String?, out: String, content: String?, reorderSeconds: Int,
                    notableThreshold: Int = 90, quiet: Bool = false,
                    maxFutureSkewMillis: Int64? = 86_400_000, rejects: OutputWriter? = nil, threads: Int = 2) throws -> String {
        var options = PipelineOptions(contentDirectory: content ?? OspreyContent.directory.path, contextDirectory: context)
        options.reorderWindowMillis = Int64(reorderSeconds) * 1000
        options.maxFutureSkewMillis = maxFutureSkewMillis
        options.analytics.notableScore = notableThreshold
        let pipeline: Pipeline
        do { pipeline = try Pipeline(options: options) } catch let e as ContentError {
            throw CLIError("content error: \(e)")
        }
        let writer = out == "-" ? OutputWriter(fd: 1) : try OutputWriter(path: out)
        var rules = 0, sessions = 0, notable = 0, live = 0
        func emit(_ o: AnalyticsOutput) {
            switch o {
            case .rule: rules += 1
            case .session(let s) where s.live: live += 1
            case .session(let s): sessions += 1; if s.notable { notable += 1 }
            }
            writer.write(o.jsonLine + "\n")
        }
        let started = Date()
        let progress = Progress("osprey replay", totalBytes: Progress.totalSize(inputs), quiet: quiet)
        var records = 0
        var consumed: Int64 = 0
        var current = "", lineNo = 0
        if let rejects {
            pipeline.onReject = { r, text in ReplayRunner.writeReject(rejects, path: current, line: lineNo, reject: r, text: text) }
        }
        for path in inputs {
            let reader = try LineReader(path: path)
            current = path; lineNo = 0
            try ReplayFeed.forEach(reader: reader, parser: pipeline.parser, threads: threads) { record, parsed in
                records += 1
                switch record { case .line(_, let n), .tooLong(_, let n): lineNo += n }
                switch record {
                case .tooLong(let bytes, let lines):
                    consumed += Int64(bytes + lines)
                    pipeline.countReject(Reject(reason: .tooLong, detail: "\(bytes) bytes"), lines: lines)
                case .line(let b, let lines):
                    consumed += Int64(b.count + lines)
                    progress.update(records: records, bytes: consumed)
                    guard let parsed else { return }   // blank
                    pipeline.push(parsed: parsed, line: b, lines: lines, emit: emit)
                }
            }
        }
        progress.finish()
        pipeline.finish(emit: emit)
        writer.flush()
        let secs = Date().timeIntervalSince(started)
        let p = pipeline.parseStats, r = pipeline.reorderStats, a = pipeline.assemblyStats, e = pipeline.enrichmentStats
        var s = "osprey replay: \(p.lines) lines, \(p.events) parsed events, \(p.rejects) rejects"
        s += String(format: " in %.1f s (%.0f lines/s)\n", secs, Double(p.lines) / max(secs, 0.001))
        s += "  reorder: \(r.reordered) put back in order, \(r.late) late (beyond the \(reorderSeconds) s window), peak held \(r.peak)\n"
        s += "  assembly: \(a.emailEvents) email events (\(a.partialEvents) partial, \(a.orphanParts) orphan parts), \(a.passThrough) passed through\n"
        s += "  enrichment: \(e.events) events, \(e.unknownUserEvents) from users not in users.csv\n"
        s += "  analytics: \(rules) rule triggers, \(sessions) sessions with rules, \(notable) notable (\(live) notable while open)\n"
        s += ReplayRunner.maintenanceLine(pipeline)
        if pipeline.futureRejects > 0 {
            s += "  time sanity: \(pipeline.futureRejects) events quarantined as time in the future\n"
        }
        if p.rejects > 0 {
            s += "  rejects per reason: " + p.rejectsByReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + "\n"
        }
        return s
    }

    static func maintenanceLine(_ p: Pipeline) -> String {
        let m = p.maintenance
        guard m.histogramsFreed > 0 || m.identitiesEvicted > 0 || m.stringsCompacted > 0 else { return "" }
        return "  bounded state: \(m.histogramsFreed) aged-out histograms freed, \(m.identitiesEvicted) identities not in users.csv evicted beyond the cap (\(m.sessionsDropped) open sessions dropped), \(m.stringsCompacted) interned strings dropped by \(m.compactions) compactions; now \(p.analytics.trackedIdentities) identities, \(p.analytics.internedStrings) strings\n"
    }

    /// One reject as a JSON line (the format of `osprey parse --rejects`); `line` is the record's last line.
    static func writeReject(_ out: OutputWriter, path: String, line: Int, reject r: Reject, text: UnsafeRawBufferPointer?) {
        var w = JSONWriter()
        w.raw("{\"file\":"); w.string(path)
        w.raw(",\"line\":"); w.int(Int64(line))
        w.raw(",\"reason\":"); w.string(r.reason.rawValue)
        w.raw(",\"detail\":"); w.string(r.detail)
        if let text { w.raw(",\"text\":"); w.string(String(decoding: text.prefix(65536), as: UTF8.self)) }
        w.raw("}\n")
        out.write(w.bytes)
    }
}
