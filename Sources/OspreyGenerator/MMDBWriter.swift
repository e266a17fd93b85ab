import Foundation
import OspreyCore
import OspreyEnrichment

/// A minimal MaxMind DB writer (format spec 2.0), beside the generator that uses it: tests build their own databases with it, and
/// `osprey generate` writes the geo data of its synthetic IP space. Layout:
/// a binary search tree over IPv6 bits (IPv4 networks live under ::/96, where libmaxminddb looks IPv4
/// addresses up), a 16-byte zero separator, the data section, then `\xAB\xCD\xEFMaxMind.com` and the
/// metadata map. Record size 32 bits (8 bytes a node); data values are not deduplicated.
public struct MMDBWriter: Sendable {
    public indirect enum V: Sendable {
        case string(String)
        case uint16(UInt16)
        case uint32(UInt32)
        case uint64(UInt64)
        case double(Double)
        case bool(Bool)
        case map([(String, V)])
        case array([V])
    }

    enum Record { case empty, node(Int), data(Int) }

    public var databaseType = "Osprey-Test"
    public var ipVersion = 6
    private var left: [Record] = [.empty]
    private var right: [Record] = [.empty]
    private var data: [UInt8] = []

    public init(databaseType: String = "Osprey-Test", ipVersion: Int = 6) {
        self.databaseType = databaseType
        self.ipVersion = ipVersion
    }

    /// Inserts `cidr` (`81.2.69.0/24`, `2001:db8::/32`) with `value`; more specific networks may be inserted
    /// after less specific ones.
    public mutating func insert(_ cidr: String, _ value: V) throws {
        guard case .success(let r) = IPRange.parse(cidr), let prefix = r.prefix else {
            throw ContentError(file: "mmdb", line: 0, reason: "bad CIDR '\(cidr)'")
        }
        var bits = r.first.bytes
        var depth = prefix
        if ipVersion == 4 {
            guard r.first.isV4 else { throw ContentError(file: "mmdb", line: 0, reason: "IPv6 network \(cidr) in an IPv4 database") }
            bits = Array(bits[12...]); depth -= 96
        } else if r.first.isV4 {
            bits = [UInt8](repeating: 0, count: 12) + Array(bits[12...]) // ::a.b.c.d, not ::ffff:a.b.c.d
        }
        let offset = data.count
        encode(value, into: &data)
        var node = 0
        for i in 0..<depth {
            let bit = (bits[i / 8] >> (7 - UInt8(i % 8))) & 1
            let last = i == depth - 1
            let current = bit == 0 ? left[node] : right[node]
            if last {
                set(node, bit, .data(offset))
                break
            }
            switch current {
            case .node(let n): node = n
            case .empty, .data:
                // Split: a new node that inherits the covering data on both sides.
                let n = left.count
                left.append(current); right.append(current)
                set(node, bit, .node(n))
                node = n
            }
        }
    }

    private mutating func set(_ node: Int, _ bit: UInt8, _ r: Record) {
        if bit == 0 { left[node] = r } else { right[node] = r }
    }

    public func build(buildEpoch: UInt64 = 1_700_000_000) -> [UInt8] {
        let nodeCount = left.count
        var out: [UInt8] = []
        func record(_ r: Record) -> UInt32 {
            switch r {
            case .empty: return UInt32(nodeCount)
            case .node(let n): return UInt32(n)
            case .data(let off): return UInt32(nodeCount + 16 + off)
            }
        }
        for i in 0..<nodeCount {
            for r in [left[i], right[i]] {
                let v = record(r)
                out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            }
        }
        out += [UInt8](repeating: 0, count: 16)
        out += data
        out += [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
        let meta: V = .map([
            ("node_count", .uint32(UInt32(nodeCount))),
            ("record_size", .uint16(32)),
            ("ip_version", .uint16(UInt16(ipVersion))),
            ("database_type", .string(databaseType)),
            ("languages", .array([.string("en")])),
            ("binary_format_major_version", .uint16(2)),
            ("binary_format_minor_version", .uint16(0)),
            ("build_epoch", .uint64(buildEpoch)),
            ("description", .map([("en", .string("Osprey test database"))])),
        ])
        encode(meta, into: &out)
        return out
    }

    public var nodeCount: Int { left.count }
    /// Byte offsets of the data section in `build()`'s output.
    public var dataSectionRange: Range<Int> { (nodeCount * 8 + 16)..<(nodeCount * 8 + 16 + data.count) }

    public func write(to path: String) throws {
        try Data(build()).write(to: URL(fileURLWithPath: path))
    }

    // MARK: Data section encoding

    private func control(_ type: Int, _ size: Int, into out: inout [UInt8]) {
        var sizeBits: UInt8
        var extra: [UInt8] = []
        if size < 29 { sizeBits = UInt8(size) }
        else if size < 29 + 256 { sizeBits = 29; extra = [UInt8(size - 29)] }
        else if size < 285 + 65536 { sizeBits = 30; let s = size - 285; extra = [UInt8(s >> 8), UInt8(s & 0xFF)] }
        else { sizeBits = 31; let s = size - 65821; extra = [UInt8(s >> 16), UInt8(s >> 8 & 0xFF), UInt8(s & 0xFF)] }
        if type <= 7 {
            out.append(UInt8(type << 5) | sizeBits)
        } else {
            out.append(sizeBits)            // type 0 = extended
            out.append(UInt8(type - 7))
        }
        out += extra
    }

    private func unsigned(_ type: Int, _ v: UInt64, into out: inout [UInt8]) {
        var bytes: [UInt8] = []
        var x = v
        while x > 0 { bytes.insert(UInt8(x & 0xFF), at: 0); x >>= 8 }
        control(type, bytes.count, into: &out)
        out += bytes
    }

    private func encode(_ v: V, into out: inout [UInt8]) {
        switch v {
        case .string(let s):
            let u = Array(s.utf8)
            control(2, u.count, into: &out); out += u
        case .double(let d):
            control(3, 8, into: &out)
            let b = d.bitPattern
            for i in (0..<8).reversed() { out.append(UInt8(b >> (UInt64(i) * 8) & 0xFF)) }
        case .uint16(let x): unsigned(5, UInt64(x), into: &out)
        case .uint32(let x): unsigned(6, UInt64(x), into: &out)
        case .uint64(let x): unsigned(9, x, into: &out)
        case .bool(let b): control(14, b ? 1 : 0, into: &out)
        case .map(let pairs):
            control(7, pairs.count, into: &out)
            for (k, val) in pairs { encode(.string(k), into: &out); encode(val, into: &out) }
        case .array(let items):
            control(11, items.count, into: &out)
            for i in items { encode(i, into: &out) }
        }
    }
}

extension MMDBWriter.V {
    /// A GeoIP2-Country-style record.
    public static func country(_ iso: String) -> MMDBWriter.V {
        .map([("country", .map([("iso_code", .string(iso)), ("names", .map([("en", .string("Country " + iso))]))]))])
    }
    /// A GeoLite2-ASN-style record.
    public static func asn(_ number: UInt32, _ org: String) -> MMDBWriter.V {
        .map([("autonomous_system_number", .uint32(number)), ("autonomous_system_organization", .string(org))])
    }
}
