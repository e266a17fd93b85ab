import XCTest
import OspreyCore
@testable import OspreyEnrichment

final class IPTests: XCTestCase {
    func testParseIPv4() {
        XCTAssertEqual(IPAddress.parse("81.2.69.160")?.v4, 0x5102_45A0)
        XCTAssertEqual(IPAddress.parse(" 10.0.0.1 ")?.description, "10.0.0.1")
        XCTAssertEqual(IPAddress.parse("10.0.0.1:443")?.description, "10.0.0.1")
        XCTAssertTrue(IPAddress.parse("1.2.3.4")!.isV4)
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.a", "1..2.3", "1234.1.1.1", "example.com"] {
            XCTAssertNil(IPAddress.parse(bad), bad)
        }
    }

    func testParseIPv6() {
        let a = IPAddress.parse("2001:db8::1")!
        XCTAssertEqual(a.hi, 0x2001_0db8_0000_0000)
        XCTAssertEqual(a.lo, 1)
        XCTAssertFalse(a.isV4)
        XCTAssertEqual(IPAddress.parse("::1"), IPAddress(hi: 0, lo: 1))
        XCTAssertEqual(IPAddress.parse("::"), IPAddress(hi: 0, lo: 0))
        XCTAssertEqual(IPAddress.parse("fe80::1%eth0"), IPAddress(hi: 0xfe80_0000_0000_0000, lo: 1))
        XCTAssertEqual(IPAddress.parse("[2001:db8::1]:8443"), a)
        XCTAssertEqual(IPAddress.parse("2001:0db8:0000:0000:0000:0000:0000:0001"), a)
        // IPv4-mapped IPv6 is the same address as the IPv4 one.
        XCTAssertEqual(IPAddress.parse("::ffff:81.2.69.160"), IPAddress.parse("81.2.69.160"))
        XCTAssertEqual(IPAddress.parse("2001:db8:1:2:3:4:5:6")?.lo, 0x0003_0004_0005_0006)
        for bad in ["2001:db8::1::1", "2001:db8:::1", "12345::1", "2001:db8:1:2:3:4:5:6:7", ":1:2", "1:2:3:4:5:6:7", "g::1", "1:"] {
            XCTAssertNil(IPAddress.parse(bad), bad)
        }
    }

    func testCIDR() throws {
        let r = try IPRange.parse("10.1.0.0/16").get()
        XCTAssertTrue(r.contains(IPAddress.parse("10.1.255.255")!))
        XCTAssertFalse(r.contains(IPAddress.parse("10.2.0.0")!))
        XCTAssertEqual(r.prefix, 112)
        let v6 = try IPRange.parse("2001:db8::/32").get()
        XCTAssertTrue(v6.contains(IPAddress.parse("2001:db8:ffff::1")!))
        XCTAssertFalse(v6.contains(IPAddress.parse("2001:db9::1")!))
        XCTAssertEqual(try IPRange.parse("0.0.0.0/0").get().contains(IPAddress.parse("8.8.8.8")!), true)
        XCTAssertEqual(IPRange.parse("10.0.0.1/8"), .failure(.hostBitsSet))
        XCTAssertEqual(IPRange.parse("10.0.0.0/33"), .failure(.badPrefix))
        XCTAssertEqual(IPRange.parse("10.0.0.0/"), .failure(.badPrefix))
        XCTAssertEqual(IPRange.parse("10.0.0/8"), .failure(.badAddress))
        XCTAssertEqual(IPRange.parse("10.0.0.9-10.0.0.1"), .failure(.reversed))
        XCTAssertTrue(try IPRange.parse("10.0.0.1-10.0.0.9").get().contains(IPAddress.parse("10.0.0.5")!))
    }

    func testRangeTableMostSpecificWins() throws {
        func r(_ s: String) -> IPRange { try! IPRange.parse(s).get() }
        let t = IPRangeTable([(r("10.0.0.0/8"), "lan"), (r("10.20.0.0/16"), "dc"), (r("10.20.5.0/24"), "db"),
                              (r("192.168.1.1"), "gw"), (r("2001:db8::/32"), "v6")])
        XCTAssertEqual(t.lookup(IPAddress.parse("10.1.2.3")!), "lan")
        XCTAssertEqual(t.lookup(IPAddress.parse("10.20.1.1")!), "dc")
        XCTAssertEqual(t.lookup(IPAddress.parse("10.20.5.7")!), "db")
        XCTAssertEqual(t.lookup(IPAddress.parse("10.20.6.0")!), "dc")
        XCTAssertEqual(t.lookup(IPAddress.parse("10.255.255.255")!), "lan")
        XCTAssertEqual(t.lookup(IPAddress.parse("192.168.1.1")!), "gw")
        XCTAssertNil(t.lookup(IPAddress.parse("192.168.1.2")!))
        XCTAssertNil(t.lookup(IPAddress.parse("11.0.0.0")!))
        XCTAssertEqual(t.lookup(IPAddress.parse("2001:db8::5")!), "v6")
        XCTAssertNil(t.lookup(IPAddress.parse("2001:db9::5")!))
        // Given in any order, with a less specific network after a more specific one.
        let t2 = IPRangeTable([(r("10.20.0.0/16"), "dc"), (r("10.0.0.0/8"), "lan")])
        XCTAssertEqual(t2.lookup(IPAddress.parse("10.20.0.1")!), "dc")
        XCTAssertEqual(t2.lookup(IPAddress.parse("10.21.0.1")!), "lan")
        XCTAssertEqual(t2.lookup(IPAddress.parse("10.19.255.255")!), "lan")
    }

    func testIPFireRanges() throws {
        let tmp = TempDir()
        let v4 = tmp.write("geoip", """
        # Location Database Export
        16777216,16777471,AU
        16777472,16778239,CN
        15726992,15726999,??
        134744064,134744319,US
        """)
        let v6 = tmp.write("geoip6", """
        2001:2::,2001:2:0:ffff:ffff:ffff:ffff:ffff,JP
        2001:4:112::,2001:4:112:ffff:ffff:ffff:ffff:ffff,US
        """)
        let t = try IPFireRanges.load(paths: [v4, v6])
        XCTAssertEqual(t.lookup(IPAddress.parse("1.0.0.1")!), "AU")
        XCTAssertEqual(t.lookup(IPAddress.parse("1.0.1.255")!), "CN")
        XCTAssertEqual(t.lookup(IPAddress.parse("8.8.8.8")!), "US")
        XCTAssertNil(t.lookup(IPAddress.parse("0.239.249.145")!)) // the ?? range
        XCTAssertEqual(t.lookup(IPAddress.parse("2001:2::99")!), "JP")
        XCTAssertNil(t.lookup(IPAddress.parse("2001:3::1")!))

        let bad = tmp.write("bad", "16777216,16777471,AU\n16777472;16778239;CN\n")
        XCTAssertThrowsError(try IPFireRanges.load(paths: [bad])) { e in
            XCTAssertEqual((e as? ContentError)?.line, 2)
        }
        let bad2 = tmp.write("bad2", "16777471,16777216,AU\n")
        XCTAssertThrowsError(try IPFireRanges.load(paths: [bad2])) { e in
            XCTAssertEqual((e as? ContentError)?.line, 1)
        }
    }
}
