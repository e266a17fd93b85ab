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
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty || line.first == "#" { continue }
            let parts = line.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw ContentError(file: file, line: lineNo, reason: "expected 'first,last,CC', found \(parts.count) comma-separated fields")
            }
            let cc = parts[2].trimmingSpaces.uppercased()
            guard cc.utf8.count == 2, cc.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x3F }) else {
                throw ContentError(file: file, line: lineNo, reason: "bad country code '\(parts[2])'")
            }
            guard let a = address(parts[0]), let b = address(parts[1]) else {
                throw ContentError(file: file, line: lineNo, reason: "bad address in '\(line)'")
            }
            guard !(b < a), a.isV4 == b.isV4 else {
                throw ContentError(file: file, line: lineNo, reason: "range end is before its start or mixes IPv4 and IPv6")
            }
            if cc == "??" { continue }
            entries.append((IPRange(first: a, last: b), cc))
        }
    }

    static func address(_ s: Substring) -> IPAddress? {
        let t = s.trimmingSpaces
        if !t.isEmpty, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let v = UInt32(t) else { return nil }
            return IPAddress(v4: v)
        }
        return IPAddress.parse(t)
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
