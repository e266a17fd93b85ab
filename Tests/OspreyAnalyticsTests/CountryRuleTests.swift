import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// Country, ISP, activity type and user-history rules: each fires once with its reason and evidence,
/// and stays silent on a near miss. Baseline: 24 days of work from GB (Harness.baseline); the test
/// session is on day 24.
final class CountryRuleTests: XCTestCase {
    let others = ["sue", "sid", "sal", "eve", "eli", "ema", "eric", "ceo", "admin", "svc-backup", "john.smith"]

    /// Baseline plus extra logins by `who` from `country` on the days `on` selects.
    func org(_ country: String, by who: [String], on days: (Int) -> Bool = { _ in true }) throws -> Harness {
        let h = try Harness()
        h.baseline { d, day in
            guard days(d) else { return [] }
            return who.enumerated().map { i, u in h.login(u, day + 12 * hourMs + Int64(i) * 60_000, country: country, isp: "Orange") }
        }
        return h
    }

    // MARK: UA-UC

    func testUA_UC_F() throws {
        let h = try org("FR", by: others)
        let t = h.feed([h.login("sam", h.day(24), country: "FR")])
        assertFires(t, "UA-UC-F", reason: "First activity from FR for sam@corp.com",
                    evidence: ["value": .string("FR"), "count": .int(0), "observations": .int(24), "distinct": .int(1), "converged": .bool(true)])
        XCTAssertEqual(fired(t, "UA-UC-F").first?.evidence["top"]?.arrayValue?.first?["value"], .string("GB"))
        for r in ["UA-GC-F", "UA-OC-F", "UA-GC-A", "UA-OC-A"] { assertSilent(t, r, "FR is common for the group and the organization") }
        let miss = try org("FR", by: others)
        assertSilent(miss.feed([miss.login("sam", miss.day(24), country: "GB")]), "UA-UC-F", "GB is the user's usual country")
    }

    func testUA_UC_A() throws {
        // Others use FR every day as well, sam only once (day 3).
        let h2 = try Harness()
        h2.baseline { d, day in
            var e = self.others.enumerated().map { i, u in h2.login(u, day + 12 * hourMs + Int64(i) * 60_000, country: "FR") }
            if d == 3 { e.append(h2.login("sam", day + 12 * hourMs, country: "FR")) }
            return e
        }
        let t = h2.feed([h2.login("sam", h2.day(24), country: "FR")])
        assertFires(t, "UA-UC-A", reason: "Activity from FR is rare for sam@corp.com: 1 of 25",
                    evidence: ["value": .string("FR"), "count": .int(1), "observations": .int(25), "threshold": .double(0.1)])
        assertSilent(t, "UA-UC-F", "seen once: abnormal, not first")
        // Near miss: sam used FR on 10 days → 10 of 40 is not rare.
        let m = try Harness()
        m.baseline { d, day in
            var e = self.others.enumerated().map { i, u in m.login(u, day + 12 * hourMs + Int64(i) * 60_000, country: "FR") }
            if d % 3 == 0 { e.append(m.login("sam", day + 12 * hourMs, country: "FR")) }
            return e
        }
        assertSilent(m.feed([m.login("sam", m.day(24), country: "FR")]), "UA-UC-A", "FR is frequent for the user")
    }

    // MARK: UA-GC

    func testUA_GC_F() throws {
        let h = try org("FR", by: ["eve", "eli", "ema", "eric"])
        let t = h.feed([h.login("sam", h.day(24), country: "FR")])
        assertFires(t, "UA-GC-F", reason: "First activity from FR for peer group sales",
                    evidence: ["key": .string("sales"), "value": .string("FR"), "count": .int(0), "converged": .bool(true)])
        XCTAssertEqual(fired(t, "UA-GC-F").first?.evidence["also_matched"], .array([.string("UA-UC-F")]), "the weaker user-scope rule is folded in")
        assertSilent(t, "UA-UC-F", "same family: the peer-group rule wins")
        let m = try org("FR", by: ["eve", "eli", "ema", "eric", "sue"])
        assertSilent(m.feed([m.login("sam", m.day(24), country: "FR")]), "UA-GC-F", "a colleague in the group uses FR daily")
    }

    func testUA_GC_A() throws {
        let h = try Harness()
        h.baseline { d, day in
            var e = ["eve", "eli", "ema", "eric"].map { h.login($0, day + 12 * hourMs, country: "FR") }
            if d == 5 || d == 9 { e.append(h.login("sue", day + 12 * hourMs, country: "FR")) }
            if d == 7 { e.append(h.login("sam", day + 12 * hourMs, country: "FR")) }
            return e
        }
        let t = h.feed([h.login("sam", h.day(24), country: "FR")])
        assertFires(t, "UA-GC-A", reason: "Activity from FR is rare for peer group sales: 3 of",
                    evidence: ["key": .string("sales"), "count": .int(3)])
        let m = try Harness()
        m.baseline { d, day in
            ["eve", "eli", "sue", "sid"].map { m.login($0, day + 12 * hourMs, country: "FR") }
        }
        assertSilent(m.feed([m.login("sam", m.day(24), country: "FR")]), "UA-GC-A", "FR is frequent in the group")
    }

    // MARK: UA-OC

    func testUA_OC_F() throws {
        let h = try Harness()
        h.baseline()
        let t = h.feed([h.login("sam", h.day(24), country: "JP")])
        assertFires(t, "UA-OC-F", reason: "First activity from JP in the organization",
                    evidence: ["scope": .string("org"), "key": .string("organization"), "value": .string("JP"), "count": .int(0)])
        let also = fired(t, "UA-OC-F").first?.evidence["also_matched"]?.arrayValue ?? []
        XCTAssertEqual(also.compactMap(\.stringValue).sorted(), ["UA-GC-F", "UA-UC-F"])
        let m = try Harness()
        m.baseline()
        assertSilent(m.feed([m.login("sam", m.day(24), country: "GB")]), "UA-OC-F", "GB is the organization's country")
    }

    func testUA_OC_A() throws {
        let h = try Harness()
        h.baseline { d, day in d == 4 || d == 8 ? [h.login("sue", day + 12 * hourMs, country: "JP")] : [] }
        let t = h.feed([h.login("sam", h.day(24), country: "JP")])
        assertFires(t, "UA-OC-A", reason: "Activity from JP is rare in the organization: 2 of",
                    evidence: ["value": .string("JP"), "count": .int(2)])
        let m = try org("JP", by: others)
        assertSilent(m.feed([m.login("sam", m.day(24), country: "JP")]), "UA-OC-A", "JP is common in the organization")
    }

    // MARK: new users

    /// Baseline for everyone; `newbie` (sales) logs in from GB on the last `newDays` days only.
    func orgWithNewbie(newDays: Int = 3, country: String? = nil, by who: [String] = []) throws -> Harness {
        let h = try Harness()
        h.baseline { d, day in
            var e: [Event] = []
            if let country { e += who.map { h.login($0, day + 12 * hourMs, country: country) } }
            if d >= 24 - newDays { e.append(h.login("newbie", day + 13 * hourMs)) }
            return e
        }
        return h
    }

    func testUA_UC_new() throws {
        let h = try orgWithNewbie(country: "FR", by: others + ["sam"])
        let t = h.feed([h.login("newbie", h.day(24), country: "FR")])
        assertFires(t, "UA-UC-new", reason: "New user newbie@corp.com active from FR",
                    evidence: ["value": .string("FR"), "count": .int(0), "observations": .int(3), "converged": .bool(false)])
        assertSilent(t, "UA-UC-F", "the user's model has not converged")
        // Near miss: same country as before.
        let m = try orgWithNewbie(country: "FR", by: others + ["sam"])
        assertSilent(m.feed([m.login("newbie", m.day(24), country: "GB")]), "UA-UC-new", "the new user's usual country")
        // Near miss: no history at all (nothing to differ from).
        let m2 = try orgWithNewbie(newDays: 0, country: "FR", by: others + ["sam"])
        assertSilent(m2.feed([m2.login("newbie", m2.day(24), country: "FR")]), "UA-UC-new", "no earlier country")
    }

    func testUA_GC_new() throws {
        let h = try orgWithNewbie(country: "FR", by: ["eve", "eli", "ema", "eric"])
        let t = h.feed([h.login("newbie", h.day(24), country: "FR")])
        assertFires(t, "UA-GC-new", reason: "a country first or rare for their peer group sales",
                    evidence: ["key": .string("sales"), "value": .string("FR"), "count": .int(0), "converged": .bool(true)])
        assertSilent(t, "UA-GC-F", "the user is new: -new replaces -F")
        // Near miss: an established user gets UA-GC-F instead.
        let m = try orgWithNewbie(country: "FR", by: ["eve", "eli", "ema", "eric"])
        let mt = m.feed([m.login("sam", m.day(24), country: "FR")])
        assertSilent(mt, "UA-GC-new", "established user")
        assertFires(mt, "UA-GC-F")
    }

    func testUA_OC_new() throws {
        let h = try orgWithNewbie()
        let t = h.feed([h.login("newbie", h.day(24), country: "JP")])
        assertFires(t, "UA-OC-new", reason: "New user newbie@corp.com active from JP, a country first or rare for the organization",
                    evidence: ["key": .string("organization"), "value": .string("JP"), "count": .int(0)])
        let m = try orgWithNewbie()
        assertSilent(m.feed([m.login("newbie", m.day(24), country: "GB")]), "UA-OC-new", "the organization's usual country")
    }

    // MARK: suspicious, two, three countries, ISP

    func testUA_UC_Suspicious() throws {
        let h = try Harness()
        h.baseline(days: 3)
        let t = h.feed([h.login("sam", h.day(3), country: "KP")])
        let r = assertFires(t, "UA-UC-Suspicious", reason: "Activity from KP, a country on the suspicious-country list")
        XCTAssertEqual(firstMatch(r)?["name"], .string("suspicious_countries"))
        XCTAssertEqual(firstMatch(r)?["entry"], .string("KP"))
        // The enrichment flag alone is enough.
        var e = h.login("sue", h.day(3), country: "ZZ")
        e["src_country_suspicious"] = .bool(true)
        assertFires(h.feed([e]), "UA-UC-Suspicious", evidence: ["src_country": .string("ZZ")])
        assertSilent(h.feed([h.login("sid", h.day(3), country: "FR")]), "UA-UC-Suspicious", "FR is not on the list")
    }

    func testUA_UC_Two() throws {
        let h = try Harness()
        h.baseline(days: 2)
        let t = h.feed([h.login("sam", h.day(2, 9)), h.login("sam", h.day(2, 10), country: "FR")])
        let r = assertFires(t, "UA-UC-Two", reason: "Activity from two countries in one session: GB, FR")
        XCTAssertEqual(r?.evidence["matches"]?.arrayValue?.first?["kind"], .string("aggregate"))
        assertSilent(t, "UA-UC-Three", "only two countries")
        // Near miss: FR in a later session (7 hours after the GB one ends).
        let m = try Harness()
        m.baseline(days: 2)
        assertSilent(m.feed([m.login("sam", m.day(2, 9)), m.login("sam", m.day(2, 17), country: "FR")]), "UA-UC-Two", "countries in different sessions")
    }

    func testUA_UC_Three() throws {
        let h = try Harness()
        h.baseline(days: 2)
        let t = h.feed([h.login("sam", h.day(2, 9)), h.login("sam", h.day(2, 10), country: "FR"), h.login("sam", h.day(2, 11), country: "DE")])
        assertFires(t, "UA-UC-Three", reason: "three or more countries in one session: GB, FR, DE")
        XCTAssertEqual(fired(t, "UA-UC-Two").count, 1, "UA-UC-Two fired at the second country, once")
        let m = try Harness()
        m.baseline(days: 2)
        assertSilent(m.feed([m.login("sam", m.day(2, 9)), m.login("sam", m.day(2, 10), country: "FR"), m.login("sam", m.day(2, 11), country: "FR")]),
                     "UA-UC-Three", "two distinct countries")
    }

    func testUA_UI_F() throws {
        let h = try Harness()
        h.baseline()
        let t = h.feed([h.login("sam", h.day(24), isp: "Vodafone")])
        assertFires(t, "UA-UI-F", reason: "First activity from ISP Vodafone for sam@corp.com",
                    evidence: ["value": .string("Vodafone"), "count": .int(0), "converged": .bool(true)])
        let m = try Harness()
        m.baseline()
        assertSilent(m.feed([m.login("sam", m.day(24), isp: "BT")]), "UA-UI-F", "the usual ISP")
    }

    // MARK: failed logins from new countries

    func testFA_UC_F() throws {
        let h = try org("FR", by: others)
        let t = h.feed([h.login("sam", h.day(24), country: "FR", failed: true)])
        assertFires(t, "FA-UC-F", reason: "Failed login from FR, a country where sam@corp.com never had a successful activity",
                    evidence: ["value": .string("FR"), "count": .int(0)])
        let m = try org("FR", by: others)
        assertSilent(m.feed([m.login("sam", m.day(24), country: "GB", failed: true)]), "FA-UC-F", "failure from the usual country")
    }

    func testFA_GC_F() throws {
        let h = try org("FR", by: ["eve", "eli", "ema", "eric"])
        let t = h.feed([h.login("sam", h.day(24), country: "FR", failed: true)])
        assertFires(t, "FA-GC-F", reason: "peer group sales never had a successful activity", evidence: ["key": .string("sales")])
        assertSilent(t, "FA-UC-F", "the group rule wins the family")
        let m = try org("FR", by: ["eve", "sue"])
        assertSilent(m.feed([m.login("sam", m.day(24), country: "FR", failed: true)]), "FA-GC-F", "the group succeeds from FR")
    }

    func testFA_OC_F() throws {
        let h = try Harness()
        h.baseline()
        let t = h.feed([h.login("sam", h.day(24), country: "BR", failed: true), h.login("sam", h.day(24, 10), country: "BR", failed: true)])
        XCTAssertEqual(fired(t, "FA-OC-F").count, 1, "first such failure in the session only")
        assertFires(t, "FA-OC-F", reason: "the organization never had a successful activity", evidence: ["value": .string("BR")])
        let m = try org("BR", by: ["eve"])
        assertSilent(m.feed([m.login("sam", m.day(24), country: "BR", failed: true)]), "FA-OC-F", "someone succeeds from BR")
    }

    // MARK: activity types, new and dormant users

    func testAE_UA_F() throws {
        let h = try Harness()
        h.baseline()
        var e = h.login("sam", h.day(24))
        e["operation"] = .string("Mimecast Support Login")
        let t = h.feed([e])
        assertFires(t, "AE-UA-F", reason: "First app-login: Mimecast Support Login for sam@corp.com",
                    evidence: ["value": .string("app-login: Mimecast Support Login"), "count": .int(0), "distinct": .int(3)])
        let m = try Harness()
        m.baseline()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "AE-UA-F", "the usual login")
    }

    func testNEW_USER_F() throws {
        let h = try Harness()
        h.baseline(days: 20)
        let t = h.feed([h.login("newbie", h.day(20))])
        assertFires(t, "NEW-USER-F", reason: "newbie@corp.com has no earlier activity")
        assertSilent(h.feed([h.activity("newbie", h.day(20, 10))]), "NEW-USER-F", "once per session")
        // Near miss: during the organization's warm-up every user is new; nothing fires.
        let m = try Harness()
        m.baseline(days: 5)
        assertSilent(m.feed([m.login("newbie", m.day(5))]), "NEW-USER-F", "organization warm-up")
        // Near miss: an existing user.
        assertSilent(h.feed([h.login("sam", h.day(21))]), "NEW-USER-F", "user with history")
    }

    func testDORMANT_USER() throws {
        // sam worked days 0–19 only, then returns on day 60; sue works every day.
        let o = try Harness()
        var events: [Event] = []
        for d in 0..<20 { events.append(o.login("sam", o.day(d))) }
        for d in 0..<60 { events.append(o.login("sue", o.day(d))) }
        o.feed(events)
        let t = o.feed([o.login("sam", o.day(60))])
        assertFires(t, "DORMANT-USER", reason: "sam@corp.com is active again after 41 days without any action of their own")
        assertSilent(o.feed([o.login("sue", o.day(60))]), "DORMANT-USER", "active yesterday")
        let m = try Harness()
        var me: [Event] = []
        for d in 0..<40 { me.append(m.login("sue", m.day(d))) }
        for d in 0..<20 { me.append(m.login("sam", m.day(d))) }
        m.feed(me)
        assertSilent(m.feed([m.login("sam", m.day(40))]), "DORMANT-USER", "away 21 days, below the 30-day window")
    }
}
