import ArgumentParser
import Dispatch
import Foundation
import OspreyCollect
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing
import OspreyPipeline
import OspreyServe
import OspreyState

struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull logs from the Mimecast API 2.0 (SIEM batch or stream, audit, TTP, DLP, held-message release logs).",
        discussion: """
        Credentials: a Mimecast API 2.0 application's Client ID and Client Secret (Administration > Services >
        API and Platform Integrations; see README "Collect from Mimecast"). The config names where they are read:
        client_id (the id itself, no secret), client_id_env = VAR or client_id_file = PATH, and
        client_secret_env = VAR or client_secret_file = PATH. Secrets are never taken from the command line or the
        config text and never logged. The application's role needs read permissions for the sources it pulls.

        --out DIR writes every record as a line of DIR/mimecast-YYYY-MM-DD.jsonl (by event day), for archive or
        `osprey replay DIR`. --state DIR feeds the records through the durable pipeline: positions (page
        tokens, batch files done, last event time per stream), the analytics state and the archive sizes are
        committed together, so a killed run resumes with nothing lost and nothing counted twice; alerts go
        to --alerts FILE. TIME is ISO 8601 (2024-05-01T00:00:00Z) or relative (90m, 36h, 7d ago from now).
        """)

    @Option(help: "Config file with one or more [collect NAME] sections.") var config: String
    @Option(help: "Write raw records to daily files in this directory.") var out: String?
    @Option(help: "State directory: feed the durable pipeline and keep positions.") var state: String?
    @Option(help: "With --state: write the alerts (rule triggers and sessions) here as JSON lines.") var alerts: String?
    @Option(help: "The organization's context directory (users, domains, lists, geo).") var context: String?
    @Option(help: "Where streams without a position start (default: now minus the config's lookback).") var since: String?
    @Option(help: "Collect up to this time (default: now at each poll).") var until: String?
    @Flag(help: "One pass over every source, then exit (default: poll every `interval` seconds until SIGTERM).") var once = false
    @Option(help: "With --state: checkpoint every this many records.") var checkpointRecords: Int = 5_000
    @Flag(help: "With --state and --once: close open sessions at the end (as a replay does).") var finish = false
    @OptionGroup var contentOptions: ContentOptions

    static func parseTime(_ s: String, now: Date = Date()) throws -> Int64 {
        if let t = UTCTime.parse(s) { return t }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let u = s.last, let mult = units[u], let n = Int64(s.dropLast()), n >= 0, n <= 3650 * 86400 {
            return Int64(now.timeIntervalSince1970 * 1000) - n * mult * 1000
        }
        throw ValidationError("bad time '\(s)' (ISO 8601, or 90m / 36h / 7d)")
    }

    func run() throws {
        let configs: [CollectConfig]
        do { configs = try CollectConfig.load(path: config) } catch let e as ContentError {
            throw ValidationError("config error: \(e)")
        }
        guard out != nil || state != nil else { throw ValidationError("give --out DIR and/or --state DIR") }
        if alerts != nil && state == nil { throw ValidationError("--alerts needs --state (the pipeline runs with durable state)") }
        let sinceMs = try since.map { try Collect.parseTime($0) }
        let untilMs = try until.map { try Collect.parseTime($0) }
        let runner = try CollectRunner(configs: configs, out: out, state: state, alerts: alerts, context: context,
                                       content: contentOptions.content, checkpointRecords: checkpointRecords)
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        let once = self.once, finish = self.finish
        let task = Task.detached {
            do { try await runner.run(since: sinceMs, until: untilMs, once: once, finish: finish) } catch { failure.error = error }
            done.signal()
        }
        signal(SIGTERM, SIG_IGN); signal(SIGINT, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { task.cancel() }
            s.resume()
            sources.append(s)
        }
        done.wait()
        withExtendedLifetime(sources) {}
        FileHandle.standardError.write(Data(runner.summary().utf8))
        if let e = failure.error { throw e }
        if runner.failed { throw ExitCode(2) }
    }
}

/// `osprey collect`: one Collector per [collect NAME], records to the archive and/or the durable pipeline.
final class CollectRunner: @unchecked Sendable {
    let collectors: [Collector]
    let positions: CollectPositions
    let archive: DailyArchive?
    let durable: DurablePipeline?
    let writer: OutputWriter?
    private(set) var failed = false
    private var lastFailures: [(String, String)] = []
    private var handed = 0
    private let started = Date()

    init(configs: [CollectConfig], out: String?, state: String?, alerts: String?, context: String?, content: String?,
         checkpointRecords: Int) throws {
        archive = try out.map { try DailyArchive(directory: $0) }
        let limit = configs.map(\.dedupLimit).max() ?? 10_000
        if let state {
            let options = PipelineOptions(contentDirectory: content ?? OspreyContent.directory.path, contextDirectory: context)
            let w = try alerts.map { try OutputWriter(path: $0) }
            writer = w
            do {
                durable = try DurablePipeline(options: options, stateDirectory: state, checkpointEvery: checkpointRecords) { batch in
                    guard let w else { return }
                    for o in batch { w.write(o.line + "\n") }
                    w.flush()
                }
            } catch let e as ContentError {
                throw ValidationError("content error: \(e)")
            }
            let rows = try durable!.store.sideState(owner: "collect")
            positions = CollectPositions(limit: limit, loaded: CollectParticipant.streamRows(rows))
            try archive?.truncate(to: CollectParticipant.archiveSizes(rows))
            durable!.store.addParticipant(CollectParticipant(positions: positions, archive: archive))
            if let w {
                for (_, line) in try durable!.store.alertLines() { w.write(line + "\n") }
                w.flush()
            }
        } else {
            durable = nil
            writer = nil
            positions = CollectPositions(limit: limit)
        }
        var cs: [Collector] = []
        for c in configs {
            // Credentials first: a transport must not be created (and dropped unshut) for a config that fails.
            do { _ = try c.clientID.resolve(); _ = try c.clientSecret.resolve() } catch { throw ValidationError("[collect \(c.name)]: \(error)") }
            let client = MimecastClient(config: c, transport: AHCTransport())
            try client.loadCredentials()
            cs.append(Collector(config: c, client: client, positions: positions))
        }
        collectors = cs
    }

    /// Applies the step (position first, then the record: a checkpoint inside the push then saves both).
    private func handle(_ step: Step) throws {
        if durable != nil { positions.apply(step) }
        guard let r = step.record else { return }
        handed += 1
        if let archive {
            try archive.write(r, timeMillis: step.timeMillis ?? Int64(Date().timeIntervalSince1970 * 1000))
        }
        if let durable {
            try r.withUnsafeBytes { b in try durable.push(source: step.stream, line: b, lines: 1, bytes: b.count + 1) }
        }
    }

    func run(since: Int64?, until: Int64?, once: Bool, finish: Bool) async throws {
        defer { for c in collectors { let t = c.client.transport; Task { await t.shutdown() } } }
        repeat {
            var failures: [(String, String)] = []
            for c in collectors {
                let r = await c.poll(since: since, until: until) { step in try self.handle(step) }
                failures += r.failures.map { ($0.stream, $0.error) }
            }
            lastFailures = failures
            for (s, e) in failures { FileHandle.standardError.write(Data("osprey collect: \(s): \(e)\n".utf8)) }
            if once { failed = !failures.isEmpty; break }
            if let durable { try durable.checkpoint() } else { _ = archive?.sizes() }
            let interval = collectors.map(\.config.intervalSeconds).min() ?? 300
            do { try await Task.sleep(nanoseconds: UInt64(interval * 1e9)) } catch { break }
        } while !Task.isCancelled
        if let durable {
            if finish && once { try durable.finish() } else { try durable.checkpoint() }
        } else {
            _ = archive?.sizes()
        }
        writer?.flush()
    }

    func summary() -> String {
        var s = "osprey collect: \(handed) records handed on in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        if let durable { s += "; \(durable.checkpoints) checkpoints, \(durable.seq) outputs logged" }
        s += "\n"
        for c in collectors {
            for (name, m) in c.client.metrics.snapshot.sorted(by: { $0.key < $1.key }) {
                s += "  \(name): \(m.records) records, \(m.duplicates) duplicates dropped, \(m.requests) requests, \(m.retries) retries, \(m.errors) errors, \(m.rateLimited) rate limited"
                if m.files > 0 { s += ", \(m.files) files" }
                if m.lastEventMillis > 0 { s += ", last event \(UTCTime.format(m.lastEventMillis))" }
                s += "\n"
            }
        }
        return s
    }
}
