import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import OspreyAnalytics
import OspreyCore
import OspreyState

/// Alert outputs: a JSONL file, syslog CEF over UDP or TCP, an HTTP webhook (NDJSON POST per batch).
/// Each sink has its own serial queue with a bounded backlog (alerts beyond it are dropped and counted),
/// so a slow receiver never stalls the pipeline. With a state directory, each sink records the last alert
/// seq it delivered and resumes after it on restart (at-least-once delivery).
public final class Sinks: @unchecked Sendable {
    final class Sink: @unchecked Sendable {
        let output: ServeConfig.Output
        let queue: DispatchQueue
        var backlog = 0
        var delivered = 0
        var dropped = 0
        var failures = 0
        var fileHandle: FileHandle?
        var fd: Int32 = -1
        var address = sockaddr_in()
        init(_ o: ServeConfig.Output) {
            output = o
            queue = DispatchQueue(label: "osprey.sink." + o.name)
        }
    }

    let sinks: [Sink]
    let lock = NSLock()
    var store: StateStore?
    static let maxBacklog = 100_000

    init(_ outputs: [ServeConfig.Output]) throws {
        sinks = outputs.map(Sink.init)
        for s in sinks {
            switch s.output.kind {
            case .jsonl(let path):
                if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
                guard let h = FileHandle(forWritingAtPath: path) else { throw InputErrorLike("cannot open \(path)") }
                h.seekToEndOfFile()
                s.fileHandle = h
            case .cef(let udp, let host, let port):
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_port = in_port_t(UInt16(port)).bigEndian
                guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &a.sin_addr) == 1 else {
                    throw InputErrorLike("cef target must be an IPv4 address: \(host)")
                }
                s.address = a
                if udp { s.fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
            case .webhook:
                break
            }
        }
    }

    struct InputErrorLike: Error, CustomStringConvertible { var description: String; init(_ s: String) { description = s } }

    /// With durable state: re-delivers what each sink had not delivered before the restart.
    func resume(store: StateStore) throws {
        self.store = store
        for s in sinks {
            let done = try store.delivered(sink: s.output.name)
            let missing = try store.alertLines(after: done)
            if !missing.isEmpty { enqueue(s, missing.map { ($0.seq, nil, $0.line) }) }
        }
    }

    func deliver(_ batch: [(seq: Int, output: AnalyticsOutput, line: String)]) {
        guard !sinks.isEmpty else { return }
        let items: [(Int, AnalyticsOutput?, String)] = batch.map { ($0.seq, $0.output, $0.line) }
        for s in sinks { enqueue(s, items) }
    }

    private func enqueue(_ s: Sink, _ items: [(Int, AnalyticsOutput?, String)]) {
        lock.lock()
        if s.backlog + items.count > Sinks.maxBacklog { s.dropped += items.count; lock.unlock(); return }
        s.backlog += items.count
        lock.unlock()
        s.queue.async { [self] in
            let ok = send(s, items)
            lock.lock()
            s.backlog -= items.count
            if ok { s.delivered += items.count } else { s.failures += 1 }
            lock.unlock()
            if ok, let last = items.last, let store { try? store.setDelivered(sink: s.output.name, seq: last.0) }
        }
    }

    private func send(_ s: Sink, _ items: [(Int, AnalyticsOutput?, String)]) -> Bool {
        switch s.output.kind {
        case .jsonl:
            var d = Data()
            for i in items { d.append(contentsOf: Array(i.2.utf8)); d.append(0x0A) }
            s.fileHandle?.write(d)
            return true
        case .cef(let udp, _, _):
            var ok = true
            for i in items {
                let msg = Array(Sinks.cefLine(i.1, line: i.2).utf8)
                if udp {
                    var a = s.address
                    let n = withUnsafePointer(to: &a) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(s.fd, msg, msg.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                    if n < 0 { ok = false }
                } else {
                    if s.fd < 0 { s.fd = connectTCP(s.address) }
                    if s.fd < 0 { return false }
                    let framed = Array("\(msg.count) ".utf8) + msg   // RFC 6587 octet counting
                    if !writeAll(s.fd, framed) { Glibc.close(s.fd); s.fd = -1; return false }
                }
            }
            return ok
        case .webhook(let url):
            guard let u = URL(string: url) else { return false }
            var req = URLRequest(url: u, timeoutInterval: 10)
            req.httpMethod = "POST"
            req.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
            var body = Data()
            for i in items { body.append(contentsOf: Array(i.2.utf8)); body.append(0x0A) }
            req.httpBody = body
            let sem = DispatchSemaphore(value: 0)
            let status = LockedBox(0)
            URLSession.shared.dataTask(with: req) { _, resp, _ in
                status.value = (resp as? HTTPURLResponse)?.statusCode ?? 0
                sem.signal()
            }.resume()
            sem.wait()
            return (200..<300).contains(status.value)
        }
    }

    final class LockedBox<T>: @unchecked Sendable { var value: T; init(_ v: T) { value = v } }

    private func connectTCP(_ address: sockaddr_in) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var a = address
        let r = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 { Glibc.close(fd); return -1 }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// An RFC 5424 syslog message carrying a CEF record of the alert.
    static func cefLine(_ o: AnalyticsOutput?, line: String) -> String {
        var sig = "session", name = "Osprey session", score = 0, user = "", session = "", time: Int64 = 0, reason = ""
        var notable = false
        switch o {
        case .rule(let r)?: sig = r.rule; name = r.name; score = r.score; user = r.user; session = r.session; time = r.timeMillis; reason = r.reason
        case .session(let s)?: if s.live { sig = "notable"; name = "Osprey notable session" }
            score = s.score; user = s.user; session = s.session; time = s.endMillis; notable = s.notable
            reason = "rules " + s.rules.joined(separator: ",")
        case nil:
            if let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] {
                if obj["kind"] as? String == "rule" { sig = obj["rule"] as? String ?? sig; name = obj["name"] as? String ?? sig }
                score = obj["score"] as? Int ?? 0; user = obj["user"] as? String ?? ""; session = obj["session"] as? String ?? ""
                reason = obj["reason"] as? String ?? ""; notable = obj["notable"] as? Bool ?? false
                time = (obj["time"] as? String).flatMap { AlertIndex.parseTime($0) } ?? 0
            }
        }
        func h(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|") }
        func e(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }
        let severity = min(10, max(0, score / 10))
        let cef = "CEF:0|Osprey|Osprey UEBA|1.0|\(h(sig))|\(h(name))|\(severity)|rt=\(time) suser=\(e(user)) cs1Label=session cs1=\(e(session)) cn1Label=score cn1=\(score) cs2Label=notable cs2=\(notable) msg=\(e(reason))"
        return "<116>1 \(UTCTime.format(time)) osprey osprey - alert - \(cef)"
    }

    /// Per sink: delivered, dropped, failures (for /metrics).
    public var stats: [(name: String, delivered: Int, dropped: Int, failures: Int, backlog: Int)] {
        lock.lock(); defer { lock.unlock() }
        return sinks.map { ($0.output.name, $0.delivered, $0.dropped, $0.failures, $0.backlog) }
    }

    /// Waits for every queued delivery.
    func close() {
        for s in sinks {
            s.queue.sync {}
            try? s.fileHandle?.synchronize()
        }
    }
}
