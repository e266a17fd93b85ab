// The parse stage (ported from the former osprey-bench's `floor` and `parse` modes): the parse engine on every
// line of the generated 16-shape mix and on its connector lines alone, beside the floor of one substring search (Bytes.find) per line.
// Lines are held in memory (the file reading of `make bench`'s child processes is not in these figures).
import Benchmark
import OspreyBenchSupport
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing
import OspreySuiteCommon

/// 64,000 lines (4,000 of each shape): about 25 MB, more than the caches hold, like a file read through.
let mixedLineCount = 64_000

let benchmarks: @Sendable () -> Void = {
    Suite.configure()

    func engine() throws -> ParseEngine { try ParseEngine(contentDirectory: OspreyContent.directory.path) }
    let needle = Array(MixedLines.connectorMarker.utf8)

    for (label, connectorsOnly) in [("mixed 16 shapes", false), ("connector lines", true)] {
        Benchmark("floor: substring search per line (\(label))") { benchmark, ring in
            var hits = 0
            benchmark.measured {
                for _ in benchmark.scaledIterations {
                    ring.next().withUnsafeBytes { if Bytes.contains(needle, in: $0) { hits += 1 } }
                }
            }
            blackHole(hits)
        } setup: {
            Ring(MixedLines.lines(mixedLineCount, connectorsOnly: connectorsOnly))
        }

        Benchmark("parse engine (\(label))") { benchmark, state in
            let (engine, ring) = state
            var events = 0, rejects = 0
            benchmark.measured {
                for _ in benchmark.scaledIterations {
                    ring.next().withUnsafeBytes {
                        engine.parse(line: $0) { r in
                            switch r {
                            case .event: events += 1
                            case .reject: rejects += 1
                            case .emptyPage: break
                            }
                        }
                    }
                }
            }
            blackHole(events)
            if rejects > 0 { benchmark.error("\(rejects) rejects: the generated lines should all parse") }
        } setup: {
            (try engine(), Ring(MixedLines.lines(mixedLineCount, connectorsOnly: connectorsOnly)))
        }
    }

    // As `osprey parse > /dev/null`: every event serialized to a JSON line and written (buffered) to /dev/null.
    Benchmark("parse engine + JSON out (mixed 16 shapes)") { benchmark, state in
        let (engine, ring, out) = state
        var w = JSONWriter(capacity: 4096)
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                ring.next().withUnsafeBytes {
                    engine.parse(line: $0) { r in
                        if case .event(let e) = r {
                            w.bytes.removeAll(keepingCapacity: true)
                            w.event(e); w.bytes.append(0x0A)
                            out.write(w.bytes)
                        }
                    }
                }
            }
        }
    } setup: {
        (try engine(), Ring(MixedLines.lines(mixedLineCount)), try OutputWriter(path: "/dev/null"))
    }
}
