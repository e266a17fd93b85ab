import Foundation
import OspreyCollect
import OspreyCore
import OspreyState

/// Commits the collector's positions (and the archive's file sizes) in the checkpoint transaction.
public final class CollectParticipant: CommitParticipant {
    public let owner = "collect"
    let positions: CollectPositions
    let archive: DailyArchive?

    public init(positions: CollectPositions, archive: DailyArchive?) {
        self.positions = positions; self.archive = archive
    }

    public func rowsToCommit() -> [(String, [UInt8])] {
        var rows = positions.changedRows()
        if let archive {
            for (name, size) in archive.sizes() { rows.append(("archive:" + name, Array(String(size).utf8))) }
        }
        return rows
    }

    /// Committed archive sizes among the loaded rows.
    public static func archiveSizes(_ rows: [String: [UInt8]]) -> [String: Int] {
        var out: [String: Int] = [:]
        for (k, v) in rows where k.hasPrefix("archive:") {
            if let n = Int(String(decoding: v, as: UTF8.self)) { out[String(k.dropFirst(8))] = n }
        }
        return out
    }

    /// Stream rows only.
    public static func streamRows(_ rows: [String: [UInt8]]) -> [String: [UInt8]] {
        rows.filter { !$0.key.hasPrefix("archive:") }
    }
}

/// `[input mimecast NAME]` in the serve config: polls the Mimecast API every `interval` seconds and feeds
/// the serve pipeline. With a state directory each record and its stream position are applied together
/// on the pipeline queue, so checkpoints (by record count or timer) save exactly the positions of the
/// records the analytics state holds: after kill -9 the input resumes with nothing lost or counted twice.
public final class MimecastInput: @unchecked Sendable {
    public let config: CollectConfig
    public let client: MimecastClient
    public let collector: Collector
    let positions: CollectPositions
    unowned let engine: ServeEngine
    private var task: Task<Void, Never>?
    private let lock = NSLock()
    private var inFlight = 0
    public private(set) var polls = 0
    public private(set) var lastErrors: [(stream: String, error: String)] = []

    init(config: CollectConfig, engine: ServeEngine) throws {
        self.config = config
        self.engine = engine
        do { _ = try config.clientID.resolve(); _ = try config.clientSecret.resolve() } catch {
            throw ContentError(file: config.file, line: config.line, reason: "[input mimecast \(config.name)]: \(error)")
        }
        client = MimecastClient(config: config, transport: AHCTransport())
        try client.loadCredentials()
        if let durable = engine.durable {
            let rows = try durable.store.sideState(owner: "collect")
            positions = CollectPositions(limit: config.dedupLimit, loaded: CollectParticipant.streamRows(rows))
            durable.store.addParticipant(CollectParticipant(positions: positions, archive: nil))
        } else {
            positions = CollectPositions(limit: config.dedupLimit)
        }
        collector = Collector(config: config, client: client, positions: positions)
    }

    func start() {
        task = Task.detached { [self] in
            while !Task.isCancelled {
                let r = await collector.poll(since: nil, until: nil) { step in try await self.deliver(step) }
                lock.withLock { polls += 1; lastErrors = r.failures }
                for f in r.failures {
                    FileHandle.standardError.write(Data("osprey serve: mimecast \(f.stream): \(f.error)\n".utf8))
                }
                try? await Task.sleep(nanoseconds: UInt64(config.intervalSeconds * 1e9))
            }
        }
    }

    func stop() async {
        task?.cancel()
        _ = await task?.value
        await client.transport.shutdown()
    }

    /// Polls finished (for tests and the health view).
    public var pollCount: Int { lock.lock(); defer { lock.unlock() }; return polls }

    private func deliver(_ step: Step) async throws {
        // Backpressure: the fetch side stays at most a few thousand steps ahead of the pipeline.
        while true {
            let n = lock.withLock { inFlight }
            if n < 4096 && !engine.overloaded { break }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        guard let durable = engine.durable else {
            if let r = step.record { engine.submit([.line(r)], source: "mimecast") }
            return
        }
        lock.withLock { inFlight += 1 }
        engine.count { if step.record != nil { $0.recordsIn["mimecast", default: 0] += 1 } }
        let positions = self.positions
        engine.queue.async { [self] in
            positions.apply(step)
            if let r = step.record {
                r.withUnsafeBytes { b in
                    do { try durable.push(source: step.stream, line: b, lines: 1, bytes: b.count + 1) } catch {
                        FileHandle.standardError.write(Data("osprey serve: checkpoint failed: \(error)\n".utf8))
                    }
                }
            }
            // Position-only steps count too, so the timer also commits a window closed after the last record.
            engine.sinceCheckpoint += 1
            lock.lock(); inFlight -= 1; lock.unlock()
        }
    }

    /// Prometheus lines for every Mimecast stream of `inputs`.
    static func metrics(_ inputs: [MimecastInput]) -> String {
        guard !inputs.isEmpty else { return "" }
        var rows: [(String, StreamCounters)] = []
        for i in inputs { rows += i.client.metrics.snapshot.sorted { $0.key < $1.key } }
        var s = ""
        let now = Date().timeIntervalSince1970
        func metric(_ name: String, _ type: String, _ help: String, _ value: (StreamCounters) -> Double) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (k, c) in rows {
                let v = value(c)
                s += "\(name){stream=\"\(k.replacingOccurrences(of: "\"", with: "'"))\"} " + (v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)) + "\n"
            }
        }
        metric("osprey_mimecast_requests_total", "counter", "Mimecast API requests, by stream (token and downloads included).") { Double($0.requests) }
        metric("osprey_mimecast_records_total", "counter", "Records fetched and handed to the pipeline, by stream.") { Double($0.records) }
        metric("osprey_mimecast_duplicates_total", "counter", "Records dropped as already seen (overlapping windows, re-sent pages).") { Double($0.duplicates) }
        metric("osprey_mimecast_errors_total", "counter", "Failed requests (each retry counted), by stream.") { Double($0.errors) }
        metric("osprey_mimecast_retries_total", "counter", "Requests retried, by stream.") { Double($0.retries) }
        metric("osprey_mimecast_rate_limited_total", "counter", "HTTP 429 answers, by stream.") { Double($0.rateLimited) }
        metric("osprey_mimecast_batch_files_total", "counter", "SIEM batch files downloaded, by stream.") { Double($0.files) }
        metric("osprey_mimecast_lag_seconds", "gauge", "Wall clock minus the newest event time fetched, by stream.") {
            $0.lastEventMillis > 0 ? max(0, now - Double($0.lastEventMillis) / 1000) : 0
        }
        return s
    }
}
