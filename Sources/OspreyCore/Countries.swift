/// ISO 3166-1 alpha-2 country codes (the 249 assigned codes of Debian iso-codes 4.15.0) and the mapping
/// from country-code top-level domains to them.
public enum Countries {
    public static let iso3166Alpha2: Set<String> = Set("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO \
    FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE \
    JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO \
    MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW \
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM \
    TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split(separator: " ").map(String.init))

    /// Codes geolocation databases use that are not assigned ISO codes: XK (Kosovo, user-assigned), EU and AP
    /// (MaxMind/IPFire region codes). Accepted in lists such as suspicious countries.
    public static let extraCodes: Set<String> = ["XK", "EU", "AP"]

    /// Common mistakes, for the error message.
    static let corrections: [String: String] = ["UK": "GB", "EN": "GB", "UAE": "AE", "USA": "US", "KO": "KR"]

    public static func isValid(_ code: String) -> Bool { iso3166Alpha2.contains(code) || extraCodes.contains(code) }

    /// `nil` if the code is accepted, else a reason for a ContentError.
    public static func problem(with code: String) -> String? {
        if isValid(code) { return nil }
        if let fix = corrections[code] { return "unknown country code '\(code)' (ISO 3166-1 alpha-2: did you mean \(fix)?)" }
        return "unknown country code '\(code)' (expected an ISO 3166-1 alpha-2 code such as US, GB, DE)"
    }

    /// ccTLDs that differ from the ISO code.
    static let tldExceptions: [String: String] = ["uk": "GB", "eu": "EU"]

    /// The country of a ccTLD (`de` → DE, `uk` → GB), nil for generic TLDs and for ccTLDs listed in `generic`
    /// (vanity ccTLDs such as `.io` or `.co` say nothing about where the recipient is).
    public static func country(ofTLD tld: Substring, generic: Set<String>) -> String? {
        guard tld.utf8.count == 2 else { return nil }
        let lower = tld.lowercased()
        if generic.contains(lower) { return nil }
        if let e = tldExceptions[lower] { return e }
        let upper = lower.uppercased()
        return iso3166Alpha2.contains(upper) ? upper : nil
    }

    /// The country of a domain's top-level label (`mail.example.de` → DE, `example.co.uk.` → GB), by
    /// `country(ofTLD:generic:)`: enrichment's dest_country fallback and the rules' `tld_country()`.
    public static func country(ofDomain domain: String, generic: Set<String>) -> String? {
        var d = Substring(domain)
        while d.last == "." { d = d.dropLast() }
        guard let dot = d.lastIndex(of: ".") else { return nil }
        return country(ofTLD: d[d.index(after: dot)...], generic: generic)
    }

    /// Default vanity ccTLDs treated as generic (overridable in context.conf `generic_cctlds`).
    public static let defaultGenericCcTLDs: Set<String> = ["io", "co", "me", "tv", "ai", "ly", "fm", "ws", "cc", "gg", "to", "sh"]
}
