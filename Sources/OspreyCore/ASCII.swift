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

    /// Lowercased copy, or the same string when it has no uppercase ASCII (no allocation then).
    public static func lowercased(_ s: String) -> String {
        let fast: String?? = s.utf8.withContiguousStorageIfAvailable { b -> String? in
            var i = 0
            while i < b.count, !(b[i] >= 0x41 && b[i] <= 0x5A) { if b[i] >= 0x80 { return nil }; i += 1 }
            if i == b.count { return s }
            for k in i..<b.count where b[k] >= 0x80 { _ = k; return nil }
            return String(unsafeUninitializedCapacity: b.count) { out in
                for k in 0..<b.count { out[k] = lower(b[k]) }
                return b.count
            }
        }
        if let f = fast, let r = f { return r }
        var needs = false
        for c in s.utf8 where c >= 0x41 && c <= 0x5A { needs = true; break }
        if !needs { return s }
        for c in s.utf8 where c >= 0x80 { return s.lowercased() }
        return String(decoding: s.utf8.map(lower), as: UTF8.self)
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
