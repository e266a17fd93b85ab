import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// Sessions, scores, output format, determinism, replay ordering, warm-up and aging.
final class EngineTests: XCTestCase {
    /// A month of baseline plus an attack session: enough to produce model, fact and session triggers.
    func history(_ h: Harness) -> [Event] {
        var events = h.baselineEvents(days: 24)
        events += [
            h.login("sam", h.day(24, 2), country: "RU", isp: "Evil ISP", ip: "185.220.101.7", ua: uaLinuxFirefox),
            h.activity("sam", h.day(24, 2, 5), operation: "New-InboxRule", object: "mailbox", mime: nil, ua: uaLinuxFirefox,
                       extra: ["additional_info": .string("Inbox rule: forward all to drop@proton.me")]),
            h.mail("sam", h.day(24, 2, 10), to: "drop@proton.me", bytes: 7_000_000, attachments: ["customers.csv", "main.py"]),
            h.login("sue", h.day(24, 9), failed: true),
            h.mail("sue", h.day(24, 11), to: "x@brandnew.example"),
        ]
        return events.enumerated().sorted { ($0.element.timeMillis, $0.offset) < ($1.element.timeMillis, $1.offset) }.map(\.element)
    }

    func replay(_ events: [Event], batch: Int, flushBytes: Int, window: Int64 = 15 * 60_000) throws -> (bytes: [UInt8], driver: ReplayDriver) {
        let h = try Harness()
        var out: [UInt8] = []
        var options = ReplayDriver.Options()
        options.flushBytes = flushBytes
        options.reorderWindowMillis = window
        let driver = ReplayDriver(engine: h.engine, options: options) { out.append(contentsOf: $0) }
        var i = 0
        while i < events.count {
            driver.push(contentsOf: events[i..<min(events.count, i + batch)])
            i += batch
        }
        driver.finish()
        return (out, driver)
    }

    func testOutputIsByteIdenticalAcrossRunsAndChunkings() throws {
        let events = history(try Harness())
        let reference = try replay(events, batch: 1, flushBytes: 1)
        XCTAssertGreaterThan(reference.driver.lines, 10)
        for (batch, flush) in [(1, 1 << 16), (7, 100), (1000, 1 << 20), (events.count, 4096)] {
            let r = try replay(events, batch: batch, flushBytes: flush)
            XCTAssertEqual(r.bytes, reference.bytes, "batch \(batch), flush \(flush)")
        }
        // And against a fresh engine in the same run: no state leaks between engines.
        XCTAssertEqual(try replay(events, batch: 13, flushBytes: 512).bytes, reference.bytes)
    }

    func testOutOfOrderInputInsideTheWindowIsReordered() throws {
        let events = history(try Harness())
        let reference = try replay(events, batch: 50, flushBytes: 1024)
        // Swap neighbours whose times differ by less than the window.
        var shuffled = events
        var swaps = 0
        var i = 0
        while i + 1 < shuffled.count {
            if shuffled[i + 1].timeMillis - shuffled[i].timeMillis < 10 * 60_000, shuffled[i + 1].timeMillis != shuffled[i].timeMillis {
                shuffled.swapAt(i, i + 1); swaps += 1; i += 2
            } else { i += 1 }
        }
        XCTAssertGreaterThan(swaps, 100)
        let r = try replay(shuffled, batch: 50, flushBytes: 1024)
        XCTAssertEqual(r.driver.reordered, swaps)
        XCTAssertEqual(r.driver.late, 0)
        XCTAssertEqual(String(decoding: r.bytes, as: UTF8.self), String(decoding: reference.bytes, as: UTF8.self))
    }

    func testEventsLaterThanTheWindowAreCountedAndProcessed() throws {
        let h = try Harness()
        var events = h.baselineEvents(days: 2).sorted { $0.timeMillis < $1.timeMillis }
        let old = h.login("sam", h.day(0, 8), ip: "185.220.101.7")   // a day late
        events.append(old)
        var out: [UInt8] = []
        let driver = ReplayDriver(engine: h.engine) { out.append(contentsOf: $0) }
        driver.push(contentsOf: events)
        driver.finish()
        XCTAssertEqual(driver.late, 1)
        XCTAssertEqual(h.engine.stats.lateEvents, 1)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.contains(#""rule":"Auth-Tor-Shost""#), "the late event is still analysed")
        XCTAssertTrue(text.contains(#""time":"2024-04-01T08:00:00.000Z""#), "and reported with its own time")
    }

    func testJSONLinesHaveTheContractKeysInOrder() throws {
        let events = history(try Harness())
        let r = try replay(events, batch: 100, flushBytes: 1 << 16)
        let lines = String(decoding: r.bytes, as: UTF8.self).split(separator: "\n")
        var kinds: Set<String> = []
        for line in lines {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let kind = try XCTUnwrap(obj["kind"] as? String)
            kinds.insert(kind)
            let keys = EngineTests.topLevelKeys(String(line))
            if kind == "rule" {
                XCTAssertTrue(line.hasPrefix(#"{"kind":"rule","rule":""#), String(line))
                for k in ["rule", "name", "score", "user", "session", "time", "mitre", "use_cases", "reason", "evidence"] {
                    XCTAssertNotNil(obj[k], "\(k) in \(line)")
                }
                let order = ["kind", "rule", "name", "score", "user", "session", "time", "mitre", "use_cases", "reason", "evidence", "event"]
                XCTAssertEqual(keys, order, String(line))
            } else if kind == "notable" {
                // Live notable (docs/analytics.md): once, when an open session crosses the threshold.
                XCTAssertEqual(keys, ["kind", "user", "session", "start", "time", "score", "threshold", "rules"], String(line))
            } else {
                XCTAssertEqual(kind, "session")
                XCTAssertTrue(line.hasPrefix(#"{"kind":"session","user":""#), String(line))
                XCTAssertEqual(keys, ["kind", "user", "session", "start", "end", "score", "notable", "rules"], String(line))
            }
        }
        XCTAssertEqual(kinds, ["rule", "session", "notable"])
    }

    /// Keys of a JSON object line at depth 1, in order.
    static func topLevelKeys(_ line: String) -> [String] {
        var keys: [String] = []
        var depth = 0
        var inString = false
        var escape = false
        var current = ""
        var expectKey = false
        for c in line {
            if inString {
                if escape { escape = false; current.append(c); continue }
                if c == "\\" { escape = true; continue }
                if c == "\"" { inString = false; if expectKey { keys.append(current); expectKey = false } ; continue }
                current.append(c)
                continue
            }
            switch c {
            case "\"":
                inString = true; current = ""
            case "{", "[":
                depth += 1
                if c == "{" && depth == 1 { expectKey = true }
            case "}", "]":
                depth -= 1
            case ",":
                if depth == 1 { expectKey = true }
            case ":":
                expectKey = false
            default: break
            }
        }
        return keys
    }

    // MARK: sessions and scores

    func testSessionsCloseOnGapMaxLengthAndEndOfInput() throws {
        var options = AnalyticsOptions()
        options.sessionGapMillis = 6 * hourMs
        options.sessionMaxMillis = 24 * hourMs
        let h = try Harness(options: options)
        // Failed logins (APP-F-FL) make each session emit.
        h.feed([h.login("sam", h.day(0, 0), failed: true), h.login("sam", h.day(0, 5), failed: true)])   // one session
        h.feed([h.login("sam", h.day(0, 11, 1), failed: true)])                                           // gap > 6h → new session
        XCTAssertEqual(h.sessions.filter { $0.user == "sam@corp.com" }.count, 1, "the first sam session closed when the gap elapsed")
        // Every 5 hours for 30 hours: the 24-hour maximum splits it.
        h.feed((0..<7).map { h.login("sue", h.day(2, 0) + Int64($0) * 5 * hourMs, failed: true) })
        XCTAssertEqual(h.sessions.filter { $0.user == "sam@corp.com" }.count, 2, "time passing closes sam's idle second session")
        h.finish()
        let sessions = h.sessions
        let sam = sessions.filter { $0.user == "sam@corp.com" }
        XCTAssertEqual(sam.count, 2)
        XCTAssertEqual(sam[0].startMillis, h.day(0, 0))
        XCTAssertEqual(sam[0].endMillis, h.day(0, 5))
        XCTAssertEqual(sam[0].session, "sam@corp.com#2024-04-01T00:00:00.000Z")
        let sue = sessions.filter { $0.user == "sue@corp.com" }
        XCTAssertEqual(sue.count, 2, "30 hours of activity every 5 hours: split at the 24-hour maximum")
        XCTAssertEqual(sue[1].startMillis, h.day(2, 0) + 25 * hourMs)
        XCTAssertTrue(sue.allSatisfy { $0.rules == ["APP-F-FL"] && $0.score == 10 && !$0.notable })
    }

    func testSessionsWithoutRulesAreNotEmitted() throws {
        let h = try Harness()
        h.feed([h.login("sam", h.day(0, 9)), h.activity("sam", h.day(0, 10))])
        h.finish()
        XCTAssertTrue(h.sessions.isEmpty)
        XCTAssertEqual(h.engine.stats.sessionsClosed, 1)
    }

    func testOrdinaryFirstTimeEventsStayBelowNotable() throws {
        let h = try Harness()
        h.baseline { _, day in ["sue", "sid", "sal", "john.smith"].map { h.mail($0, day + 13 * hourMs, to: "x@vendor.io") } }
        // A normal working session with several things new to this user but ordinary for the organization:
        // a browser update, another ISP and address (working from home), a colleague's supplier, a new
        // kind of object.
        let t = h.feed([
            h.login("sam", h.day(24, 9), isp: "Vodafone", ip: "10.1.1.1", ua: uaWinChrome121),
            h.activity("sam", h.day(24, 10), operation: "Search", object: "policy", ua: uaWinChrome121),
            h.mail("sam", h.day(24, 11), to: "y@vendor.io"),
            h.activity("sam", h.day(24, 15), operation: "View Message", object: "message", mime: "message/rfc822", ua: uaWinChrome121),
        ])
        XCTAssertEqual(Set(t.map(\.rule)), ["APP-UAg-F", "UA-UI-F", "APP-UsH-F", "APP-UOb-F", "EM-UD-F"], "\(t.map(\.rule))")
        h.finish()
        let s = try XCTUnwrap(h.sessions.first { $0.user == "sam@corp.com" && $0.startMillis == h.day(24, 9) })
        XCTAssertEqual(s.score, 50)
        XCTAssertFalse(s.notable)
        // A single first-time event, even one new to the whole organization, is far from notable.
        let one = try Harness()
        one.baseline()
        one.feed([one.login("sam", one.day(24), country: "JP")])
        one.finish()
        let s1 = try XCTUnwrap(one.sessions.first { $0.user == "sam@corp.com" && $0.startMillis == one.day(24) })
        XCTAssertEqual(s1.score, 20)
        XCTAssertEqual(s1.rules, ["UA-OC-F"])
    }

    func testTwoOrThreeStrongSignalsMakeASessionNotable() throws {
        let h = try Harness()
        h.baseline()
        h.feed([
            h.login("sam", h.day(24, 9), ip: "185.220.101.7"),                                           // Tor: 40
            h.activity("sam", h.day(24, 10), operation: "New-InboxRule", object: "mailbox", mime: nil,
                       extra: ["additional_info": .string("forward to drop@proton.me")]),                   // public forward: 40
            h.mail("sam", h.day(24, 11), to: "sam.private@gmail.com", bytes: 6_000_000),                 // > 5 MB to personal: 40
        ])
        h.finish()
        let s = try XCTUnwrap(h.sessions.first { $0.user == "sam@corp.com" && $0.startMillis == h.day(24, 9) })
        XCTAssertTrue(s.notable, "\(s.rules) scored \(s.score)")
        for r in ["Auth-Tor-Shost", "EM-InRule-Public", "EM-BSum-5MB"] { XCTAssertTrue(s.rules.contains(r), r) }
        // Two strong signals: a ransomware address and a deactivated account.
        let two = try Harness()
        two.baseline(days: 3)
        two.feed([two.login("sid", two.day(3, 9), ip: "198.51.100.3", extra: ["user_is_deactivated": .bool(true)])])
        two.finish()
        let s2 = try XCTUnwrap(two.sessions.first { $0.user == "sid@corp.com" && $0.startMillis == two.day(3, 9) })
        XCTAssertEqual(s2.score, 180)   // each is notable alone (90): docs/analytics.md
        XCTAssertTrue(s2.notable)
    }

    func testDedupOncePerSessionPerValue() throws {
        let h = try Harness()
        h.baseline(days: 2)
        let t = h.feed([h.login("sam", h.day(2, 9), ip: "185.220.101.7"), h.login("sam", h.day(2, 10), ip: "185.220.101.7"),
                        h.login("sam", h.day(2, 11), ip: "185.220.101.8")])
        XCTAssertEqual(fired(t, "Auth-Tor-Shost").map { $0.evidence["dedup"] }, [.string("185.220.101.7"), .string("185.220.101.8")])
        // The next session fires again.
        XCTAssertEqual(fired(h.feed([h.login("sam", h.day(3, 9), ip: "185.220.101.7")]), "Auth-Tor-Shost").count, 1)
        XCTAssertEqual(h.engine.stats.suppressedByDedup, 1)
    }

    // MARK: warm-up, convergence, aging, once-per-session training

    func testNoModelRuleFiresDuringOrganizationWarmup() throws {
        var options = AnalyticsOptions()
        options.warmupDays = 30
        let h = try Harness(options: options)
        h.baseline()
        let t = h.feed([h.login("sam", h.day(24), country: "JP")])
        XCTAssertTrue(t.filter { h.engine.content.rule($0.rule)!.kind.usesModel }.isEmpty, "\(t.map(\.rule))")
        let t2 = h.feed([h.login("sue", h.day(24), ip: "185.220.101.7")])
        assertFires(t2, "Auth-Tor-Shost")   // fact rules are not subject to warm-up
    }

    func testOncePerSessionTrainingKeepsChattySessionsFromDominating() throws {
        let h = try Harness()
        // One session with 50 logins from FR, then 19 one-login sessions from GB.
        h.feed((0..<50).map { h.login("sam", h.day(0, 9) + Int64($0) * 60_000, country: "FR") })
        h.feed((1..<20).map { h.login("sam", h.day($0, 9)) })
        let m = h.engine.content.modelIndex["UA-UC"]!
        let st = h.engine.state
        let slot = st.stores[m].index.get(st.interner.lookup("sam@corp.com")!)!
        let hist = st.stores[m].hists[Int(slot)]
        XCTAssertEqual(hist.total, 20)
        XCTAssertEqual(hist.count(st.interner.lookup("FR")!), 1)
    }

    func testObservationsAgeOutAfterTheWindow() throws {
        let h = try Harness()
        // Per-user models age over 40 days (8 buckets of 5 days): docs/analytics.md.
        h.feed([h.login("sam", h.day(0, 9), country: "FR")])
        h.feed((1..<48).map { h.login("sam", h.day($0, 9)) })
        let m = h.engine.content.modelIndex["UA-UC"]!
        let st = h.engine.state
        let sid = st.interner.lookup("sam@corp.com")!
        let slot = st.histSlot(m, sid)
        let hist = st.stores[m].hists[Int(slot)]
        XCTAssertEqual(hist.count(st.interner.lookup("FR")!), 0, "FR was seen 47 days ago: aged out")
        XCTAssertGreaterThanOrEqual(Int(hist.total), 35, "the last 35 days always count")
        XCTAssertLessThanOrEqual(Int(hist.total), 40, "nothing older than 40 days counts")
        // So FR is new again (sam is the whole organization here, so the organization-scope rule reports it).
        let r = assertFires(h.feed([h.login("sam", h.day(48, 9), country: "FR")]), "UA-OC-F", evidence: ["count": .int(0)])
        XCTAssertEqual(r?.evidence["also_matched"]?.arrayValue?.compactMap(\.stringValue), ["UA-GC-F", "UA-UC-F"])
    }

    func testUnconvergedModelsDoNotFire() throws {
        let h = try Harness()
        // Past warm-up; sam was active on 7 days only (< 8 observations for a per-user model).
        h.baseline(days: 16, users: Harness.defaultUsers.map(\.name).filter { $0 != "sam" }) { d, _ in
            d >= 9 ? [h.login("sam", h.day(d, 8))] : []
        }
        let t = h.feed([h.login("sam", h.day(16), isp: "Vodafone")])
        assertSilent(t, "UA-UI-F", "7 observations < min_observations 8")
        // The eighth active day makes the model usable.
        h.feed([h.login("sam", h.day(17))])
        let b = h.engine.baselines(scope: "sam@corp.com").first { $0.model == "UA-UI-new" }
        XCTAssertEqual(b?.observations, 9, "7 BT days, Vodafone, BT: \(String(describing: b))")
        XCTAssertEqual(b?.converged, true)
        assertFires(h.feed([h.login("sam", h.day(18), isp: "Telia")]), "UA-UI-F")
    }
}
