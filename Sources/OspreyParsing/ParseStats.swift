import OspreyCore

/// Counts for the parse summary: every input line ends as events, rejects, or an empty API page.
public struct ParseStats: Sendable {
    public var lines = 0
    public var records = 0
    public var events = 0
    public var emptyPages = 0
    /// Lines with nothing but spaces: neither records nor rejects.
    public var blankLines = 0
    public var eventsByParser: [String: Int] = [:]
    public var rejectsByReason: [RejectReason: Int] = [:]
    public var rejects: Int { rejectsByReason.values.reduce(0, +) }
    public init() {}

    public mutating func count(_ r: ParseResult) {
        switch r {
        case .event(let e): events += 1; eventsByParser[e.parser, default: 0] += 1
        case .reject(let j): rejectsByReason[j.reason, default: 0] += 1
        case .emptyPage: emptyPages += 1
        }
    }

    /// A readable summary (stderr of `osprey parse`).
    public func summary(seconds: Double? = nil) -> String {
        var s = "osprey parse: \(lines) lines read, \(records) records, \(events) events, \(rejects) rejects, \(emptyPages) empty API pages, \(blankLines) blank lines"
        if let seconds, seconds > 0 {
            s += String(" in \(Int(seconds * 1000)) ms (\(Int(Double(lines) / seconds)) lines/s)")
        }
        s += "\n"
        if !eventsByParser.isEmpty {
            s += "events per parser:\n"
            for (p, n) in eventsByParser.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                s += "  \(pad(String(n), 9)) \(p)\n"
            }
        }
        if !rejectsByReason.isEmpty {
            s += "rejects per reason:\n"
            for (r, n) in rejectsByReason.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                s += "  \(pad(String(n), 9)) \(r.rawValue)\n"
            }
        }
        return s
    }

    private func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
}
