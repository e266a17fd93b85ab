import XCTest
import OspreyCore
import OspreyGenerator
@testable import OspreyEnrichment

final class MaxMindTests: XCTestCase {
    func makeCountryDB(_ tmp: TempDir) throws -> String {
        var w = MMDBWriter(databaseType: "GeoIP2-Country")
        try w.insert("81.2.69.0/24", .country("GB"))
        try w.insert("81.2.69.160/27", .country("IE"))       // more specific inside the /24
        try w.insert("8.8.8.0/24", .country("US"))
        try w.insert("2001:db8::/32", .country("DE"))
        try w.insert("2a02:2e0::/29", .country("CH"))
        let p = tmp.path + "/country.mmdb"
        try w.write(to: p)
        return p
    }

    func testCountryLookupsV4AndV6() throws {
        let tmp = TempDir()
        let db = try MaxMindDB(path: try makeCountryDB(tmp))
        XCTAssertEqual(db.databaseType, "GeoIP2-Country")
        XCTAssertEqual(db.ipVersion, 6)
        XCTAssertEqual(db.lookup(IPAddress.parse("81.2.69.1")!)?.country, "GB")
        XCTAssertEqual(db.lookup(IPAddress.parse("81.2.69.170")!)?.country, "IE")
        XCTAssertEqual(db.lookup(IPAddress.parse("8.8.8.8")!)?.country, "US")
        XCTAssertNil(db.lookup(IPAddress.parse("9.9.9.9")!))
        XCTAssertEqual(db.lookup(IPAddress.parse("2001:db8:1::1")!)?.country, "DE")
        XCTAssertEqual(db.lookup(IPAddress.parse("2a02:2e0:3fe:1001::1")!)?.country, "CH")
        XCTAssertNil(db.lookup(IPAddress.parse("2a03::1")!))
    }

    func testASNDatabaseAndIPv4OnlyTree() throws {
        let tmp = TempDir()
        var w = MMDBWriter(databaseType: "GeoLite2-ASN", ipVersion: 4)
        try w.insert("1.128.0.0/11", .asn(1221, "Telstra Pty Ltd"))
        try w.insert("8.8.8.0/24", .asn(15169, "Google LLC"))
        let p = tmp.path + "/asn.mmdb"
        try w.write(to: p)
        let db = try MaxMindDB(path: p)
        XCTAssertEqual(db.ipVersion, 4)
        XCTAssertEqual(db.lookup(IPAddress.parse("1.128.0.1")!), GeoRecord(country: nil, asn: 1221, organization: "Telstra Pty Ltd"))
        XCTAssertEqual(db.lookup(IPAddress.parse("8.8.4.4")!), nil)
        XCTAssertEqual(db.lookup(IPAddress.parse("8.8.8.8")!)?.asn, 15169)
        XCTAssertNil(db.lookup(IPAddress.parse("2001:db8::1")!)) // IPv6 in an IPv4 database: no answer, no crash
    }

    func testIPinfoStyleFields() throws {
        let tmp = TempDir()
        var w = MMDBWriter(databaseType: "ipinfo lite")
        try w.insert("8.8.8.0/24", .map([("country_code", .string("US")), ("asn", .string("AS15169")), ("as_name", .string("Google LLC"))]))
        let p = tmp.path + "/ipinfo.mmdb"
        try w.write(to: p)
        XCTAssertEqual(try MaxMindDB(path: p).lookup(IPAddress.parse("8.8.8.8")!),
                       GeoRecord(country: "US", asn: 15169, organization: "Google LLC"))
    }

    func testUnreadableAndCorruptDatabases() throws {
        let tmp = TempDir()
        // Missing file.
        XCTAssertThrowsError(try MaxMindDB(path: tmp.path + "/nope.mmdb")) { e in
            XCTAssertTrue("\(e)".contains("cannot open MaxMind DB"), "\(e)")
        }
        // Not a database at all.
        let junk = tmp.write("junk.mmdb", String(repeating: "not a maxmind database\n", count: 50))
        XCTAssertThrowsError(try MaxMindDB(path: junk)) { e in
            XCTAssertEqual((e as? ContentError)?.file, junk)
        }
        // A directory.
        XCTAssertThrowsError(try MaxMindDB(path: tmp.path))
        // A database whose data section is damaged: caught by the probe at open, not on the first event.
        var w = MMDBWriter()
        try w.insert("8.8.8.0/24", .country("US"))
        var damaged = w.build()
        for i in w.dataSectionRange { damaged[i] = 0xFF }
        let corrupt = tmp.writeBytes("corrupt.mmdb", damaged)
        XCTAssertThrowsError(try MaxMindDB(path: corrupt)) { e in
            XCTAssertTrue("\(e)".contains("corrupt MaxMind DB") || "\(e)".contains("cannot open"), "\(e)")
        }
        // Truncated: the metadata is gone.
        let whole = w.build()
        let truncated = tmp.writeBytes("truncated.mmdb", Array(whole[..<(whole.count / 2)]))
        XCTAssertThrowsError(try MaxMindDB(path: truncated))
        // Empty file.
        let empty = tmp.write("empty.mmdb", "")
        XCTAssertThrowsError(try MaxMindDB(path: empty))
    }

    func testGeoLocatorOrderAndFallback() throws {
        let tmp = TempDir()
        let country = try MaxMindDB(path: try makeCountryDB(tmp))
        var w = MMDBWriter(databaseType: "GeoLite2-ASN")
        try w.insert("8.8.8.0/24", .asn(15169, "Google LLC"))
        try w.write(to: tmp.path + "/asn.mmdb")
        let asn = try MaxMindDB(path: tmp.path + "/asn.mmdb")
        let ranges = IPRangeTable([(try IPRange.parse("9.0.0.0/8").get(), "FR")])
        let geo = GeoLocator(databases: [country, asn], ranges: ranges)
        XCTAssertEqual(geo.locate(IPAddress.parse("8.8.8.8")!), GeoRecord(country: "US", asn: 15169, organization: "Google LLC"))
        XCTAssertEqual(geo.locate(IPAddress.parse("9.9.9.9")!), GeoRecord(country: "FR"))
        XCTAssertEqual(geo.locate(IPAddress.parse("7.7.7.7")!), GeoRecord())
    }
}
