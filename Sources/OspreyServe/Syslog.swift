/// Syslog transport: framing (RFC 6587) and header handling (RFC 5424, RFC 3164).
public enum Syslog {
    /// What the pipeline gets from one syslog message.
    ///
    /// - No `<PRI>` at the start: the message is the record as it is (a raw Mimecast line).
    /// - RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) whose MSG is CEF: the whole message
    ///   (the connector wrapper the `cef` parsers read: they take the time and host from this header).
    /// - Otherwise the header is stripped: RFC 5424 up to MSG (a UTF-8 BOM dropped), RFC 3164
    ///   (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`, the TAG optional; an ISO timestamp is accepted too).
    public static func payload(_ m: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var m = m
        while let l = m.last, l == 0x0A || l == 0x0D || l == 0x00 { m = m.dropLast() }
        guard m.first == 0x3C else { return m }
        // <PRI>: 1-3 digits.
        var p = m.startIndex + 1
        var digits = 0
        while p < m.endIndex, m[p] >= 0x30, m[p] <= 0x39, digits < 4 { p += 1; digits += 1 }
        guard digits >= 1, digits <= 3, p < m.endIndex, m[p] == 0x3E else { return m }
        p += 1
        if p + 1 < m.endIndex, m[p] >= 0x31, m[p] <= 0x39, m[p + 1] == 0x20 {
            // RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
            var q = p + 2
            for _ in 0..<5 { q = skipToken(m, q) }
            // Structured data: "-" or one or more [ ... ] elements (quoted values may hold ']').
            if q < m.endIndex, m[q] == 0x2D { q += 1 } else {
                while q < m.endIndex, m[q] == 0x5B {
                    var inQuote = false
                    q += 1
                    while q < m.endIndex {
                        let c = m[q]
                        if c == 0x5C { q += 2; continue }
                        if c == 0x22 { inQuote.toggle() }
                        else if c == 0x5D, !inQuote { q += 1; break }
                        q += 1
                    }
                }
            }
            if q < m.endIndex, m[q] == 0x20 { q += 1 }
            q = min(q, m.endIndex)
            var msg = m[q...]
            if msg.starts(with: [0xEF, 0xBB, 0xBF]) { msg = msg.dropFirst(3) }
            if msg.starts(with: Array("CEF:".utf8)) { return m }
            return msg
        }
        // RFC 3164.
        var q = p
        if q + 15 <= m.endIndex, isMonth(m, q), m[q + 3] == 0x20 {
            q += 15   // "Mmm dd hh:mm:ss"
            if q < m.endIndex, m[q] == 0x20 { q += 1 }
        } else if q + 4 < m.endIndex, m[q] >= 0x30, m[q] <= 0x39, m[q + 4] == 0x2D {
            q = skipToken(m, q)   // ISO timestamp
        } else {
            return m[p...]
        }
        // HOSTNAME
        q = skipToken(m, q)
        // Optional TAG: [A-Za-z0-9_./-]+ ("[pid]")? ":" followed by a space.
        var t = q
        while t < m.endIndex, isTagChar(m[t]) { t += 1 }
        if t < m.endIndex, m[t] == 0x5B {
            while t < m.endIndex, m[t] != 0x5D { t += 1 }
            if t < m.endIndex { t += 1 }
        }
        if t > q, t + 1 < m.endIndex, m[t] == 0x3A, m[t + 1] == 0x20 { q = t + 2 }
        return m[min(q, m.endIndex)...]
    }

    @inline(__always) static func skipToken(_ m: ArraySlice<UInt8>, _ i: Int) -> Int {
        var q = i
        while q < m.endIndex, m[q] != 0x20 { q += 1 }
        return min(q + 1, m.endIndex)
    }

    static func isTagChar(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2F || c == 0x2D
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }
    static func isMonth(_ m: ArraySlice<UInt8>, _ i: Int) -> Bool {
        months.contains { $0[0] == m[i] && $0[1] == m[i + 1] && $0[2] == m[i + 2] }
    }
}

/// RFC 6587 framing over a TCP stream: each frame is either octet-counted (`LEN SP MSG`, LEN decimal
/// without leading zero) or newline-terminated (non-transparent framing; LF, with CR LF and NUL accepted).
/// The choice is made per frame from its first byte. Frames over `maxFrame` bytes are reported as
/// `.tooLong` and skipped without being held.
public struct SyslogFramer {
    public enum Frame { case message(ArraySlice<UInt8>), tooLong(Int) }
    public let maxFrame: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes still to skip from an oversized octet-counted frame, or a newline frame being discarded.
    private var skipCount = 0
    private var skippingLine = false
    private var skippedBytes = 0
    /// Where the search for the current newline frame's end resumes: bytes already scanned are not
    /// scanned again when more arrive (a frame trickled byte by byte costs linear time, not quadratic).
    private var scanFrom = 0
    /// Bytes examined by newline searches so far (tests check that held frames are not rescanned).
    public private(set) var scannedBytes = 0

    public init(maxFrame: Int) { self.maxFrame = maxFrame }

    /// Bytes held waiting for the rest of a frame (bounded by maxFrame + a few).
    public var buffered: Int { buffer.count - start }

    /// A frame has started and not completed (held bytes, or an oversized frame being skipped).
    public var inFrame: Bool { buffer.count > start || skipCount > 0 || skippingLine }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ out: (Frame) -> Void) {
        var input = bytes[...]
        while !input.isEmpty {
            if skipCount > 0 {
                let n = min(skipCount, input.count)
                skipCount -= n
                input = input.dropFirst(n)
                continue
            }
            if skippingLine {
                if let nl = input.firstIndex(of: 0x0A) {
                    skippedBytes += nl - input.startIndex
                    out(.tooLong(skippedBytes))
                    skippingLine = false; skippedBytes = 0
                    input = input[(nl + 1)...]
                } else {
                    skippedBytes += input.count
                    input = input[input.endIndex...]
                }
                continue
            }
            // Append at most what could complete one frame; keep the rest for the loop.
            buffer.append(contentsOf: input)
            input = input[input.endIndex...]
            drain(out)
        }
    }

    private mutating func drain(_ out: (Frame) -> Void) {
        while start < buffer.count {
            // Skip blank separators between frames.
            let c = buffer[start]
            if c == 0x0A || c == 0x0D || c == 0x00 { start += 1; continue }
            if c >= 0x31, c <= 0x39 {
                // Octet counting if digits then a space.
                var i = start, len = 0, digits = 0
                while i < buffer.count, buffer[i] >= 0x30, buffer[i] <= 0x39, digits < 10 {
                    len = len * 10 + Int(buffer[i] - 0x30); i += 1; digits += 1
                }
                if i == buffer.count { break }   // need more bytes
                if buffer[i] == 0x20 {
                    let body = i + 1
                    if len > maxFrame {
                        let have = buffer.count - body
                        if have >= len { start = body + len } else { skipCount = len - have; start = buffer.count }
                        out(.tooLong(len))
                        continue
                    }
                    if buffer.count - body < len { break }
                    out(.message(buffer[body..<(body + len)]))
                    start = body + len
                    continue
                }
                // Not octet-counted: falls through to newline framing.
            }
            let from = max(start, scanFrom)
            let found = buffer[from...].firstIndex(where: { $0 == 0x0A || $0 == 0x00 })
            scannedBytes &+= (found ?? buffer.count) - from
            if let nl = found {
                if nl - start > maxFrame { out(.tooLong(nl - start)) } else { out(.message(buffer[start..<nl])) }
                start = nl + 1
                scanFrom = start
                continue
            }
            scanFrom = buffer.count
            if buffer.count - start > maxFrame {
                skippingLine = true
                skippedBytes = buffer.count - start
                start = buffer.count
            }
            break
        }
        if start == buffer.count { buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20); start = 0; scanFrom = 0 }
        else if start > 1 << 16 { buffer.removeSubrange(0..<start); scanFrom = max(0, scanFrom - start); start = 0 }
    }

    /// End of stream: a last newline frame without its newline.
    public mutating func finish(_ out: (Frame) -> Void) {
        if skippingLine { out(.tooLong(skippedBytes)); skippingLine = false }
        if start < buffer.count { out(.message(buffer[start...])) }
        buffer.removeAll(); start = 0; scanFrom = 0; skipCount = 0
    }
}
