import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// The expression language on its own, content loading errors, and the listings.
final class ExpressionTests: XCTestCase {
    /// Compiles `expr` as the condition of a one-rule content set and evaluates it on `event`.
    func eval(_ expr: String, _ fields: [String: Value] = [:], type: ActivityType = .appActivity,
              provider: AnalyticsContextProvider = EmptyContextProvider()) throws -> (ExprValue, [EvidenceMatch]) {
        let text = """
        [list kw]
        match = keyword
        entries = invoice, wire transfer
        [list codes]
        entries = py, swift
        [macro is_big]
        expr = bytes > 1MB
        [rule T]
        name = t
        activity_types = \(type.rawValue)
        mitre = T1078 Valid Accounts
        use_cases = Test
        kind = fact
        condition = \(expr)
        score = 1
        reason = r
        """
        let content = try AnalyticsContent.load(texts: [("test.rules", text)], fields: try Support.fields())
        let engine = AnalyticsEngine(content: content, context: provider)
        var e = Event(parser: "t", activityType: type, timeMillis: 1_711_929_600_000)
        e[Fields.user] = .string("sam@corp.com")
        for (k, v) in fields { e[k] = v }
        let ctx = engine.state.ctx!
        ctx.event = e
        ctx.nextGeneration()
        ctx.matches.removeAll()
        let v = content.rules[0].condition!(ctx)
        return (v, ctx.matches)
    }

    func truth(_ expr: String, _ fields: [String: Value] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> Bool {
        try eval(expr, fields).0.truthy
    }

    func testComparisonsAndLogic() throws {
        let f: [String: Value] = ["src_country": .string("GB"), "bytes": .int(2_000_000), "app": .string("Admin Console"),
                                  "email_recipients": .list(["a@x.com", "B@Y.com"])]
        XCTAssertTrue(try truth(#"src_country == "gb""#, f), "text comparison ignores ASCII case")
        XCTAssertTrue(try truth(#"src_country != "FR""#, f))
        XCTAssertFalse(try truth(#"dest_country != "FR""#, f), "any comparison with a missing field is false")
        XCTAssertTrue(try truth(#"not (dest_country == "FR")"#, f))
        XCTAssertTrue(try truth(#"bytes > 1MB and bytes <= 2_000_000"#, f))
        XCTAssertTrue(try truth(#"bytes / 1000 == 2000"#, f))
        XCTAssertTrue(try truth(#"src_country in ["FR", "GB"]"#, f))
        XCTAssertTrue(try truth(#"src_country not in ["FR", "DE"]"#, f))
        XCTAssertTrue(try truth(#"email_recipients contains "b@y""#, f), "lists: any element")
        XCTAssertTrue(try truth(#"app startsWith "admin" and app endsWith "CONSOLE""#, f))
        XCTAssertTrue(try truth(#"(src_country == "FR" or bytes > 1) and true"#, f))
        XCTAssertTrue(try truth(#"src_country == "FR" || !(bytes < 5) && exists(app)"#, f))
        XCTAssertTrue(try truth(#"is_big()"#, f), "macros")
        XCTAssertTrue(try truth(#"count(email_recipients) == 2 and len(app) == 13"#, f))
        XCTAssertTrue(try truth(#"activity_type == "app-activity""#, f))
    }

    func testFunctions() throws {
        let f: [String: Value] = ["dest_email_address": .string("John Smith <John.Smith@Mail.Example.DE>"),
                                  "email_subject": .string("RE: Fwd:  Q3   Plan"),
                                  "email_attachments": .list(["a.PY", "b.pdf", "noext"]),
                                  "user_agent": .string(uaMacSafari),
                                  "additional_info": .string("Granted access on mailbox ceo@corp.com to bob@corp.com")]
        XCTAssertEqual(try eval(#"domain(dest_email_address)"#, f).0, .str("mail.example.de"))
        XCTAssertEqual(try eval(#"localpart(dest_email_address)"#, f).0, .str("john.smith"))
        XCTAssertEqual(try eval(#"tld_country(domain(dest_email_address))"#, f).0, .str("DE"))
        XCTAssertEqual(try eval(#"subject_key(email_subject)"#, f).0, .str("q3 plan"))
        XCTAssertEqual(try eval(#"is_reply_or_forward(email_subject)"#, f).0, .bool(true))
        for (subject, reply) in [(" [EXT] RE: x", false), ("\t[FW: x", true), ("  enc:x", true), ("Re", false),
                                 ("", false), ("Report: fw: x", false), ("SV:", true), ("ré: x", false)] {
            XCTAssertEqual(TextHelpers.hasReplyPrefix(subject), reply, subject)
        }
        XCTAssertEqual(try eval(#"ext(email_attachments)"#, f).0, .list(["py", "pdf"]))
        XCTAssertEqual(try eval(#"ua_family(user_agent)"#, f).0, .str("macOS/Safari"))
        XCTAssertEqual(try eval(#"coalesce(dest_country, "none")"#, f).0, .str("none"))
        XCTAssertEqual(try eval(#"concat("a", 1, "b")"#, f).0, .str("a1b"))
        XCTAssertEqual(try eval(#"round(10 / 3, 2)"#, f).0, .num(3.33))
        XCTAssertEqual(try eval(#"extract(additional_info, "mailbox (?<v>\S+@\S+)")"#, f).0, .str("ceo@corp.com"))
        XCTAssertEqual(try eval(#"name_match("john.smith", "smith_john84")"#, f).0, .bool(true))
        XCTAssertEqual(try eval(#"name_match("jo", "jo")"#, f).0, .bool(false))
        // Containment counts only where a name token starts: another person with the same surname
        // (`m.brown91` inside `lia|mbrown`) is not the user; a suffix on the user's own name is.
        XCTAssertEqual(try eval(#"name_match("liam.brown82", "m.brown91")"#, f).0, .bool(false))
        XCTAssertEqual(try eval(#"name_match("liam.brown", "liambrownhome")"#, f).0, .bool(true))
        XCTAssertEqual(try eval(#"name_match("liam.brown", "the.liambrown")"#, f).0, .bool(true))
        XCTAssertEqual(try eval(#"name_match("sam.jones", "adamjones")"#, f).0, .bool(false))
        XCTAssertEqual(try eval(#"hour_of_week()"#, f).0, .num(24), "2024-04-01 00:00 UTC is Monday: hour 24 of the week")
    }

    func testRegexListsAndAttributesRecordEvidence() throws {
        let f: [String: Value] = ["email_subject": .string("Unpaid INVOICE 42"), "file_ext": .string("py"),
                                  "src_ip": .string("10.1.2.3"), "user_agent": .string("x ${jndi:ldap://e/a} y")]
        var (v, m) = try eval(#"email_subject =~ "(?i)invoice \d+""#, f)
        XCTAssertEqual(v, .bool(true))
        XCTAssertEqual(m.first?.entry, "INVOICE 42")
        XCTAssertEqual(m.first?.kind, "pattern")
        (v, m) = try eval(#"has_keyword("kw", email_subject)"#, f)
        XCTAssertEqual(v, .bool(true))
        XCTAssertEqual(m.first, EvidenceMatch(kind: "keyword", name: "kw", entry: "invoice", input: "email_subject"))
        (v, m) = try eval(#"in_list("codes", file_ext)"#, f)
        XCTAssertEqual(m.first?.entry, "py")
        (v, m) = try eval(#"not in_list("codes", "rb")"#, f)
        XCTAssertEqual(v, .bool(true))
        XCTAssertTrue(m.isEmpty)
        (v, m) = try eval(#"not has_keyword("kw", email_subject)"#, f)
        XCTAssertEqual(v, .bool(false))
        XCTAssertTrue(m.isEmpty, "matches inside a negation are not evidence")
        let p = StaticContextProvider()
        p.setList("tor", mode: .cidr, entries: ["10.0.0.0/8"])
        p.setAttribute("executive", of: "sam@corp.com", to: "true")
        (v, m) = try eval(#"in_list("tor", src_ip) and attr("executive", user) == "true""#, f, provider: p)
        XCTAssertEqual(v, .bool(true))
        XCTAssertEqual(m.map(\.entry), ["10.0.0.0/8", "true"])
        (v, m) = try eval(#"event_matches("\$\{jndi:[a-z]+://")"#, f)
        XCTAssertEqual(m.first?.input, "user_agent")
        XCTAssertEqual(m.first?.entry, "${jndi:ldap://")
    }

    func testMatchListModes() throws {
        XCTAssertEqual(MatchList(name: "d", mode: .domain, entries: ["example.com"]).match("mail.EXAMPLE.com"), "example.com")
        XCTAssertNil(MatchList(name: "d", mode: .domain, entries: ["example.com"]).match("badexample.com"))
        // Domain lists follow the enrichment's rule (DomainSet): entries as written come back, `@`/trailing
        // dots are normalized, globs stay inside a label, `stem.*` spans a public suffix.
        let globs = MatchList(name: "d", mode: .domain, entries: ["@Corp.example.", "*.att.ne.jp", "yahoo.*"])
        XCTAssertEqual(globs.match("mail.corp.example"), "@Corp.example.")
        XCTAssertEqual(globs.match("docomo.att.ne.jp"), "*.att.ne.jp")
        XCTAssertNil(globs.match("a.b.att.ne.jp.evil.example"))
        XCTAssertEqual(globs.match("yahoo.com"), "yahoo.*")
        XCTAssertNil(globs.match("yahoo.co.uk"), "without a PSL a public suffix is one label")
        let psl = try PublicSuffixList(text: "com\nco.uk\n", file: "test")
        XCTAssertEqual(MatchList(name: "d", mode: .domain, entries: ["yahoo.*"], psl: psl).match("yahoo.co.uk"), "yahoo.*")
        XCTAssertEqual(MatchList(name: "c", mode: .cidr, entries: ["2001:db8::1"]).match("2001:DB8:0::1"), "2001:db8::1")
        XCTAssertEqual(MatchList(name: "c", mode: .cidr, entries: ["192.168.0.0/16", "10.1.1.1"]).match("192.168.7.9"), "192.168.0.0/16")
        XCTAssertEqual(MatchList(name: "c", mode: .cidr, entries: ["192.168.0.0/16", "10.1.1.1"]).match("10.1.1.1"), "10.1.1.1")
        XCTAssertNil(MatchList(name: "c", mode: .cidr, entries: ["192.168.0.0/16"]).match("192.169.0.1"))
        // The context's address rules: IPv6 CIDRs, `first-last` ranges, the most specific entry first.
        let v6 = MatchList(name: "c", mode: .cidr, entries: ["2001:db8::/32", "2001:db8:1::/48", "10.0.0.5-10.0.0.9"])
        XCTAssertEqual(v6.match("2001:db8:1::7"), "2001:db8:1::/48")
        XCTAssertEqual(v6.match("2001:DB8:2::7"), "2001:db8::/32")
        XCTAssertNil(v6.match("2001:db9::1"))
        XCTAssertEqual(v6.match("10.0.0.7"), "10.0.0.5-10.0.0.9")
        XCTAssertNil(v6.match("10.0.0.10"))
        XCTAssertNil(v6.match("not an address"))
        XCTAssertEqual(MatchList(name: "k", mode: .keyword, entries: ["Wire Transfer"]).match("urgent WIRE TRANSFER now"), "Wire Transfer")
        XCTAssertEqual(MatchList(name: "e", mode: .exact, entries: ["KP"]).match("kp"), "KP")
    }

    // MARK: errors point at file, line and column

    func loadError(_ text: String) -> ContentError? {
        do { _ = try AnalyticsContent.load(texts: [("bad.rules", text)], fields: try Support.fields()); return nil } catch let e as ContentError { return e } catch { return nil }
    }

    func rule(_ condition: String) -> String {
        """
        [rule X]
        name = x
        activity_types = app-login
        mitre = T1078 Valid Accounts
        use_cases = Test
        kind = fact
        condition = \(condition)
        score = 10
        reason = r
        """
    }

    func testExpressionErrorsPointAtLineAndColumn() throws {
        var e = try XCTUnwrap(loadError(rule(#"src_country == "FR" and"#)))
        XCTAssertEqual(e.file, "bad.rules")
        XCTAssertEqual(e.line, 7)
        XCTAssertEqual(e.column, 13 + 23)
        XCTAssertTrue(e.reason.contains("expected a value"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"src_contry == "FR""#)))
        XCTAssertEqual(e.column, 13)
        XCTAssertTrue(e.reason.contains("unknown field 'src_contry'"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"exists(app) and nope(app)"#)))
        XCTAssertEqual(e.column, 13 + 16)
        XCTAssertTrue(e.reason.contains("unknown function 'nope()'"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"app =~ "([a-z""#)))
        XCTAssertEqual(e.column, 13 + 7)
        XCTAssertTrue(e.reason.contains("bad regex"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"in_list("nosuchlist", app)"#)))
        XCTAssertTrue(e.reason.contains("unknown list 'nosuchlist'"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"model_count("NOPE") > 1"#)))
        XCTAssertTrue(e.reason.contains("unknown model 'NOPE'"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"app == "unterminated"#)))
        XCTAssertTrue(e.reason.contains("unterminated string"), e.reason)
        e = try XCTUnwrap(loadError(rule(#"bytes > 5XB"#)))
        XCTAssertTrue(e.reason.contains("unknown unit 'XB'"), e.reason)
        XCTAssertEqual(e.description, "bad.rules:7:22: unknown unit 'XB' (known: B, KB, MB, GB, s, m, h, d)")
    }

    func testContentErrors() throws {
        var e = try XCTUnwrap(loadError(rule("true").replacingOccurrences(of: "kind = fact", with: "kind = sometimes")))
        XCTAssertEqual(e.line, 6)
        XCTAssertTrue(e.reason.contains("unknown rule kind 'sometimes'"), e.reason)
        e = try XCTUnwrap(loadError(rule("true").replacingOccurrences(of: "app-login", with: "app-logon")))
        XCTAssertTrue(e.reason.contains("unknown activity type 'app-logon'"), e.reason)
        e = try XCTUnwrap(loadError(rule("true") + "\nthreshhold = 0.2"))
        XCTAssertTrue(e.reason.contains("unknown key 'threshhold'"), e.reason)
        e = try XCTUnwrap(loadError(rule("true").replacingOccurrences(of: "T1078 Valid Accounts", with: "Valid Accounts")))
        XCTAssertTrue(e.reason.contains("must be 'T#### Name'") || e.reason.contains("bad ATT&CK"), e.reason)
        e = try XCTUnwrap(loadError(rule("true").replacingOccurrences(of: "kind = fact", with: "kind = first")))
        XCTAssertTrue(e.reason.contains("needs 'model'"), e.reason)
        e = try XCTUnwrap(loadError(rule("true").replacingOccurrences(of: "reason = r", with: "reason = at {src_ip")))
        XCTAssertTrue(e.reason.contains("unclosed '{'"), e.reason)
        e = try XCTUnwrap(loadError(rule("true") + "\n" + rule("true")))
        XCTAssertTrue(e.reason.contains("defined twice"), e.reason)
        e = try XCTUnwrap(loadError("[model M]\nname = m\nactivity_types = app-login\nuse_cases = x\nkind = numeric\nscope = user\nfeature = bytes\n"
                                    + rule("true").replacingOccurrences(of: "kind = fact", with: "kind = first\nmodel = M")))
        XCTAssertTrue(e.reason.contains("cannot judge numeric model M"), e.reason)
        e = try XCTUnwrap(loadError("[macro loop]\nexpr = loop()\n" + rule("loop()")))
        XCTAssertTrue(e.reason.contains("refers to itself"), e.reason)
    }

    // MARK: listings

    func testListingsAndNavigatorLayer() throws {
        let content = try Support.content()
        let rules = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(content.contentRulesListing(json: true).utf8)) as? [[String: Any]])
        XCTAssertEqual(rules.count, content.rules.count)
        XCTAssertEqual(rules.filter { !($0["id"] as! String).hasPrefix("OSP-") }.count, 105)
        for k in ["id", "name", "activity_types", "mitre", "use_cases", "kind", "model", "score"] { XCTAssertNotNil(rules[0][k], k) }
        let models = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(content.contentModelsListing(json: true).utf8)) as? [[String: Any]])
        XCTAssertEqual(models.filter { !($0["id"] as! String).hasPrefix("OSP-") }.count, 43)
        XCTAssertTrue(content.contentRulesListing(json: false).hasSuffix("\(content.rules.count) rules\n"))
        XCTAssertTrue(content.contentModelsListing(json: false).contains("UA-UC "))
        let layer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(content.mitreNavigatorLayer().utf8)) as? [String: Any])
        XCTAssertEqual(layer["domain"] as? String, "enterprise-attack")
        let techniques = try XCTUnwrap(layer["techniques"] as? [[String: Any]])
        // Parents of sub-techniques are listed (and expanded) beside the techniques the rules name.
        XCTAssertEqual(techniques.map { $0["techniqueID"] as! String },
                       ["T1048", "T1048.003", "T1078", "T1090", "T1090.003", "T1098", "T1098.002", "T1110", "T1114", "T1114.003", "T1133", "T1190", "T1204", "T1204.001"])
        let subs = techniques.filter { ($0["techniqueID"] as! String).contains(".") }
        let named = techniques.filter { t in content.rules.contains { $0.mitre.contains { $0.id == t["techniqueID"] as! String } } }
        XCTAssertEqual(named.map { $0["score"] as! Int }.reduce(0, +), content.rules.map(\.mitre.count).reduce(0, +))
        XCTAssertEqual(techniques.first { $0["techniqueID"] as? String == "T1098" }?["showSubtechniques"] as? Bool, true)
        XCTAssertTrue(subs.allSatisfy { $0["showSubtechniques"] as? Bool == false })
        XCTAssertEqual((layer["layout"] as? [String: Any])?["expandedSubtechniques"] as? String, "annotated")
        XCTAssertEqual((layer["versions"] as? [String: Any])?["attack"] as? String, content.attack.version)
    }

    // MARK: ATT&CK names

    func testTechniqueNamesComeFromTheAttackTable() throws {
        let content = try Support.content()
        let names = Dictionary(content.rules.flatMap(\.mitre).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(names["T1190"], "Exploit Public-Facing Application")
        XCTAssertEqual(names["T1098.002"], "Account Manipulation: Additional Email Delegate Permissions")
        XCTAssertEqual(names["T1048.003"], "Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted Non-C2 Protocol")
        XCTAssertFalse(content.mitreNavigatorLayer().contains("Fasing"))
        // The seed's text stays what the rule wrote.
        XCTAssertEqual(content.rule("A-APP-Log4j-String")?.mitre.first?.writtenName, "Exploit Public Fasing Application")
    }

    func testUnknownTechniqueOrNameIsAContentError() throws {
        let table = """
        [technique T1078]
        name = Valid Accounts
        """
        func rule(_ mitre: String) -> String {
            """
            [rule R1]
            name = r
            activity_types = app-login
            mitre = \(mitre)
            use_cases = Account Takeover
            kind = fact
            condition = true
            score = 10
            reason = r
            """
        }
        XCTAssertNoThrow(try AnalyticsContent.load(texts: [("a.conf", table), ("r.rules", rule("T1078 Valid Accounts"))], fields: try Support.fields()))
        XCTAssertThrowsError(try AnalyticsContent.load(texts: [("a.conf", table), ("r.rules", rule("T1078 Valid Acounts"))], fields: try Support.fields())) { e in
            XCTAssertTrue("\(e)".contains("r.rules:4"), "\(e)")
            XCTAssertTrue("\(e)".contains("not the ATT&CK name of T1078"), "\(e)")
        }
        XCTAssertThrowsError(try AnalyticsContent.load(texts: [("a.conf", table), ("r.rules", rule("T1566 Phishing"))], fields: try Support.fields())) { e in
            XCTAssertTrue("\(e)".contains("T1566 is not in the technique table"), "\(e)")
        }
    }
}
