
/// An IPv4 or IPv6 address as 128 bits. IPv4 addresses are kept as IPv4-mapped IPv6 (`::ffff:a.b.c.d`) with
/// `isV4` set, so one representation serves both range tables and the cache.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var hi: UInt64
    public var lo: UInt64

    public init(hi: UInt64, lo: UInt64) { self.hi = hi; self.lo = lo }
    public init(v4: UInt32) { hi = 0; lo = 0x0000_FFFF_0000_0000 | UInt64(v4) }

    public var isV4: Bool { hi == 0 && lo >> 32 == 0x0000_FFFF }
    public var v4: UInt32 { UInt32(truncatingIfNeeded: lo) }

    public static func < (a: IPAddress, b: IPAddress) -> Bool { a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo }

    /// The 16 network-order bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { out[8 + i] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i))) }
        return out
    }

    public var description: String {
        if isV4 {
            let v = v4
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        var groups: [String] = []
        for i in 0..<4 { groups.append(String(UInt16(truncatingIfNeeded: hi >> (48 - 16 * UInt64(i))), radix: 16)) }
        for i in 0..<4 { groups.append(String(UInt16(truncatingIfNeeded: lo >> (48 - 16 * UInt64(i))), radix: 16)) }
        return groups.joined(separator: ":")
    }

    /// Parses `a.b.c.d`, IPv6 text (with `::`, an embedded IPv4 tail, a `%zone` suffix), `[v6]`, `[v6]:port`
    /// and `a.b.c.d:port`. Leading/trailing spaces and quotes are skipped. No allocation.
    public static func parse(_ text: String) -> IPAddress? {
        var s = text
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ b: UnsafeRawBufferPointer) -> IPAddress? {
        var start = 0, end = b.count
        while start < end, b[start] == 0x20 || b[start] == 0x22 || b[start] == 0x09 { start += 1 }
        while end > start, b[end - 1] == 0x20 || b[end - 1] == 0x22 || b[end - 1] == 0x09 { end -= 1 }
        guard start < end else { return nil }
        if b[start] == 0x5B { // [v6] or [v6]:port
            var close = start + 1
            while close < end, b[close] != 0x5D { close += 1 }
            guard close < end else { return nil }
            return parseV6(b, start + 1, close)
        }
        var colons = 0, dots = 0, lastColon = -1
        for i in start..<end {
            if b[i] == 0x3A { colons += 1; lastColon = i } else if b[i] == 0x2E { dots += 1 }
        }
        if colons == 0 { return IPv4.parse(b, start, end).map { IPAddress(v4: $0) } }
        if colons == 1, dots == 3 { return IPv4.parse(b, start, lastColon).map { IPAddress(v4: $0) } } // a.b.c.d:port
        return parseV6(b, start, end)
    }

    static func parseV6(_ b: UnsafeRawBufferPointer, _ start: Int, _ rawEnd: Int) -> IPAddress? {
        var end = rawEnd
        for i in start..<rawEnd where b[i] == 0x25 { end = i; break } // %zone
        var head = SIMD8<UInt16>(), tail = SIMD8<UInt16>()
        var headCount = 0, tailCount = 0
        @inline(__always) func put(_ w: UInt16, _ double: Bool) -> Bool {
            if double { guard tailCount < 8 else { return false }; tail[tailCount] = w; tailCount += 1 }
            else { guard headCount < 8 else { return false }; head[headCount] = w; headCount += 1 }
            return true
        }
        var sawDouble = false
        var i = start
        if end - start >= 2, b[start] == 0x3A, b[start + 1] == 0x3A { sawDouble = true; i = start + 2 }
        else if end > start, b[start] == 0x3A { return nil }
        while i < end {
            // One group, or an IPv4 tail.
            var j = i, v: UInt32 = 0, n = 0, isV4Tail = false
            while j < end, b[j] != 0x3A {
                if b[j] == 0x2E { isV4Tail = true }
                j += 1
            }
            if isV4Tail {
                guard j == end, let v4 = IPv4.parse(b, i, j) else { return nil }
                let hiW = UInt16(v4 >> 16), loW = UInt16(v4 & 0xFFFF)
                guard put(hiW, sawDouble), put(loW, sawDouble) else { return nil }
                i = j
                break
            }
            for k in i..<j {
                guard let d = ASCII.hexValue(b[k]) else { return nil }
                v = v << 4 | d; n += 1
                guard n <= 4 else { return nil }
            }
            guard n > 0 else { return nil }
            guard put(UInt16(v), sawDouble) else { return nil }
            if j == end { i = j; break }
            // j is at ':'
            if j + 1 < end, b[j + 1] == 0x3A {
                guard !sawDouble else { return nil }
                sawDouble = true; i = j + 2
            } else {
                guard j + 1 < end else { return nil } // trailing single ':'
                i = j + 1
            }
        }
        let total = headCount + tailCount
        if sawDouble { guard total <= 7 else { return nil } } else { guard total == 8 else { return nil } }
        var all = head
        for k in 0..<tailCount { all[8 - tailCount + k] = tail[k] }
        let hi = UInt64(all[0]) << 48 | UInt64(all[1]) << 32 | UInt64(all[2]) << 16 | UInt64(all[3])
        let lo = UInt64(all[4]) << 48 | UInt64(all[5]) << 32 | UInt64(all[6]) << 16 | UInt64(all[7])
        return IPAddress(hi: hi, lo: lo)
    }
}

/// An address range, inclusive at both ends, from a CIDR (`10.0.0.0/8`, `2001:db8::/32`), a single address
/// or `first-last`.
public struct IPRange: Hashable, Sendable {
    public var first: IPAddress
    public var last: IPAddress
    /// Prefix length in IPv6 bits (IPv4 /n is 96+n); nil for `first-last` ranges.
    public var prefix: Int?

    public init(first: IPAddress, last: IPAddress, prefix: Int? = nil) {
        self.first = first; self.last = last; self.prefix = prefix
    }

    public init(network: IPAddress, prefixBits: Int) {
        let (mhi, mlo) = IPRange.mask(prefixBits)
        first = IPAddress(hi: network.hi & mhi, lo: network.lo & mlo)
        last = IPAddress(hi: first.hi | ~mhi, lo: first.lo | ~mlo)
        prefix = prefixBits
    }

    static func mask(_ bits: Int) -> (UInt64, UInt64) {
        let hi: UInt64 = bits >= 64 ? ~0 : (bits <= 0 ? 0 : ~0 << UInt64(64 - bits))
        let lo: UInt64 = bits >= 128 ? ~0 : (bits <= 64 ? 0 : ~0 << UInt64(128 - bits))
        return (hi, lo)
    }

    public func contains(_ a: IPAddress) -> Bool { !(a < first) && !(last < a) }

    /// last − first, as a 128-bit (hi, lo) pair: orders ranges from most to least specific.
    public static func width(_ r: IPRange) -> (hi: UInt64, lo: UInt64) {
        let (lo, borrow) = r.last.lo.subtractingReportingOverflow(r.first.lo)
        return (r.last.hi &- r.first.hi &- (borrow ? 1 : 0), lo)
    }

    public enum ParseError: Error, Equatable { case badAddress, badPrefix, hostBitsSet, reversed }

    /// Parses a CIDR, an address or `first-last`. With `strict`, a CIDR with host bits set is an error
    /// (`10.0.0.1/8` is almost always a typo for a host or for a different network).
    public static func parse(_ text: String, strict: Bool = true) -> Result<IPRange, ParseError> {
        let t = text.trimmingSpaces
        if let slash = t.firstIndex(of: "/") {
            guard let addr = IPAddress.parse(String(t[..<slash])) else { return .failure(.badAddress) }
            let p = t[t.index(after: slash)...]
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p) else { return .failure(.badPrefix) }
            let bits: Int
            if addr.isV4 && !t[..<slash].contains(":") {
                guard n <= 32 else { return .failure(.badPrefix) }
                bits = 96 + n
            } else {
                guard n <= 128 else { return .failure(.badPrefix) }
                bits = n
            }
            let r = IPRange(network: addr, prefixBits: bits)
            if strict, r.first != addr { return .failure(.hostBitsSet) }
            return .success(r)
        }
        if let dash = t.firstIndex(of: "-") {
            guard let a = IPAddress.parse(String(t[..<dash])), let b = IPAddress.parse(String(t[t.index(after: dash)...]))
            else { return .failure(.badAddress) }
            guard !(b < a) else { return .failure(.reversed) }
            return .success(IPRange(first: a, last: b))
        }
        guard let a = IPAddress.parse(t) else { return .failure(.badAddress) }
        return .success(IPRange(first: a, last: a, prefix: 128))
    }
}

extension IPRange: CustomStringConvertible {
    /// As written in a list: an address, `network/bits` (IPv4 bits for IPv4 networks) or `first-last`.
    public var description: String {
        if first == last { return first.description }
        if let p = prefix { return "\(first)/\(first.isV4 && p >= 96 ? p - 96 : p)" }
        return "\(first)-\(last)"
    }
}

extension IPRange.ParseError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badAddress: return "not an IP address"
        case .badPrefix: return "bad prefix length (0-32 for IPv4, 0-128 for IPv6)"
        case .hostBitsSet: return "host bits set after the prefix (write the network address)"
        case .reversed: return "range end is before its start"
        }
    }
}
