import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// Outgoing-mail rules (EM-*, FEM-*). Baseline: every user mails bob@partner.com (US, ~50 KB, report.pdf)
/// and ann@client.org (DE, with kim@corp.com in copy, notes.docx every other day) daily for 24 days.
final class EmailRuleTests: XCTestCase {
    let sales = ["sue", "sid", "sal", "john.smith"]
    let eng = ["eve", "eli", "ema", "eric"]
    var everyoneButSam: [String] { sales + eng + ["ceo", "admin", "svc-backup"] }

    func org(_ extra: @escaping (Harness, Int, Int64) -> [Event] = { _, _, _ in [] }) throws -> Harness {
        let h = try Harness()
        h.baseline { d, day in extra(h, d, day) }
        return h
    }

    func mails(_ h: Harness, _ who: [String], _ day: Int64, to: String, country: String? = "US", attachments: [String] = ["report.pdf"]) -> [Event] {
        who.enumerated().map { i, u in h.mail(u, day + 13 * hourMs + Int64(i) * 60_000, to: to, attachments: attachments, country: country) }
    }

    // MARK: domains

    func testEM_UD_F() throws {
        let h = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "info@vendor.io") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "zed@vendor.io")])
        assertFires(t, "EM-UD-F", reason: "First email from sam@corp.com to domain vendor.io (2 external domains so far",
                    evidence: ["value": .string("vendor.io"), "count": .int(0), "distinct": .int(2), "observations": .int(48)])
        let m = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "info@vendor.io") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11))]), "EM-UD-F", "the usual domain")
        assertSilent(m.feed([m.mail("sid", m.day(24, 11), to: "x@newco.example", extra: ["dest_is_external": .bool(false)])]), "EM-UD-F",
                     "internal recipient (enrichment says not external)")
    }

    func testEM_UD_A() throws {
        let h = try org { h, d, day in self.mails(h, self.everyoneButSam + (d == 4 ? ["sam"] : []), day, to: "info@vendor.io") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "zed@vendor.io")])
        assertFires(t, "EM-UD-A", reason: "sam@corp.com rarely emails vendor.io: 1 of 49", evidence: ["count": .int(1), "observations": .int(49)])
        let m = try org { h, d, day in self.mails(h, self.everyoneButSam + (d % 2 == 0 ? ["sam"] : []), day, to: "info@vendor.io") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "zed@vendor.io")]), "EM-UD-A", "every other day")
    }

    func testEM_GD_F() throws {
        let h = try org { h, _, day in self.mails(h, self.eng, day, to: "info@vendor.io") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "zed@vendor.io")])
        assertFires(t, "EM-GD-F", reason: "First email from peer group sales to domain vendor.io (sent by sam@corp.com",
                    evidence: ["key": .string("sales"), "count": .int(0)])
        let m = try org { h, _, day in self.mails(h, self.eng + ["sue"], day, to: "info@vendor.io") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "zed@vendor.io")]), "EM-GD-F", "a colleague mails it daily")
    }

    func testEM_GD_A() throws {
        let h = try org { h, d, day in self.mails(h, self.eng + (d == 3 || d == 9 ? ["sue"] : []), day, to: "info@vendor.io") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "zed@vendor.io")])
        assertFires(t, "EM-GD-A", reason: "Domain vendor.io is rare for peer group sales: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.mails(h, self.eng + self.sales, day, to: "info@vendor.io") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "zed@vendor.io")]), "EM-GD-A", "the group mails it daily")
    }

    func testEM_OD_F() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@brandnew.example")])
        assertFires(t, "EM-OD-F", reason: "First email from the organization to domain brandnew.example (sent by sam@corp.com; 2 domains known)",
                    evidence: ["key": .string("organization"), "count": .int(0)])
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11))]), "EM-OD-F", "a known domain")
    }

    func testEM_OD_A() throws {
        let h = try org { h, d, day in d == 4 || d == 12 ? self.mails(h, ["sue"], day, to: "a@rare.example") : [] }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "b@rare.example")])
        assertFires(t, "EM-OD-A", reason: "Domain rare.example is rare for the organization: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "a@rare.example") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "b@rare.example")]), "EM-OD-A", "mailed daily by the organization")
    }

    // MARK: countries

    func testEM_Ucountry_F() throws {
        let h = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "info@shop.fr", country: "FR") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.fr", country: "FR")])
        assertFires(t, "EM-Ucountry-F", reason: "First email from sam@corp.com to country FR", evidence: ["value": .string("FR"), "count": .int(0)])
        let m = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "info@shop.fr", country: "FR") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11))]), "EM-Ucountry-F", "the usual country")
    }

    func testEM_Ucountry_A() throws {
        let h = try org { h, d, day in self.mails(h, self.everyoneButSam + (d == 6 ? ["sam"] : []), day, to: "info@shop.fr", country: "FR") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.fr", country: "FR")])
        assertFires(t, "EM-Ucountry-A", reason: "sam@corp.com rarely emails country FR: 1 of 49", evidence: ["count": .int(1)])
        let m = try org { h, d, day in self.mails(h, self.everyoneButSam + (d % 2 == 0 ? ["sam"] : []), day, to: "info@shop.fr", country: "FR") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "x@shop.fr", country: "FR")]), "EM-Ucountry-A", "every other day")
    }

    func testEM_Gcountry_F() throws {
        let h = try org { h, _, day in self.mails(h, self.eng, day, to: "info@shop.fr", country: "FR") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.fr", country: "FR")])
        assertFires(t, "EM-Gcountry-F", reason: "First email from peer group sales to country FR", evidence: ["key": .string("sales")])
        let m = try org { h, _, day in self.mails(h, self.eng + ["sue"], day, to: "info@shop.fr", country: "FR") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "x@shop.fr", country: "FR")]), "EM-Gcountry-F", "a colleague mails FR daily")
    }

    func testEM_Gcountry_A() throws {
        let h = try org { h, d, day in self.mails(h, self.eng + (d == 2 || d == 8 ? ["sue"] : []), day, to: "info@shop.fr", country: "FR") }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.fr", country: "FR")])
        assertFires(t, "EM-Gcountry-A", reason: "Country FR is rare for peer group sales: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.mails(h, self.eng + self.sales, day, to: "info@shop.fr", country: "FR") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "x@shop.fr", country: "FR")]), "EM-Gcountry-A", "the group mails FR daily")
    }

    func testEM_country_F() throws {
        let h = try org()
        // No delivery-server country: the recipient domain's ccTLD decides.
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.jp", country: nil)])
        assertFires(t, "EM-country-F", reason: "First email from the organization to country JP", evidence: ["value": .string("JP"), "count": .int(0)])
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "x@other.example", country: "US")]), "EM-country-F", "a known country")
    }

    func testEM_country_A() throws {
        let h = try org { h, d, day in d == 3 || d == 13 ? self.mails(h, ["sue"], day, to: "a@shop.jp", country: "JP") : [] }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "x@shop.jp", country: "JP")])
        assertFires(t, "EM-country-A", reason: "Country JP is rare for the organization: 2 of", evidence: ["count": .int(2)])
        let m = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "a@shop.jp", country: "JP") }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "x@shop.jp", country: "JP")]), "EM-country-A", "common in the organization")
    }

    // MARK: attachment extensions

    func testEM_UFEXT_A() throws {
        let h = try org { h, d, day in self.mails(h, self.everyoneButSam + (d == 5 ? ["sam"] : []), day, to: "bob@partner.com", attachments: ["sheet.xlsx"]) }
        let t = h.feed([h.mail("sam", h.day(24, 11), attachments: ["plan.xlsx"])])
        assertFires(t, "EM-UFEXT-A", reason: "sam@corp.com rarely sends .xlsx attachments: 1 of", evidence: ["value": .string("xlsx"), "count": .int(1)])
        let m = try org { h, d, day in self.mails(h, self.everyoneButSam + (d == 5 ? ["sam"] : []), day, to: "bob@partner.com", attachments: ["sheet.xlsx"]) }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), attachments: ["q.pdf"])]), "EM-UFEXT-A", "the usual extension")
    }

    func testEM_GFEXT_A() throws {
        let h = try org { h, d, day in self.mails(h, self.eng + (d == 4 || d == 10 ? ["sue"] : []), day, to: "bob@partner.com", attachments: ["sheet.xlsx"]) }
        let t = h.feed([h.mail("sam", h.day(24, 11), attachments: ["plan.xlsx"])])
        assertFires(t, "EM-GFEXT-A", reason: ".xlsx attachments are rare in peer group sales: 2 of", evidence: ["key": .string("sales"), "count": .int(2)])
        assertSilent(t, "EM-UFEXT-A", "never sent by the user: there is no first-time rule for extensions, and abnormal needs a count")
        let m = try org { h, _, day in self.mails(h, self.eng + self.sales, day, to: "bob@partner.com", attachments: ["sheet.xlsx"]) }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), attachments: ["plan.xlsx"])]), "EM-GFEXT-A", "the group sends xlsx daily")
    }

    func testEM_OFEXT_A() throws {
        let h = try org { h, d, day in d == 6 || d == 14 ? self.mails(h, ["sue"], day, to: "bob@partner.com", attachments: ["dump.7z"]) : [] }
        let t = h.feed([h.mail("sam", h.day(24, 11), attachments: ["backup.7z"])])
        assertFires(t, "EM-OFEXT-A", reason: ".7z attachments are rare in the organization: 2 of", evidence: ["key": .string("organization"), "count": .int(2)])
        let m = try org { h, _, day in self.mails(h, self.everyoneButSam, day, to: "bob@partner.com", attachments: ["dump.7z"]) }
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), attachments: ["backup.7z"])]), "EM-OFEXT-A", "common in the organization")
    }

    // MARK: sizes and counts

    func testEM_Bytes() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), bytes: 20_000_000)])
        let r = assertFires(t, "EM-Bytes", reason: "Email of 20000000 bytes to partner.com; sam@corp.com usually sends about")
        XCTAssertEqual(r?.evidence["value"], .double(20_000_000))
        XCTAssertEqual(r?.evidence["converged"], .bool(true))
        XCTAssertGreaterThan(r?.evidence["ratio"]?.doubleValue ?? 0, 100)
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), bytes: 70_000)]), "EM-Bytes", "above the 99th percentile but not 3x the median")
    }

    func testEM_Attachments() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), attachments: (1...12).map { "scan\($0).pdf" })])
        assertFires(t, "EM-Attachments", reason: "Email with 12 attachments; sam@corp.com usually sends 1.09 (99th percentile 1.19)", evidence: ["value": .double(12)])
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), attachments: ["a.pdf", "b.pdf"])]), "EM-Attachments", "below the 3-attachment minimum")
    }

    func testEM_OutSpam_M() throws {
        let h = try org()
        let rcpts = ["bob@partner.com"] + (1...7).map { "c\($0)@corp.com" }
        let t = h.feed([h.mail("sam", h.day(24, 11), recipients: rcpts)])
        assertFires(t, "EM-OutSpam-M", reason: "Email to 8 recipients (at least one external)", evidence: ["value": .double(8), "factor": .double(3)])
        assertSilent(t, "EM-OutSpam-L", "not 10x the median")
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), recipients: ["bob@partner.com", "c1@corp.com", "c2@corp.com", "c3@corp.com"])]),
                     "EM-OutSpam-M", "below the 5-recipient minimum")
        let internalOnly = (1...8).map { "c\($0)@corp.com" }
        assertSilent(m.feed([m.mail("sid", m.day(24, 11), to: "c1@corp.com", recipients: internalOnly, extra: ["dest_is_external": .bool(false)])]),
                     "EM-OutSpam-M", "no external recipient")
    }

    func testEM_OutSpam_L() throws {
        let h = try org()
        let rcpts = (1...40).map { "r\($0)@partner.com" }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "r1@partner.com", recipients: rcpts)])
        let r = assertFires(t, "EM-OutSpam-L", reason: "Email to 40 recipients (at least one external), far above the usual")
        XCTAssertEqual(r?.evidence["also_matched"], .array([.string("EM-OutSpam-M")]))
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), recipients: ["bob@partner.com"] + (1...7).map { "c\($0)@corp.com" })]),
                     "EM-OutSpam-L", "medium distance only")
    }

    func testEM_BSum_5MB() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "sam.private@gmail.com", bytes: 3_000_000),
                        h.mail("sam", h.day(24, 12), to: "friend@yahoo.com", bytes: 3_000_000)])
        XCTAssertEqual(fired(t, "EM-BSum-5MB").first?.timeMillis, h.day(24, 12), "fires when the sum passes 5 MB")
        assertFires(t, "EM-BSum-5MB", reason: "5.7 MB emailed to personal or public webmail addresses in this session")
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "friend@yahoo.com", bytes: 3_000_000)]), "EM-BSum-5MB", "below 5 MB")
        // Other session: 3 MB today, 3 MB tomorrow.
        let o = try org()
        assertSilent(o.feed([o.mail("sam", o.day(24, 11), to: "friend@yahoo.com", bytes: 3_000_000),
                             o.mail("sam", o.day(25, 11), to: "friend@yahoo.com", bytes: 3_000_000)]), "EM-BSum-5MB", "split over two sessions")
    }

    func testEM_BSum_5MB_Fail() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "friend@yahoo.com", bytes: 4_000_000, failed: true),
                        h.mail("sam", h.day(24, 12), to: "friend@yahoo.com", bytes: 4_000_000, failed: true)])
        assertFires(t, "EM-BSum-5MB-Fail", reason: "Failed attempts to email 7.6 MB to personal or public webmail addresses")
        assertSilent(t, "EM-BSum-5MB", "the successful-mail rule does not count failures")
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "friend@yahoo.com", bytes: 4_000_000, failed: true)]), "EM-BSum-5MB-Fail", "one failure, below 5 MB")
    }

    func testEM_BSum_first() throws {
        let h = try org { h, d, day in d >= 21 ? [h.login("newbie", day + 13 * hourMs)] : [] }
        let t = h.feed([h.mail("newbie", h.day(24, 11), bytes: 12_000_000)])
        let r = assertFires(t, "EM-BSum-first", reason: "newbie@corp.com, who has no history of external email sizes, sent a 11.4 MB email to partner.com")
        XCTAssertEqual(r?.evidence["bytes"], .int(12_000_000))
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), bytes: 12_000_000)]), "EM-BSum-first", "the user has a size history")
    }

    func testEM_N_SUM_20() throws {
        let h = try org { h, d, day in d >= 21 ? [h.login("newbie", day + 13 * hourMs)] : [] }
        let t = h.feed((0..<3).map { h.mail("newbie", h.day(24, 10 + $0), bytes: 8_000_000) })
        XCTAssertEqual(fired(t, "EM-N-SUM-20").first?.timeMillis, h.day(24, 12))
        assertFires(t, "EM-N-SUM-20", reason: "New user newbie@corp.com (no established email baseline) sent 22.9 MB in one session")
        let m = try org()
        assertSilent(m.feed((0..<3).map { m.mail("sam", m.day(24, 10 + $0), bytes: 8_000_000) }), "EM-N-SUM-20", "an established user")
    }

    // MARK: facts about the recipient and the content

    func testEM_File() throws {
        let h = try org()
        let r = assertFires(h.feed([h.mail("sam", h.day(24, 11), attachments: ["main.py", "notes.txt"])]), "EM-File",
                            reason: "Source code attachment main.py, notes.txt sent to bob@partner.com")
        XCTAssertEqual(firstMatch(r)?["entry"], .string("py"))
        assertFires(h.feed([h.mail("sue", h.day(24, 11), attachments: ["x.bin"], extra: ["file_is_source_code": .bool(true)])]), "EM-File")
        assertSilent(h.feed([h.mail("sid", h.day(24, 11), attachments: ["main.pdf"])]), "EM-File", "not source code")
    }

    func testEM_Confidential_File() throws {
        let h = try org()
        let r = assertFires(h.feed([h.mail("sam", h.day(24, 11), attachments: ["Q3 CONFIDENTIAL forecast.xlsx"])]), "EM-Confidential-File",
                            reason: "Attachment name with confidential keyword (confidential) sent to bob@partner.com")
        XCTAssertEqual(firstMatch(r)?["kind"], .string("keyword"))
        assertSilent(h.feed([h.mail("sue", h.day(24, 11), attachments: ["forecast.xlsx"])]), "EM-Confidential-File", "no keyword")
    }

    func testEM_Competition() throws {
        let h = try org()
        assertFires(h.feed([h.mail("sam", h.day(24, 11), to: "ceo@rival.com")]), "EM-Competition", reason: "Email to rival.com, a competitor.",
                    evidence: ["dest_email_address": .string("ceo@rival.com")])
        assertFires(h.feed([h.mail("sue", h.day(24, 11), to: "x@other-rival.example", extra: ["dest_is_competitor": .bool(true)])]), "EM-Competition")
        assertSilent(h.feed([h.mail("sid", h.day(24, 11))]), "EM-Competition", "not a competitor")
    }

    func testEM_DED() throws {
        let h = try org()
        let r = assertFires(h.feed([h.mail("sam", h.day(24, 11), to: "tmp@mailinator.com")]), "EM-DED", reason: "Email to mailinator.com, a disposable email domain.")
        XCTAssertEqual(firstMatch(r)?["name"], .string("disposable_domains"))
        assertSilent(h.feed([h.mail("sue", h.day(24, 11), to: "x@gmail.com")]), "EM-DED", "webmail is not disposable")
    }

    func testEM_PublicDomain() throws {
        let h = try org()
        assertFires(h.feed([h.mail("sam", h.day(24, 11), to: "friend@yahoo.com")]), "EM-PublicDomain",
                    reason: "Email from company address sam@corp.com to public webmail address friend@yahoo.com.")
        assertSilent(h.feed([h.mail("sue", h.day(24, 11))]), "EM-PublicDomain", "a business domain")
    }

    func testEM_PersonalEmail() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "Sam.Private@gmail.com")])
        let r = assertFires(t, "EM-PersonalEmail", reason: "sam@corp.com emailed Sam.Private@gmail.com, their own personal address.")
        XCTAssertNil(r?.evidence["also_matched"])
        assertSilent(t, "EM-PublicDomain", "the user's own personal address is EM-PersonalEmail's")
        // A strong name match between the local parts.
        assertFires(h.feed([h.mail("john.smith", h.day(24, 11), to: "johnsmith85@gmail.com")]), "EM-PersonalEmail")
        let m = h.feed([h.mail("sue", h.day(24, 11), to: "friend@yahoo.com")])
        assertSilent(m, "EM-PersonalEmail", "someone else's webmail address")
        assertFires(m, "EM-PublicDomain")
    }

    func testEM_Personal_Job() throws {
        let h = try org()
        assertFires(h.feed([h.mail("sam", h.day(24, 11), to: "sam.private@gmail.com", subject: "My resume and cover letter")]), "EM-Personal-Job",
                    reason: "Email with job-seeking keywords (resume) in the subject sent to personal address sam.private@gmail.com.")
        assertSilent(h.feed([h.mail("sue", h.day(24, 11), to: "friend@yahoo.com", subject: "Holiday photos")]), "EM-Personal-Job", "no keyword")
        assertSilent(h.feed([h.mail("sid", h.day(24, 11), subject: "Resume of the meeting")]), "EM-Personal-Job", "to a business address")
    }

    func testEM_Personal_PrivacySize() throws {
        let h = try org()
        assertFires(h.feed([h.mail("sam", h.day(24, 11), to: "sam.private@gmail.com", bytes: 200_000, subject: "Passport scan")]),
                    "EM-Personal-PrivacySize", reason: "Email of 200000 bytes with privacy keywords (passport) in the subject")
        assertSilent(h.feed([h.mail("sue", h.day(24, 11), to: "friend@yahoo.com", bytes: 5_000, subject: "Passport scan")]),
                     "EM-Personal-PrivacySize", "below 10 KB")
    }

    // MARK: executives' mail

    func testEM_EXEC_Personal() throws {
        let h = try org()
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "sam.private@gmail.com", subject: "Fwd: Board strategy review day 12")])
        let r = assertFires(t, "EM-EXEC-Personal", reason: "sam@corp.com forwarded an executive's email (\"board strategy review day 12\", seen 1 times from executives) to their personal address")
        XCTAssertEqual(r?.evidence["model_evidence"]?["model"], .string("EM-EXEC"))
        XCTAssertEqual(r?.evidence["also_matched"], .array([.string("EM-EXEC-Public")]))
        let m = try org()
        assertSilent(m.feed([m.mail("sam", m.day(24, 11), to: "sam.private@gmail.com", subject: "Fwd: Lunch plans")]), "EM-EXEC-Personal", "not an executive's subject")
        assertSilent(m.feed([m.mail("sue", m.day(24, 11), to: "sue@gmail.com", subject: "Weekly update",
                                    extra: ["dest_is_personal": .bool(true)])]), "EM-EXEC-Personal",
                     "executives also send 'Weekly update', but this is the user's own mail, not a reply or forward")
    }

    func testEM_EXEC_Public() throws {
        let h = try org()
        assertFires(h.feed([h.mail("sue", h.day(24, 11), to: "friend@yahoo.com", subject: "RE: board strategy review DAY 12")]), "EM-EXEC-Public",
                    reason: "sue@corp.com forwarded an executive's email (\"board strategy review day 12\"")
        let m = try org()
        assertSilent(m.feed([m.mail("ceo", m.day(24, 11), to: "friend@yahoo.com", subject: "Board strategy review day 12")]), "EM-EXEC-Public", "sent by the executive")
    }

    func forwards(_ h: Harness, _ who: [String], _ d: Int, _ day: Int64) -> [Event] {
        who.enumerated().map { i, u in
            h.mail(u, day + 16 * hourMs + Int64(i) * 60_000, to: "kim@corp.com", attachments: [], subject: "FW: Board strategy review day \(d)",
                   country: nil, extra: ["dest_is_external": .bool(false)])
        }
    }

    func testEM_G_EXEC_F() throws {
        let h = try org { h, d, day in self.forwards(h, self.eng, d, day) }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "kim@corp.com", subject: "Fw: Board strategy review day 20", extra: ["dest_is_external": .bool(false)])])
        assertFires(t, "EM-G-EXEC-F", reason: "First time peer group sales forwards an executive's email (sam@corp.com: \"board strategy review day 20\")",
                    evidence: ["value": .string("sales"), "count": .int(0), "top": .array([.object([("value", .string("eng")), ("count", .int(96)), ("share", .double(1))])])])
        let m = try org { h, d, day in self.forwards(h, self.eng, d, day) }
        assertSilent(m.feed([m.mail("eli", m.day(24, 11), to: "kim@corp.com", subject: "Fw: Board strategy review day 20", extra: ["dest_is_external": .bool(false)])]),
                     "EM-G-EXEC-F", "the group that usually forwards")
    }

    func testEM_G_EXEC_A() throws {
        let h = try org { h, d, day in self.forwards(h, self.eng + (d == 5 || d == 9 ? ["sue"] : []), d, day) }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "kim@corp.com", subject: "Fw: Board strategy review day 20", extra: ["dest_is_external": .bool(false)])])
        assertFires(t, "EM-G-EXEC-A", reason: "Peer group sales rarely forwards executives' email: 2 of 98", evidence: ["count": .int(2)])
        let m = try org { h, d, day in self.forwards(h, self.eng + (d == 5 || d == 9 ? ["sue"] : []), d, day) }
        assertSilent(m.feed([m.mail("eli", m.day(24, 11), to: "kim@corp.com", subject: "Fw: Board strategy review day 20", extra: ["dest_is_external": .bool(false)])]),
                     "EM-G-EXEC-A", "the usual group")
    }

    // MARK: failed mail

    func testFEM_UD_R() throws {
        let h = try org()
        let t = h.feed((0..<3).map { h.mail("sam", h.day(24, 11, 10 * $0), to: "x@broken.example", failed: true) })
        XCTAssertEqual(fired(t, "FEM-UD-R").first?.timeMillis, h.day(24, 11, 20), "fires at the third failure")
        assertFires(t, "FEM-UD-R", reason: "Repeated failures to email broken.example in one session (3 failures).")
        let m = try org()
        assertSilent(m.feed((0..<2).map { m.mail("sam", m.day(24, 11, 10 * $0), to: "x@broken.example", failed: true) }), "FEM-UD-R", "two failures")
    }

    func testFEM_FU() throws {
        let h = try org { h, d, day in d == 22 ? [h.mail("sam", day + 12 * hourMs, attachments: ["plan.xlsx"], failed: true)] : [] }
        let t = h.feed([h.mail("sam", h.day(24, 11), to: "friend@yahoo.com", attachments: ["plan.xlsx"])])
        let r = assertFires(t, "FEM-FU", reason: "sam@corp.com is sending plan.xlsx, an attachment that failed for them before (1 earlier failed sessions).")
        // Keyed on the file: name and size (the message size in 100 KB steps here), not the name alone.
        XCTAssertEqual(r?.evidence["model_evidence"]?["key"], .string("plan.xlsx|0"))
        let m = try org { h, d, day in d == 22 ? [h.mail("sam", day + 12 * hourMs, attachments: ["plan.xlsx"], failed: true)] : [] }
        assertSilent(m.feed([m.mail("sue", m.day(24, 11), attachments: ["plan.xlsx"])]), "FEM-FU", "it failed for someone else")
    }
}
