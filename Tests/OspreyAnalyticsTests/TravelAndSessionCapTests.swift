import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// docs/analytics.md: travel speed between a person's consecutive geolocated activities (the
/// `[geo countries]` table, `travel_*()` functions, OSP-UA-Impossible-Travel) and the per-session cap on
/// how often one rule scores in a session.
final class TravelAndSessionCapTests: XCTestCase {
    // MARK: travel speed

    func testImpossibleTravelFiresWithTheLegAsEvidence() throws {
        let h = try Harness()
        let t = h.day(2, 9)
        // GB at 09:00, the US 40 minutes later: the two countries are at least ~3,200 km apart.
        let triggers = h.feed([h.login("pat", t, country: "GB", ip: "81.2.69.77"),
                               h.login("pat", t + 40 * 60_000, country: "US", isp: "Comcast", ip: "73.12.4.9")])
        let r = try XCTUnwrap(assertFires(triggers, "OSP-UA-Impossible-Travel", reason: "from GB"))
        let leg = try XCTUnwrap(r.evidence["travel"], r.evidence.serialized())
        XCTAssertEqual(leg["from_country"], .string("GB"))
        XCTAssertEqual(leg["to_country"], .string("US"))
        XCTAssertEqual(leg["minutes"], .double(40))
        let km = try XCTUnwrap(leg["min_km"]?.doubleValue), kmh = try XCTUnwrap(leg["kmh"]?.doubleValue)
        let centroid = try XCTUnwrap(leg["centroid_km"]?.doubleValue)
        XCTAssertGreaterThan(centroid, 6_000); XCTAssertLessThan(centroid, 7_500)   // UK ↔ US centroids ≈ 6,750 km
        XCTAssertGreaterThanOrEqual(km, 500)
        XCTAssertGreaterThan(kmh, 1_000)
        XCTAssertEqual(kmh, (km * 60 / 40).rounded(), accuracy: 2)
        XCTAssertEqual(fired(triggers, "OSP-UA-Impossible-Travel").count, 1)
    }

    func testNearMissesDoNotFire() throws {
        let h = try Harness()
        // Neighbours 30 minutes apart: the radii leave no certain distance (a VPN or a border), 0 km.
        let a = h.feed([h.login("pat", h.day(2, 9), country: "GB"), h.login("pat", h.day(2, 9, 30), country: "FR", isp: "Orange")])
        assertSilent(a, "OSP-UA-Impossible-Travel", "GB → FR in 30 minutes: neighbours")
        // Far apart but slow enough: GB → US nine hours later (a flight).
        let b = h.feed([h.login("sue", h.day(3, 8), country: "GB"), h.login("sue", h.day(3, 17), country: "US", isp: "Comcast")])
        assertSilent(b, "OSP-UA-Impossible-Travel", "GB → US in nine hours: a flight")
        // A failed login is not a place of the person's (travel_fix): the attacker's failure abroad starts no leg.
        let c = h.feed([h.login("sid", h.day(4, 8), country: "US", failed: true), h.login("sid", h.day(4, 8, 20), country: "GB")])
        assertSilent(c, "OSP-UA-Impossible-Travel", "a failed login does not place the person")
        // An unknown country has no position.
        let d = h.feed([h.login("sal", h.day(5, 8), country: "GB"), h.login("sal", h.day(5, 8, 20), country: "ZZ")])
        assertSilent(d, "OSP-UA-Impossible-Travel", "no position for ZZ")
    }

    func testTravelFunctionsAreUsableFromContent() throws {
        let rules = """
        [macro travel_fix]
        expr = activity_type == "app-login"

        [geo countries]
        entries = AA 0 0 0
        entries = BB 0 10 0

        [rule T-Fast]
        name = fast
        activity_types = app-login
        mitre = T1078 Valid Accounts
        use_cases = Compromised Credentials
        kind = fact
        condition = travel_kmh() > 500 and travel_from() == "AA"
        score = 10
        reason = {travel_from()} to {src_country}: {round(travel_km())} km in {travel_minutes()} min
        dedup = concat(travel_from(), ">", src_country)
        """
        let content = try AnalyticsContent.load(texts: [("t.rules", rules)], fields: try Support.fields())
        let engine = AnalyticsEngine(content: content)
        func login(_ t: Int64, _ cc: String) -> Event {
            var e = Event(parser: "t", activityType: .appLogin, timeMillis: t)
            e[Fields.user] = .string("ann@corp.com"); e["src_country"] = .string(cc)
            return e
        }
        XCTAssertTrue(engine.process(login(T0, "AA")).isEmpty)
        // 0°,0° → 0°,10° is 1,112 km: in 60 minutes 1,112 km/h.
        let out = engine.process(login(T0 + hourMs, "BB"))
        guard case .rule(let r)? = out.first else { return XCTFail("T-Fast did not fire: \(out)") }
        XCTAssertEqual(r.reason, "AA to BB: 1112 km in 60 min")
        // Back after 4 hours: 278 km/h, below the content's 500.
        XCTAssertTrue(engine.process(login(T0 + 5 * hourMs, "AA")).compactMap { if case .rule(let r) = $0 { return r }; return nil }.isEmpty)
    }

    func testCountryTableIsValidatedWithFileAndLine() throws {
        func error(_ body: String) -> ContentError? {
            let text = "[macro travel_fix]\nexpr = true\n\n[geo countries]\n" + body
            do { _ = try AnalyticsContent.load(texts: [("geo.models", text)], fields: try Support.fields()); return nil } catch let e as ContentError { return e } catch { return nil }
        }
        for (body, line, words) in [("entries = US 37 -95\n", 5, "expected"), ("entries = us 37 -95 100\n", 5, "country code"),
                                    ("entries = US 97 -95 100\n", 5, "latitude"), ("entries = US 37 -95 nan\n", 5, "radius_km"),
                                    ("entries = US 37 -95 100\nentries = US 38 -95 100\n", 6, "twice"), ("description = none\n", 4, "no entries")] {
            let e = try XCTUnwrap(error(body), body)
            XCTAssertEqual(e.file, "geo.models"); XCTAssertEqual(e.line, line, "\(body): \(e)")
            XCTAssertTrue(e.reason.contains(words), "\(body): \(e.reason)")
        }
        // travel_*() without a table is a load error at the use.
        let bad = "[rule T]\nname = t\nactivity_types = app-login\nmitre = T1078 Valid Accounts\nuse_cases = X\nkind = fact\ncondition = travel_kmh() > 1\nscore = 1\nreason = r\n"
        XCTAssertThrowsError(try AnalyticsContent.load(texts: [("r.rules", bad)], fields: try Support.fields())) { e in
            XCTAssertTrue("\(e)".contains("travel_kmh() needs a [geo countries] table"), "\(e)")
        }
        // The shipped table: every entry valid, the countries the generator and the tests use present.
        let geo = try XCTUnwrap(try Support.content().geo)
        for cc in ["US", "GB", "DE", "FR", "IN", "JP", "SG", "BR", "NG", "KP", "PT", "ES"] { XCTAssertNotNil(geo[cc], cc) }
        XCTAssertGreaterThan(geo.places.count, 200)
    }

    // MARK: session cap

    static let capRules = """
    [rule T-PerDomain]
    name = per domain
    activity_types = dlp-email-alert-out
    mitre = T1078 Valid Accounts
    use_cases = Data Leak
    kind = fact
    condition = exists(dest_domain)
    score = 10
    reason = mail to {dest_domain}
    dedup = dest_domain
    """

    func capSession(tuning: String?, options: AnalyticsOptions = AnalyticsOptions(), rules: String = capRules) throws -> (triggers: [RuleTrigger], score: Int) {
        let content = try AnalyticsContent.load(texts: [("t.rules", rules)], fields: try Support.fields())
        let engine = AnalyticsEngine(content: content, options: options)
        if let tuning { engine.tuning = try Tuning.parse(tuning, file: "tuning.conf", content: content) }
        var triggers: [RuleTrigger] = [], score = -1
        for i in 0..<6 {
            var e = Event(parser: "t", activityType: .emailOut, timeMillis: T0 + Int64(i) * 60_000)
            e[Fields.user] = .string("ann@corp.com"); e["dest_domain"] = .string("customer\(i).example")
            for o in engine.process(e) { if case .rule(let r) = o { triggers.append(r) } }
        }
        for o in engine.finish() { if case .session(let s) = o { score = s.score } }
        return (triggers, score)
    }

    func testPerRecipientRuleScoresAtMostTheCapPerSession() throws {
        XCTAssertEqual(try capSession(tuning: nil).score, 60, "no cap by default")
        let (t, score) = try capSession(tuning: "[scoring session]\nrule_cap = 3\n")
        XCTAssertEqual(t.count, 6, "every trigger is still shown")
        XCTAssertEqual(t.map(\.score), [10, 10, 10, 0, 0, 0])
        XCTAssertEqual(score, 30, "three scored fires of one rule")
        let capped = try XCTUnwrap(t[3].evidence["session_cap"], t[3].evidence.serialized())
        XCTAssertEqual(capped["cap"], .int(3)); XCTAssertEqual(capped["withheld"], .int(10))
        XCTAssertNil(t[2].evidence["session_cap"])
    }

    func testSessionCapIsConfigurable() throws {
        // tuning.conf: the organization's default, then one rule's own.
        XCTAssertEqual(try capSession(tuning: "[scoring session]\nrule_cap = 0\n").score, 60, "0: no cap")
        XCTAssertEqual(try capSession(tuning: "[scoring session]\nrule_cap = 5\n").score, 50)
        XCTAssertEqual(try capSession(tuning: "[scoring session]\nrule_cap = 5\n[rule T-PerDomain]\nsession_cap = 1\n").score, 10)
        // Content: a rule's own cap; the engine option.
        XCTAssertEqual(try capSession(tuning: nil, rules: Self.capRules + "\nsession_cap = 2\n").score, 20)
        var o = AnalyticsOptions(); o.ruleSessionCap = 4
        XCTAssertEqual(try capSession(tuning: nil, options: o).score, 40)
        // Validated with file and line.
        let content = try AnalyticsContent.load(texts: [("t.rules", Self.capRules)], fields: try Support.fields())
        XCTAssertThrowsError(try Tuning.parse("[scoring session]\nrule_cap = -1\n", file: "tuning.conf", content: content)) { e in
            XCTAssertEqual((e as? ContentError)?.line, 2, "\(e)")
        }
        XCTAssertThrowsError(try Tuning.parse("[scoring sesion]\nrule_cap = 2\n", file: "tuning.conf", content: content)) { e in
            XCTAssertEqual((e as? ContentError)?.line, 1, "\(e)")
        }
        XCTAssertThrowsError(try Tuning.parse("[rule T-PerDomain]\nsession_cap = many\n", file: "tuning.conf", content: content))
    }
}
