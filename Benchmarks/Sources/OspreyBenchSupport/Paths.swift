import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where things are, found from this file's place in the repository (Benchmarks/Sources/OspreyBenchSupport/),
/// so the suites and the report work whatever the current directory (`swift package benchmark` runs the suites
/// from the package directory, `make bench` from the repository root).
public enum BenchPaths {
    /// The repository root (the main package).
    public static var repository: URL {
        if let env = ProcessInfo.processInfo.environment["OSPREY_REPOSITORY"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `Benchmarks/`: the benchmark package.
    public static var benchmarksPackage: URL { repository.appendingPathComponent("Benchmarks") }

    /// `Benchmarks/reference/`: the Python reference parsers.
    public static var reference: URL { benchmarksPackage.appendingPathComponent("reference") }

    /// `docs/context-example`: the context directory of the enrichment benchmark.
    public static var contextExample: URL { repository.appendingPathComponent("docs/context-example") }

    /// The scratch directory `name` of this process, under the temporary directory.
    public static func scratchPath(_ name: String) -> String { NSTemporaryDirectory() + "\(name)-\(getpid())" }

    /// A fresh (empty) scratch directory `name` of this process.
    public static func scratch(_ name: String) throws -> String {
        let dir = scratchPath(name)
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// CPU time of the calling thread in nanoseconds: unlike wall time, not inflated when other processes share
/// the cores.
public func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
