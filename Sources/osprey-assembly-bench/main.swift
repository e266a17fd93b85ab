import ArgumentParser
import Foundation
import OspreyAssembly
import OspreyContent
import OspreyCore
import OspreyGenerator
import OspreyIO
import OspreyParsing

// Assembly benchmark (release build: `swift build -c release --product osprey-assembly-bench`).
//   osprey-assembly-bench [MESSAGES]      synthetic time-ordered mail stream (default 200000 messages): assembly
//                                          cost per event against two floors (array append; one hash-join
//                                          lookup per part), default and tight buffers
//   osprey-assembly-bench logs FILE|DIR…  real lines (e.g. `osprey generate` output): parse, time-order, assemble;
//                                          assembly cost per line next to the parse cost of the same lines, and
//                                          what the assembled events carry
// Times are thread CPU time, best of several runs.

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "osprey-assembly-bench",
        abstract: "Assembly cost per event: a synthetic mail stream, or real lines with `logs FILE|DIR…`.")
    @Argument(help: "MESSAGES (synthetic stream, default 200000), or `logs` followed by files or directories.")
    var words: [String] = []

    func validate() throws {
        if words.first == "logs" { guard words.count > 1 else { throw ValidationError("logs needs files or directories") }; return }
        guard words.count <= 1 else { throw ValidationError("one MESSAGES count, or logs FILE|DIR…") }
        if let m = words.first { guard let n = Int(m), n > 0 else { throw ValidationError("MESSAGES must be a positive number: \(m)") } }
    }
}
let args = Options.parseOrExit().words
let cpu = AssemblyBenchmark.cpuNanos
func f1(_ v: Double) -> String { String(format: "%.1f", v) }

if args.first == "logs" {
    var files: [String] = []
    for a in args.dropFirst() {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: a, isDirectory: &isDir), isDir.boolValue {
            files += (try FileManager.default.contentsOfDirectory(atPath: a)).filter { $0.hasSuffix(".log") }.sorted().map { a + "/" + $0 }
        } else { files.append(a) }
    }
    let engine = try ParseEngine(contentDirectory: OspreyContent.directory.path)
    var events: [Event] = []
    var lines = 0, rejects = 0
    let p0 = cpu()
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
    let parseNs = cpu() - p0
    let ordered = events.indices.sorted { events[$0].timeMillis != events[$1].timeMillis ? events[$0].timeMillis < events[$1].timeMillis : $0 < $1 }.map { events[$0] }
    let r = AssemblyBenchmark.run(ordered, repeats: 3)
    print("\(files.count) files, \(lines) lines, \(events.count) events, \(rejects) rejects")
    print("parse: \(f1(Double(parseNs) / Double(max(1, lines)))) ns/line (debug builds are ~10x slower)")
    print("assembly: \(f1(r.nanosPerEvent * Double(events.count) / Double(max(1, lines)))) ns/line, \(f1(r.nanosPerEvent)) ns/event "
          + "(\(f1(r.nanosPerEvent * Double(events.count) / (Double(parseNs) / Double(max(1, lines))) / Double(max(1, lines)) * 100))% of parse)")
    print(r.stats)

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
        if e[F.direction] != nil { withDirection += 1 }
        if e[F.destEmailAddress] != nil { withRecipient += 1 }
        if e[F.bytes] != nil { withSize += 1 }
        if e[F.emailAttachments] != nil { withAttachments += 1 }
        if e[F.srcIP] != nil { withSrcIP += 1 }
        if e[F.destIP] != nil { withDestIP += 1 }
        if e[AssemblyField.partial] == .bool(true) { partial += 1 }
    }
    print("assembled email events: \(mail); with direction \(withDirection), recipient \(withRecipient), bytes \(withSize), "
          + "attachment names \(withAttachments), connecting IP \(withSrcIP), destination IP \(withDestIP); partial \(partial)")
    print("parts:"); for (k, v) in combos.sorted(by: { $0.value > $1.value }) { print("  \(v)\t\(k)") }
    print("mail_outcome:"); for (k, v) in outcomes.sorted(by: { $0.value > $1.value }) { print("  \(v)\t\(k)") }
    print("activity types:"); for (k, v) in types.sorted(by: { $0.key < $1.key }) { print("  \(v)\t\(k)") }
    exit(0)
}

let messages = args.first.flatMap { Int($0) } ?? 200_000
let events = MailStream.events(messages: messages, seed: 7)
print("synthetic stream: \(messages) messages, \(events.count) events (\(events.filter { $0[F.joinKey] != nil }.count) parts)")

// Floor 2: the least any hash join does — one dictionary lookup/insert per part and an append.
var bestJoin = UInt64.max
for _ in 0..<3 {
    var groups: [String: [Event]] = [:]
    let t0 = cpu()
    for e in events { if case .string(let k)? = e[F.joinKey] { groups[k, default: []].append(e) } }
    let d = cpu() - t0
    if d < bestJoin { bestJoin = d }
    precondition(!groups.isEmpty)
}
let joinFloor = Double(bestJoin) / Double(events.count)

let result = AssemblyBenchmark.run(events, repeats: 5)
print(result.description)
print("hash-join floor: \(f1(joinFloor)) ns/event; assembly / hash-join floor = \(f1(result.nanosPerEvent / joinFloor))")

let tight = AssemblyBenchmark.run(events, config: AssemblyConfig(maxOpenMessages: 256, maxBufferedEvents: 1024), repeats: 3)
print("tight buffers (256 open, 1024 buffered):")
print(tight.description)
