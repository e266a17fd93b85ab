import OspreyAssembly
import OspreyCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The timing harness of the assembly benchmark (the synthetic stream is OspreyGenerator.MailStream).
enum AssemblyBenchmark {
    struct Result: Sendable {
        var eventsIn: Int
        var eventsOut: Int
        var nanosPerEvent: Double
        var baselineNanosPerEvent: Double
        var stats: AssemblyStats
        var description: String {
            let ratio = baselineNanosPerEvent > 0 ? nanosPerEvent / baselineNanosPerEvent : 0
            return "assembly: \(eventsIn) events in, \(eventsOut) out: "
                + "\(String(format1: nanosPerEvent)) ns/event (baseline copy \(String(format1: baselineNanosPerEvent)) ns/event, "
                + "ratio \(String(format1: ratio)))\n\(stats)"
        }
    }

    /// Times assembling `events` (best of `repeats`, thread CPU time, so other load on the machine counts
    /// less) against the floor of appending the same events to an array.
    static func run(_ events: [Event], config: AssemblyConfig = AssemblyConfig(), repeats: Int = 5) -> Result {
        var best = UInt64.max, bestBase = UInt64.max
        var outCount = 0
        var stats = AssemblyStats()
        for _ in 0..<max(1, repeats) {
            var copy: [Event] = []
            copy.reserveCapacity(events.count)
            let b0 = cpuNanos()
            for e in events { copy.append(e) }
            let base = cpuNanos() - b0
            if base < bestBase { bestBase = base }

            var a = Assembler(config: config)
            var out: [Event] = []
            out.reserveCapacity(events.count)
            let t0 = cpuNanos()
            for e in events { a.push(e, into: &out) }
            a.finish(into: &out)
            let d = cpuNanos() - t0
            if d < best { best = d }
            outCount = out.count
            stats = a.stats
        }
        let n = Double(max(1, events.count))
        return Result(eventsIn: events.count, eventsOut: outCount, nanosPerEvent: Double(best) / n,
                      baselineNanosPerEvent: Double(bestBase) / n, stats: stats)
    }

    /// CPU time of the calling thread in nanoseconds.
    static func cpuNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension String {
    init(format1 v: Double) {
        let scaled = (v * 10).rounded()
        let whole = Int(scaled / 10)
        let frac = Int(abs(scaled.truncatingRemainder(dividingBy: 10)))
        self = "\(whole).\(frac)"
    }
}
