import OspreyCore

/// Country ranges in the plain text format of Debian's `tor-geoipdb` (`/usr/share/tor/geoip` and `geoip6`,
/// converted from the IPFire Location database):
///
///     # comment
///     16777216,16777471,AU                                   (IPv4: first and last address as integers)
///     2001:2::,2001:2:0:ffff:ffff:ffff:ffff:ffff,JP           (IPv6: first and last address)
///
/// `??` (unknown) lines are skipped. Both files may be loaded into one table.
public enum IPFireRanges {
    public static func parse(_ text: String, file: String, into entries: inout [(IPRange, String)]) throws {
        var text = text
        var codes: [UInt16: String] = [:]
        try text.withUTF8 { buf in
            let b = UnsafeRawBufferPointer(buf)
            let n = b.count
            var lineNo = 0
            var start = 0
            while start < n {
                var end = start
                while end < n, b[end] != 0x0A { end += 1 }
                lineNo += 1
                var lineEnd = end
                if lineEnd > start, b[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                defer { start = end + 1 }
                if lineEnd == start || b[start] == 0x23 { continue }
                var c1 = -1, c2 = -1, commas = 0
                for i in start..<lineEnd where b[i] == 0x2C {
                    commas += 1
                    if c1 < 0 { c1 = i } else if c2 < 0 { c2 = i }
                }
                func fail(_ why: String) -> ContentError {
                    let line = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<lineEnd]), as: UTF8.self)
                    return ContentError(file: file, line: lineNo, reason: "\(why): '\(line)'")
                }
                guard commas == 2 else { throw fail("expected 'first,last,CC'") }
                var ccStart = c2 + 1, ccEnd = lineEnd
                while ccStart < ccEnd, b[ccStart] == 0x20 { ccStart += 1 }
                while ccEnd > ccStart, b[ccEnd - 1] == 0x20 { ccEnd -= 1 }
                guard ccEnd - ccStart == 2 else { throw fail("bad country code") }
                var x = b[ccStart], y = b[ccStart + 1]
                if x >= 0x61 && x <= 0x7A { x -= 0x20 }
                if y >= 0x61 && y <= 0x7A { y -= 0x20 }
                let unknown = x == 0x3F && y == 0x3F
                guard unknown || (x >= 0x41 && x <= 0x5A && y >= 0x41 && y <= 0x5A) else { throw fail("bad country code") }
                guard let first = address(b, start, c1), let last = address(b, c1 + 1, c2) else { throw fail("bad address") }
                guard !(last < first), first.isV4 == last.isV4 else {
                    throw fail("range end is before its start or mixes IPv4 and IPv6")
                }
                if unknown { continue }
                let key = UInt16(x) << 8 | UInt16(y)
                let cc: String
                if let known = codes[key] { cc = known } else {
                    cc = String(decoding: [x, y], as: UTF8.self)
                    codes[key] = cc
                }
                entries.append((IPRange(first: first, last: last), cc))
            }
        }
    }

    /// An integer (IPv4 as a number) or IPv6 text between `from` and `to`.
    static func address(_ b: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> IPAddress? {
        var s = from, e = to
        while s < e, b[s] == 0x20 { s += 1 }
        while e > s, b[e - 1] == 0x20 { e -= 1 }
        guard s < e else { return nil }
        var allDigits = true
        var v: UInt64 = 0
        for i in s..<e {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { v = v &* 10 &+ UInt64(c - 0x30) } else { allDigits = false; break }
        }
        if allDigits {
            guard e - s <= 10, v <= UInt64(UInt32.max) else { return nil }
            return IPAddress(v4: UInt32(v))
        }
        return IPAddress.parse(UnsafeRawBufferPointer(rebasing: b[s..<e]))
    }

    public static func load(paths: [String]) throws -> IPRangeTable<String> {
        var entries: [(IPRange, String)] = []
        for p in paths { try parse(ContentDirectory.read(p), file: p, into: &entries) }
        // The two files are each sorted; IPv4-mapped addresses sort before most IPv6, but sort to be sure.
        var sorted = true
        for i in entries.indices.dropFirst() where !(entries[i - 1].0.last < entries[i].0.first) { sorted = false; break }
        if !sorted { entries.sort { $0.0.first < $1.0.first } }
        return IPRangeTable(entries)
    }
}

/// Everything the context knows about one IP address, computed once and cached per enricher.
public struct IPFacts: Sendable {
    public var country: String?
    public var asn: Int64?
    public var isp: String?
    public var zone: String?
    public var countrySuspicious = false
    public var tor: String?
    public var blacklist: String?
    public var ransomware: String?
    public init() {}
}

/// Geolocation from MaxMind DB files first (in the order configured), then the IPFire/tor ranges for the
/// country when no database had one.
public struct GeoLocator: Sendable {
    public var databases: [MaxMindDB]
    public var ranges: IPRangeTable<String>

    public init(databases: [MaxMindDB] = [], ranges: IPRangeTable<String> = IPRangeTable()) {
        self.databases = databases; self.ranges = ranges
    }

    public var isEmpty: Bool { databases.isEmpty && ranges.isEmpty }

    public func locate(_ ip: IPAddress) -> GeoRecord {
        var out = GeoRecord()
        for db in databases {
            guard let r = db.lookup(ip) else { continue }
            if out.country == nil { out.country = r.country }
            if out.asn == nil { out.asn = r.asn }
            if out.organization == nil { out.organization = r.organization }
            if out.country != nil && out.asn != nil && out.organization != nil { break }
        }
        if out.country == nil, let cc = ranges.lookup(ip) { out.country = cc }
        return out
    }
}
