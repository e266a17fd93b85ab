import ArgumentParser
import Foundation
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing
#if canImport(Glibc)
import Glibc
#endif

// Parse benchmark (release build): generates a mixed file across all input shapes, then measures, each in
// its own process so peak RSS is its own:
//   floor  — read + line split + one memmem per line (the least any parser must do)
//   parse  — the parse engine on every line, events serialized to JSON (as `osprey parse > /dev/null`)
//   cli    — the real `osprey parse FILE > /dev/null`
// Usage: osprey-bench [--lines N] [--keep FILE]   |   osprey-bench floor|parse FILE

/// Seeded draws over OspreyCore's SplitMix64.
struct Rng {
    var core: SplitMix64
    init(state: UInt64) { core = SplitMix64(state: state) }
    mutating func next() -> UInt64 { core.next() }
    mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func generate(lines: Int, to path: String) throws {
    var rng = Rng(state: 42)
    let users = (0..<2000).map { "user\($0)@northwind-example.com" }
    let partners = ["contoso-partner.example", "fabrikam.example", "gmail.com", "outlook.com", "supplier-billing.example"]
    let apps = ["Administration Console", "mimecast-moa", "Integrations", "mimecast-case-review"]
    let audit = ["User Logged On", "Logon Authentication Failed", "Search Action", "Mailbox Delegation Permission Granted"]
    let out = try OutputWriter(path: path)
    var t = Int64(1_762_000_000_000)
    func ip() -> String { "\(rng.int(223) + 1).\(rng.int(256)).\(rng.int(256)).\(rng.int(256))" }
    func iso(_ ms: Int64) -> String { String(UTCTime.format(ms).dropLast(5)) + "+0000" }
    func wrap(_ json: String, _ dproc: String) -> String {
        "<110>1 \(UTCTime.format(t)) exa-cc-01 Skyformation - 6865378086067993358 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data cs6Label=raw-event destinationServiceName =Mimecast Email Security dproc=\(dproc) requestClientApplication=Mimecast cs6=\(json)"
    }
    for i in 0..<lines {
        t += Int64(rng.int(2000))
        let u = rng.pick(users), p = "ext\(rng.int(500))@" + rng.pick(partners), code = "aC\(i)"
        let line: String
        switch i % 16 {
        case 0: line = wrap(#"{"id":"eNq\#(i)","auditType":"\#(rng.pick(audit))","user":"\#(u)","eventTime":"\#(iso(t))","eventInfo":"Successful authentication for \#(u), Date: 2026-11-02, Time: 08:15:01+0000, IP: \#(ip()), Application: \#(rng.pick(apps)), Method: Cloud","category":"authentication_logs"}"#, "Audit Events")
        case 1: line = "date=\(iso(t))|mcType=auditLog|user=\(u)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(u), IP: \(ip()), Application: \(rng.pick(apps))|app=\(rng.pick(apps))|src=\(ip()):443|action=success"
        case 2: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Dir":"Outbound","Sender":"\#(u)","Rcpt":"\#(p)","IP":"\#(ip())","Act":"Acc","MsgId":"<m\#(i)@x>","Subject":"Quarterly numbers \#(i)"}"#, "SIEM Logs")
        case 3: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Act":"Acc","AttCnt":2,"AttNames":["report\#(i).xlsx","notes.pdf"],"AttSize":\#(rng.int(5_000_000)),"MsgSize":\#(rng.int(6_000_000)),"Sender":"\#(u)","Subject":"Quarterly numbers","MsgId":"<m\#(i)@x>"}"#, "SIEM Logs")
        case 4: line = wrap(#"{"userEmailAddress":"\#(u)","fromUserEmailAddress":"\#(p)","url":"https://click.example/\#(i)","ttpDefinition":"Inbound URL","subject":"Offer","action":"allow","scanResult":"clean","category":"Business","sendingIp":"\#(ip())","date":"\#(iso(t))","route":"inbound","messageId":"<u\#(i)@x>"}"#, "TTP URL Logs")
        case 5: line = wrap(#"{"id":"MTOKEN:\#(i)","senderAddress":"\#(p)","recipientAddress":"\#(u)","subject":"Urgent","definition":"Default","hits":1,"action":"none","taggedMalicious":false,"senderIpAddress":"\#(ip())","eventTime":"\#(iso(t))","messageId":"<i\#(i)@x>"}"#, "TTP Impersonation Protect")
        case 6: line = wrap(#"{"senderAddress":"\#(p)","recipientAddress":"\#(u)","fileName":"doc\#(i).pdf","fileType":"application/pdf","result":"safe","actionTriggered":"none","date":"\#(iso(t))","route":"inbound","messageId":"<a\#(i)@x>","subject":"Docs","fileHash":"ab\#(i)"}"#, "Attachment Protection")
        case 7: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Route":"Inbound","Sender":"\#(p)","Recipient":"\#(u)","IP":"\#(ip())","MsgId":"<s\#(i)@x>","Subject":"Win","SourceIP":"\#(ip())"}"#, "SIEM Logs")
        case 8: line = #"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Dir":"Inbound","Sender":"\#(p)","Rcpt":"\#(u)","IP":"\#(ip())","Act":"Acc","MsgId":"<r\#(i)@x>","Subject":"Re: plans","SpamScore":0}"#
        case 9: line = #"{"acc":"C0A0","Delivered":true,"IP":"\#(ip())","AttCnt":0,"Dir":"Outbound","MsgId":"<d\#(i)@x>","Subject":"hello","Sender":"\#(u)","datetime":"\#(iso(t))","Rcpt":"\#(p)","AttSize":0,"Attempt":1,"Snt":\#(rng.int(90000)),"aCode":"\#(code)","Route":"Office365"}"#
        case 10: line = #"{"Act":"Acc","AttCnt":1,"AttNames":"\"a\#(i).docx\"","AttSize":\#(rng.int(90000)),"MsgId":"<p\#(i)@x>","MsgSize":\#(rng.int(100000)),"aCode":"\#(code)","acc":"C0A0","datetime":"\#(iso(t))"}"#
        case 11: line = #"{"auditType":"\#(rng.pick(audit))","user":"\#(u)","eventTime":"\#(iso(t))","eventInfo":"Failed authentication for \#(u), IP: \#(ip()), Application: \#(rng.pick(apps)), Reason: Wrong password","category":"authentication_logs","id":"e\#(i)"}"#
        case 12: line = #"{"accountId":"C0A0","aggregateId":"ag\#(i)","processingId":"p\#(i)","timestamp":\#(t),"type":"receipt","subtype":"Acc","action":"Acc","senderEnvelope":"\#(p)","recipients":"\#(u)","senderIp":"\#(ip())","direction":"Inbound","messageId":"<v\#(i)@x>","subject":"v2"}"#
        case 13: line = #"{"accountId":"C0A0","aggregateId":"ag\#(i)","timestamp":\#(t),"type":"delivery","subtype":"true","delivered":"true","destinationIp":"\#(ip())","direction":"Outbound","recipients":"\#(p)","senderEnvelope":"\#(u)","emailSize":"\#(rng.int(90000))","route":"Office365"}"#
        case 14: line = "datetime=\(iso(t))|aCode=\(code)|acc=C0A0|IP=\(ip())|Dir=Outbound|MsgId=<k\(i)@x>|Subject=\\weekly report\\|Sender=\(u)|Rcpt=\(p)|Act=Acc|SpamScore=0"
        default: line = #"{"senderAddress":"\#(u)","recipientAddress":"\#(p)","subject":"deck","eventTime":"\#(iso(t))","route":"outbound","policy":"Confidential","action":"notification","messageId":"<l\#(i)@x>"}"#
        }
        out.write(line + "\n")
    }
    out.flush()
}


/// Runs `cmd` with stdout to /dev/null and stderr to a file; returns the child's CPU seconds (user + system,
/// from wait4: the per-core figure, robust to other load on the machine), its peak RSS (KiB) and stderr.
func runChild(_ args: [String]) throws -> (Double, Int, String) {
    let errPath = NSTemporaryDirectory() + "osprey-bench-err-\(getpid())"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; posix_spawn_file_actions_destroy(&actions) }
    var pid: pid_t = 0
    let t0 = Date()
    let rc = posix_spawn(&pid, args[0], &actions, nil, &argv, environ)
    guard rc == 0 else { throw NSError(domain: "bench", code: Int(rc)) }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    _ = Date().timeIntervalSince(t0)
    let secs = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
             + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: errPath)
    return (secs, usage.ru_maxrss, err)
}

func floorRun(_ path: String) throws -> Int {
    let reader = try LineReader(path: path)
    let needle = Array("Mimecast Email Security".utf8)
    var hits = 0, lines = 0
    try reader.forEach { rec in
        lines += 1
        if case .line(let b, _) = rec, Bytes.contains(needle, in: b) { hits += 1 }
    }
    FileHandle.standardError.write("floor: \(lines) lines, \(hits) connector lines\n".data(using: .utf8)!)
    return lines
}

func parseRun(_ path: String) throws -> Int {
    let engine = try ParseEngine(contentDirectory: OspreyContent.directory.path)
    let reader = try LineReader(path: path)
    let out = try OutputWriter(path: "/dev/null")
    var w = JSONWriter(capacity: 4096)
    var stats = ParseStats()
    try reader.forEach { rec in
        stats.lines += 1
        guard case .line(let b, _) = rec else { return }
        engine.parse(line: b) { r in
            stats.count(r)
            if case .event(let e) = r {
                w.bytes.removeAll(keepingCapacity: true)
                w.event(e); w.bytes.append(0x0A)
                out.write(w.bytes)
            }
        }
    }
    out.flush()
    FileHandle.standardError.write("parse: \(stats.lines) lines, \(stats.events) events, \(stats.rejects) rejects\n".data(using: .utf8)!)
    return stats.lines
}

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "osprey-bench",
        abstract: "Parse benchmark: a generated mixed file, measured as floor, parse engine and the real CLI (each in its own process).")
    @Argument(help: "floor or parse: run one measurement on FILE (what the benchmark spawns).") var mode: String?
    @Argument(help: "The file for floor / parse.") var file: String?
    @Option(help: "Lines to generate.") var lines = 1_000_000
    @Option(help: "Keep the generated file at this path.") var keep: String?

    func validate() throws {
        if let mode {
            guard mode == "floor" || mode == "parse" else { throw ValidationError("mode must be floor or parse") }
            guard file != nil else { throw ValidationError("\(mode) needs a FILE") }
        }
        guard lines > 0 else { throw ValidationError("--lines must be positive") }
    }
}
let options = Options.parseOrExit()
if let mode = options.mode, let path = options.file {
    _ = try mode == "floor" ? floorRun(path) : parseRun(path)
    exit(0)
}
let lines = options.lines
let keep = options.keep
let file = keep ?? (NSTemporaryDirectory() + "osprey-bench-\(getpid()).log")
let g0 = Date()
try generate(lines: lines, to: file)
let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
print("generated \(lines) lines (\(size / 1_000_000) MB, 16 shapes) in \(String(format: "%.1f", Date().timeIntervalSince(g0))) s: \(file)")
let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
let cli = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("osprey").path
var rows: [(String, Double, Int)] = []
for (name, cmd) in [("floor (split + memmem)", [me, "floor", file]), ("parse engine + JSON out", [me, "parse", file]),
                    ("osprey parse > /dev/null", [cli, "parse", file])] {
    guard FileManager.default.isExecutableFile(atPath: cmd[0]) else { print("skip \(name): \(cmd[0]) not built"); continue }
    let (secs, rss, err) = try runChild(cmd)
    if name.hasPrefix("osprey"), let l = err.split(separator: "\n").first { print("  \(l)") }
    rows.append((name, secs, rss))
}
let floorRate = rows.first.map { Double(lines) / $0.1 } ?? 1
print("\nsingle-threaded; rates are lines per CPU second of the child process (user + system):")
for (name, secs, rss) in rows {
    let rate = Double(lines) / secs
    print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%10.0f", rate)) lines/s  \(String(format: "%6.2f", secs)) s CPU  peak RSS \(rss / 1024) MiB  ratio to floor \(String(format: "%.3f", rate / floorRate))")
}
print("target: parse >= 1,000,000 lines/s/core (docs/architecture.md#performance)")
if keep == nil { try? FileManager.default.removeItem(atPath: file) }
