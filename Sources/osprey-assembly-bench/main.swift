import OspreyAssembly
import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

// Cost of the assembly stage per parsed event, on a synthetic time-ordered Mimecast mail stream.
// Build and run: swift build -c release --product osprey-assembly-bench && .build/release/osprey-assembly-bench [MESSAGES]
let args = CommandLine.arguments
let messages = args.count > 1 ? Int(args[1]) ?? 200_000 : 200_000
let events = AssemblyBenchmark.syntheticStream(messages: messages, seed: 7)
if args.count > 2, args[2] == "push" {
    for _ in 0..<20 {
        var a = Assembler(config: AssemblyConfig(windowMillis: Int64.max / 4, maxOpenMessages: 10_000_000, maxBufferedEvents: 10_000_000))
        var out: [Event] = []
        for e in events { a.push(e, into: &out) }
    }
    exit(0)
}
print("synthetic stream: \(messages) messages, \(events.count) events")
let result = AssemblyBenchmark.run(events, repeats: 5)
print(result.description)

// The same stream with buffers small enough to force early closes (cost of the bounded path).
let tight = AssemblyBenchmark.run(events, config: AssemblyConfig(maxOpenMessages: 256, maxBufferedEvents: 1024), repeats: 3)
print("tight buffers (256 open, 1024 buffered):")
print(tight.description)

// Breakdown: pushes with a window that never closes, then finish (all merging).
do {
    var a = Assembler(config: AssemblyConfig(windowMillis: Int64.max / 4, maxOpenMessages: 10_000_000, maxBufferedEvents: 10_000_000))
    var out: [Event] = []
    let t0 = AssemblyBenchmark.cpuNanos()
    for e in events { a.push(e, into: &out) }
    let t1 = AssemblyBenchmark.cpuNanos()
    a.finish(into: &out)
    let t2 = AssemblyBenchmark.cpuNanos()
    let t3a = AssemblyBenchmark.cpuNanos()
    out = []
    let t3 = AssemblyBenchmark.cpuNanos()
    print("breakdown: push \((t1 - t0) / UInt64(events.count)) ns/event, finish \((t2 - t1) / UInt64(events.count)) ns/event, free \((t3 - t3a) / UInt64(events.count)) ns/event")
}
