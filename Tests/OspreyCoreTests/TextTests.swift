import XCTest
import OspreyCore

/// The one text module every stage uses: addresses and domains, file extensions, ccTLD countries, IPv4.
final class TextTests: XCTestCase {
    func testDomainOfAnAddress() {
        let cases: [(String, String?)] = [
            ("alice@corp.com", "corp.com"),
            ("Alice@Corp.COM", "corp.com"),                    // uppercase
            ("Alice Smith <alice@Corp.com>", "corp.com"),      // display name and angle brackets
            ("<a@b>", "b"),
            ("a@b.com>>", "b.com"),
            ("\"alice@corp.com\"", "corp.com"),                // quoted address
            ("'alice@corp.com'", "corp.com"),
            ("\"a@b\"@example.org", "example.org"),            // quoted local part holding '@': the last '@' counts
            ("alice@example.com.", "example.com"),             // trailing dot of an absolute name
            ("alice@example.com. ", "example.com"),
            ("alice@ example.com", "example.com"),
            ("bob@xn--bcher-kva.example", "xn--bcher-kva.example"), // punycode passes through
            ("bob@BÜCHER.de", "bücher.de"),                    // Unicode lowercased
            ("no-at-sign.example.com", nil),
            ("alice@", nil),
            ("alice@>", nil),
            ("alice@.", nil),
            ("", nil),
        ]
        for (input, expected) in cases { XCTAssertEqual(Addresses.domain(of: input), expected, input) }
    }

    func testNormalizedDomain() {
        XCTAssertEqual(Addresses.normalizedDomain("Example.COM."), "example.com")
        XCTAssertEqual(Addresses.normalizedDomain(" mail.example.co.uk "), "mail.example.co.uk")
        XCTAssertNil(Addresses.normalizedDomain(" . "))
    }

    func testFileExtension() {
        let cases: [(String, String?)] = [
            ("report.pdf", "pdf"),
            ("Report.Q3.XLSX", "xlsx"),
            ("file.tar.gz", "gz"),
            (".bashrc", nil),                 // a hidden file without an extension
            ("dir/.profile", nil),
            ("C:\\Users\\a\\.gitconfig", nil),
            ("README", nil),                  // no extension
            ("trailing.", nil),
            ("dir.v2/README", nil),           // the dot is in a directory name
            ("C:\\dir.old\\notes", nil),
            ("\"invoice.PDF\"", "pdf"),       // quoted in a list
            ("invoice.pdf ", "pdf"),
            ("a.b c", nil),                   // not letters and digits
            ("notes.2024-01", nil),
            ("archive.verylongextension", nil), // over 10 bytes
            ("photo.jpeg2000", "jpeg2000"),
            ("main.py", "py"),
            ("", nil),
        ]
        for (input, expected) in cases { XCTAssertEqual(FileNames.fileExtension(input), expected, input) }
    }

    func testCountryOfADomain() {
        let generic = Countries.defaultGenericCcTLDs
        XCTAssertEqual(Countries.country(ofDomain: "mail.example.de", generic: generic), "DE")
        XCTAssertEqual(Countries.country(ofDomain: "example.co.uk", generic: generic), "GB")   // uk → GB
        XCTAssertEqual(Countries.country(ofDomain: "EXAMPLE.FR.", generic: generic), "FR")     // case, trailing dot
        XCTAssertEqual(Countries.country(ofDomain: "europa.eu", generic: generic), "EU")
        XCTAssertNil(Countries.country(ofDomain: "startup.io", generic: generic))              // vanity ccTLD
        XCTAssertEqual(Countries.country(ofDomain: "startup.io", generic: []), "IO")           // unless configured otherwise
        XCTAssertNil(Countries.country(ofDomain: "example.com", generic: generic))             // generic TLD
        XCTAssertNil(Countries.country(ofDomain: "example.zz", generic: generic))              // not an assigned code
        XCTAssertNil(Countries.country(ofDomain: "localhost", generic: generic))
    }

    func testIPv4() {
        XCTAssertEqual(IPv4.parse("10.1.2.3"), 0x0A01_0203)
        XCTAssertEqual(IPv4.parse("0.0.0.0"), 0)
        XCTAssertEqual(IPv4.parse("255.255.255.255"), 0xFFFF_FFFF)
        XCTAssertNil(IPv4.parse("256.1.1.1"))          // out of range
        XCTAssertNil(IPv4.parse("1.2.3.999"))
        XCTAssertNil(IPv4.parse("1.2.3.1000"))
        XCTAssertNil(IPv4.parse("010.1.1.1"))          // leading zero: octal to some parsers, decimal to others
        XCTAssertNil(IPv4.parse("1.2.3.04"))
        XCTAssertNil(IPv4.parse("1.2.3"))
        XCTAssertNil(IPv4.parse("1.2.3.4.5"))
        XCTAssertNil(IPv4.parse("1..3.4"))
        XCTAssertNil(IPv4.parse("1.2.3.4."))
        XCTAssertNil(IPv4.parse("a.b.c.d"))
        XCTAssertNil(IPv4.parse(" 1.2.3.4"))
        XCTAssertNil(IPv4.parse(""))
        var s = "x1.2.3.4y"
        s.withUTF8 { b in
            let raw = UnsafeRawBufferPointer(b)
            XCTAssertEqual(IPv4.parse(raw, 1, 8), 0x0102_0304)
            XCTAssertNil(IPv4.parse(raw, 1, 20))        // a range past the buffer is refused, not read
            XCTAssertNil(IPv4.parse(raw, 5, 2))
        }
    }
}

/// `Bytes.find` (the parse engine's condition search) against a naive search: every needle length, every
/// offset near the vector-step and line ends, needles present once, several times, partly, and absent.
final class ByteSearchTests: XCTestCase {
    func naive(_ n: [UInt8], _ h: [UInt8], from: Int) -> Int? {
        guard !n.isEmpty else { return from }
        guard h.count >= n.count else { return nil }
        var i = from
        while i + n.count <= h.count {
            if Array(h[i..<(i + n.count)]) == n { return i }
            i += 1
        }
        return nil
    }

    func testFindMatchesNaiveSearch() {
        var rng = SplitMix64(state: 7)
        let alphabet: [UInt8] = Array("ab\"=|".utf8)
        for _ in 0..<8000 {
            let hl = Int(rng.next() % 200)   // past several 32-byte (AVX2) and 16-byte (SSE2) steps
            var h = (0..<hl).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let nl = 1 + Int(rng.next() % 12)
            var n = (0..<nl).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            if rng.next() % 2 == 0, hl >= nl {               // plant it at a random place (often the very end)
                let at = rng.next() % 3 == 0 ? hl - nl : Int(rng.next() % UInt64(hl - nl + 1))
                h.replaceSubrange(at..<(at + nl), with: n)
            }
            if rng.next() % 5 == 0 { n[n.count - 1] = 0x7A } // a last byte the haystack never has
            let from = hl == 0 ? 0 : Int(rng.next() % UInt64(hl + 1))
            let got = h.withUnsafeBytes { hb in n.withUnsafeBytes { nb in Bytes.find(nb, in: hb, from: from) } }
            XCTAssertEqual(got, naive(n, h, from: from), "needle \(n) in \(h) from \(from)")
        }
    }
}

/// The case-insensitive comparisons of the activity table and list rules: ASCII folding only, `lowered` given
/// in lowercase, the empty needle found everywhere.
final class CaseFoldingTests: XCTestCase {
    func testEqualsAndContainsIgnoringASCIICase() {
        XCTAssertTrue(ASCII.equalsIgnoringCase("Outbound", lowered: "outbound"))
        XCTAssertTrue(ASCII.equalsIgnoringCase("", lowered: ""))
        XCTAssertFalse(ASCII.equalsIgnoringCase("Outbound", lowered: "outboun"))
        XCTAssertFalse(ASCII.equalsIgnoringCase("Outbound", lowered: "Outbound"), "lowered must be lowercase")
        XCTAssertFalse(ASCII.equalsIgnoringCase("ÉTÉ", lowered: "été"), "only ASCII folds")
        XCTAssertTrue(ASCII.equalsIgnoringCase(String("xxINBOUNDxx".dropFirst(2).dropLast(2)), lowered: "inbound"))
        XCTAssertTrue(ASCII.containsIgnoringCase("Hold for Review", lowered: "hold"))
        XCTAssertTrue(ASCII.containsIgnoringCase("message HELD", lowered: "held"))
        XCTAssertTrue(ASCII.containsIgnoringCase("abc", lowered: ""))
        XCTAssertFalse(ASCII.containsIgnoringCase("he", lowered: "held"))
        XCTAssertFalse(ASCII.containsIgnoringCase("hel d", lowered: "held"))
        XCTAssertTrue(ASCII.containsIgnoringCase("Ünïcode Hold", lowered: "hold"))
    }

    /// Identities are lowercased by Unicode rules whenever they hold non-ASCII text, so `Élodie@…` and
    /// `élodie@…` are one person (an uppercase letter outside ASCII alone used to leave the text as it was).
    func testLowercasedIdentities() {
        XCTAssertEqual(ASCII.lowercased("Élodie@Example.com"), "élodie@example.com")
        XCTAssertEqual(ASCII.lowercased("Élodie@example.com"), "élodie@example.com")
        XCTAssertEqual(ASCII.lowercased("élodie@example.com"), "élodie@example.com")
        XCTAssertEqual(ASCII.lowercased(""), "")
        // Every position around the eight-byte steps, for each letter class and the bytes next to A and Z.
        for length in 1...19 {
            for at in 0..<length {
                for c: UInt8 in [0x40, 0x41, 0x4D, 0x5A, 0x5B, 0x60, 0x61, 0x7A, 0x30] {
                    var bytes = [UInt8](repeating: 0x61, count: length)
                    bytes[at] = c
                    let s = String(decoding: bytes, as: UTF8.self)
                    XCTAssertEqual(ASCII.lowercased(s), s.lowercased(), "\(s)")
                }
                var bytes = [UInt8](repeating: 0x41, count: length)
                bytes[at] = 0x61
                let s = String(decoding: bytes, as: UTF8.self) + "Ü"
                XCTAssertEqual(ASCII.lowercased(s), s.lowercased())
            }
        }
    }
}
