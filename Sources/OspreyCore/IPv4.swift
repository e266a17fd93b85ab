/// Dotted-quad IPv4 addresses: the one parser enrichment (geolocation, zones, TI ranges) and the rules'
/// CIDR lists use.
public enum IPv4 {
    /// `a.b.c.d` in `b[start..<end]` as a 32-bit value: four decimal parts 0–255 with 1–3 digits each and no
    /// leading zero (`010.0.0.1` is rejected: inet_aton reads it as octal, other parsers as decimal, so it
    /// names no one address; CVE-2021-29921). Nil otherwise.
    public static func parse(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UInt32? {
        guard start >= 0, end <= b.count, start < end else { return nil }
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, parts = 0, first: UInt8 = 0
        var i = start
        while i <= end {
            if i == end || b[i] == 0x2E {
                guard digits > 0, octet <= 255, !(digits > 1 && first == 0x30), parts < 4 else { return nil }
                value = value << 8 | octet
                parts += 1; octet = 0; digits = 0
                if i == end { break }
            } else {
                let c = b[i]
                guard c >= 0x30, c <= 0x39, digits < 3 else { return nil }
                if digits == 0 { first = c }
                octet = octet * 10 + UInt32(c - 0x30); digits += 1
            }
            i += 1
        }
        return parts == 4 ? value : nil
    }

    public static func parse(_ text: String) -> UInt32? {
        var s = text
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0), 0, $0.count) }
    }
}
