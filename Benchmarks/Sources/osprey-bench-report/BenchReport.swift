import ArgumentParser
import Foundation
import OspreyBenchSupport
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing

// `make bench`: what Osprey's parse and whole pipeline cost per CPU-second, each measured in a child process of
// its own (CPU seconds from wait4, peak RSS its own), beside references on the same generated input:
//   - the floor: read + line split + one substring search per line (the least any parser must do), ratio to floor;
//   - a Python `re` parser of the connector lines (reference/connector_re.py): parse engine ÷ Python re;
//   - a Python json.loads floor (reference/json_floor.py): whole pipeline (`osprey replay`) ÷ Python floor.

@main
struct BenchReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osprey-bench-report",
        abstract: "Osprey's parse and pipeline throughput per CPU-second against the substring-search floor and Python references.",
        subcommands: [Report.self, Floor.self, ParseFile.self, AssemblyLogs.self, EnrichmentLogs.self, AnalyticsState.self],
        defaultSubcommand: Report.self)
}

/// The goals of docs/architecture.md ("Performance") and the issue's reference ratios.
enum Goal {
    static let connectorLinesPerCPUSecond = 1_000_000.0
    static let overPythonRe = 12.0
    static let pipelineEventsPerCPUSecond = 250_000.0
    static let overPythonJSONFloor = 2.0
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run",
        abstract: "Generate the inputs, measure every row in a child process and print rates, ratios and goals (the default).")

    @Option(help: "Mixed lines to generate (16 shapes; the connector lines among them are also measured alone).")
    var lines = 1_000_000
    @Option(help: "People in the generated organization of the whole-pipeline row.") var users = 200
    @Option(help: "Days of the generated organization (21 or more).") var days = 21
    @Option(help: "Threads of `osprey replay` (1: all on one; 2: parsing on a thread of its own).") var replayThreads = 1
    @Option(help: "The osprey executable (default: the one beside this executable, built by `swift build -c release --product osprey` in Benchmarks/).")
    var osprey: String?
    @Option(help: "The Python interpreter of the references (default: python3 on PATH).") var python: String?
    @Option(help: "The directory of the Python references.") var reference = BenchPaths.reference.path
    @Option(help: "Keep the generated inputs in this directory (default: a temporary directory, removed).") var keep: String?

    func validate() throws {
        guard lines >= 16 else { throw ValidationError("--lines must be at least 16 (one of each shape)") }
        guard users >= 30, users <= 100_000 else { throw ValidationError("--users must be between 30 and 100000") }
        guard days >= 21, days <= 3650 else { throw ValidationError("--days must be between 21 and 3650") }
        guard replayThreads == 1 || replayThreads == 2 else { throw ValidationError("--replay-threads must be 1 or 2") }
    }

    func run() throws {
        let fm = FileManager.default
        let work = keep ?? (NSTemporaryDirectory() + "osprey-bench-\(getpid())")
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if keep == nil { try? fm.removeItem(atPath: work) } }
        let mixed = work + "/mixed.log", connectors = work + "/connectors.log", orgDir = work + "/org"

        var t0 = Date()
        let connectorLines = try MixedLines.write(lines: lines, to: mixed, connectorsTo: connectors)
        let size = (try fm.attributesOfItem(atPath: mixed)[.size] as? Int) ?? 0
        print("generated \(n(lines)) lines (\(size / 1_000_000) MB, 16 shapes) in \(f1(Date().timeIntervalSince(t0))) s: \(mixed)")
        print("  \(n(connectorLines)) of them connector lines (7 shapes), also alone in \(connectors)")
        t0 = Date()
        try? fm.removeItem(atPath: orgDir)
        let org = try OrganizationInput.generate(users: users, days: days, into: orgDir)
        print("generated an organization of \(org.summary.users) accounts x \(days) days: \(n(org.summary.lines)) lines in \(org.summary.files) files (\(f1(Date().timeIntervalSince(t0))) s): \(org.logs)")

        let me = Child.me
        let ospreyPath = osprey ?? URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("osprey").path
        let haveOsprey = fm.isExecutableFile(atPath: ospreyPath)
        if !haveOsprey {
            print("osprey not found at \(ospreyPath): its rows are skipped (build it: cd Benchmarks && swift build -c release --product osprey)")
        }
        let py = Child.pythonInterpreter(python.map { $0.contains("/") ? $0 : (Child.onPath($0) ?? $0) })
        if py == nil { print("python3 not found: the Python reference is skipped") }
        let reRef = reference + "/connector_re.py", jsonRef = reference + "/json_floor.py"
        let pythonOK = py != nil && fm.fileExists(atPath: reRef) && fm.fileExists(atPath: jsonRef)
        if py != nil && !pythonOK { print("the Python references are not in \(reference): skipped") }

        print("\nrates are per CPU second of the child process (user + system, from wait4); every row but replay --threads 2 is single-threaded")

        // Mixed lines.
        var table = Table(title: "\(n(lines)) mixed lines (16 shapes)", unit: "lines")
        let floorMixed = try table.row("floor (split + substring search)", items: lines, Child.run([me, "floor", mixed]), isFloor: true)
        try table.row("parse engine + JSON out", items: lines, Child.run([me, "parse", mixed]), floor: floorMixed)
        if haveOsprey {
            let m = try Child.run([ospreyPath, "parse", mixed])
            table.row("osprey parse > /dev/null", items: lines, m, floor: floorMixed)
            if let l = m.stderr.split(separator: "\n").first { table.notes.append(String(l)) }
        }
        if pythonOK, let py {
            let m = try Child.run([py, jsonRef, mixed], captureStdout: true)
            let s = try PythonSummary(m.stdout)
            table.row("python json.loads floor", items: lines, m, floor: floorMixed)
            table.notes.append("python json.loads floor: \(n(s.events)) records read (\(n(s.json)) JSON, \(n(s.keyValue)) key=value)")
        }
        table.print()

        // Connector lines alone.
        table = Table(title: "\(n(connectorLines)) connector lines (the same lines, alone)", unit: "lines")
        let floorConn = try table.row("floor (split + substring search)", items: connectorLines, Child.run([me, "floor", connectors]), isFloor: true)
        let engine = try table.row("parse engine (events counted)", items: connectorLines,
                                   Child.run([me, "parse", "--no-output", connectors]), floor: floorConn)
        var pythonRe: Double?
        if pythonOK, let py {
            let m = try Child.run([py, reRef, connectors], captureStdout: true)
            let s = try PythonSummary(m.stdout)
            pythonRe = table.row("python re parser", items: connectorLines, m, floor: floorConn)
            table.notes.append("python re parser: \(n(s.events)) events, \(f1(Double(s.fields) / Double(max(1, s.events)))) fields each")
        }
        table.print()

        // The whole pipeline, against the Python floor.
        var replayRate: Double?, pythonFloor: Double?
        if haveOsprey || pythonOK {
            table = Table(title: "whole pipeline over the organization (\(n(org.summary.lines)) lines); floor: python json.loads", unit: "events")
            if pythonOK, let py {
                let m = try Child.run([py, jsonRef, org.logs], captureStdout: true)
                let s = try PythonSummary(m.stdout)
                pythonFloor = table.row("python json.loads floor", items: s.events, m, isFloor: true)
                table.notes.append("python json.loads floor: \(n(s.events)) records read (\(n(s.json)) JSON, \(n(s.keyValue)) key=value)")
            }
            if haveOsprey {
                let m = try Child.run([ospreyPath, "replay", org.logs, "--context", org.context, "--out", "/dev/null",
                                       "--quiet", "--threads", String(replayThreads)])
                guard let (replayLines, events) = ReplaySummary.counts(m.stderr) else {
                    throw ValidationError("cannot read the replay summary:\n\(m.stderr)")
                }
                replayRate = table.row("osprey replay --threads \(replayThreads)", items: events, m, floor: pythonFloor)
                table.notes.append("osprey replay: \(n(replayLines)) lines, \(n(events)) parsed events (\(n(Int(Double(replayLines) / m.cpuSeconds))) lines/CPU-s)")
            }
            table.print()
        }

        // Goals.
        print("\ngoals (docs/architecture.md, \"Performance\") against the figures above:")
        goal("parse engine, connector lines", "\(n(Int(engine))) lines/CPU-s", engine, Goal.connectorLinesPerCPUSecond,
             "\(n(Int(Goal.connectorLinesPerCPUSecond))) lines/CPU-s")
        if let pythonRe {
            goal("parse engine / python re", "\(f1(engine / pythonRe))x", engine / pythonRe, Goal.overPythonRe, "\(f1(Goal.overPythonRe))x")
        } else {
            print("  parse engine / python re: skipped (no python3)")
        }
        if let replayRate {
            goal("osprey replay", "\(n(Int(replayRate))) events/CPU-s", replayRate, Goal.pipelineEventsPerCPUSecond,
                 "\(n(Int(Goal.pipelineEventsPerCPUSecond))) events/CPU-s")
            if let pythonFloor {
                goal("osprey replay / python json.loads floor", "\(f1(replayRate / pythonFloor))x", replayRate / pythonFloor,
                     Goal.overPythonJSONFloor, "\(f1(Goal.overPythonJSONFloor))x")
            } else {
                print("  osprey replay / python json.loads floor: skipped (no python3)")
            }
        }
    }

    func goal(_ what: String, _ measured: String, _ value: Double, _ target: Double, _ targetText: String) {
        let verdict = value >= target ? "met" : "not met (\(f2(value / target)) of the goal)"
        print("  \(pad(what, 42)) \(pad(measured, 22)) goal >= \(pad(targetText, 22)) \(verdict)")
    }
}

/// Rows of one input, printed together.
struct Table {
    var title: String
    var unit: String
    var rows: [(String, Double, Measured, Double?)] = []
    var notes: [String] = []

    /// Adds a row; returns its rate (items per CPU second).
    @discardableResult
    mutating func row(_ name: String, items: Int, _ m: Measured, floor: Double? = nil, isFloor: Bool = false) -> Double {
        let rate = Double(items) / max(m.cpuSeconds, 1e-6)
        rows.append((name, rate, m, isFloor ? rate : floor))
        return rate
    }

    func print() {
        Swift.print("\n\(title)")
        Swift.print("  \(pad("", 32)) \(lpad("\(unit)/CPU-s", 14)) \(lpad("CPU s", 8)) \(lpad("wall s", 8)) \(lpad("peak RSS", 10))  ratio to floor")
        for (name, rate, m, floor) in rows {
            let ratio = floor.map { f3(rate / $0) } ?? ""
            Swift.print("  \(pad(name, 32)) \(lpad(n(Int(rate)), 14)) \(lpad(f2(m.cpuSeconds), 8)) \(lpad(f2(m.wallSeconds), 8)) \(lpad("\(m.peakKiB / 1024) MiB", 10))  \(ratio)")
        }
        for note in notes { Swift.print("  \(note)") }
    }
}

/// What the Python references print: {"lines": N, "events": N, ...}.
struct PythonSummary {
    var lines = 0, events = 0, json = 0, keyValue = 0, fields = 0
    init(_ text: String) throws {
        guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ValidationError("unexpected output of a Python reference: \(text)")
        }
        lines = o["lines"] as? Int ?? 0
        events = o["events"] as? Int ?? 0
        json = o["json"] as? Int ?? 0
        keyValue = o["key_value"] as? Int ?? 0
        fields = o["fields"] as? Int ?? 0
    }
}

/// The counts of `osprey replay`'s summary line: "osprey replay: N lines, M parsed events, …".
enum ReplaySummary {
    static func counts(_ stderr: String) -> (lines: Int, events: Int)? {
        guard let m = stderr.firstMatch(of: /osprey replay: (\d+) lines, (\d+) parsed events/),
              let lines = Int(m.1), let events = Int(m.2) else { return nil }
        return (lines, events)
    }
}

// MARK: the children

struct Floor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The floor (what the report runs in a child): read FILE, split lines, one substring search per line.")
    @Argument(help: "The file.") var file: String

    func run() throws {
        let reader = try LineReader(path: file)
        let needle = Array(MixedLines.connectorMarker.utf8)
        var hits = 0, lines = 0
        try reader.forEach { rec in
            lines += 1
            if case .line(let b, _) = rec, Bytes.contains(needle, in: b) { hits += 1 }
        }
        FileHandle.standardError.write("floor: \(lines) lines, \(hits) connector lines\n".data(using: .utf8)!)
    }
}

struct ParseFile: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse",
        abstract: "The parse engine on every line of FILE (what the report runs in a child), events written as JSON lines to /dev/null as `osprey parse` writes them.")
    @Flag(help: "Count the events instead of writing them.") var noOutput = false
    @Argument(help: "The file.") var file: String

    func run() throws {
        let engine = try ParseEngine(contentDirectory: OspreyContent.directory.path)
        let reader = try LineReader(path: file)
        let out = try OutputWriter(path: "/dev/null")
        var w = JSONWriter(capacity: 4096)
        var stats = ParseStats()
        let write = !noOutput
        try reader.forEach { rec in
            stats.lines += 1
            guard case .line(let b, _) = rec else { return }
            engine.parse(line: b) { r in
                stats.count(r)
                if write, case .event(let e) = r {
                    w.bytes.removeAll(keepingCapacity: true)
                    w.event(e); w.bytes.append(0x0A)
                    out.write(w.bytes)
                }
            }
        }
        out.flush()
        FileHandle.standardError.write("parse: \(stats.lines) lines, \(stats.events) events, \(stats.rejects) rejects\n".data(using: .utf8)!)
    }
}

// MARK: formatting

/// 1234567 → "1,234,567".
func n(_ v: Int) -> String {
    let s = String(v.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return v < 0 ? "-" + out : out
}
func f1(_ v: Double) -> String { String(format: "%.1f", v) }
func f2(_ v: Double) -> String { String(format: "%.2f", v) }
func f3(_ v: Double) -> String { String(format: "%.3f", v) }
func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
