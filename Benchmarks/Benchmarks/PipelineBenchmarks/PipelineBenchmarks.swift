// The whole pipeline (parse → reorder → assemble → enrich → analytics, on one thread, as `osprey replay
// --threads 1` runs it) over a small generated organization (OspreyGenerator, what `osprey generate` writes),
// its log lines held in memory in replay order. Outputs are serialized to JSON lines and written to /dev/null
// as replay writes them. At the end of the logs the pipeline finishes (measured) and a new one is made for the
// next pass outside the measurement.
import Benchmark
import Foundation
import OspreyAnalytics
import OspreyBenchSupport
import OspreyContent
import OspreyIO
import OspreyPipeline
import OspreySuiteCommon

/// 200 people over 21 days (the generator's minimum span): about 90,000 lines.
let people = 200, days = 21
let scratchName = "osprey-pipeline-bench"

final class Run {
    let pipeline: Pipeline
    let out: OutputWriter
    init(context: String) throws {
        pipeline = try Pipeline(options: PipelineOptions(contentDirectory: OspreyContent.directory.path, contextDirectory: context))
        out = try OutputWriter(path: "/dev/null")
    }
    func emit(_ o: AnalyticsOutput) { out.write(o.jsonLine + "\n") }
}

let benchmarks: @Sendable () -> Void = {
    Suite.configure()

    Benchmark("whole pipeline, lines of a generated organization (\(people) people x \(days) days)") { (benchmark: Benchmark, s: StreamState<[UInt8], Run>) in
        let run = s.stage
        benchmark.measured {
            for _ in benchmark.scaledIterations {
                s.next().withUnsafeBytes { line in run.pipeline.push(line: line, emit: run.emit) }
            }
            if s.atEnd { run.pipeline.finish(emit: run.emit) }
        }
        s.restartIfAtEnd(failed: benchmark.error)
    } setup: {
        let org = try OrganizationInput.generate(users: people, days: days, into: try BenchPaths.scratch(scratchName))
        let lines = try OrganizationInput.lines(org.logs)
        try FileManager.default.removeItem(atPath: org.logs)   // the context directory stays: each new pipeline loads it
        return try StreamState(lines) { try Run(context: org.context) }
    } teardown: {
        try? FileManager.default.removeItem(atPath: BenchPaths.scratchPath(scratchName))
    }
}
