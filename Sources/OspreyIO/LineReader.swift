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

/// Reads records from a file, a gzip file or stdin (zlib reads plain and gzip input alike) and frames them:
/// one line is one record, except a pretty-printed JSON document (a line that ends with `{` or `[`), whose
/// lines are joined until its brackets balance. Lines longer than `maxLineBytes` are reported as too long
/// without being held in memory.
public final class LineReader {
    public enum Record {
        case line(UnsafeRawBufferPointer, lines: Int)
        case tooLong(bytes: Int, lines: Int)
    }

    private let file: gzFile
    public let path: String
    public let maxLineBytes: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var eof = false
    private var discarding = false
    private var discarded = 0
    private var document: [UInt8] = []
    private var documentLines = 0
    private var documentDepth = 0

    public init(path: String, maxLineBytes: Int = 4 << 20, bufferBytes: Int = 1 << 20) throws {
        self.path = path
        self.maxLineBytes = maxLineBytes
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

    /// Calls `body` for every record until end of input.
    public func forEach(_ body: (Record) throws -> Void) throws {
        while true {
            // Find the next newline in [start, end).
            if let nl = newline(from: start) {
                let lineEnd = nl > start && buffer[nl - 1] == 0x0D ? nl - 1 : nl
                if discarding {
                    discarded += nl - start
                    try body(.tooLong(bytes: discarded, lines: 1))
                    discarding = false; discarded = 0
                } else {
                    try frame(UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd]), body)
                }
                start = nl + 1
                continue
            }
            if eof {
                if discarding { try body(.tooLong(bytes: discarded + (end - start), lines: 1)); discarding = false }
                else if end > start { try frame(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), body) }
                start = end
                if !document.isEmpty { try flushDocument(body) }
                return
            }
            try refill()
        }
    }

    private func newline(from: Int) -> Int? {
        guard end > from, let base = buffer.baseAddress else { return nil }
        guard let p = memchr(base + from, 0x0A, end - from) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
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
        let room = buffer.count - end
        let n = gzread(file, buffer.baseAddress! + end, UInt32(min(room, Int(Int32.max))))
        if n < 0 {
            var err: Int32 = 0
            let msg = String(cString: gzerror(file, &err))
            throw InputError(path: path, reason: "read error: \(msg)")
        }
        if n == 0 { eof = true }
        end += Int(n)
    }

    // MARK: multi-line JSON documents

    private func frame(_ line: UnsafeRawBufferPointer, _ body: (Record) throws -> Void) throws {
        if !document.isEmpty {
            document.append(0x0A)
            document.append(contentsOf: line)
            documentLines += 1
            let (depth, openString) = LineReader.depth(line, from: documentDepth)
            documentDepth = depth
            if openString || depth <= 0 || document.count > maxLineBytes { try flushDocument(body) }
            return
        }
        if let last = lastNonSpace(line), last == 0x7B || last == 0x5B, let first = firstNonSpace(line), first == 0x7B || first == 0x5B {
            let (depth, openString) = LineReader.depth(line, from: 0)
            if depth > 0, !openString {
                document.append(contentsOf: line)
                documentLines = 1
                documentDepth = depth
                return
            }
        }
        try body(.line(line, lines: 1))
    }

    private func flushDocument(_ body: (Record) throws -> Void) throws {
        let lines = documentLines
        let doc = document
        document.removeAll(keepingCapacity: true)
        documentLines = 0
        documentDepth = 0
        if doc.count > maxLineBytes { try body(.tooLong(bytes: doc.count, lines: lines)); return }
        try doc.withUnsafeBytes { try body(.line($0, lines: lines)) }
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
