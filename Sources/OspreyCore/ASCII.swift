/// Byte-level string helpers for the per-event path: Swift's Character-based String operations
/// (lastIndex(of:), lowercased(), contains) cost far more than the UTF-8 scans these need.
/// Two lowercasings, on purpose: `ASCII.lowercased` gives Unicode lowercase (identities and addresses, where
/// `É` and `é` are the same person), `String.asciiLowercased` folds only A–Z (list entries, keywords and
/// rule comparisons, which the content defines as ASCII-case-insensitive).
public enum ASCII {
    @inline(__always) public static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    /// The value of a hexadecimal digit (either case), or nil.
    @inline(__always) public static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        default: return nil
        }
    }

    /// Whether `needle` occurs in `hay` (bytes compared as they are).
    @inline(__always)
    public static func contains(_ needle: [UInt8], in hay: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > hay.count { return false }
        return needle.withUnsafeBytes { n in hay.withUnsafeBytes { h in Bytes.find(n, in: h) != nil } }
    }

    /// Case-insensitive (ASCII) prefix test; neither side needs to be lowercased.
    public static func hasPrefixIgnoringCase(_ s: String, _ prefix: String) -> Bool {
        let a = s.utf8, b = prefix.utf8
        guard b.count <= a.count else { return false }
        for (x, y) in zip(a, b) where lower(x) != lower(y) { return false }
        return true
    }

    /// Case-insensitive (ASCII) suffix test; neither side needs to be lowercased.
    public static func hasSuffixIgnoringCase(_ s: String, _ suffix: String) -> Bool {
        let a = Array(s.utf8), b = Array(suffix.utf8)
        guard b.count <= a.count else { return false }
        let off = a.count - b.count
        for i in 0..<b.count where lower(a[off + i]) != lower(b[i]) { return false }
        return true
    }

    /// Case-insensitive (ASCII) equality; `lowered` must already be lowercase.
    public static func equalsIgnoringCase(_ s: String, lowered: String) -> Bool {
        guard s.utf8.count == lowered.utf8.count else { return false }
        // Contiguous bytes (a native string's own; the generic zip of two UTF-8 views showed in parse profiles).
        var a = s, l = lowered
        return a.withUTF8 { x in
            l.withUTF8 { y in
                for i in 0..<x.count where lower(x[i]) != y[i] { return false }
                return true
            }
        }
    }

    /// Case-insensitive (ASCII) substring test; `lowered` must already be lowercase.
    public static func containsIgnoringCase(_ s: String, lowered: String) -> Bool {
        var h = s, n = lowered
        return h.withUTF8 { hb in n.withUTF8 { containsIgnoringCase(hb, lowered: $0) } }
    }

    private static func containsIgnoringCase(_ b: UnsafeBufferPointer<UInt8>, lowered n: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !n.isEmpty else { return true }
        guard b.count >= n.count else { return false }
        var i = 0
        while i + n.count <= b.count {
            if lower(b[i]) == n[0] {
                var k = 1
                while k < n.count, lower(b[i + k]) == n[k] { k += 1 }
                if k == n.count { return true }
            }
            i += 1
        }
        return false
    }

    /// The Unicode lowercase of `s` (`Élodie` → `élodie`); ASCII text is folded byte by byte, and returned
    /// as it is (no allocation) when it has no uppercase letter.
    public static func lowercased(_ s: String) -> String {
        var t = s   // withUTF8 reads a native string's own bytes (small ones from the stack)
        let scan = t.withUTF8 { b -> (upper: Bool, ascii: Bool) in
            guard let base = b.baseAddress else { return (false, true) }
            let raw = UnsafeRawPointer(base)
            var upper = false
            var i = 0
            // Eight bytes per step: a high bit means non-ASCII (Unicode rules below); for ASCII bytes,
            // x + 0x3F sets the high bit when x ≥ 'A' and x + 0x25 when x > 'Z', with no carry between bytes.
            while i + 8 <= b.count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if w & 0x8080_8080_8080_8080 != 0 { return (true, false) }
                if (w &+ 0x3F3F_3F3F_3F3F_3F3F) & ~(w &+ 0x2525_2525_2525_2525) & 0x8080_8080_8080_8080 != 0 { upper = true }
                i += 8
            }
            while i < b.count {
                let c = b[i]
                if c >= 0x80 { return (true, false) }
                if c >= 0x41 && c <= 0x5A { upper = true }
                i += 1
            }
            return (upper, true)
        }
        if !scan.upper { return s }
        if !scan.ascii { return s.lowercased() }
        return t.withUTF8 { b in
            String(unsafeUninitializedCapacity: b.count) { out in
                for k in 0..<b.count { out[k] = lower(b[k]) }
                return b.count
            }
        }
    }
}

extension String {
    /// A–Z folded to a–z, every other byte kept; the same string (no allocation) when there is nothing to fold.
    public var asciiLowercased: String {
        var needs = false
        for b in utf8 where b >= 0x41 && b <= 0x5A { needs = true; break }
        if !needs { return self }
        return String(decoding: utf8.map(ASCII.lower), as: UTF8.self)
    }
}
