// The assembly stage (ported from the former osprey-assembly-bench): the synthetic time-ordered mail stream
// (OspreyGenerator.MailStream, seed 7) through the assembler with the default and with tight buffers, beside
// two floors: appending the events to an array, and one hash-join dictionary lookup per part.
import Benchmark
import OspreyAssembly
import OspreyBenchSupport
import OspreyCore
import OspreyGenerator
import OspreySuiteCommon

/// Messages in the stream (about 3.5 events each); at its end the assembler finishes and a new one starts.
let messages = 50_000

final class Assembly {
    var assembler: Assembler
    var out: [Event] = []
    init(_ config: AssemblyConfig) { assembler = Assembler(config: config); out.reserveCapacity(4_096) }
}

final class HashJoin {
    var groups: [String: [Event]] = [:]
}

let benchmarks: @Sendable () -> Void = {
    Suite.configure()

    func stream() -> [Event] { MailStream.events(messages: messages, seed: 7) }

    for (label, config) in [("default buffers", AssemblyConfig()),
                            ("tight buffers: 256 open, 1024 buffered", AssemblyConfig(maxOpenMessages: 256, maxBufferedEvents: 1024))] {
        Benchmark("assembly (\(label))") { benchmark, s in
            let a = s.stage
            benchmark.measured {
                for _ in benchmark.scaledIterations { a.assembler.push(s.next(), into: &a.out) }
                if s.atEnd { a.assembler.finish(into: &a.out) }
            }
            blackHole(a.out.count)
            a.out.removeAll(keepingCapacity: true)
            s.restartIfAtEnd(failed: benchmark.error)
        } setup: {
            try StreamState(stream()) { Assembly(config) }
        }
    }

    Benchmark("floor: array append") { benchmark, s in
        let copy = s.stage
        benchmark.measured {
            for _ in benchmark.scaledIterations { copy.out.append(s.next()) }
        }
        blackHole(copy.out.count)
        copy.out.removeAll(keepingCapacity: true)
        s.restartIfAtEnd(failed: benchmark.error)
    } setup: {
        try StreamState(stream()) { Assembly(AssemblyConfig()) }
    }

    // The least any hash join does: one dictionary lookup / insert per part and an append.
    Benchmark("floor: hash join, one lookup per part") { benchmark, s in
        let join = s.stage
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                let e = s.next()
                if case .string(let k)? = e[Fields.joinKey] { join.groups[k, default: []].append(e) }
            }
        }
        blackHole(join.groups.count)
        s.restartIfAtEnd(failed: benchmark.error)
    } setup: {
        try StreamState(stream()) { HashJoin() }
    }
}
