// osprey-enrich-bench: enrichment cost per event.
//
//   swift build -c release --product osprey-enrich-bench
//   .build/release/osprey-enrich-bench [--context DIR] [--lists DIR] [--geo DIR] [--events N] [--ips N]
//   .build/release/osprey-enrich-bench --logs FILE... --context DIR     (parsed real-shaped lines)
//
// --context  a context directory (default: docs/context-example)
// --lists    the default lists (default: the bundled Content/lists)
// --geo      a directory from tools/fetch_enrichment_data.sh (adds geo/dbip-country-lite.mmdb,
//            geo/dbip-asn-lite.mmdb and geo/geoip{,6} to the context); default $OSPREY_ENRICHMENT_DATA
// --logs     log files to parse with the shipped parsers (e.g. `osprey generate`'s logs/*.log with its
//            context/): enriches those events instead of generated ones and prints field counts
import ArgumentParser
import Foundation
import OspreyContent
import OspreyCore
import OspreyEnrichment
import OspreyIO
import OspreyParsing

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "osprey-enrich-bench", abstract: "Enrichment cost per event.")
    @Option(help: "A context directory.") var context = "docs/context-example"
    @Option(help: "The default lists (default: the bundled Content/lists).") var lists: String?
    @Option(help: "A directory from tools/fetch_enrichment_data.sh (default $OSPREY_ENRICHMENT_DATA).") var geo: String?
    @Option(help: "Generated events to enrich.") var events = 200_000
    @Option(help: "Distinct source IPs of the generated events.") var ips = 5_000
    @Option(parsing: .upToNextOption, help: "Log files to parse with the shipped parsers instead of generated events.") var logs: [String] = []

    func validate() throws {
        guard events > 0, ips > 0 else { throw ValidationError("--events and --ips must be positive") }
    }
}
let options = Options.parseOrExit()
let contextDir = options.context
let lists = options.lists ?? OspreyContent.directory.appendingPathComponent("lists").path
let geo = options.geo ?? ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"]
let count = options.events
let ipCount = options.ips
let logFiles = options.logs

// Copy the context to a scratch directory so a geo configuration can be added.
let fm = FileManager.default
let scratch = NSTemporaryDirectory() + "osprey-enrich-bench-\(getpid())"
try? fm.removeItem(atPath: scratch)
try fm.copyItem(atPath: contextDir, toPath: scratch)
defer { try? fm.removeItem(atPath: scratch) }
if let g = geo {
    var conf = (try? String(contentsOfFile: scratch + "/context.conf", encoding: .utf8)) ?? "[context bench]\n"
    let dbs = ["geo/dbip-country-lite.mmdb", "geo/dbip-asn-lite.mmdb"].map { g + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
    let ranges = ["geo/geoip", "geo/geoip6"].map { g + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
    if !dbs.isEmpty { conf += "geo_databases = \(dbs.joined(separator: ", "))\n" }
    if !ranges.isEmpty { conf += "geo_ranges = \(ranges.joined(separator: ", "))\n" }
    try conf.write(toFile: scratch + "/context.conf", atomically: true, encoding: .utf8)
}

let loadStart = Date()
let context: Context
do { context = try Context.load(directory: scratch, lists: lists) } catch {
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    exit(1)
}
let loadSeconds = Date().timeIntervalSince(loadStart)
print(context.summary)
print(String(format: "context load: %.2f s", loadSeconds))

var events: [Event] = []
if logFiles.isEmpty {
    events = EnrichmentBenchmark.events(count: count, context: context, distinctIPs: ipCount)
} else {
    let engine = try ParseEngine(contentDirectory: OspreyContent.directory.path)
    var rejects = 0
    for path in logFiles {
        let reader = try LineReader(path: path)
        try reader.forEach { record in
            guard case .line(let bytes, _) = record else { return }
            engine.parse(line: bytes) { r in
                switch r {
                case .event(let e): events.append(e)
                case .reject: rejects += 1
                case .emptyPage: break
                }
            }
        }
    }
    print("parsed \(events.count) events from \(logFiles.count) files (\(rejects) rejects)")
    // What enrichment added, over all events.
    let enricher = Enricher(context: context)
    var trues: [String: Int] = [:], present: [String: Int] = [:]
    var sample: [String: String] = [:]
    for ev in events {
        var e = ev
        enricher.enrich(&e)
        for i in 0..<e.fieldCount {
            let (f, v) = e.field(at: i)
            guard EF.all.contains(f) else { continue }
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
    if !enricher.stats.unknownUserSample.isEmpty { print("unknown users, first seen: \(enricher.stats.unknownUserSample.prefix(12).joined(separator: " "))") }
}
let result = EnrichmentBenchmark.run(context: context, events: events)
print("enrichment: \(result)")

// Uncached lookups, for the cost of a cache miss.
if !context.geo.isEmpty {
    var ips: [IPAddress] = []
    var rng = SplitMix64(state: 7)
    for _ in 0..<100_000 { ips.append(IPAddress(v4: UInt32(truncatingIfNeeded: rng.next() >> 32))) }
    var found = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    for ip in ips where context.geo.locate(ip).country != nil { found += 1 }
    let t1 = DispatchTime.now().uptimeNanoseconds
    print(String(format: "uncached geolocation (all databases + ranges): %.0f ns/lookup (%d of %d located)",
                 Double(t1 - t0) / Double(ips.count), found, ips.count))
}
