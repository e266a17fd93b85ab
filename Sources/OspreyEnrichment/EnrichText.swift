import OspreyCore

/// Small text helpers for the per-event path.
public enum EnrichText {
    /// `Name <A@B.com>` → `a@b.com`. Returns the string itself (no allocation) when it is already bare.
    public static func bareAddress(_ a: String) -> String {
        if !a.utf8.contains(where: { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x3C || $0 == 0x3E || $0 == 0x20 }) { return a }
        var t = Substring(a)
        if let lt = t.lastIndex(of: "<") { t = t[t.index(after: lt)...] }
        while let l = t.last, l == ">" || l == " " { t = t.dropLast() }
        while t.first == " " { t = t.dropFirst() }
        return t.lowercased()
    }

    /// The first email address in free text (`forward to Bob.Smith@gmail.com (invoices)` → `bob.smith@gmail.com`),
    /// lowercased, skipping `except` (the actor). Nil without one.
    public static func firstAddress(in text: String, except: String?) -> String? {
        guard text.utf8.contains(0x40) else { return nil }
        let u = Array(text.utf8)
        @inline(__always) func local(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x5F || c == 0x25 || c == 0x2B || c == 0x2D
        }
        @inline(__always) func host(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D
        }
        var i = 0
        while i < u.count {
            guard u[i] == 0x40 else { i += 1; continue }
            var a = i, b = i + 1
            while a > 0, local(u[a - 1]) { a -= 1 }
            while b < u.count, host(u[b]) { b += 1 }
            while b > i + 1, u[b - 1] == 0x2E || u[b - 1] == 0x2D { b -= 1 }   // trailing punctuation
            while a < i, u[a] == 0x2E { a += 1 }
            let domain = u[(i + 1)..<b]
            if a < i, domain.contains(0x2E), domain.first != 0x2E {
                let addr = String(decoding: u[a..<b], as: UTF8.self).lowercased()
                if addr != except { return addr }
            }
            i = b > i ? b : i + 1
        }
        return nil
    }

    /// FNV-1a over the UTF-8 bytes.
    @inline(__always) public static func hash(_ s: String) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        if let r = s.utf8.withContiguousStorageIfAvailable({ buf -> UInt64 in
            var x = h
            for b in buf { x = (x ^ UInt64(b)) &* 0x100_0000_01b3 }
            return x
        }) { h = r } else { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

}
