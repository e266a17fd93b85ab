import Benchmark
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The configuration every suite starts from.
public enum Suite {
    /// CPU time of the benchmark's thread over the measured part of an iteration, from CLOCK_THREAD_CPUTIME_ID
    /// (nanosecond resolution). The framework's own cpuTotal is read in 10 ms ticks on Linux, coarser than a
    /// 1,000-item iteration (a few milliseconds), so it is not among the metrics.
    public static let threadCPU = BenchmarkMetric.custom("CPU time, this thread (ns)", polarity: .prefersSmaller, useScalingFactor: true)

    /// Throughput, wall clock, CPU (`threadCPU`), malloc count, peak resident memory. Peak resident memory is
    /// the process's, so it includes the benchmark's pre-generated input.
    public static let metrics: [BenchmarkMetric] = [.throughput, .wallClock, threadCPU, .mallocCountTotal, .peakMemoryResident]

    /// 1,000 lines or events per iteration (`scalingFactor: .kilo`): in the default (scaled) output the
    /// throughput is in thousands of items per second and the starred metrics are per item.
    public static func configure() {
        Benchmark.defaultConfiguration = .init(
            metrics: metrics,
            warmupIterations: 3,
            scalingFactor: .kilo,
            maxDuration: .seconds(2),
            maxIterations: 1_000_000
        )
    }

    /// The calling thread's CPU time in nanoseconds.
    public static func cpuNow() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
    }
}

extension Benchmark {
    /// Runs `body` as the measured part of the iteration and records its thread CPU time (`Suite.threadCPU`).
    /// Whatever follows (resetting state for the next iteration) is not measured.
    public func measured(_ body: () -> Void) {
        let t0 = Suite.cpuNow()
        body()
        let cpu = Suite.cpuNow() - t0
        stopMeasurement()
        measurement(Suite.threadCPU, cpu)
    }
}
