import Foundation
import XCTest
import OspreyCore
@testable import OspreyEnrichment

/// Checks against the real databases fetched by `tools/fetch_enrichment_data.sh DEST` (a copy of
/// shared/tools/fetch_enrichment_data.sh). Point OSPREY_ENRICHMENT_DATA at DEST, or fetch into
/// `.enrichment-data/` at the repository root; without them these tests skip.
final class RealDataTests: XCTestCase {
    static var dataDirectory: String? {
        let candidates = [ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"], Paths.root + "/.enrichment-data"]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0 + "/geo") }
    }

    func file(_ relative: String) throws -> String {
        guard let d = Self.dataDirectory else {
            throw XCTSkip("real enrichment data not found: run `tools/fetch_enrichment_data.sh .enrichment-data` or set OSPREY_ENRICHMENT_DATA")
        }
        let p = d + "/" + relative
        guard FileManager.default.fileExists(atPath: p) else { throw XCTSkip("\(p) not found in the fetched data") }
        return p
    }

    func testDBIPCountryAndASN() throws {
        let country = try MaxMindDB(path: try file("geo/dbip-country-lite.mmdb"))
        let asn = try MaxMindDB(path: try file("geo/dbip-asn-lite.mmdb"))
        XCTAssertTrue(country.databaseType.contains("Country"), country.databaseType)
        XCTAssertEqual(country.lookup(IPAddress.parse("8.8.8.8")!)?.country, "US")
        XCTAssertEqual(country.lookup(IPAddress.parse("2a00:1450:4001::1")!)?.country, "DE")
        let g = asn.lookup(IPAddress.parse("8.8.8.8")!)
        XCTAssertEqual(g?.asn, 15169)
        XCTAssertEqual(g?.organization, "Google LLC")
        XCTAssertNotNil(asn.lookup(IPAddress.parse("2a00:1450:4001::1")!)?.asn)
    }

    func testMaxMindFakeTestDatabases() throws {
        let asn = try MaxMindDB(path: try file("geo/GeoLite2-ASN-Test.mmdb"))
        XCTAssertEqual(asn.lookup(IPAddress.parse("1.128.0.0")!), GeoRecord(country: nil, asn: 1221, organization: "Telstra Pty Ltd"))
        let city = try MaxMindDB(path: try file("geo/GeoLite2-City-Test.mmdb"))
        XCTAssertEqual(city.lookup(IPAddress.parse("81.2.69.160")!)?.country, "GB")
    }

    func testTorGeoIPRanges() throws {
        let t = try IPFireRanges.load(paths: [try file("geo/geoip"), try file("geo/geoip6")])
        XCTAssertGreaterThan(t.rangeCount, 500_000)
        XCTAssertEqual(t.lookup(IPAddress.parse("8.8.8.8")!), "US")
        // IPFire places Google's 2a00:1450::/32 block in IE (DB-IP says DE): the file has
        // `2a00:1450::,2a00:1450:4807:ff:ffff:ffff:ffff:ffff,IE`.
        XCTAssertEqual(t.lookup(IPAddress.parse("2a00:1450:4001::1")!), "IE")
        XCTAssertEqual(t.lookup(IPAddress.parse("2a00:1450:4807:100::5")!), "RU")
    }

    func testContextWithRealGeolocation() throws {
        let tmp = TempDir.exampleCopy()
        let conf = try String(contentsOfFile: tmp.path + "/context.conf", encoding: .utf8)
            + "geo_databases = \(try file("geo/dbip-country-lite.mmdb")), \(try file("geo/dbip-asn-lite.mmdb"))\n"
            + "geo_ranges = \(try file("geo/geoip")), \(try file("geo/geoip6"))\n"
        tmp.write("context.conf", conf)
        let ctx = try Context.load(directory: tmp.path, lists: Paths.lists)
        let en = Enricher(context: ctx)
        var e = Event(parser: "t", activityType: .appLogin, timeMillis: ms("2024-05-01T10:00:00Z"))
        e[Fields.user] = .string("alice@acme.com")
        e[Fields.srcIP] = .string("8.8.8.8")
        en.enrich(&e)
        XCTAssertEqual(e.text("src_country"), "US")
        XCTAssertEqual(e[EnrichedFields.srcASN], .int(15169))
        XCTAssertEqual(e.text("src_isp"), "Google LLC")
        XCTAssertEqual(e.text("src_zone"), "external")
    }

    /// Also the shipped PSL against the newer-format Debian copy when present: both must agree on common cases.
    func testDebianPSLCopyLoads() throws {
        let psl = try PublicSuffixList.load(path: try file("psl/public_suffix_list.debian.dat"))
        XCTAssertEqual(psl.registrableDomain("mail.example.co.uk"), "example.co.uk")
    }
}
