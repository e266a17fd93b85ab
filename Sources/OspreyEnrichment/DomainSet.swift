import OspreyCore

/// A set of domains with SpamAssassin-style globs.
///
/// * `example.com` matches `example.com` and every subdomain (`mail.example.com`).
/// * `*` matches any run of characters within one label, `?` one character (as SpamAssassin's
///   `freemail_domains`): `*.att.ne.jp`, `mail2*.com`, `yahoo.co*.*`.
/// * A pattern ending in `.*` also matches any public suffix (by the PSL) in that place: `yahoo.*` matches
///   `yahoo.com`, `yahoo.fr` and `yahoo.co.uk`.
/// Globs are tried against the domain and each parent domain down to two labels.
public struct DomainSet: Sendable {
    public private(set) var exact: Set<String> = []
    public private(set) var globs: [String] = []
    /// Where each entry came from (file:line), for evidence and debugging; only for globs and small sets.
    public var count: Int { exact.count + globs.count }

    public init() {}

    public init(_ entries: [String]) {
        for e in entries { insert(e) }
    }

    public mutating func insert(_ entry: String) {
        let e = DomainSet.normalize(entry)
        if e.contains("*") || e.contains("?") { if !globs.contains(e) { globs.append(e) } } else { exact.insert(e) }
    }

    public mutating func formUnion(_ other: DomainSet) {
        exact.formUnion(other.exact)
        for g in other.globs where !globs.contains(g) { globs.append(g) }
    }

    /// Lowercases and strips a leading `@`/`.` and a trailing `.`.
    public static func normalize(_ s: String) -> String {
        var t = Substring(s.trimmingSpaces.lowercased())
        while t.first == "@" || t.first == "." { t = t.dropFirst() }
        while t.last == "." { t = t.dropLast() }
        return String(t)
    }

    /// Problem with an entry as a list line, or nil when it is a valid domain or glob.
    public static func problem(with entry: String) -> String? {
        let e = normalize(entry)
        if e.isEmpty { return "empty domain" }
        if e.contains("@") { return "'\(entry)' is an address, not a domain" }
        if e.contains(" ") || e.contains("\t") || e.contains("/") || e.contains(":") { return "'\(entry)' is not a domain" }
        if e.contains("..") { return "'\(entry)' has an empty label" }
        for u in e.utf8 where !(u >= 0x61 && u <= 0x7A) && !(u >= 0x30 && u <= 0x39) && u != 0x2D && u != 0x2E && u != 0x2A && u != 0x3F && u != 0x5F && u < 0x80 {
            return "'\(entry)' has a character not allowed in a domain"
        }
        return nil
    }

    /// The matching entry for `domain` (lowercased), or nil.
    public func match(_ domain: String, psl: PublicSuffixList) -> String? {
        guard !domain.isEmpty else { return nil }
        if !exact.isEmpty {
            var d = Substring(domain)
            while true {
                if exact.contains(String(d)) { return String(d) }
                guard let dot = d.firstIndex(of: ".") else { break }
                d = d[d.index(after: dot)...]
            }
        }
        if !globs.isEmpty {
            var d = Substring(domain)
            while d.contains(".") {
                for g in globs where DomainSet.glob(Substring(g), d, psl: psl) { return g }
                d = d[d.index(after: d.firstIndex(of: ".")!)...]
            }
        }
        return nil
    }

    /// `*` and `?` never cross a dot; a trailing `.*` also matches a whole public suffix.
    static func glob(_ p: Substring, _ s: Substring, psl: PublicSuffixList) -> Bool {
        if p.hasSuffix(".*") {
            let stem = p.dropLast(2)
            // Try each split of s into head "." publicSuffix.
            var idx = s.startIndex
            while let dot = s[idx...].firstIndex(of: ".") {
                let head = s[..<dot], rest = s[s.index(after: dot)...]
                if psl.isPublicSuffix(rest), globLabels(stem.utf8, head.utf8) { return true }
                idx = s.index(after: dot)
            }
        }
        return globLabels(p.utf8, s.utf8)
    }

    static func globLabels(_ p: Substring.UTF8View, _ s: Substring.UTF8View) -> Bool {
        let pa = Array(p), sa = Array(s)
        func m(_ i: Int, _ j: Int) -> Bool {
            if i == pa.count { return j == sa.count }
            let c = pa[i]
            if c == 0x2A { // '*': any run without '.'
                var k = j
                while true {
                    if m(i + 1, k) { return true }
                    if k == sa.count || sa[k] == 0x2E { return false }
                    k += 1
                }
            }
            guard j < sa.count else { return false }
            if c == 0x3F { return sa[j] != 0x2E && m(i + 1, j + 1) }
            return c == sa[j] && m(i + 1, j + 1)
        }
        return m(0, 0)
    }
}
