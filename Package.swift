// swift-tools-version:6.0
import PackageDescription

// Osprey: behavioral threat detection for Mimecast Secure Email Gateway logs.
// Targets follow the pipeline: sources → parse → enrich → sessions and models → rules → sinks.
let package = Package(
    name: "Osprey",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "osprey", targets: ["osprey"]),
        // The engine's modules, for the benchmark package in Benchmarks/ (which depends on this one by path).
        .library(name: "OspreyEngine", targets: [
            "OspreyCore", "OspreyParsing", "OspreyIO", "OspreyContent", "OspreyAssembly", "OspreyEnrichment",
            "OspreyAnalytics", "OspreyGenerator", "OspreyPipeline",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8",
                       providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CByteShims"),
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb",
                       providers: [.apt(["libmaxminddb-dev"])]),
        .target(name: "OspreyCore", dependencies: ["CByteShims"]),
        .target(name: "OspreyContent", path: "Content",
                exclude: ["README.md"],
                resources: [.copy("parsers"), .copy("mappings"), .copy("lists"), .copy("models"), .copy("rules"), .copy("attack"), .copy("fields")]),
        .target(name: "OspreyParsing", dependencies: ["OspreyCore", "CPCRE2"]),
        .target(name: "OspreyAnalytics", dependencies: ["OspreyCore", "OspreyParsing"]),
        .target(name: "OspreyIO", dependencies: ["OspreyCore", "CZlib"]),
        .target(name: "OspreyAssembly", dependencies: ["OspreyCore"]),
        .target(name: "OspreyEnrichment", dependencies: ["OspreyCore", "CMaxMindDB"]),
        .target(name: "OspreyGenerator", dependencies: ["OspreyCore", "OspreyEnrichment", "OspreyAnalytics"]),
        .target(name: "OspreyPipeline", dependencies: [
            "OspreyCore", "OspreyParsing", "OspreyAssembly", "OspreyEnrichment", "OspreyAnalytics", "OspreyIO",
        ]),
        // Durable state (SQLite through GRDB): checkpoints of the pipeline, input positions, the alert log.
        .target(name: "OspreyState", dependencies: [
            "OspreyCore", "OspreyPipeline", "OspreyAnalytics", "OspreyIO",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Serve mode: syslog (UDP/TCP) and HTTP ingest, REST API, web page, metrics, alert outputs.
        .target(name: "OspreyServe", dependencies: [
            "OspreyCore", "OspreyPipeline", "OspreyAnalytics", "OspreyState", "OspreyParsing", "OspreyCollect", "OspreyEnrichment",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Mimecast API 2.0 collector: OAuth client credentials, SIEM batch/stream, audit, TTP, DLP, release logs.
        .target(name: "OspreyCollect", dependencies: [
            "OspreyCore", "CZlib",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Linked with Debian's jemalloc (replaces malloc for the whole process): events cross from the parse
        // thread to the pipeline thread, and glibc's cross-thread frees cost 15-18% of replay's wall time
        // (paired runs, README "Benchmark").
        .executableTarget(name: "osprey", dependencies: [
            "OspreyCore", "OspreyParsing", "OspreyIO", "OspreyContent", "OspreyGenerator", "OspreyPipeline", "OspreyAnalytics",
            "OspreyState", "OspreyServe", "OspreyCollect",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [.linkedLibrary("jemalloc")]),
        // A seeded mutator over every parser family and the framing (`make fuzz`).
        .executableTarget(name: "osprey-fuzz", dependencies: [
            "OspreyCore", "OspreyParsing", "OspreyIO", "OspreyContent", "CZlib",
        ]),
        // Helpers shared by the test targets (the osprey binary, scratch directories, loopback sockets);
        // used only by test targets.
        .target(name: "OspreyTestSupport", path: "Tests/OspreyTestSupport"),
        .testTarget(name: "OspreyAnalyticsTests", dependencies: ["OspreyCore", "OspreyAnalytics"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "OspreyCoreTests", dependencies: ["OspreyCore"]),
        .testTarget(name: "OspreyPipelineTests", dependencies: [
            "OspreyCore", "OspreyPipeline", "OspreyGenerator", "OspreyIO", "OspreyAnalytics",
            "OspreyParsing", "OspreyAssembly", "OspreyEnrichment", "OspreyTestSupport",
        ], exclude: ["Fixtures"]),
        .testTarget(name: "OspreyServeTests", dependencies: [
            "OspreyCore", "OspreyServe", "OspreyState", "OspreyGenerator", "OspreyAnalytics", "OspreyTestSupport",
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "OspreyCollectTests", dependencies: [
            "OspreyCore", "OspreyCollect", "OspreyState", "OspreyServe", "OspreyGenerator", "CZlib", "OspreyTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "OspreyGeneratorTests", dependencies: ["OspreyCore", "OspreyGenerator", "OspreyParsing", "OspreyIO"]),
        .testTarget(name: "OspreyEnrichmentTests", dependencies: ["OspreyCore", "OspreyEnrichment", "OspreyGenerator"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "OspreyParsingTests", dependencies: [
            "OspreyCore", "OspreyParsing", "OspreyIO", "OspreyContent",
        ]),
        .testTarget(name: "OspreyAssemblyTests", dependencies: [
            "OspreyCore", "OspreyAssembly", "OspreyParsing", "OspreyIO", "OspreyContent", "OspreyGenerator",
        ]),
    ]
)
