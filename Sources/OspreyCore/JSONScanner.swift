import CByteShims

/// A byte-level JSON scanner for the per-event path: it finds keys and value ranges without building
/// objects (measured ~6x faster than JSONSerialization on Mimecast records). Values are decoded only when
/// a parser asks for them.
public enum JSONKind: UInt8, Sendable { case string, number, bool, null, object, array }

public struct JSONValueRange: Sendable {
    public var kind: JSONKind
    /// For strings: the bytes between the quotes, still escaped. Otherwise the whole value.
    public var start: Int
    public var end: Int
    /// Strings only: whether any backslash escape occurs (decoding needed).
    public var escaped: Bool
    public init(kind: JSONKind, start: Int, end: Int, escaped: Bool) {
        self.kind = kind; self.start = start; self.end = end; self.escaped = escaped
    }
}

public struct JSONError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset)" }
    public init(offset: Int, reason: String) { self.offset = offset; self.reason = reason }
}

public struct JSONScanner {
    public let buf: UnsafeRawBufferPointer
    public var maxDepth = 64

    public init(_ buf: UnsafeRawBufferPointer) { self.buf = buf }

    @inline(__always) public func skipSpace(_ p: Int) -> Int {
        var p = p
        while p < buf.count {
            let c = buf[p]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { p += 1 } else { break }
        }
        return p
    }

    /// Scans one value starting at `p` (after whitespace). Returns its range and the offset after it.
    public func value(at p0: Int, depth: Int = 0) throws -> (JSONValueRange, Int) {
        let p = skipSpace(p0)
        guard p < buf.count else { throw JSONError(offset: p, reason: "truncated JSON: value expected") }
        let c = buf[p]
        switch c {
        case 0x22: // "
            var i = p + 1
            var escaped = false
            while i < buf.count, let base = buf.baseAddress {
                i += osprey_find_quote_or_backslash(base + i, buf.count - i)   // the next `"` or `\`
                guard i < buf.count else { break }
                if buf[i] == 0x22 { return (JSONValueRange(kind: .string, start: p + 1, end: i, escaped: escaped), i + 1) }
                escaped = true; i += 2
            }
            throw JSONError(offset: p, reason: "truncated JSON: unterminated string")
        case 0x7B, 0x5B: // { [
            guard depth < maxDepth else { throw JSONError(offset: p, reason: "JSON nested deeper than \(maxDepth)") }
            let close: UInt8 = c == 0x7B ? 0x7D : 0x5D
            var i = skipSpace(p + 1)
            if i < buf.count, buf[i] == close {
                return (JSONValueRange(kind: c == 0x7B ? .object : .array, start: p, end: i + 1, escaped: false), i + 1)
            }
            while true {
                if c == 0x7B {
                    i = skipSpace(i)
                    guard i < buf.count, buf[i] == 0x22 else { throw JSONError(offset: i, reason: "JSON object key expected") }
                    let (_, afterKey) = try value(at: i, depth: depth + 1)
                    i = skipSpace(afterKey)
                    guard i < buf.count, buf[i] == 0x3A else { throw JSONError(offset: i, reason: "':' expected after JSON key") }
                    i += 1
                }
                let (_, after) = try value(at: i, depth: depth + 1)
                i = skipSpace(after)
                guard i < buf.count else { throw JSONError(offset: i, reason: "truncated JSON: '\(c == 0x7B ? "}" : "]")' expected") }
                if buf[i] == 0x2C { i += 1; continue }
                if buf[i] == close {
                    return (JSONValueRange(kind: c == 0x7B ? .object : .array, start: p, end: i + 1, escaped: false), i + 1)
                }
                throw JSONError(offset: i, reason: "',' or '\(c == 0x7B ? "}" : "]")' expected in JSON")
            }
        case 0x74: // true
            guard literal(p, "true") else { throw JSONError(offset: p, reason: "invalid JSON literal") }
            return (JSONValueRange(kind: .bool, start: p, end: p + 4, escaped: false), p + 4)
        case 0x66:
            guard literal(p, "false") else { throw JSONError(offset: p, reason: "invalid JSON literal") }
            return (JSONValueRange(kind: .bool, start: p, end: p + 5, escaped: false), p + 5)
        case 0x6E:
            guard literal(p, "null") else { throw JSONError(offset: p, reason: "invalid JSON literal") }
            return (JSONValueRange(kind: .null, start: p, end: p + 4, escaped: false), p + 4)
        default:
            guard c == 0x2D || (c >= 0x30 && c <= 0x39) else {
                throw JSONError(offset: p, reason: "unexpected byte 0x\(String(c, radix: 16)) in JSON")
            }
            var i = p + 1
            while i < buf.count {
                let b = buf[i]
                if (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x65 || b == 0x45 || b == 0x2B || b == 0x2D { i += 1 } else { break }
            }
            return (JSONValueRange(kind: .number, start: p, end: i, escaped: false), i)
        }
    }

    private func literal(_ p: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard p + n <= buf.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where buf[p + k] != w[k] { return false }
        return true
    }

    /// Visits the members of the object at `p` (which must be `{`), flattening nested objects into dotted
    /// paths up to `flattenDepth` levels. The visitor gets the key's FNV-1a hash (of the dotted path), the
    /// key range and the value range.
    public func members(ofObjectAt p: Int, flattenDepth: Int = 2,
                        _ visit: (UInt64, Range<Int>, JSONValueRange) -> Void) throws -> Int {
        try members(p, prefixHash: FNV.offset, level: 0, flattenDepth: flattenDepth, visit)
    }

    private func members(_ p0: Int, prefixHash: UInt64, level: Int, flattenDepth: Int,
                         _ visit: (UInt64, Range<Int>, JSONValueRange) -> Void) throws -> Int {
        var i = skipSpace(p0)
        guard i < buf.count, buf[i] == 0x7B else { throw JSONError(offset: i, reason: "JSON object expected") }
        i = skipSpace(i + 1)
        if i < buf.count, buf[i] == 0x7D { return i + 1 }
        while true {
            i = skipSpace(i)
            guard i < buf.count, buf[i] == 0x22 else {
                throw JSONError(offset: i, reason: i >= buf.count ? "truncated JSON: key expected" : "JSON object key expected")
            }
            let (key, afterKey) = try value(at: i)
            var h = prefixHash
            if level > 0 { h = FNV.add(h, 0x2E) }
            for k in key.start..<key.end { h = FNV.add(h, buf[k]) }
            i = skipSpace(afterKey)
            guard i < buf.count, buf[i] == 0x3A else { throw JSONError(offset: i, reason: "':' expected after JSON key") }
            let vStart = skipSpace(i + 1)
            if vStart < buf.count, buf[vStart] == 0x7B, level + 1 < flattenDepth {
                let (v, _) = try value(at: vStart, depth: level + 1)
                visit(h, key.start..<key.end, v)
                i = try members(vStart, prefixHash: h, level: level + 1, flattenDepth: flattenDepth, visit)
            } else {
                let (v, after) = try value(at: vStart, depth: level + 1)
                visit(h, key.start..<key.end, v)
                i = after
            }
            i = skipSpace(i)
            guard i < buf.count else { throw JSONError(offset: i, reason: "truncated JSON: '}' expected") }
            if buf[i] == 0x2C { i += 1; continue }
            if buf[i] == 0x7D { return i + 1 }
            throw JSONError(offset: i, reason: "',' or '}' expected in JSON object")
        }
    }

    /// The elements of the array value `r`.
    public func elements(of r: JSONValueRange) throws -> [JSONValueRange] {
        guard r.kind == .array else { return [] }
        var out: [JSONValueRange] = []
        var i = skipSpace(r.start + 1)
        if i < buf.count, buf[i] == 0x5D { return out }
        while i < r.end {
            let (v, after) = try value(at: i, depth: 1)
            out.append(v)
            i = skipSpace(after)
            if i < buf.count, buf[i] == 0x2C { i += 1; continue }
            break
        }
        return out
    }

    /// Decodes a string range (unescaping), or renders a scalar's raw text. Objects/arrays give raw JSON.
    public func string(_ r: JSONValueRange) -> String {
        if r.kind != .string || !r.escaped {
            return String(decoding: UnsafeRawBufferPointer(rebasing: buf[r.start..<r.end]), as: UTF8.self)
        }
        return JSONScanner.unescape(UnsafeRawBufferPointer(rebasing: buf[r.start..<r.end]))
    }

    public static func unescape(_ s: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        func hex(_ at: Int) -> UInt32? {
            guard at + 4 <= s.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                guard let d = ASCII.hexValue(s[at + k]) else { return nil }
                v = v * 16 + d
            }
            return v
        }
        while i < s.count {
            let c = s[i]
            if c != 0x5C || i + 1 >= s.count { out.append(c); i += 1; continue }
            let e = s[i + 1]
            i += 2
            switch e {
            case 0x6E: out.append(0x0A)
            case 0x74: out.append(0x09)
            case 0x72: out.append(0x0D)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x75:
                guard var cp = hex(i) else { out.append(0x5C); out.append(e); continue }
                i += 4
                if cp >= 0xD800, cp < 0xDC00, i + 6 <= s.count, s[i] == 0x5C, s[i + 1] == 0x75, let lo = hex(i + 2), lo >= 0xDC00, lo < 0xE000 {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
                }
                let scalar = Unicode.Scalar(cp) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// FNV-1a, used to hash record keys while scanning.
public enum FNV {
    public static let offset: UInt64 = 0xcbf29ce484222325
    @inline(__always) public static func add(_ h: UInt64, _ b: UInt8) -> UInt64 { (h ^ UInt64(b)) &* 0x100000001b3 }
    public static func hash(_ s: String) -> UInt64 {
        var h = offset
        for b in s.utf8 { h = add(h, b) }
        return h
    }
}
