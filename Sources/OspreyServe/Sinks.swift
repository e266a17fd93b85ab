import Dispatch
import Foundation
import OspreyAnalytics
import OspreyCore
import OspreyState

/// One alert handed to a sink: its seq in the alert log, the alert (the one alert type) and its line as
/// written (docs/architecture.md#outputs).
struct SinkItem: Sendable {
    var seq: Int
    var alert: AnalyticsOutput
    var line: String
}

/// An alert output. `send` runs on the sink's own serial queue, never on an event loop, so it may wait for
/// its I/O; it returns true when the whole batch was delivered. One file each: FileSink (jsonl, ecs),
/// SyslogSink (cef, syslog; UDP or TCP on SwiftNIO), WebhookSink (AsyncHTTPClient).
protocol AlertSink: AnyObject {
    func send(_ items: [SinkItem]) -> Bool
    /// Flushes and releases what the sink holds (after its last send).
    func close()
}

struct SinkError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

/// The configured alert outputs. Each sink has its own serial queue with a bounded backlog (alerts beyond it
/// are dropped and counted), so a slow receiver never stalls the pipeline. With a state directory, each sink
/// records the last alert seq it delivered and resumes after it on restart (at-least-once delivery).
public final class Sinks: @unchecked Sendable {
    final class Entry: @unchecked Sendable {
        let output: ServeConfig.Output
        let sink: AlertSink
        let queue: DispatchQueue
        var backlog = 0
        var delivered = 0
        var dropped = 0
        var failures = 0
        init(_ o: ServeConfig.Output, _ sink: AlertSink) {
            output = o
            self.sink = sink
            queue = DispatchQueue(label: "osprey.sink." + o.name)
        }
    }

    let entries: [Entry]
    let lock = NSLock()
    var store: StateStore?
    static let maxBacklog = 100_000

    init(_ outputs: [ServeConfig.Output]) throws {
        entries = try outputs.map { Entry($0, try Sinks.make($0)) }
    }

    /// The sink for one `[output NAME]` section.
    static func make(_ o: ServeConfig.Output) throws -> AlertSink {
        switch o.kind {
        case .jsonl(let path): return try FileSink(name: o.name, path: path, format: .line)
        case .ecs(let path): return try FileSink(name: o.name, path: path, format: .ecs)
        case .cef(let udp, let host, let port): return try SyslogSink(name: o.name, udp: udp, host: host, port: port, format: .cef)
        case .syslog(let udp, let host, let port): return try SyslogSink(name: o.name, udp: udp, host: host, port: port, format: .rfc5424)
        case .webhook(let url): return try WebhookSink(name: o.name, url: url)
        }
    }

    /// With durable state: re-delivers what each sink had not delivered before the restart. A stored line
    /// that cannot be decoded is counted as dropped (and said on stderr), never sent half-read.
    func resume(store: StateStore) throws {
        self.store = store
        for e in entries {
            let done = try store.delivered(sink: e.output.name)
            var items: [SinkItem] = []
            var unreadable: [String] = []
            for m in try store.alertLines(after: done) {
                do { items.append(SinkItem(seq: m.seq, alert: try AnalyticsOutput(line: m.line), line: m.line)) } catch {
                    unreadable.append("seq \(m.seq): \(error)")
                }
            }
            if !unreadable.isEmpty {
                lock.lock(); e.dropped += unreadable.count; lock.unlock()
                FileHandle.standardError.write(Data(("osprey serve: output \(e.output.name): \(unreadable.count) stored alert line(s) unreadable, not re-delivered (first: \(unreadable[0]))\n").utf8))
            }
            if !items.isEmpty { enqueue(e, items) }
        }
    }

    func deliver(_ batch: [(seq: Int, output: AnalyticsOutput, line: String)]) {
        guard !entries.isEmpty else { return }
        let items = batch.map { SinkItem(seq: $0.seq, alert: $0.output, line: $0.line) }
        for e in entries { enqueue(e, items) }
    }

    private func enqueue(_ e: Entry, _ items: [SinkItem]) {
        lock.lock()
        if e.backlog + items.count > Sinks.maxBacklog { e.dropped += items.count; lock.unlock(); return }
        e.backlog += items.count
        lock.unlock()
        e.queue.async { [self] in
            let ok = e.sink.send(items)
            lock.lock()
            e.backlog -= items.count
            if ok { e.delivered += items.count } else { e.failures += 1 }
            lock.unlock()
            if ok, let last = items.last, let store { try? store.setDelivered(sink: e.output.name, seq: last.seq) }
        }
    }

    /// Per sink: delivered, dropped, failures (for /metrics).
    public var stats: [(name: String, delivered: Int, dropped: Int, failures: Int, backlog: Int)] {
        lock.lock(); defer { lock.unlock() }
        return entries.map { ($0.output.name, $0.delivered, $0.dropped, $0.failures, $0.backlog) }
    }

    /// Waits for every queued delivery, then closes the sinks.
    func close() {
        for e in entries {
            e.queue.sync {}
            e.sink.close()
        }
    }
}
