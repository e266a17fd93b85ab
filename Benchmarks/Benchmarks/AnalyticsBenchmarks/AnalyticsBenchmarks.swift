// The analytics stage (ported from the former osprey-analytics-bench): the enriched event history of a
// synthetic organization (seed 7) through the analytics engine over the bundled content, beside the floor of
// touching every event's user field once. Events go through `process(_:into:)`, as the pipeline calls it.
import Benchmark
import OspreyAnalytics
import OspreyBenchSupport
import OspreyCore
import OspreySuiteCommon

/// 1,000 people over 21 days: about 210,000 events, generated in setup (not measured).
let users = 1_000, days = 21

final class Engine {
    let engine: AnalyticsEngine
    var outputs: [AnalyticsOutput] = []
    var emitted = 0
    init() throws { engine = try AnalyticsHistory.engine() }
}

let statePerUser = BenchmarkMetric.custom("analytics state bytes per user", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Suite.configure()

    Benchmark("analytics engine (\(users) people x \(days) days, streamed)") { benchmark, s in
        let e = s.stage
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                e.outputs.removeAll(keepingCapacity: true)
                e.engine.process(s.next(), into: &e.outputs)
                e.emitted &+= e.outputs.count
            }
            if s.atEnd { e.emitted &+= e.engine.finish().count }
        }
        blackHole(e.emitted)
        s.restartIfAtEnd(failed: benchmark.error)
    } setup: {
        try StreamState(AnalyticsHistory(users: users, days: days).allDays()) { try Engine() }
    }

    // The whole history per iteration (a fresh engine each time, made outside the measurement), and the
    // engine's state at the end of it per person.
    Benchmark("analytics engine, whole history per iteration (\(users) people x \(days) days)",
              configuration: .init(metrics: Suite.metrics + [statePerUser], warmupIterations: 0, scalingFactor: .one,
                                   maxDuration: .seconds(30), maxIterations: 3)) { benchmark, history in
        let engine: AnalyticsEngine
        do { engine = try AnalyticsHistory.engine() } catch { benchmark.error("\(error)"); return }
        benchmark.startMeasurement()
        var outputs: [AnalyticsOutput] = []
        var emitted = 0
        benchmark.measured {
            for ev in history {
                outputs.removeAll(keepingCapacity: true)
                engine.process(ev, into: &outputs)
                emitted &+= outputs.count
            }
            emitted &+= engine.finish().count
        }
        blackHole(emitted)
        benchmark.measurement(statePerUser, engine.memoryReport().totalBytes / users)
    } setup: {
        AnalyticsHistory(users: users, days: days).allDays()
    }

    // Reference floor: touching every event's user field once (the cost of merely iterating the input).
    Benchmark("floor: touch every event's user field") { benchmark, ring in
        var sink = 0
        benchmark.measured {
            for _ in benchmark.scaledIterations { sink &+= ring.next().user?.utf8.count ?? 0 }
        }
        blackHole(sink)
    } setup: {
        Ring(AnalyticsHistory(users: users, days: days).allDays())
    }
}
