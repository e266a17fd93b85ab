import Foundation
import XCTest
@testable import OspreyAnalytics
import OspreyCore
@testable import OspreyServe

/// What serve keeps in memory for the API is bounded in bytes, not only in count: a flood of new names
/// (one alert and one event each) stays within `api_alert_memory_mb` and `event_log_memory_mb`.
final class APIMemoryTests: XCTestCase {
    func alertLine(_ i: Int) -> String {
        AnalyticsOutput.rule(RuleTrigger(
            rule: "NEW-USER-F", name: "First activity of a user", score: 10, user: "flood\(i)@spam.example",
            session: "flood\(i)@spam.example#1", timeMillis: 1_790_000_000_000 + Int64(i),
            mitre: [], useCases: ["Compromised Credentials"], reason: String(repeating: "r", count: 400),
            evidence: .object([("value", .string("flood\(i)"))]), event: nil)).jsonLine
    }

    func testAlertIndexDropsTheOldestHalfBeyondItsByteBudget() throws {
        let budget = 1 << 20
        let index = AlertIndex(limit: 1_000_000, memoryBytes: budget)
        let cost = AlertRecord.estimatedBytes(line: alertLine(0))
        let fit = budget / cost
        for i in 0..<(fit * 5) { index.add(seq: i + 1, nil, line: alertLine(i)) }
        // Never above the budget; after a drop at least half of it is kept.
        XCTAssertLessThanOrEqual(index.count, fit)
        XCTAssertGreaterThanOrEqual(index.count, fit / 2 - 1)
        // The newest are kept and found by user; the oldest are gone.
        let last = fit * 5 - 1
        XCTAssertEqual(index.forUser("flood\(last)@spam.example").count, 1)
        XCTAssertTrue(index.forUser("flood0@spam.example").isEmpty)
        XCTAssertEqual(index.all().last?.seq, fit * 5)
    }

    func testAlertIndexCountLimitStillHolds() throws {
        let index = AlertIndex(limit: 1000, memoryBytes: 1 << 30)
        for i in 0..<2500 { index.add(seq: i + 1, nil, line: alertLine(i)) }
        XCTAssertLessThanOrEqual(index.count, 1000)
    }

    func event(user: String, at t: Int64) -> Event {
        var e = Event(parser: "test", activityType: .appLogin, timeMillis: t)
        e[Fields.user] = .string(user)
        e[Field.named("src_ip")] = .string("198.51.100.7")
        e[Field.named("additional_info")] = .string(String(repeating: "x", count: 200))
        return e
    }

    func testEventLogEvictsLeastRecentUsersBeyondItsByteBudget() throws {
        let log = EventLog(perUser: 400, maxUsers: 1_000_000, memoryBytes: 1 << 20)
        // A settled user, active throughout, and a flood of one-event names.
        for i in 0..<20_000 {
            log.add(event(user: "flood\(i)@spam.example", at: Int64(i)))
            if i % 100 == 0 { log.add(event(user: "ann@corp.example", at: Int64(i))) }
        }
        let kept = log.snapshot()
        let bytes = kept.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.estimatedBytes } }
        XCTAssertLessThanOrEqual(bytes, 1 << 20)
        XCTAssertLessThan(kept.count, 20_000)
        // The most recently active are kept: the last flood name and the settled user (capped per user).
        XCTAssertEqual(log.events(user: "flood19999@spam.example", from: 0, to: .max).count, 1)
        XCTAssertFalse(log.events(user: "ann@corp.example", from: 0, to: .max).isEmpty)
        XCTAssertTrue(log.events(user: "flood0@spam.example", from: 0, to: .max).isEmpty)
    }

    func testEventLogKeepsAtMostPerUserEvents() throws {
        let log = EventLog(perUser: 5, maxUsers: 10, memoryBytes: 1 << 30)
        for i in 0..<50 { log.add(event(user: "ann@corp.example", at: Int64(i))) }
        let ann = log.events(user: "ann@corp.example", from: 0, to: .max)
        XCTAssertEqual(ann.map(\.timeMillis), [45, 46, 47, 48, 49])
        for i in 0..<30 { log.add(event(user: "u\(i)@corp.example", at: Int64(100 + i))) }
        XCTAssertLessThanOrEqual(log.snapshot().count, 10)
    }

    func testMemoryKeysAreReadAndBounded() throws {
        let base = "[serve t]\nhttp = 127.0.0.1:0\nauth = none\n"
        let c = try ServeConfig.parse(base + "api_alert_memory_mb = 8\nevent_log_memory_mb = 4\n", file: "t.conf", environment: [:])
        XCTAssertEqual(c.apiAlertMemoryMB, 8)
        XCTAssertEqual(c.eventLogMemoryMB, 4)
        XCTAssertThrowsError(try ServeConfig.parse(base + "api_alert_memory_mb = 70000\n", file: "t.conf", environment: [:])) {
            XCTAssertTrue("\($0)".contains("t.conf:4"), "\($0)")
        }
        XCTAssertThrowsError(try ServeConfig.parse(base + "event_log_memory_mb = 0\n", file: "t.conf", environment: [:]))
    }
}
