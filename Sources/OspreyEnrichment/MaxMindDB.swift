import CMaxMindDB
import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

/// What one geolocation source knows about an address.
public struct GeoRecord: Sendable, Equatable {
    public var country: String?
    public var asn: Int64?
    public var organization: String?
    public init(country: String? = nil, asn: Int64? = nil, organization: String? = nil) {
        self.country = country; self.asn = asn; self.organization = organization
    }
}

/// A MaxMind DB file (.mmdb: GeoLite2/GeoIP2, DB-IP Lite, IPinfo Lite, IPtoASN) read through libmaxminddb,
/// memory-mapped. Lookups are thread-safe. Reads the country (`country.iso_code`,
/// `registered_country.iso_code` or IPinfo's `country_code`), the ASN (`autonomous_system_number`, or IPinfo's
/// `asn` as "AS15169") and the organization (`autonomous_system_organization`, IPinfo's `as_name`, or `isp`).
public final class MaxMindDB: @unchecked Sendable {
    public let path: String
    public let databaseType: String
    public let ipVersion: Int
    public let buildEpoch: UInt64
    public let nodeCount: UInt32
    /// Which fields to read, from `database_type` (a failed path lookup walks the whole record, so an ASN
    /// database is not asked for a country): country for *Country*/*City*, ASN and organization for
    /// *ASN*/*ISP*, everything for other types (IPinfo Lite has both).
    public let readsCountry: Bool
    public let readsASN: Bool
    private let db: UnsafeMutablePointer<MMDB_s>

    public init(path: String) throws {
        self.path = path
        db = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), db)
        guard status == MMDB_SUCCESS else {
            db.deallocate()
            let why = String(cString: MMDB_strerror(status))
            throw ContentError(file: path, line: 0, reason: "cannot open MaxMind DB: \(why)")
        }
        let md = db.pointee.metadata
        databaseType = md.database_type.map { String(cString: $0) } ?? ""
        ipVersion = Int(md.ip_version)
        buildEpoch = md.build_epoch
        nodeCount = md.node_count
        let t = databaseType.lowercased()
        let isASN = t.contains("asn") || t.contains("isp")
        let isGeo = t.contains("country") || t.contains("city")
        readsCountry = isGeo || !isASN
        readsASN = isASN || !isGeo
        // Catch a truncated or corrupt data section now rather than on the first event.
        if let bad = probe() {
            // Fully initialized: deinit closes the file.
            throw ContentError(file: path, line: 0, reason: "corrupt MaxMind DB: \(bad)")
        }
    }

    deinit {
        MMDB_close(db)
        db.deallocate()
    }

    /// Looks a few well-known addresses up and decodes their entries fully.
    private func probe() -> String? {
        let probes = ["8.8.8.8", "1.1.1.1", "81.2.69.160", "2001:4860:4860::8888"]
        for p in probes {
            guard let ip = IPAddress.parse(p) else { continue }
            if ipVersion == 4 && !ip.isV4 { continue }
            var err: Int32 = 0
            let r = withSockaddr(ip) { MMDB_lookup_sockaddr(db, $0, &err) }
            if err != MMDB_SUCCESS { return String(cString: MMDB_strerror(err)) }
            if r.found_entry {
                var entry = r.entry
                var list: UnsafeMutablePointer<MMDB_entry_data_list_s>? = nil
                let s = MMDB_get_entry_data_list(&entry, &list)
                if let l = list { MMDB_free_entry_data_list(l) }
                if s != MMDB_SUCCESS { return String(cString: MMDB_strerror(s)) }
            }
        }
        return nil
    }

    @inline(__always)
    private func withSockaddr<R>(_ ip: IPAddress, _ body: (UnsafePointer<sockaddr>) -> R) -> R {
        if ip.isV4 {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = ip.v4.bigEndian
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
        }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: ip.hi >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: ip.lo >> (56 - 8 * UInt64(i))) }
        }
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body) }
    }

    /// The record for `ip`, or nil when the database has no entry (or cannot hold this address family).
    public func lookup(_ ip: IPAddress) -> GeoRecord? {
        if ipVersion == 4 && !ip.isV4 { return nil }
        var err: Int32 = 0
        let result = withSockaddr(ip) { MMDB_lookup_sockaddr(db, $0, &err) }
        guard err == MMDB_SUCCESS, result.found_entry else { return nil }
        var entry = result.entry
        var rec = GeoRecord()
        if readsCountry {
            for path in MMDBPaths.country {
                if let s = string(&entry, path), !s.isEmpty { rec.country = s.uppercased(); break }
            }
        }
        if readsASN {
            if let n = unsigned(&entry, MMDBPaths.asnNumber) { rec.asn = n }
            else if let s = string(&entry, MMDBPaths.asnText) {
                let digits = s.hasPrefix("AS") || s.hasPrefix("as") ? s.dropFirst(2) : Substring(s)
                rec.asn = Int64(digits)
            }
            for path in MMDBPaths.organization {
                if let s = string(&entry, path), !s.isEmpty { rec.organization = s; break }
            }
        }
        return rec.country == nil && rec.asn == nil && rec.organization == nil ? nil : rec
    }

    private func string(_ entry: inout MMDB_entry_s, _ path: CPath) -> String? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path.pointer) == MMDB_SUCCESS, data.has_data,
              data.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING), let p = data.utf8_string else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: Int(data.data_size)), as: UTF8.self)
    }

    private func unsigned(_ entry: inout MMDB_entry_s, _ path: CPath) -> Int64? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path.pointer) == MMDB_SUCCESS, data.has_data else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_UINT32: return Int64(data.uint32)
        case MMDB_DATA_TYPE_UINT16: return Int64(data.uint16)
        case MMDB_DATA_TYPE_UINT64: return Int64(exactly: data.uint64)
        case MMDB_DATA_TYPE_INT32: return Int64(data.int32)
        default: return nil
        }
    }
}

/// A NULL-terminated array of C strings for MMDB_aget_value, allocated once for the process.
final class CPath: @unchecked Sendable {
    let pointer: UnsafePointer<UnsafePointer<CChar>?>
    init(_ keys: [String]) {
        let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: keys.count + 1)
        for (i, k) in keys.enumerated() { p[i] = UnsafePointer(strdup(k)) }
        p[keys.count] = nil
        pointer = UnsafePointer(p)
    }
}

enum MMDBPaths {
    static let country = [CPath(["country", "iso_code"]), CPath(["registered_country", "iso_code"]), CPath(["country_code"])]
    static let asnNumber = CPath(["autonomous_system_number"])
    static let asnText = CPath(["asn"])
    static let organization = [CPath(["autonomous_system_organization"]), CPath(["as_name"]), CPath(["isp"]), CPath(["organization"])]
}
