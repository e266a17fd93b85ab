import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyAssembly
import OspreyBenchSupport
import OspreyContent
import OspreyCore
import OspreyEnrichment
import OspreyIO
import OspreyParsing

// The former harnesses' modes over real lines (e.g. `osprey generate` output), kept as diagnostics: what a
// stage costs per line on them and what it adds. Times are thread CPU time.

/// Files to read: each argument as given, directories expanded to their `.log` files by name.
func logFiles(_ args: [String]) throws -> [String] {
    var files: [String] = []
    for a in args {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: a, isDirectory: &isDir), isDir.boolValue {
            files += try OrganizationInput.logFiles(a)
        } else {
            files.append(a)
        }
    }
    return files
}

/// Every event the shipped parsers make of `files`, and the counts.
func parseAll(_ files: [String]) throws -> (events: [Event], lines: Int, rejects: Int, cpuNanos: UInt64) {
    let engine = try ParseEngine(contentDirectory: OspreyContent.directory.path)
    var events: [Event] = []
    var lines = 0, rejects = 0
    let p0 = threadCPUNanos()
    for f in files {
        try LineReader(path: f).forEach { rec in
            guard case .line(let b, _) = rec else { rejects += 1; return }
            lines += 1
            engine.parse(line: b) { r in
                switch r {
                case .event(let e): events.append(e)
                case .reject: rejects += 1
                case .emptyPage: break
                }
            }
        }
    }
    return (events, lines, rejects, threadCPUNanos() - p0)
}

struct AssemblyLogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse, time-order and assemble real lines: assembly cost per line next to the parse cost, and what the assembled events carry.")
    @Argument(help: "Log files or directories (their .log files).") var paths: [String]

    func validate() throws { guard !paths.isEmpty else { throw ValidationError("give log files or directories") } }

    func run() throws {
        let files = try logFiles(paths)
        let (events, lines, rejects, parseNs) = try parseAll(files)
        let ordered = events.indices.sorted {
            events[$0].timeMillis != events[$1].timeMillis ? events[$0].timeMillis < events[$1].timeMillis : $0 < $1
        }.map { events[$0] }
        // Best of three, thread CPU time.
        var best = UInt64.max
        var stats = AssemblyStats()
        for _ in 0..<3 {
            var a = Assembler(config: AssemblyConfig())
            var out: [Event] = []
            out.reserveCapacity(ordered.count)
            let t0 = threadCPUNanos()
            for e in ordered { a.push(e, into: &out) }
            a.finish(into: &out)
            best = min(best, threadCPUNanos() - t0)
            stats = a.stats
        }
        let perLine = Double(max(1, lines))
        let parsePerLine = Double(parseNs) / perLine, assemblyPerLine = Double(best) / perLine
        print("\(files.count) files, \(lines) lines, \(events.count) events, \(rejects) rejects")
        print("parse: \(f1(parsePerLine)) ns/line")
        print("assembly: \(f1(assemblyPerLine)) ns/line, \(f1(Double(best) / Double(max(1, events.count)))) ns/event (\(f1(assemblyPerLine / max(parsePerLine, 1e-9) * 100))% of parse)")
        print(stats)

        // What the assembled events carry.
        let (out, _) = Assembler.assemble(ordered)
        var combos: [String: Int] = [:], outcomes: [String: Int] = [:], types: [String: Int] = [:]
        var mail = 0, withDirection = 0, withRecipient = 0, withSize = 0, withAttachments = 0, withSrcIP = 0, withDestIP = 0
        var partial = 0
        for e in out where e[AssemblyField.assembled] != nil {
            mail += 1
            combos[e[AssemblyField.parts]?.text ?? "?", default: 0] += 1
            outcomes[e[AssemblyField.mailOutcome]?.text ?? "?", default: 0] += 1
            types[e.activityType.rawValue, default: 0] += 1
            if e[Fields.direction] != nil { withDirection += 1 }
            if e[Fields.destEmailAddress] != nil { withRecipient += 1 }
            if e[Fields.bytes] != nil { withSize += 1 }
            if e[Fields.emailAttachments] != nil { withAttachments += 1 }
            if e[Fields.srcIP] != nil { withSrcIP += 1 }
            if e[Fields.destIP] != nil { withDestIP += 1 }
            if e[AssemblyField.partial] == .bool(true) { partial += 1 }
        }
        print("assembled email events: \(mail); with direction \(withDirection), recipient \(withRecipient), bytes \(withSize), "
              + "attachment names \(withAttachments), connecting IP \(withSrcIP), destination IP \(withDestIP); partial \(partial)")
        print("parts:"); for (k, v) in combos.sorted(by: { $0.value > $1.value }) { print("  \(v)\t\(k)") }
        print("mail_outcome:"); for (k, v) in outcomes.sorted(by: { $0.value > $1.value }) { print("  \(v)\t\(k)") }
        print("activity types:"); for (k, v) in types.sorted(by: { $0.key < $1.key }) { print("  \(v)\t\(k)") }
    }
}

struct EnrichmentLogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse real lines and enrich their events: how often each enrichment field is set, and the cost per event (cold, then warm caches).")
    @Option(help: "A context directory (e.g. an `osprey generate` output's context/).") var context = BenchPaths.contextExample.path
    @Option(help: "A directory from tools/fetch_enrichment_data.sh (default $OSPREY_ENRICHMENT_DATA).") var geo: String?
    @Argument(help: "Log files or directories (their .log files).") var paths: [String]

    func validate() throws { guard !paths.isEmpty else { throw ValidationError("give log files or directories") } }

    func run() throws {
        let loadStart = Date()
        let ctx = try EnrichmentInput.loadContext(contextDirectory: context,
                                                   geo: geo ?? ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"])
        print(ctx.summary)
        print("context load: \(f2(Date().timeIntervalSince(loadStart))) s")
        let files = try logFiles(paths)
        let (events, _, rejects, _) = try parseAll(files)
        print("parsed \(events.count) events from \(files.count) files (\(rejects) rejects)")
        let enricher = Enricher(context: ctx)
        var trues: [String: Int] = [:], present: [String: Int] = [:]
        var sample: [String: String] = [:]
        for ev in events {
            var e = ev
            enricher.enrich(&e)
            for i in 0..<e.fieldCount {
                let (f, v) = e.field(at: i)
                guard EnrichedFields.all.contains(f) else { continue }
                present[f.name, default: 0] += 1
                if case .bool(true) = v { trues[f.name, default: 0] += 1 }
                if case .bool = v {} else if sample[f.name] == nil { sample[f.name] = v.text }
            }
        }
        for name in present.keys.sorted() {
            let t = trues[name].map { ", true in \($0)" } ?? ""
            let s = sample[name].map { ", e.g. \(String($0.prefix(60)))" } ?? ""
            print("  \(name): in \(present[name]!)\(t)\(s)")
        }
        print("stats: \(enricher.stats)")
        if !enricher.stats.unknownUserSample.isEmpty {
            print("unknown users, first seen: \(enricher.stats.unknownUserSample.prefix(12).joined(separator: " "))")
        }
        // Cost: a fresh enricher's first pass (cold caches), then the best of three warm passes.
        let timed = Enricher(context: ctx)
        var sink = 0
        func pass() -> Double {
            let t0 = threadCPUNanos()
            for ev in events { var e = ev; timed.enrich(&e); sink &+= e.fieldCount }
            return Double(threadCPUNanos() - t0) / Double(max(1, events.count))
        }
        let cold = pass()
        var warm = Double.infinity
        for _ in 0..<3 { warm = min(warm, pass()) }
        if sink == -1 { print(sink) }   // keeps the passes from being optimized away
        print("enrichment: \(events.count) events: \(Int(cold)) ns/event cold, \(Int(warm)) ns/event warm")
    }
}

/// The analytics suite's synthetic history through a fresh engine, then where its state sits: bytes per person
/// by part and the models that hold the most (what the "state per person" figure is made of).
struct AnalyticsState: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "analytics-state",
        abstract: "The analytics suite's history (seed 7) through the engine; state per person by part and by model.")
    @Option(help: "People in the synthetic history.") var users = 1_000
    @Option(help: "Days of the synthetic history.") var days = 21
    @Option(help: "Models to list, largest first.") var top = 15

    func run() throws {
        let history = AnalyticsHistory(users: users, days: days).allDays()
        let engine = try AnalyticsHistory.engine()
        var outputs: [AnalyticsOutput] = []
        for e in history { outputs.removeAll(keepingCapacity: true); engine.process(e, into: &outputs) }
        _ = engine.finish()
        let m = engine.memoryReport()
        func per(_ b: Int) -> String { "\(b / users) B" }
        print("\(history.count) events, \(users) people x \(days) days: \(per(m.totalBytes)) per person")
        print("  histograms \(per(m.histogramBytes)) (\(m.histograms) histograms, \(m.values) values), interner \(per(m.internerBytes)) (\(m.strings) strings), users \(per(m.userBytes)), sessions \(per(m.sessionBytes))")
        for row in m.byModel.prefix(top) {
            print("  \(row.model): \(per(row.bytes)) (\(row.histograms) histograms, \(row.values) values)")
        }
    }
}
