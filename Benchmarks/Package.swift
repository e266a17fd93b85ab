// swift-tools-version:6.1
import PackageDescription

// Osprey's benchmarks, a package of their own so the library package does not carry the benchmark framework.
//   - Benchmarks/<Suite>/: ordo-one/benchmark suites, one per stage (parse, assembly, enrichment, analytics,
//     the whole pipeline): `swift package --allow-writing-to-package-directory benchmark` (or `make bench-suite`).
//   - osprey-bench-report: the child-process report of `make bench` (CPU seconds from wait4, peak RSS, ratio to
//     the memmem floor) with the Python reference ratios of reference/.
// Both share the input generators ported from the former Sources/osprey-*-bench harnesses (OspreyBenchSupport).
let suites = ["ParseBenchmarks", "AssemblyBenchmarks", "EnrichmentBenchmarks", "AnalyticsBenchmarks", "PipelineBenchmarks"]

let package = Package(
    name: "OspreyBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Osprey", path: ".."),
        // The MallocInterposer trait alone: malloc counts without the Linux runtime interposer (not needed here).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "OspreyBenchSupport", dependencies: [.product(name: "OspreyEngine", package: "Osprey")]),
        // The suites' common configuration (kept apart: the report must not link the benchmark framework's
        // malloc interposer, since it runs its own measured children).
        .target(name: "OspreySuiteCommon", dependencies: [.product(name: "Benchmark", package: "benchmark")],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        // Runs one measured child of the report (peak RSS of its own: see its main.c).
        .executableTarget(name: "osprey-bench-spawn"),
        .executableTarget(name: "osprey-bench-report", dependencies: [
            "OspreyBenchSupport", "osprey-bench-spawn",
            .product(name: "OspreyEngine", package: "Osprey"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    ] + suites.map { suite in
        .executableTarget(
            name: suite,
            dependencies: [
                "OspreyBenchSupport", "OspreySuiteCommon",
                .product(name: "OspreyEngine", package: "Osprey"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(suite)",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
