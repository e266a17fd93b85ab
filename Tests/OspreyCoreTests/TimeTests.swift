import XCTest
@testable import OspreyCore

final class TimeTests: XCTestCase {
    func ms(_ s: String) -> Int64? { UTCTime.parse(s) }

    func testEveryFormSeenInMimecastLogs() {
        let utc = Int64(1_634_544_163_000) // 2021-10-18T08:02:43Z
        XCTAssertEqual(ms("2021-10-18T09:02:43+0100"), utc)
        XCTAssertEqual(ms("2021-10-18T09:02:43+01:00"), utc)
        XCTAssertEqual(ms("2021-10-18T08:02:43Z"), utc)
        XCTAssertEqual(ms("2021-10-18T08:02:43.670Z"), utc + 670)
        XCTAssertEqual(ms("2021-10-18T04:02:43-0400"), utc)
        XCTAssertEqual(ms("2021-10-18T08:02:43+0000"), utc)
        XCTAssertEqual(ms("2021-10-18 08:02:43"), utc)
        XCTAssertEqual(ms("1634544163000"), utc)          // epoch ms (SIEM v2)
        XCTAssertEqual(ms("1634544163"), utc)             // epoch seconds
        XCTAssertEqual(ms("2022-05-31T9:05:31+0000"), Int64(1_653_987_931_000)) // unpadded hour
    }

    func testRejectsNonsense() {
        for bad in ["", "yesterday", "2021-13-01T00:00:00Z", "2021-10-18T25:00:00Z", "2021-10-18T08:02:43+99",
                    "2021-10-18T08:02:43 Mars", "12"] {
            XCTAssertNil(ms(bad), bad)
        }
    }

    func testFormatRoundTrip() {
        for t: Int64 in [0, 1_634_544_163_670, 951_782_400_000 /* 2000-02-29 */, -1_000] {
            XCTAssertEqual(ms(UTCTime.format(t)), t)
        }
        XCTAssertEqual(UTCTime.format(1_634_544_163_670), "2021-10-18T08:02:43.670Z")
    }

    func testHourOfWeekStartsSunday() {
        // 2021-10-17 was a Sunday.
        XCTAssertEqual(UTCTime.hourOfWeek(ms("2021-10-17T00:30:00Z")!), 0)
        XCTAssertEqual(UTCTime.hourOfWeek(ms("2021-10-18T01:00:00Z")!), 25)
        XCTAssertEqual(UTCTime.hourOfWeek(ms("2021-10-16T23:00:00Z")!), 167)
    }
}

final class TimeRangeTests: XCTestCase {
    func testYearsPast9999AndBefore0000AreRejected() {
        XCTAssertNil(UTCTime.parse("10000-01-01T00:00:00Z"))
        XCTAssertNil(UTCTime.parse("9999-12-31T23:30:00-0100"), "an offset carrying the time into year 10000")
        XCTAssertNil(UTCTime.parse("0000-01-01T00:30:00+0100"), "an offset carrying the time before year 0")
        XCTAssertNil(UTCTime.parse("9999999999999999"), "epoch ms of year 318857")
        XCTAssertNil(UTCTime.parse("253402300800000"))
        XCTAssertEqual(UTCTime.parse("253402300799999"), UTCTime.maxMillis)
        XCTAssertEqual(UTCTime.parse("9999-12-31T23:59:59.999Z"), UTCTime.maxMillis)
        XCTAssertEqual(UTCTime.parse("0000-01-01T00:00:00Z"), UTCTime.minMillis)
        XCTAssertEqual(UTCTime.parse("99999999999"), 99_999_999_999_000, "11-digit epoch seconds (year 5138) stay valid")
    }

    func testFormatNeverWritesWrongDigits() {
        XCTAssertEqual(UTCTime.format(UTCTime.maxMillis), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(UTCTime.format(.max), "9999-12-31T23:59:59.999Z", "clamped, not garbage")
        XCTAssertEqual(UTCTime.format(.min), "0000-01-01T00:00:00.000Z")
        XCTAssertEqual(UTCTime.format(UTCTime.minMillis), "0000-01-01T00:00:00.000Z")
    }
}
