import XCTest
import Synchronization
import OspreyCore
@testable import OspreyEnrichment

final class ContextTests: XCTestCase {
    func testExampleContextLoads() throws {
        let ctx = try Context.load(directory: Paths.example, lists: Paths.lists)
        XCTAssertEqual(ctx.config.name, "acme")
        XCTAssertEqual(ctx.users.count, 3)
        XCTAssertEqual(ctx.users.lookup("a.smith@acme.com")?.id, "alice@acme.com") // alias
        XCTAssertEqual(ctx.users.lookup("asmith")?.displayName, "Smith, Alice")
        XCTAssertEqual(ctx.users.lookup("bob@acme.com")?.peerGroup, "Engineering") // department when no peer_group
        XCTAssertEqual(ctx.users.lookup("bob@acme.com")?.deactivatedAtMillis, ms("2024-03-31T00:00:00Z"))
        XCTAssertEqual(ctx.users.lookup("alice@acme.com")?.personalEmails, ["alice.smith1980@gmail.com"])
        XCTAssertNotNil(ctx.companyDomains.match("acme.co.uk", psl: ctx.psl))
        XCTAssertNotNil(ctx.companyDomains.match("acme-mail.com", psl: ctx.psl))
        XCTAssertEqual(ctx.suspiciousCountries, ["KP", "IR"])
        XCTAssertEqual(ctx.zones.lookup(IPAddress.parse("10.20.1.1")!), "datacenter")
        XCTAssertEqual(ctx.tor.lookup(IPAddress.parse("185.220.101.7")!), "185.220.101.0/24")
        XCTAssertEqual(ctx.ransomware.lookup(IPAddress.parse("198.51.100.9")!), "198.51.100.0-198.51.100.15")
        XCTAssertNil(ctx.ransomware.lookup(IPAddress.parse("198.51.100.16")!))
        XCTAssertTrue(ctx.keywords.keywords.contains { $0.text == "career move" })  // context adds to defaults
        XCTAssertTrue(ctx.keywords.keywords.contains { $0.text == "resume" })
        XCTAssertTrue(ctx.sourceCodeExtensions.contains("py"))
        XCTAssertFalse(ctx.exploits.isEmpty)
        XCTAssertTrue(ctx.summary.contains("3 users"))
    }

    func testMissingOptionalFilesGiveEmptyDefaults() throws {
        let tmp = TempDir()
        let ctx = try Context.load(directory: tmp.path, lists: Paths.lists)
        XCTAssertEqual(ctx.users.count, 0)
        XCTAssertEqual(ctx.config.defaultPeerGroup, "unknown")
        XCTAssertTrue(ctx.zones.isEmpty)
        XCTAssertGreaterThan(ctx.webmailDomains.count, 0)
        XCTAssertGreaterThan(ctx.psl.ruleCount, 0)
        // Without the default lists too.
        let bare = try Context.load(directory: tmp.path, lists: nil)
        XCTAssertEqual(bare.webmailDomains.count, 0)
        XCTAssertTrue(bare.exploits.isEmpty)
        // A directory that does not exist is an error.
        XCTAssertThrowsError(try Context.load(directory: tmp.path + "/missing", lists: Paths.lists))
    }

    func testReplaceDefaults() throws {
        let tmp = TempDir()
        tmp.write("context.conf", "[context x]\nreplace_defaults = webmail, log4j\n")
        tmp.write("webmail_domains.txt", "corp-webmail.example\n")
        let ctx = try Context.load(directory: tmp.path, lists: Paths.lists)
        XCTAssertEqual(ctx.webmailDomains.count, 1)
        XCTAssertTrue(ctx.exploits.isEmpty)
    }

    // MARK: Bad files: each error names file and line.

    func testUsersWrongColumns() {
        let tmp = TempDir()
        let p = tmp.write("users.csv", "user,department,favourite_colour\nalice@acme.com,Finance,blue\n")
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.count, 1)
        XCTAssertEqual(errs.first?.file, p)
        XCTAssertEqual(errs.first?.line, 1)
        XCTAssertTrue(errs.first?.reason.contains("unknown column 'favourite_colour'") ?? false, "\(errs)")

        tmp.write("users.csv", "department,title\nFinance,CFO\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("no 'user' column") ?? false)

        tmp.write("users.csv", "user,department,title\nalice@acme.com,Finance,CFO\nbob@acme.com,Engineering\n")
        let e3 = loadErrors(tmp.path)
        XCTAssertEqual(e3.first?.line, 3)
        XCTAssertTrue(e3.first?.reason.contains("expected 3 columns") ?? false, "\(e3)")
    }

    func testUsersBadValues() {
        let tmp = TempDir()
        tmp.write("users.csv", "user,is_executive\nalice@acme.com,maybe\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("is_executive") ?? false)
        tmp.write("users.csv", "user,deactivated_at\nalice@acme.com,last tuesday\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("deactivated_at") ?? false)
        tmp.write("users.csv", "user,personal_emails\nalice@acme.com,not-an-address\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("personal_emails") ?? false)
        tmp.write("users.csv", "user,display_name\nalice@acme.com,\"Smith, Alice\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("unterminated") ?? false)
        // A personal address in a company domain is a mistake.
        tmp.write("context.conf", "[context x]\ncompany_domains = acme.com\n")
        tmp.write("users.csv", "user,personal_emails\nalice@acme.com,alice2@acme.com\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("company domain") ?? false)
    }

    func testDuplicateUsers() {
        let tmp = TempDir()
        tmp.write("users.csv", """
        user,aliases,department
        alice@acme.com,asmith,Finance
        bob@acme.com,,Engineering
        ALICE@acme.com,,Sales
        """)
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.first?.line, 4)
        XCTAssertTrue(errs.first?.reason.contains("duplicate user: 'alice@acme.com' is already defined at line 2") ?? false, "\(errs)")
        // An alias claimed by two users.
        tmp.write("users.csv", "user,aliases\nalice@acme.com,shared@acme.com\nbob@acme.com,shared@acme.com\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("'shared@acme.com' is already defined at line 2") ?? false)
    }

    func testBadCIDR() {
        let tmp = TempDir()
        let p = tmp.write("network_zones.txt", "10.0.0.0/8 corp\n10.1.0.0/33 lab\n")
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.first?.file, p)
        XCTAssertEqual(errs.first?.line, 2)
        XCTAssertTrue(errs.first?.reason.contains("bad CIDR '10.1.0.0/33'") ?? false, "\(errs)")
        tmp.write("network_zones.txt", "10.0.0.1/8 corp\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("host bits") ?? false)
        tmp.write("network_zones.txt", "10.0.0.0/8\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("expected 'CIDR zone'") ?? false)
        tmp.write("network_zones.txt", "10.0.0.0/8 corp\n")
        let ti = tmp.write("ti/tor.txt", "# exits\n185.220.101.0/24\n185.220.101.300\n")
        let e2 = loadErrors(tmp.path)
        XCTAssertEqual(e2.first?.file, ti)
        XCTAssertEqual(e2.first?.line, 3)
    }

    func testTIListForms() throws {
        let tmp = TempDir()
        // As written by tools/tor_list_from_iporigin.py, plus a CIDR, an IPv6 address and a note.
        tmp.write("ti/tor.txt", "# tor ranges\n2.26.97.42-2.26.97.42 # Tor\n185.220.100.0/22\n2001:db8::7 exit in lab\n")
        let ctx = try Context.load(directory: tmp.path, lists: nil)
        XCTAssertEqual(ctx.tor.lookup(IPAddress.parse("2.26.97.42")!), "2.26.97.42-2.26.97.42")
        XCTAssertNil(ctx.tor.lookup(IPAddress.parse("2.26.97.43")!))
        XCTAssertEqual(ctx.tor.lookup(IPAddress.parse("185.220.103.255")!), "185.220.100.0/22")
        XCTAssertEqual(ctx.tor.lookup(IPAddress.parse("2001:db8::7")!), "2001:db8::7")
    }

    func testUnknownCountryCode() {
        let tmp = TempDir()
        let p = tmp.write("suspicious_countries.txt", "KP\nIR\nUK\nZZ\n")
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.first?.file, p)
        XCTAssertEqual(errs.first?.line, 3)
        XCTAssertTrue(errs.first?.reason.contains("did you mean GB") ?? false, "\(errs)")
    }

    func testUnreadableAndCorruptMMDB() {
        let tmp = TempDir()
        tmp.write("context.conf", "[context x]\ngeo_databases = geo/missing.mmdb\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("not found") ?? false)
        tmp.write("geo/bad.mmdb", "garbage")
        tmp.write("context.conf", "[context x]\ngeo_databases = geo/bad.mmdb\n")
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.first?.file, tmp.path + "/geo/bad.mmdb")
        XCTAssertTrue(errs.first?.reason.contains("MaxMind DB") ?? false, "\(errs)")
    }

    func testBadConfigAndUnknownFiles() {
        let tmp = TempDir()
        tmp.write("context.conf", "[context x]\ndefault_peergroup = sales\n")
        let e1 = loadErrors(tmp.path)
        XCTAssertEqual(e1.first?.line, 2)
        XCTAssertTrue(e1.first?.reason.contains("unknown key 'default_peergroup'") ?? false)
        tmp.write("context.conf", "[context x]\nreplace_defaults = webmail, emoji\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("unknown list 'emoji'") ?? false)
        tmp.write("context.conf", "[context x]\nkeyword_fields money = email_subject\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("unknown list 'money'") ?? false)
        tmp.write("context.conf", "[context x]\n")
        tmp.write("user.csv", "user\nalice@acme.com\n")  // typo of users.csv
        XCTAssertTrue(loadErrors(tmp.path).first?.reason.contains("unknown context file") ?? false)
        try? FileManager.default.removeItem(atPath: tmp.path + "/user.csv")
        tmp.write("keywords/finance.txt", "invoice\n")
        XCTAssertTrue(loadErrors(tmp.path).first?.file.hasSuffix("keywords/finance.txt") ?? false)
    }

    func testAllErrorsReportedTogether() {
        let tmp = TempDir()
        tmp.write("network_zones.txt", "10.0.0.0/99 x\n")
        tmp.write("suspicious_countries.txt", "XX\n")
        tmp.write("competitor_domains.txt", "bob@globex.com\n")
        let errs = loadErrors(tmp.path)
        XCTAssertEqual(errs.count, 3, "\(errs)")
    }

    func testReloadSwapsSnapshot() throws {
        let tmp = TempDir()
        tmp.write("users.csv", "user,department\nalice@acme.com,Finance\n")
        let store = try ContextStore(directory: tmp.path, lists: Paths.lists)
        let enricher = Enricher(store: store)
        var e = Event(parser: "t", activityType: .appLogin, timeMillis: ms("2024-05-01T10:00:00Z"))
        e[Fields.user] = .string("bob@acme.com")
        var e1 = e
        enricher.enrich(&e1)
        XCTAssertEqual(e1.bool("user_known"), false)

        tmp.write("users.csv", "user,department\nalice@acme.com,Finance\nbob@acme.com,Engineering\n")
        let g = store.generation
        try store.reload()
        XCTAssertEqual(store.generation, g + 1)
        var e2 = e
        enricher.enrich(&e2)
        XCTAssertEqual(e2.bool("user_known"), true)
        XCTAssertEqual(e2.text("peer_group"), "Engineering")
        XCTAssertEqual(enricher.stats.reloadsSeen, 1)

        // A broken file: reload fails, the old snapshot stays in service.
        tmp.write("users.csv", "user,department\nbob@acme.com,Engineering\nbob@acme.com,Sales\n")
        XCTAssertThrowsError(try store.reload())
        XCTAssertEqual(store.current.users.count, 2)
        var e3 = e
        enricher.enrich(&e3)
        XCTAssertEqual(e3.text("peer_group"), "Engineering")
    }

    /// Workers keep enriching on their own threads while the store reloads; each sees whole snapshots.
    func testConcurrentReload() throws {
        let tmp = TempDir()
        tmp.write("users.csv", "user,department\nalice@acme.com,G0\n")
        let store = try ContextStore(directory: tmp.path, lists: nil)
        let done = Atomic<Bool>(false)
        let bad = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                let en = Enricher(store: store)
                var n = 0
                while !done.load(ordering: .relaxed) || n < 1000 {
                    var e = Event(parser: "t", activityType: .appLogin, timeMillis: 0)
                    e[Fields.user] = .string("alice@acme.com")
                    en.enrich(&e)
                    if !(e.text("peer_group")?.hasPrefix("G") ?? false) { bad.add(1, ordering: .relaxed) }
                    n += 1
                }
            }
        }
        for g in 1...20 {
            tmp.write("users.csv", "user,department\nalice@acme.com,G\(g)\n")
            try store.reload()
        }
        done.store(true, ordering: .relaxed)
        group.wait()
        XCTAssertEqual(bad.load(ordering: .relaxed), 0)
        XCTAssertEqual(store.generation, 20)
        XCTAssertEqual(store.current.users.lookup("alice@acme.com")?.peerGroup, "G20")
    }
}

final class ContextQueryTests: XCTestCase {
    func testListsAndAttributes() throws {
        let ctx = try Context.load(directory: Paths.example, lists: Paths.lists)
        XCTAssertEqual(ctx.match(list: "tor", value: "185.220.101.9"), "185.220.101.0/24")
        XCTAssertNil(ctx.match(list: "tor", value: "8.8.8.8"))
        XCTAssertNil(ctx.match(list: "tor", value: "not an ip"))
        XCTAssertEqual(ctx.match(list: "network_zones", value: "10.20.0.1"), "datacenter")
        XCTAssertEqual(ctx.match(list: "company_domains", value: "eu.acme.com"), "acme.com")
        XCTAssertEqual(ctx.match(list: "company_domains", value: "Bob <bob@ACME.com>"), "acme.com")
        XCTAssertEqual(ctx.match(list: "webmail_domains", value: "someone@gmail.com"), "gmail.com")
        XCTAssertNil(ctx.match(list: "webmail_domains", value: "mailinator.com"))  // disposable wins
        XCTAssertEqual(ctx.match(list: "disposable_domains", value: "mailinator.com"), "mailinator.com")
        XCTAssertEqual(ctx.match(list: "competitor_domains", value: "initech.co.uk"), "initech.*")
        XCTAssertEqual(ctx.match(list: "suspicious_countries", value: "kp"), "KP")
        XCTAssertEqual(ctx.match(list: "executives", value: "asmith"), "alice@acme.com")
        XCTAssertNil(ctx.match(list: "executives", value: "bob@acme.com"))
        XCTAssertEqual(ctx.match(list: "privileged_users", value: "BOB@acme.com"), "bob@acme.com")
        XCTAssertEqual(ctx.match(list: "service_accounts", value: "svc-backup@acme.com"), "svc-backup@acme.com")
        XCTAssertEqual(ctx.match(list: "deactivated_users", value: "bob@acme.com"), "bob@acme.com")
        XCTAssertEqual(ctx.match(list: "source_code_extensions", value: ".PY"), "py")
        XCTAssertNil(ctx.match(list: "no_such_list", value: "x"))
        XCTAssertTrue(Context.listNames.contains("executives"))

        let may = ms("2024-05-01T00:00:00Z"), jan = ms("2024-01-01T00:00:00Z")
        XCTAssertEqual(ctx.attribute("executive", of: "Alice <A.Smith@acme.com>", at: may), "true")
        XCTAssertEqual(ctx.attribute("personal_email", of: "alice@acme.com", at: may), "alice.smith1980@gmail.com")
        XCTAssertEqual(ctx.attribute("department", of: "alice@acme.com", at: may), "Finance")
        XCTAssertEqual(ctx.attribute("peer_group", of: "bob@acme.com", at: may), "Engineering")
        XCTAssertEqual(ctx.attribute("deactivated", of: "bob@acme.com", at: may), "true")
        XCTAssertEqual(ctx.attribute("deactivated", of: "bob@acme.com", at: jan), "false")
        XCTAssertEqual(ctx.attribute("known", of: "mallory@acme.com", at: may), "false")
        XCTAssertNil(ctx.attribute("executive", of: "mallory@acme.com", at: may))
        XCTAssertNil(ctx.attribute("title", of: "svc-backup@acme.com", at: may))
    }

    // MARK: strict directory

    func testMisnamedFilesAndFoldersAreErrorsWithDidYouMean() {
        let cases: [(String, String, String)] = [
            ("keyword/financial.txt", "/keyword", "did you mean keywords/?"),
            ("TI/tor.txt", "/TI", "did you mean ti/?"),
            ("users.CSV", "/users.CSV", "did you mean users.csv?"),
            ("network_zones.txt.bak", "/network_zones.txt.bak", "did you mean network_zones.txt?"),
            ("ti/Tor.txt", "/ti/Tor.txt", "did you mean ti/tor.txt?"),
            ("keywords/finacial.txt", "/keywords/finacial.txt", "did you mean keywords/financial.txt?"),
            ("tor.txt", "/tor.txt", "did you mean ti/tor.txt?"),
        ]
        for (name, file, hint) in cases {
            let tmp = TempDir()
            tmp.write(name, "10.0.0.1\n")
            let errs = loadErrors(tmp.path)
            XCTAssertEqual(errs.count, 1, "\(name): \(errs)")
            XCTAssertEqual(errs.first?.file, tmp.path + file, name)
            XCTAssertTrue(errs.first?.reason.contains(hint) ?? false, "\(name): \(errs)")
        }
        // An unrelated name: an error without a guess.
        let tmp = TempDir()
        tmp.write("x.txt.bak", "a\n")
        let errs = loadErrors(tmp.path)
        XCTAssertTrue(errs.first?.reason.hasPrefix("unknown context file") ?? false, "\(errs)")
        // READMEs, hidden files and geo/ are allowed.
        let ok = TempDir()
        ok.write("README.md", "notes\n"); ok.write(".keep", ""); ok.write("geo/anything.bin", "x")
        ok.write("ti/README", "notes\n")
        XCTAssertNoThrow(try Context.load(directory: ok.path, lists: nil))
    }

    func testControlBytesInCSVFieldsAreRejectedWithFileAndLine() {
        for (bytes, code) in [([UInt8](0x00...0x00), "0x00"), ([0x1B], "0x1B"), ([0x7F], "0x7F")] {
            let tmp = TempDir()
            let p = tmp.writeBytes("users.csv", Array("user,display_name\nalice@acme.com,Alice\nbob@acme.com,Bo".utf8) + bytes + Array("b\n".utf8))
            let errs = loadErrors(tmp.path)
            XCTAssertEqual(errs.first?.file, p)
            XCTAssertEqual(errs.first?.line, 3)
            XCTAssertTrue(errs.first?.reason.contains("control byte \(code)") ?? false, "\(errs)")
        }
        // Tabs, CRLF and newlines inside quotes stay legal.
        let tmp = TempDir()
        tmp.write("users.csv", "user,display_name\r\nalice@acme.com,\"Alice\tA\nSmith\"\r\n")
        XCTAssertNoThrow(try Context.load(directory: tmp.path, lists: nil))
    }
}
