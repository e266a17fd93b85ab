import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// Application rules (APP-*): each fires once with its reason and evidence and stays silent on a near
/// miss. Baseline: 24 days of ordinary work (Harness.baseline); the test session is on day 24.
final class AppRuleTests: XCTestCase {
    let sales = ["sue", "sid", "sal", "john.smith"]
    let eng = ["eve", "eli", "ema", "eric"]

    func org(_ extra: @escaping (Harness, Int, Int64) -> [Event] = { _, _, _ in [] }) throws -> Harness {
        let h = try Harness()
        h.baseline { d, day in extra(h, d, day) }
        return h
    }

    func logins(_ h: Harness, _ who: [String], _ day: Int64, app: String) -> [Event] {
        who.enumerated().map { i, u in h.login(u, day + 12 * hourMs + Int64(i) * 60_000, app: app) }
    }

    func ops(_ h: Harness, _ who: [String], _ day: Int64, _ op: String, object: String = "archive", mime: String? = "application/pdf") -> [Event] {
        who.enumerated().map { i, u in h.activity(u, day + 12 * hourMs + Int64(i) * 60_000, operation: op, object: object, mime: mime) }
    }

    // MARK: applications per user / group

    func testAPP_UApp_F() throws {
        let h = try org { h, _, day in self.logins(h, self.sales + self.eng, day, app: "Mobile App") }
        let t = h.feed([h.login("sam", h.day(24), app: "Mobile App")])
        assertFires(t, "APP-UApp-F", reason: "First use of application Mobile App by sam@corp.com",
                    evidence: ["value": .string("Mobile App"), "count": .int(0), "distinct": .int(1)])
        let m = try org { h, _, day in self.logins(h, self.sales + self.eng, day, app: "Mobile App") }
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-UApp-F", "the user's usual application")
    }

    func testAPP_UApp_A() throws {
        let h = try org { h, d, day in self.logins(h, self.sales + self.eng + (d == 5 ? ["sam"] : []), day, app: "Mobile App") }
        let t = h.feed([h.login("sam", h.day(24), app: "Mobile App")])
        assertFires(t, "APP-UApp-A", reason: "Application Mobile App is rarely used by sam@corp.com: 1 of 25",
                    evidence: ["count": .int(1), "observations": .int(25)])
        let m = try org { h, d, day in self.logins(h, self.sales + self.eng + (d % 3 == 0 ? ["sam"] : []), day, app: "Mobile App") }
        assertSilent(m.feed([m.login("sam", m.day(24), app: "Mobile App")]), "APP-UApp-A", "the user uses it every third day")
    }

    func testAPP_AppU_F() throws {
        let extra: (Harness, Int, Int64) -> [Event] = { h, d, day in
            self.logins(h, self.sales + self.eng, day, app: "Mobile App") + (d >= 21 ? [h.login("newbie", day + 13 * hourMs)] : [])
        }
        let h = try org(extra)
        let t = h.feed([h.login("newbie", h.day(24), app: "Mobile App")])
        assertFires(t, "APP-AppU-F", reason: "newbie@corp.com, a user with no application history yet, used Mobile App for the first time",
                    evidence: ["scope": .string("app"), "key": .string("Mobile App"), "value": .string("newbie@corp.com"), "count": .int(0)])
        assertSilent(t, "APP-UApp-F", "the new user's own model has not converged")
        let m = try org(extra)
        let mt = m.feed([m.login("sam", m.day(24), app: "Mobile App")])
        assertSilent(mt, "APP-AppU-F", "an established user")
        assertFires(mt, "APP-UApp-F")
    }

    func testAPP_AppG_F() throws {
        let h = try org { h, _, day in self.logins(h, self.eng, day, app: "Outlook Add-in") }
        let t = h.feed([h.login("sam", h.day(24), app: "Outlook Add-in")])
        assertFires(t, "APP-AppG-F", reason: "First use of application Outlook Add-in by peer group sales",
                    evidence: ["key": .string("Outlook Add-in"), "value": .string("sales"), "count": .int(0)])
        XCTAssertEqual(fired(t, "APP-AppG-F").first?.evidence["also_matched"], .array([.string("APP-UApp-F")]))
        let m = try org { h, _, day in self.logins(h, self.eng + ["sue"], day, app: "Outlook Add-in") }
        assertSilent(m.feed([m.login("sam", m.day(24), app: "Outlook Add-in")]), "APP-AppG-F", "the group uses it")
    }

    func testAPP_GApp_A() throws {
        let h = try org { h, d, day in
            self.logins(h, self.eng + (d == 3 || d == 9 ? ["sue"] : []) + (d == 6 ? ["sam"] : []), day, app: "Outlook Add-in")
        }
        let t = h.feed([h.login("sam", h.day(24), app: "Outlook Add-in")])
        assertFires(t, "APP-GApp-A", reason: "Application Outlook Add-in is rarely used by peer group sales: 3 of",
                    evidence: ["key": .string("sales"), "count": .int(3)])
        let m = try org { h, _, day in self.logins(h, self.eng + self.sales, day, app: "Outlook Add-in") }
        assertSilent(m.feed([m.login("sam", m.day(24), app: "Outlook Add-in")]), "APP-GApp-A", "the group uses it daily")
    }

    // MARK: operations per user / group / application

    func testAPP_UappA_F() throws {
        let h = try org { h, _, day in self.ops(h, self.sales + self.eng, day, "Export") }
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Export")])
        assertFires(t, "APP-UappA-F", reason: "First time sam@corp.com performs Administration Console: Export",
                    evidence: ["value": .string("Administration Console: Export"), "count": .int(0)])
        assertSilent(t, "AE-UA-F", "same family and score: the application rule, loaded first, reports it")
        let m = try org { h, _, day in self.ops(h, self.sales + self.eng, day, "Export") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Search")]), "APP-UappA-F", "the usual operation")
    }

    func testAPP_UappA_A() throws {
        let h = try org { h, d, day in self.ops(h, self.sales + self.eng + (d == 4 ? ["sam"] : []), day, "Export") }
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Export")])
        assertFires(t, "APP-UappA-A", reason: "sam@corp.com rarely performs Administration Console: Export: 1 of 49",
                    evidence: ["count": .int(1), "observations": .int(49)])
        let m = try org { h, d, day in self.ops(h, self.sales + self.eng + (d % 2 == 0 ? ["sam"] : []), day, "Export") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Export")]), "APP-UappA-A", "exported every other day")
    }

    func testAPP_GappA_F() throws {
        let h = try org { h, _, day in self.ops(h, self.eng, day, "Export") }
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Export")])
        assertFires(t, "APP-GappA-F", reason: "First time anyone in peer group sales performs Administration Console: Export",
                    evidence: ["key": .string("sales"), "count": .int(0)])
        let m = try org { h, _, day in self.ops(h, self.eng + ["sue"], day, "Export") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Export")]), "APP-GappA-F", "a colleague exports daily")
    }

    func testAPP_GappA_A() throws {
        let h = try org { h, d, day in self.ops(h, self.eng + (d == 3 || d == 9 ? ["sue"] : []), day, "Export") }
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Export")])
        assertFires(t, "APP-GappA-A", reason: "Peer group sales rarely performs Administration Console: Export: 2 of",
                    evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.ops(h, self.eng + self.sales, day, "Export") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Export")]), "APP-GappA-A", "the group exports daily")
    }

    func testAPP_AA_F() throws {
        let h = try org()
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Purge Archive")])
        assertFires(t, "APP-AA-F", reason: "First time operation Purge Archive is performed in application Administration Console",
                    evidence: ["scope": .string("app"), "key": .string("Administration Console"), "value": .string("Purge Archive"), "count": .int(0)])
        let also = fired(t, "APP-AA-F").first?.evidence["also_matched"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(also, ["AE-UA-F", "APP-GappA-F", "APP-UappA-F"])
        let m = try org()
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Search")]), "APP-AA-F", "a common operation")
    }

    func testAPP_AA_A() throws {
        let h = try org { h, d, day in d == 5 || d == 11 ? self.ops(h, ["eve"], day, "Release Message") : [] }
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Release Message")])
        assertFires(t, "APP-AA-A", reason: "Operation Release Message is rare in application Administration Console: 2 of",
                    evidence: ["count": .int(2), "value": .string("Release Message")])
        let m = try org { h, _, day in self.ops(h, self.eng + self.sales, day, "Release Message") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Release Message")]), "APP-AA-A", "everyone releases messages")
    }

    // MARK: objects, mime types

    func testAPP_UOb_F() throws {
        let h = try org()
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Search", object: "policy")])
        assertFires(t, "APP-UOb-F", reason: "First access by sam@corp.com to application object policy",
                    evidence: ["value": .string("policy"), "count": .int(0), "distinct": .int(2)])
        let m = try org()
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Search", object: "archive")]), "APP-UOb-F", "the usual object")
    }

    func testAPP_UOb_A() throws {
        let h = try org { h, d, day in d == 2 ? [h.activity("sam", day + 12 * hourMs, object: "policy")] : [] }
        let t = h.feed([h.activity("sam", h.day(24, 10), object: "policy")])
        assertFires(t, "APP-UOb-A", reason: "sam@corp.com rarely accesses application object policy: 1 of", evidence: ["count": .int(1)])
        let m = try org { h, d, day in d % 2 == 0 ? [h.activity("sam", day + 12 * hourMs, object: "policy")] : [] }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), object: "policy")]), "APP-UOb-A", "every other day")
    }

    func testAPP_UMime_F() throws {
        let everyone = sales + eng + ["ceo", "admin", "svc-backup"]
        let h = try org { h, _, day in self.ops(h, everyone, day, "Search", mime: "text/csv") }
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "text/csv")])
        assertFires(t, "APP-UMime-F", reason: "First file of type text/csv touched by sam@corp.com",
                    evidence: ["value": .string("text/csv"), "count": .int(0)])
        let m = try org { h, _, day in self.ops(h, everyone, day, "Search", mime: "text/csv") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10))]), "APP-UMime-F", "the usual mime type")
    }

    func testAPP_UMime_A() throws {
        let everyone = sales + eng + ["ceo", "admin", "svc-backup"]
        let h = try org { h, d, day in self.ops(h, everyone + (d == 7 ? ["sam"] : []), day, "Search", mime: "text/csv") }
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "text/csv")])
        assertFires(t, "APP-UMime-A", reason: "sam@corp.com rarely touches files of type text/csv: 1 of", evidence: ["count": .int(1)])
        let m = try org { h, d, day in self.ops(h, everyone + (d % 2 == 1 ? ["sam"] : []), day, "Search", mime: "text/csv") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), mime: "text/csv")]), "APP-UMime-A", "every other day")
    }

    func testAPP_GMime_F() throws {
        let h = try org { h, _, day in self.ops(h, self.eng, day, "Search", mime: "text/csv") }
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "text/csv")])
        assertFires(t, "APP-GMime-F", reason: "First file of type text/csv touched in peer group sales", evidence: ["key": .string("sales")])
        let m = try org { h, _, day in self.ops(h, self.eng + ["sue"], day, "Search", mime: "text/csv") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), mime: "text/csv")]), "APP-GMime-F", "the group uses csv")
    }

    func testAPP_GMime_A() throws {
        let h = try org { h, d, day in self.ops(h, self.eng + (d == 2 || d == 8 ? ["sue"] : []), day, "Search", mime: "text/csv") }
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "text/csv")])
        assertFires(t, "APP-GMime-A", reason: "Files of type text/csv are rare in peer group sales: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.ops(h, self.eng + self.sales, day, "Search", mime: "text/csv") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), mime: "text/csv")]), "APP-GMime-A", "the group uses csv daily")
    }

    func testAPP_OMime_F() throws {
        let h = try org()
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "application/x-msdownload")])
        assertFires(t, "APP-OMime-F", reason: "First file of type application/x-msdownload touched in the organization",
                    evidence: ["key": .string("organization"), "count": .int(0)])
        let m = try org()
        assertSilent(m.feed([m.activity("sam", m.day(24, 10))]), "APP-OMime-F", "pdf is common")
    }

    func testAPP_OMime_A() throws {
        let h = try org { h, d, day in d == 4 || d == 12 ? self.ops(h, ["sue"], day, "Search", mime: "image/png") : [] }
        let t = h.feed([h.activity("sam", h.day(24, 10), mime: "image/png")])
        assertFires(t, "APP-OMime-A", reason: "Files of type image/png are rare in the organization: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.ops(h, self.eng + self.sales, day, "Search", mime: "image/png") }
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), mime: "image/png")]), "APP-OMime-A", "png is common")
    }

    // MARK: source assets, user agents, client ids, zones, domains, time

    func testAPP_UsH_F() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), ip: "10.9.9.9")])
        assertFires(t, "APP-UsH-F", reason: "First time sam@corp.com uses an application from source asset 10.9.9.9",
                    evidence: ["value": .string("10.9.9.9"), "count": .int(0), "distinct": .int(2)])
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-UsH-F", "the usual address")
    }

    func testAPP_UsH_A() throws {
        let h = try org { h, d, day in d == 3 ? [h.login("sam", day + 12 * hourMs, ip: "10.9.9.9")] : [] }
        let t = h.feed([h.login("sam", h.day(24), ip: "10.9.9.9")])
        assertFires(t, "APP-UsH-A", reason: "sam@corp.com rarely uses applications from source asset 10.9.9.9: 1 of", evidence: ["count": .int(1)])
        let m = try org { h, d, day in d % 2 == 0 ? [h.login("sam", day + 12 * hourMs, ip: "10.9.9.9")] : [] }
        assertSilent(m.feed([m.login("sam", m.day(24), ip: "10.9.9.9")]), "APP-UsH-A", "every other day")
    }

    func testAPP_UAg_F() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), ua: uaWinChrome121)])
        assertFires(t, "APP-UAg-F", reason: "First use of user agent \"\(uaWinChrome121)\" by sam@corp.com",
                    evidence: ["value": .string(uaWinChrome121), "count": .int(0)])
        assertSilent(t, "APP-UOs-F", "same OS and browser")
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-UAg-F", "the usual user agent")
    }

    func testAPP_UOs_F() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), ua: uaMacSafari)])
        assertFires(t, "APP-UOs-F", reason: "First use of macOS/Safari (operating system/browser) by sam@corp.com",
                    evidence: ["value": .string("macOS/Safari"), "count": .int(0), "top": .array([.object([("value", .string("Windows/Chrome")), ("count", .int(24)), ("share", .double(1))])])])
        XCTAssertEqual(fired(t, "APP-UOs-F").first?.evidence["also_matched"], .array([.string("APP-UAg-F")]))
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24), ua: uaWinChrome121)]), "APP-UOs-F", "a new version of the same browser")
    }

    func testAPP_UAg_2() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), ua: uaWinChrome121), h.activity("sam", h.day(24, 10), ua: uaLinuxFirefox)])
        assertFires(t, "APP-UAg-2", reason: "A second new user agent for sam@corp.com in one session")
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24), ua: uaWinChrome121), m.activity("sam", m.day(24, 10), ua: uaWinChrome121)]),
                     "APP-UAg-2", "one new user agent, used twice")
    }

    func testAPP_UAg_3() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), ua: uaWinChrome121), h.activity("sam", h.day(24, 10), ua: uaLinuxFirefox),
                        h.activity("sam", h.day(24, 11), ua: uaAndroid)])
        assertFires(t, "APP-UAg-3", reason: "More than two new user agents for sam@corp.com in one session")
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24), ua: uaWinChrome121), m.activity("sam", m.day(24, 10), ua: uaLinuxFirefox),
                             m.activity("sam", m.day(24, 11), ua: uaWinChrome)]), "APP-UAg-3", "two new, one usual")
    }

    func testAPP_UId_F() throws {
        let h = try org()
        var e = h.login("sam", h.day(24))
        e["client_id"] = .string("cid-new-device")
        let t = h.feed([e])
        assertFires(t, "APP-UId-F", reason: "First use of client id cid-new-device by sam@corp.com",
                    evidence: ["value": .string("cid-new-device"), "count": .int(0)])
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-UId-F", "the user's own client id")
    }

    func testAPP_IdU_F() throws {
        let h = try org()
        var e = h.login("sam", h.day(24))
        e["client_id"] = .string("cid-sue")
        let t = h.feed([e])
        assertFires(t, "APP-IdU-F", reason: "Client id cid-sue used by sam@corp.com; until now only sue@corp.com 100% used it",
                    evidence: ["scope": .string("client_id"), "key": .string("cid-sue"), "value": .string("sam@corp.com"), "count": .int(0)])
        assertSilent(t, "APP-UId-F", "the reuse rule wins the family")
        let m = try org()
        var me = m.login("sue", m.day(24))
        me["client_id"] = .string("cid-sue")
        assertSilent(m.feed([me]), "APP-IdU-F", "the client id's own user")
    }

    func testAPP_AppSz_F() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), zone: "vpn")])
        assertFires(t, "APP-AppSz-F", reason: "First access to application Administration Console from network zone vpn",
                    evidence: ["value": .string("vpn"), "key": .string("Administration Console")])
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24), zone: "office")]), "APP-AppSz-F", "the usual zone")
    }

    func testAPP_AppED_F() throws {
        let h = try org()
        let t = h.feed([h.login("partner-admin", h.day(24), extra: ["email_domain": .string("corp.co.uk"), "user": .string("x@corp.co.uk")])])
        assertFires(t, "APP-AppED-F", reason: "First user from email domain corp.co.uk in application Administration Console",
                    evidence: ["value": .string("corp.co.uk"), "count": .int(0)])
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-AppED-F", "the company's domain")
    }

    func testAPP_UTi() throws {
        let h = try org()
        let t = h.feed([h.activity("sam", h.day(24, 3))])
        let r = assertFires(t, "APP-UTi", reason: "Activity at Thu 03:00 UTC is unusual for sam@corp.com: smoothed probability 0",
                            evidence: ["value": .string("Thu 03:00"), "hour": .int(99), "probability": .double(0), "converged": .bool(true)])
        XCTAssertEqual(r?.evidence["mass"], .double(0))
        let m = try org()
        assertSilent(m.feed([m.activity("sam", m.day(24, 10))]), "APP-UTi", "working hours")
    }

    // MARK: privileged, service and deactivated accounts, failed logins

    func testAPP_AT_PRIV() throws {
        let h = try org()
        let t = h.feed([h.activity("sam", h.day(24, 10), operation: "Update Policy", object: "policy", mime: nil)])
        let r = assertFires(t, "APP-AT-PRIV", reason: "sam@corp.com, who is not privileged, performed Update Policy in Administration Console, an operation seen 24 times and only from privileged users.")
        XCTAssertEqual(r?.evidence["model_evidence"]?["count"], .int(24))
        let m = try org()
        assertSilent(m.feed([m.activity("admin", m.day(24, 10), operation: "Update Policy", object: "policy", mime: nil)]), "APP-AT-PRIV", "a privileged user")
        assertSilent(m.feed([m.activity("sam", m.day(24, 10), operation: "Search")]), "APP-AT-PRIV", "an operation everyone performs")
    }

    func testAPP_F_SA_NC() throws {
        let h = try org()
        let t = h.feed([h.login("svc-backup", h.day(24), app: "Mobile App")])
        assertFires(t, "APP-F-SA-NC", reason: "Service account svc-backup@corp.com used application Mobile App, which it never used before (it used 1 other applications)",
                    evidence: ["app": .string("Mobile App")])
        let m = try org()
        assertSilent(m.feed([m.login("svc-backup", m.day(24))]), "APP-F-SA-NC", "its usual application")
        assertSilent(m.feed([m.login("sam", m.day(24), app: "Mobile App")]), "APP-F-SA-NC", "not a service account")
    }

    func testAPP_Account_deactivated() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), extra: ["user_is_deactivated": .bool(true)])])
        assertFires(t, "APP-Account-deactivated", reason: "Activity (app-login) by sam@corp.com, an account marked deactivated",
                    evidence: ["user_is_deactivated": .bool(true)])
        // From the context provider when enrichment did not say.
        h.provider.setAttribute("deactivated", of: "gone@corp.com", to: "true")
        var e = h.mail("gone", h.day(24, 11))
        e["user_is_deactivated"] = nil
        let r = assertFires(h.feed([e]), "APP-Account-deactivated", reason: "Activity (dlp-email-alert-out) by gone@corp.com")
        XCTAssertEqual(firstMatch(r)?["kind"], .string("attribute"))
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24), extra: ["user_is_deactivated": .bool(false)])]), "APP-Account-deactivated", "active account")
    }

    func testAPP_F_FL() throws {
        let h = try org()
        let t = h.feed([h.login("sam", h.day(24), failed: true), h.login("sam", h.day(24, 9, 5), failed: true)])
        XCTAssertEqual(fired(t, "APP-F-FL").count, 1, "once per session")
        assertFires(t, "APP-F-FL", reason: "Failed login by sam@corp.com to Administration Console from 81.2.69.",
                    evidence: ["app": .string("Administration Console")])
        let m = try org()
        assertSilent(m.feed([m.login("sam", m.day(24))]), "APP-F-FL", "a successful login")
    }
}
