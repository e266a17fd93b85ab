import CZlib
import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

public struct InputError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Reads records from a file, a gzip file or stdin (zlib reads plain and gzip input alike) and frames them.
///
/// Line ends: LF, CRLF and a bare CR all end a line (collectors save API responses with bare-CR record
/// ends). Exception: in a JSON line (first non-space byte `{` or `[`, or a line inside a multi-line JSON
/// document) a CR inside a string is text, not a line end, when an LF ends that line. In key=value and other
/// lines every bare CR ends the record: key=value values cannot hold a CR.
///
/// One line is one record, except a pretty-printed JSON document (a line that starts and ends with `{` or
/// `[`), whose lines are joined until its brackets balance. A document is bounded (`maxDocumentLines`,
/// `maxLineBytes`) and must be valid JSON when it closes; when it is not, or it runs past a bound or the end
/// of input, its first line is given alone (and is rejected by the parser as malformed) and the lines after
/// it are framed again, so a truncated line never swallows the records that follow. Lines longer than
/// `maxLineBytes` are reported as too long without being held in memory.
///
/// A gzip file that ends inside its compressed stream is an error (`InputError`, naming the file and the
/// offsets) thrown by `forEach` after every complete line before the truncation was given.
public final class LineReader {
    public enum Record {
        case line(UnsafeRawBufferPointer, lines: Int)
        case tooLong(bytes: Int, lines: Int)
    }

    private let file: gzFile
    public let path: String
    public let maxLineBytes: Int
    public let maxDocumentLines: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var eof = false
    private var discarding = false
    private var discarded = 0
    /// LF search cache: the first LF at or after `start` (nil: none in [start, lfSearchedTo)).
    private var lfPos: Int?
    private var lfSearchedTo = 0
    private var document: [UInt8] = []
    /// Start offset in `document` of each joined line (lines are joined with one LF).
    private var documentLineStarts: [Int] = []
    private var documentDepth = 0
    /// Set when the input ended inside a gzip stream.
    public private(set) var truncation: InputError?

    public init(path: String, maxLineBytes: Int = 4 << 20, bufferBytes: Int = 1 << 20, maxDocumentLines: Int = 100_000) throws {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.maxDocumentLines = max(2, maxDocumentLines)
        let f: gzFile?
        if path == "-" { f = gzdopen(dup(0), "rb") } else { f = gzopen(path, "rb") }
        guard let f else { throw InputError(path: path, reason: "cannot open (\(String(cString: strerror(errno))))") }
        file = f
        gzbuffer(f, 1 << 17)
        buffer = .allocate(byteCount: max(bufferBytes, 4096), alignment: 16)
    }

    deinit {
        gzclose(file)
        buffer.deallocate()
    }

    /// Calls `body` for every record until end of input; throws `truncation` at the end when the gzip
    /// stream was cut short (after the records before the cut).
    public func forEach(_ body: (Record) throws -> Void) throws {
        while true {
            if let (lineEnd, next) = nextLineEnd() {
                if discarding {
                    discarded += next - start
                    try body(.tooLong(bytes: discarded, lines: 1))
                    discarding = false; discarded = 0
                } else if lineEnd - start > maxLineBytes {
                    // Whole in the buffer but past the bound: the same record as one that outgrew the buffer.
                    try body(.tooLong(bytes: next - start, lines: 1))
                } else {
                    try frame(UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd]), body)
                }
                start = next
                continue
            }
            if eof {
                if let t = truncation {
                    // The unfinished last line is part of the damage: not parsed (named in the error).
                    try finishDocuments(body)
                    throw t
                }
                if discarding { try body(.tooLong(bytes: discarded + (end - start), lines: 1)); discarding = false }
                else if end - start > maxLineBytes { try body(.tooLong(bytes: end - start, lines: 1)) }
                else if end > start { try frame(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), body) }
                start = end
                try finishDocuments(body)
                return
            }
            try refill()
        }
    }

    /// The end of the line starting at `start` and where the next one starts, or nil when more input is
    /// needed to know.
    private func nextLineEnd() -> (Int, Int)? {
        guard end > start, let base = buffer.baseAddress else { return nil }
        if let l = lfPos, l < start { lfPos = nil; lfSearchedTo = start }
        if lfPos == nil {
            let from = max(start, lfSearchedTo)
            if from < end, let p = memchr(base + from, 0x0A, end - from) {
                lfPos = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
            }
            lfSearchedTo = end
        }
        let limit = lfPos ?? end
        var from = start
        var jsonScan = -1          // offset up to which the JSON string state is known (-1: not a JSON line)
        var inString = false
        while from < limit, let p = memchr(base + from, 0x0D, limit - from) {
            let c = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
            if c + 1 < end, buffer[c + 1] == 0x0A { return (c, c + 2) }       // CRLF
            if c + 1 == end, !eof { return nil }                                // LF may follow
            if jsonScan < 0, isJSONLine(from: start, to: c) { jsonScan = start }
            if jsonScan >= 0 {
                var i = jsonScan
                while i < c {
                    let b = buffer[i]
                    if inString {
                        if b == 0x5C { i += 2; continue }
                        if b == 0x22 { inString = false }
                    } else if b == 0x22 { inString = true }
                    i += 1
                }
                jsonScan = i
                if inString {
                    // A CR inside a JSON string is text when an LF ends the line; wait for more input to know.
                    if lfPos != nil { from = c + 1; jsonScan = max(i, c + 1); continue }
                    if !eof { return nil }
                }
            }
            return (c, c + 1)                                                   // a bare CR
        }
        if let l = lfPos { return (l, l + 1) }
        return nil
    }

    private func isJSONLine(from: Int, to: Int) -> Bool {
        if !document.isEmpty { return true }
        var i = from
        while i < to, buffer[i] == 0x20 || buffer[i] == 0x09 { i += 1 }
        return i < to && (buffer[i] == 0x7B || buffer[i] == 0x5B)
    }

    private func refill() throws {
        // Keep the unfinished line: move it to the front, grow the buffer if the line fills it.
        let pending = end - start
        if pending > maxLineBytes {
            discarding = true
            discarded += pending
            start = 0; end = 0
        } else if start > 0 {
            if pending > 0, let base = buffer.baseAddress { memmove(base, base + start, pending) }
            start = 0; end = pending
        } else if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            if end > 0 { bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end) }
            buffer.deallocate()
            buffer = bigger
        }
        lfPos = nil; lfSearchedTo = start
        let room = buffer.count - end
        let n = gzread(file, buffer.baseAddress! + end, UInt32(min(room, Int(Int32.max))))
        if n < 0 {
            var err: Int32 = 0
            let msg = String(cString: gzerror(file, &err))
            throw InputError(path: path, reason: "read error at compressed byte \(gzoffset(file)): \(msg)")
        }
        if n == 0 {
            eof = true
            var err: Int32 = 0
            _ = gzerror(file, &err)
            if err == Z_BUF_ERROR {
                let unfinished = end - start
                truncation = InputError(path: path, reason: "truncated gzip: the compressed stream ends at compressed byte \(gzoffset(file)) (uncompressed byte \(gztell(file))) before its end marker; records up to there were read, the \(unfinished) bytes of the unfinished last line were not")
            }
        }
        end += Int(n)
    }

    // MARK: multi-line JSON documents

    /// Lines to frame again after a broken document, next one last.
    private var requeued: [[UInt8]] = []
    private var draining = false

    private func frame(_ line: UnsafeRawBufferPointer, _ body: (Record) throws -> Void) throws {
        try frameOne(line, body)
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while let next = requeued.popLast() { try next.withUnsafeBytes { try frameOne($0, body) } }
    }

    private func frameOne(_ line: UnsafeRawBufferPointer, _ body: (Record) throws -> Void) throws {
        if !document.isEmpty {
            documentLineStarts.append(document.count + 1)
            document.append(0x0A)
            document.append(contentsOf: line)
            let (depth, openString) = LineReader.depth(line, from: documentDepth)
            documentDepth = depth
            if openString || depth < 0 || document.count > maxLineBytes || documentLineStarts.count > maxDocumentLines {
                try reframeDocument(body)
            } else if depth == 0 {
                try closeDocument(body)
            }
            return
        }
        if let last = lastNonSpace(line), last == 0x7B || last == 0x5B, let first = firstNonSpace(line), first == 0x7B || first == 0x5B {
            let (depth, openString) = LineReader.depth(line, from: 0)
            if depth > 0, !openString {
                document.append(contentsOf: line)
                documentLineStarts = [0]
                documentDepth = depth
                return
            }
        }
        try body(.line(line, lines: 1))
    }

    /// End of input: an open document is not one; re-frame until nothing is left.
    private func finishDocuments(_ body: (Record) throws -> Void) throws {
        draining = true
        defer { draining = false }
        while true {
            while let next = requeued.popLast() { try next.withUnsafeBytes { try frameOne($0, body) } }
            if document.isEmpty { return }
            try reframeDocument(body)
        }
    }

    /// Brackets balanced: the joined lines are one record when they are valid JSON, else they are re-framed.
    private func closeDocument(_ body: (Record) throws -> Void) throws {
        let valid = document.withUnsafeBytes { LineReader.isJSONSequence($0) }
        guard valid else { try reframeDocument(body); return }
        let lines = documentLineStarts.count
        let doc = document
        resetDocument()
        try doc.withUnsafeBytes { try body(.line($0, lines: lines)) }
    }

    /// A document that is not one: its first line and the fragments after it, up to the next line that is a
    /// complete record, are one (rejected) record; framing starts again at that line.
    private func reframeDocument(_ body: (Record) throws -> Void) throws {
        let doc = document
        let starts = documentLineStarts
        resetDocument()
        try doc.withUnsafeBytes { d in
            func line(_ k: Int) -> UnsafeRawBufferPointer {
                let e = k + 1 < starts.count ? starts[k + 1] - 1 : d.count
                return UnsafeRawBufferPointer(rebasing: d[starts[k]..<e])
            }
            var k = 1
            while k < starts.count, !LineReader.isCompleteRecord(line(k)) { k += 1 }
            let brokenEnd = k < starts.count ? starts[k] - 1 : d.count
            var rest: [[UInt8]] = []
            for j in stride(from: starts.count - 1, through: k, by: -1) { rest.append(Array(line(j))) }
            requeued.append(contentsOf: rest)
            if brokenEnd > maxLineBytes { try body(.tooLong(bytes: brokenEnd, lines: k)) }
            else { try body(.line(UnsafeRawBufferPointer(rebasing: d[0..<brokenEnd]), lines: k)) }
        }
    }

    /// A line that stands alone as a record: valid JSON by itself (a trailing comma allowed), or a line that
    /// cannot be part of a JSON document (a key=value, CEF or syslog line).
    static func isCompleteRecord(_ line: UnsafeRawBufferPointer) -> Bool {
        var a = 0, z = line.count
        while a < z, line[a] == 0x20 || line[a] == 0x09 { a += 1 }
        while z > a, line[z - 1] == 0x20 || line[z - 1] == 0x09 || line[z - 1] == 0x2C { z -= 1 }
        guard a < z else { return false }
        let c = line[a]
        if c == 0x7B || c == 0x5B { return isJSONSequence(UnsafeRawBufferPointer(rebasing: line[a..<z])) }
        let fragmentStarts: [UInt8] = [0x22, 0x7D, 0x5D, 0x2D, 0x74, 0x66, 0x6E, 0x3A]  // " } ] - t f n :
        if fragmentStarts.contains(c) || (c >= 0x30 && c <= 0x39) { return false }
        return true
    }

    private func resetDocument() {
        document = []
        documentLineStarts = []
        documentDepth = 0
    }

    /// One or more JSON values separated by whitespace or commas, and nothing else.
    static func isJSONSequence(_ b: UnsafeRawBufferPointer) -> Bool {
        let scanner = JSONScanner(b)
        var p = scanner.skipSpace(0)
        guard p < b.count else { return false }
        while p < b.count {
            guard let (_, after) = try? scanner.value(at: p) else { return false }
            p = scanner.skipSpace(after)
            if p < b.count, b[p] == 0x2C { p = scanner.skipSpace(p + 1) }
        }
        return true
    }

    private func firstNonSpace(_ b: UnsafeRawBufferPointer) -> UInt8? {
        for c in b where c != 0x20 && c != 0x09 { return c }
        return nil
    }
    private func lastNonSpace(_ b: UnsafeRawBufferPointer) -> UInt8? {
        var i = b.count - 1
        while i >= 0 { if b[i] != 0x20 && b[i] != 0x09 { return b[i] }; i -= 1 }
        return nil
    }

    /// Bracket depth after `line` (strings skipped), and whether a string is left open.
    static func depth(_ line: UnsafeRawBufferPointer, from: Int) -> (Int, Bool) {
        var d = from
        var inString = false
        var i = 0
        while i < line.count {
            let c = line[i]
            if inString {
                if c == 0x5C { i += 2; continue }
                if c == 0x22 { inString = false }
            } else if c == 0x22 { inString = true }
            else if c == 0x7B || c == 0x5B { d += 1 }
            else if c == 0x7D || c == 0x5D { d -= 1 }
            i += 1
        }
        return (d, inString)
    }
}

/// A buffered writer to a file descriptor (stdout by default).
public final class OutputWriter {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let ownsFD: Bool
    public init(fd: Int32 = 1) { self.fd = fd; ownsFD = false; buffer.reserveCapacity(1 << 16) }
    public init(path: String) throws {
        let f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard f >= 0 else { throw InputError(path: path, reason: "cannot create (\(String(cString: strerror(errno))))") }
        fd = f; ownsFD = true
        buffer.reserveCapacity(1 << 16)
    }
    deinit { flush(); if ownsFD { close(fd) } }

    @inline(__always) public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }
    public func write(_ s: String) { write(Array(s.utf8)) }

    public func flush() {
        var off = 0
        buffer.withUnsafeBytes { b in
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n <= 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
