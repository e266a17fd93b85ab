import CByteShims

/// Byte helpers for the hot path.
public enum Bytes {
    /// Offset of `needle` in `haystack`, or nil (osprey_memmem in CByteShims: AVX2 or SSE2, anchored on the
    /// needle's two rarest bytes).
    @inline(__always)
    public static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard needle.count > 0, from <= haystack.count, let h = haystack.baseAddress, let nb = needle.baseAddress else {
            return needle.count == 0 ? from : nil
        }
        guard let r = osprey_memmem(h + from, haystack.count - from, nb, needle.count) else { return nil }
        return h.distance(to: UnsafeRawPointer(r))
    }

    @inline(__always)
    public static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        needle.withUnsafeBytes { find($0, in: haystack) != nil }
    }

    /// Whether the bytes are valid UTF-8 (the JSON output must not carry invalid sequences).
    public static func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            var need = 0
            var minCp: UInt32 = 0
            var cp: UInt32
            if c & 0xE0 == 0xC0 { need = 1; cp = UInt32(c & 0x1F); minCp = 0x80 }
            else if c & 0xF0 == 0xE0 { need = 2; cp = UInt32(c & 0x0F); minCp = 0x800 }
            else if c & 0xF8 == 0xF0 { need = 3; cp = UInt32(c & 0x07); minCp = 0x10000 }
            else { return false }
            for k in 1...need {
                guard i + k < n else { return false }
                let cc = b[i + k]
                guard cc & 0xC0 == 0x80 else { return false }
                cp = (cp << 6) | UInt32(cc & 0x3F)
            }
            if cp < minCp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) { return false }
            i += need + 1
        }
        return true
    }
}
