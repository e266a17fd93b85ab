import CZlib
import OspreyCore

public struct GzipError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { "gzip: \(reason)" }
}

public enum Gzip {
    /// Inflates gzip (or zlib) data, concatenated members included. A stream that ends before its trailer
    /// is a truncated download (thrown, so the caller downloads again).
    public static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        if input.isEmpty { throw GzipError(reason: "empty file") }
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, input.count * 4))
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(reason: "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        try input.withUnsafeBytes { (inBuf: UnsafeRawBufferPointer) in
            let base = UnsafeMutablePointer(mutating: inBuf.bindMemory(to: UInt8.self).baseAddress!)
            stream.next_in = base
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let rc: Int32 = chunk.withUnsafeMutableBytes { c in
                    stream.next_out = c.bindMemory(to: UInt8.self).baseAddress
                    stream.avail_out = UInt32(c.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if produced > 0 {
                    guard out.count + produced <= limit else { throw GzipError(reason: "more than \(limit) bytes decompressed") }
                    out.append(contentsOf: chunk[0..<produced])
                }
                if rc == Z_STREAM_END {
                    if stream.avail_in == 0 { return }
                    // Another member follows (skip trailing zero padding).
                    let rest = UnsafeRawBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                    if rest.allSatisfy({ $0 == 0 }) { return }
                    guard inflateReset(&stream) == Z_OK else { throw GzipError(reason: "inflateReset failed") }
                    continue
                }
                if rc == Z_OK { continue }
                if rc == Z_BUF_ERROR {
                    if stream.avail_in == 0 { throw GzipError(reason: "truncated (stream ends before its trailer)") }
                    continue
                }
                throw GzipError(reason: "corrupt data (zlib \(rc))")
            }
        }
        return out
    }
}

/// Byte-level helpers for API responses: find envelope members, take records out as compact JSON.
public enum RecordJSON {
    /// Top-level member `key` of the object in `buf`.
    static func member(_ s: JSONScanner, object at: Int = 0, _ key: String) throws -> JSONValueRange? {
        let h = FNV.hash(key)
        var found: JSONValueRange?
        _ = try s.members(ofObjectAt: at, flattenDepth: 1) { kh, _, v in
            if kh == h, found == nil { found = v }
        }
        return found
    }

    /// The value's bytes as compact JSON (whitespace outside strings removed; strings byte for byte).
    static func compact(_ buf: UnsafeRawBufferPointer, _ r: JSONValueRange) -> [UInt8] {
        var start = r.start, end = r.end
        if r.kind == .string { start -= 1; end += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var inString = false
        var i = start
        while i < end {
            let c = buf[i]
            if inString {
                out.append(c)
                if c == 0x5C, i + 1 < end { out.append(buf[i + 1]); i += 2; continue }
                if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true; out.append(c)
            } else if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
                out.append(c)
            }
            i += 1
        }
        return out
    }

    static func string(_ s: JSONScanner, _ r: JSONValueRange?) -> String? {
        guard let r, r.kind == .string else { return nil }
        return s.string(r)
    }

    /// Record identity for the duplicate check: FNV-1a of the compact record.
    public static func identity(_ b: [UInt8]) -> UInt64 {
        var h = FNV.offset
        for c in b { h = FNV.add(h, c) }
        return h
    }

    /// The record's event time (milliseconds), from the first of `fields` present: a number of
    /// milliseconds, or a timestamp string.
    static func eventTime(_ record: [UInt8], fields: [UInt64]) -> Int64? {
        record.withUnsafeBytes { b -> Int64? in
            let s = JSONScanner(b)
            var best: (Int, Int64)?
            _ = try? s.members(ofObjectAt: 0, flattenDepth: 1) { kh, _, v in
                guard let rank = fields.firstIndex(of: kh), best == nil || rank < best!.0 else { return }
                let slice = UnsafeRawBufferPointer(rebasing: b[v.start..<v.end])
                var t: Int64?
                if v.kind == .number {
                    var n: Int64 = 0
                    var ok = slice.count > 0 && slice.count <= 15
                    for c in slice where ok { if c >= 0x30 && c <= 0x39 { n = n * 10 + Int64(c - 0x30) } else { ok = false } }
                    if ok { t = n < 100_000_000_000 ? n * 1000 : n }   // seconds or milliseconds
                } else if v.kind == .string {
                    t = UTCTime.parse(slice)
                }
                // Only plausible times (1990 … 2200): a hostile value never reaches date formatting.
                if let t, t >= 631_152_000_000, t <= 7_258_118_400_000 { best = (rank, t) }
            }
            return best?.1
        }
    }

    /// Splits NDJSON (one record per line) into compact records; blank lines skipped, lines that are not
    /// JSON objects kept as they are (the pipeline counts them as rejects).
    static func lines(_ data: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        data.withUnsafeBytes { b in
            var start = 0
            let n = b.count
            while start < n {
                var end = start
                while end < n, b[end] != 0x0A { end += 1 }
                var e = end
                if e > start, b[e - 1] == 0x0D { e -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: b[start..<e])
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    let s = JSONScanner(line)
                    if let (v, after) = try? s.value(at: 0), v.kind == .object, s.skipSpace(after) == line.count {
                        out.append(compact(line, v))
                    } else {
                        out.append(Array(line))
                    }
                }
                start = end + 1
            }
        }
        return out
    }
}
