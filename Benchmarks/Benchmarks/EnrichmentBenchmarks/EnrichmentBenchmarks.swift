// The enrichment stage (ported from the former osprey-enrich-bench): generated events over the users of
// docs/context-example (with the bundled lists; geo databases from $OSPREY_ENRICHMENT_DATA when set) enriched
// one by one as the pipeline does (copied, enriched, handed on, freed), with warm and with cold caches, beside
// the loop baseline of setting one field per event (which copies the event's field arrays on first write, as
// enriching does).
import Benchmark
import Foundation
import OspreyBenchSupport
import OspreyCore
import OspreyEnrichment
import OspreySuiteCommon

/// 200,000 events over 5,000 distinct source IPs.
let eventCount = 200_000

final class EnrichmentState {
    let context: Context
    let enricher: Enricher
    let events: Ring<Event>
    init() throws {
        context = try EnrichmentInput.loadContext()
        enricher = Enricher(context: context)
        events = Ring(EnrichmentInput.events(count: eventCount, context: context, distinctIPs: 5_000))
    }
}

let benchmarks: @Sendable () -> Void = {
    Suite.configure()

    Benchmark("enrichment (warm caches)") { (benchmark: Benchmark, s: EnrichmentState) in
        var sink = 0
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                var e = s.events.next()
                s.enricher.enrich(&e)
                sink &+= e.fieldCount
            }
        }
        blackHole(sink)
    } setup: {
        let s = try EnrichmentState()
        // One pass first: the steady state of a long run has its caches filled.
        for _ in 0..<eventCount { var e = s.events.next(); s.enricher.enrich(&e) }
        return s
    }

    // A new Enricher (empty caches) for every 1,000 events; making it is not measured.
    Benchmark("enrichment (cold caches, a new enricher every 1,000 events)") { benchmark, s in
        let enricher = Enricher(context: s.context)
        benchmark.startMeasurement()
        var sink = 0
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                var e = s.events.next()
                enricher.enrich(&e)
                sink &+= e.fieldCount
            }
        }
        blackHole(sink)
    } setup: {
        try EnrichmentState()
    }

    Benchmark("floor: copy the event, set one field") { benchmark, s in
        let marker = Field.named("bench_marker")
        var sink = 0
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                var e = s.events.next()
                e[marker] = .bool(true)
                sink &+= e.fieldCount
            }
        }
        blackHole(sink)
    } setup: {
        try EnrichmentState()
    }

    // Uncached lookups (every database and range list), for the cost of a cache miss: only with geo data
    // (OSPREY_ENRICHMENT_DATA, a directory from tools/fetch_enrichment_data.sh).
    if let geo = ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"], !geo.isEmpty {
        Benchmark("geolocation, uncached lookup") { (benchmark: Benchmark, state: (Context, Ring<IPAddress>)) in
            let (context, ips) = state
            var found = 0
            benchmark.measured {
                for _ in benchmark.scaledIterations where context.geo.locate(ips.next()).country != nil { found += 1 }
            }
            blackHole(found)
        } setup: {
            let context = try EnrichmentInput.loadContext(geo: geo)
            guard !context.geo.isEmpty else { throw GeoMissing(directory: geo) }
            return (context, Ring(EnrichmentInput.randomIPv4(count: 100_000)))
        }
    }
}

struct GeoMissing: Error, CustomStringConvertible {
    var directory: String
    var description: String { "no geo databases or ranges under \(directory)/geo" }
}
