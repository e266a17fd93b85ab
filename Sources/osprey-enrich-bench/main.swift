// osprey-enrich-bench: enrichment cost per event on generated events.
//
//   swift run -c release osprey-enrich-bench [--context DIR] [--lists DIR] [--geo DIR] [--events N] [--ips N]
//
// --context  a context directory (default: docs/context-example)
// --lists    the default lists (default: Content/lists)
// --geo      a directory from shared/tools/fetch_enrichment_data.sh (uses geo/dbip-country-lite.mmdb,
//            geo/dbip-asn-lite.mmdb and geo/geoip{,6}); default $OSPREY_ENRICHMENT_DATA when set
import Foundation
import OspreyCore
import OspreyEnrichment

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let contextDir = option("--context") ?? "docs/context-example"
let lists = option("--lists") ?? "Content/lists"
let geo = option("--geo") ?? ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"]
let count = Int(option("--events") ?? "") ?? 200_000
let ipCount = Int(option("--ips") ?? "") ?? 5_000

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
let events = EnrichmentBenchmark.events(count: count, context: context, distinctIPs: ipCount)
let result = EnrichmentBenchmark.run(context: context, events: events)
print("enrichment: \(result)")

// Uncached lookups, for the cost of a cache miss.
if !context.geo.isEmpty {
    var ips: [IPAddress] = []
    var state: UInt64 = 7
    for _ in 0..<100_000 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        ips.append(IPAddress(v4: UInt32(truncatingIfNeeded: state >> 32)))
    }
    var found = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    for ip in ips where context.geo.locate(ip).country != nil { found += 1 }
    let t1 = DispatchTime.now().uptimeNanoseconds
    print(String(format: "uncached geolocation (all databases + ranges): %.0f ns/lookup (%d of %d located)",
                 Double(t1 - t0) / Double(ips.count), found, ips.count))
}
