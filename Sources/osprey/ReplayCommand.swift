import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing
import OspreyPipeline

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
    @Option(help: "Reorder window for out-of-order input, in seconds.") var reorderSeconds: Int = 600
    @OptionGroup var contentOptions: ContentOptions

    func run() throws {
        let summary = try ReplayRunner.run(inputs: try expandInputs(files), context: context, out: out,
                                           content: contentOptions.content, reorderSeconds: reorderSeconds)
        FileHandle.standardError.write(summary.data(using: .utf8)!)
    }
}

enum ReplayRunner {
    /// Replays `inputs` into `out`; returns the human summary.
    static func run(inputs: [String], context: String?, out: String, content: String?, reorderSeconds: Int) throws -> String {
        var options = PipelineOptions(contentDirectory: content ?? OspreyContent.directory.path, contextDirectory: context)
        options.reorderWindowMillis = Int64(reorderSeconds) * 1000
        let pipeline: Pipeline
        do { pipeline = try Pipeline(options: options) } catch let e as ContentError {
            throw ValidationError("content error: \(e)")
        }
        let writer = out == "-" ? OutputWriter(fd: 1) : try OutputWriter(path: out)
        var rules = 0, sessions = 0, notable = 0
        func emit(_ o: AnalyticsOutput) {
            switch o {
            case .rule: rules += 1
            case .session(let s): sessions += 1; if s.notable { notable += 1 }
            }
            writer.write(o.jsonLine + "\n")
        }
        let started = Date()
        for path in inputs {
            let reader = try LineReader(path: path)
            try reader.forEach { record in
                switch record {
                case .tooLong(let bytes, let lines):
                    pipeline.countReject(Reject(reason: .tooLong, detail: "\(bytes) bytes"), lines: lines)
                case .line(let b, let lines):
                    if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                    pipeline.push(line: b, lines: lines, emit: emit)
                }
            }
        }
        pipeline.finish(emit: emit)
        writer.flush()
        let secs = Date().timeIntervalSince(started)
        let p = pipeline.parseStats, r = pipeline.reorderStats, a = pipeline.assemblyStats, e = pipeline.enrichmentStats
        var s = "osprey replay: \(p.lines) lines, \(p.events) parsed events, \(p.rejects) rejects"
        s += String(format: " in %.1f s (%.0f lines/s)\n", secs, Double(p.lines) / max(secs, 0.001))
        s += "  reorder: \(r.reordered) put back in order, \(r.late) late (beyond the \(reorderSeconds) s window), peak held \(r.peak)\n"
        s += "  assembly: \(a.emailEvents) email events (\(a.partialEvents) partial, \(a.orphanParts) orphan parts), \(a.passThrough) passed through\n"
        s += "  enrichment: \(e.events) events, \(e.unknownUserEvents) from users not in users.csv\n"
        s += "  analytics: \(rules) rule triggers, \(sessions) sessions with rules, \(notable) notable\n"
        if p.rejects > 0 {
            s += "  rejects per reason: " + p.rejectsByReason.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + "\n"
        }
        return s
    }
}
