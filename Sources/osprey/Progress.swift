import Foundation

/// Progress on a terminal for long commands (replay, generate, collect): records, rate and, when the total is
/// known, percentage and ETA, redrawn in place on stderr at most four times a second. Silent when stderr is
/// not a terminal or with --quiet, so logs and pipes get only the final summary.
final class Progress {
    private let label: String
    private let enabled: Bool
    private let totalBytes: Int64?
    private let started = Progress.now()
    private var lastDraw = 0.0
    private var drewSomething = false

    init(_ label: String, totalBytes: Int64? = nil, quiet: Bool = false) {
        self.label = label
        self.totalBytes = totalBytes.flatMap { $0 > 0 ? $0 : nil }
        enabled = !quiet && isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Cheap to call per record: draws only when a quarter second has passed.
    @inline(__always) func update(records: Int, bytes: Int64) {
        guard enabled, records & 1023 == 0 else { return }
        let t = Progress.now()
        guard t - lastDraw >= 0.25 else { return }
        lastDraw = t
        draw(records: records, bytes: bytes, elapsed: t - started)
    }

    /// A step of a known total (days generated, pages fetched): "label: done/total unit, ETA".
    func step(_ done: Int, of total: Int, unit: String) {
        guard enabled else { return }
        let t = Progress.now()
        guard t - lastDraw >= 0.25 || done == total else { return }
        lastDraw = t
        let elapsed = t - started
        let eta = done > 0 ? elapsed / Double(done) * Double(max(0, total - done)) : 0
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(done)/\(total) \(unit), ETA \(Progress.duration(eta))".utf8))
        drewSomething = true
    }

    /// Clears the progress line before the summary is printed.
    func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func draw(records: Int, bytes: Int64, elapsed: Double) {
        let rate = Double(records) / max(elapsed, 0.001)
        var s = "\r\u{1B}[K\(label): \(Progress.count(records)) records, \(Progress.count(Int(rate)))/s"
        if let total = totalBytes, bytes > 0 {
            let share = min(1, Double(bytes) / Double(total))
            let eta = share > 0 ? elapsed / share - elapsed : 0
            s += String(format: ", %.0f%%, ETA %@", share * 100, Progress.duration(eta))
        }
        FileHandle.standardError.write(Data(s.utf8))
        drewSomething = true
    }

    static func count(_ n: Int) -> String {
        n >= 10_000_000 ? "\(n / 1_000_000)M" : n >= 10_000 ? "\(n / 1000)k" : "\(n)"
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(min(s, 359_999))
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Total size of the files among `paths` (nil when one is stdin, compressed or unreadable).
    static func totalSize(_ paths: [String]) -> Int64? {
        var total: Int64 = 0
        for p in paths {
            guard p != "-", !p.hasSuffix(".gz"), let n = (try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? NSNumber else { return nil }
            total += n.int64Value
        }
        return total
    }
}
