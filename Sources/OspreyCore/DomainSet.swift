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
    private var compiled: [Glob] = []
    private var hasTrailingAny = false
    public var count: Int { exact.count + globs.count }

    /// A glob prepared for fast rejection: label count and literal prefix/suffix.
    struct Glob: Sendable {
        var bytes: [UInt8]
        var labels: Int
        var prefix: Int   // literal bytes before the first wildcard
        var suffix: Int   // literal bytes after the last wildcard
        var stem: [UInt8]? // for `stem.*`: the part before `.*`
        var stemLabels: Int

        init(_ p: String) {
            bytes = Array(p.utf8)
            labels = bytes.filter { $0 == 0x2E }.count + 1
            prefix = bytes.firstIndex { $0 == 0x2A || $0 == 0x3F } ?? bytes.count
            suffix = bytes.count - 1 - (bytes.lastIndex { $0 == 0x2A || $0 == 0x3F } ?? (bytes.count - 1))
            if bytes.count > 2, bytes[bytes.count - 1] == 0x2A, bytes[bytes.count - 2] == 0x2E {
                stem = Array(bytes[..<(bytes.count - 2)])
                stemLabels = labels - 1
            } else { stem = nil; stemLabels = 0 }
        }
    }

    public init() {}

    public init(_ entries: [String]) {
        for e in entries { insert(e) }
    }

    public mutating func insert(_ entry: String) {
        let e = DomainSet.normalize(entry)
        if e.utf8.contains(where: { $0 == 0x2A || $0 == 0x3F }) {
            if !globs.contains(e) {
                globs.append(e)
                let g = Glob(e)
                compiled.append(g)
                if g.stem != nil { hasTrailingAny = true }
            }
        } else { exact.insert(e) }
    }

    public mutating func formUnion(_ other: DomainSet) {
        exact.formUnion(other.exact)
        for g in other.globs { insert(g) }
    }

    /// Lowercases and strips spaces, a leading `@`/`.` and a trailing `.`.
    public static func normalize(_ s: String) -> String {
        var bytes = s   // withUTF8: the string's own bytes (a generic UTF8View walk showed in start-up)
        let normal = bytes.withUTF8 { u -> Bool in
            guard let f = u.first, let l = u.last, f != 0x40, f != 0x2E, f != 0x20, l != 0x2E, l != 0x20 else { return false }
            for c in u where (c >= 0x41 && c <= 0x5A) || c == 0x09 { return false }
            return true
        }
        if normal { return s } // already normal: the common case, no allocation
        var t = Substring(s.trimmingSpaces.lowercased())
        while t.first == "@" || t.first == "." { t = t.dropFirst() }
        while t.last == "." { t = t.dropLast() }
        return String(t)
    }

    /// Problem with an entry as a list line, or nil when it is a valid domain or glob.
    public static func problem(with entry: String) -> String? {
        let e = normalize(entry)
        if e.isEmpty { return "empty domain" }
        var prev: UInt8 = 0
        for u in e.utf8 {
            switch u {
            case 0x40: return "'\(entry)' is an address, not a domain"
            case 0x20, 0x09, 0x2F, 0x3A: return "'\(entry)' is not a domain"
            case 0x2E where prev == 0x2E: return "'\(entry)' has an empty label"
            case 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x2A, 0x3F, 0x5F, 0x80...: break
            default: return "'\(entry)' has a character not allowed in a domain"
            }
            prev = u
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
                guard let dot = d.utf8.firstIndex(of: 0x2E) else { break }   // bytes: a Character search
                d = d[d.utf8.index(after: dot)...]                             // was 1% of replay
            }
        }
        guard !compiled.isEmpty else { return nil }
        var copy = domain
        let hit: Int? = copy.withUTF8 { buf -> Int? in
            let n = buf.count
            var dots: [Int] = []
            for i in 0..<n where buf[i] == 0x2E { dots.append(i) }
            // Plain globs: the domain and each parent with at least two labels; * and ? stay inside a label,
            // so only globs with the same number of labels can match.
            var start = 0, labels = dots.count + 1, k = 0
            while labels >= 2 {
                let cand = UnsafeBufferPointer(rebasing: buf[start..<n])
                for (gi, g) in compiled.enumerated() where g.labels == labels && DomainSet.quick(g, cand) {
                    if g.bytes.withUnsafeBufferPointer({ DomainSet.globMatch($0, cand) }) { return gi }
                }
                start = dots[k] + 1; k += 1; labels -= 1
            }
            // `stem.*`: the labels right before the domain's public suffix match the stem.
            if hasTrailingAny {
                let psLabels = psl.suffixLabelCount(Substring(domain))
                let total = dots.count + 1
                for (gi, g) in compiled.enumerated() {
                    guard let stem = g.stem, total >= g.stemLabels + psLabels else { continue }
                    let firstLabel = total - psLabels - g.stemLabels
                    let from = firstLabel == 0 ? 0 : dots[firstLabel - 1] + 1
                    let to = dots[total - psLabels - 1]
                    let cand = UnsafeBufferPointer(rebasing: buf[from..<to])
                    if stem.withUnsafeBufferPointer({ DomainSet.globMatch($0, cand) }) { return gi }
                }
            }
            return nil
        }
        return hit.map { globs[$0] }
    }

    @inline(__always) static func quick(_ g: Glob, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count >= g.prefix + g.suffix else { return false }
        for i in 0..<g.prefix where g.bytes[i] != s[i] { return false }
        for i in 0..<g.suffix where g.bytes[g.bytes.count - 1 - i] != s[s.count - 1 - i] { return false }
        return true
    }

    /// `*` matches a run of non-dot bytes, `?` one non-dot byte.
    static func globMatch(_ p: UnsafeBufferPointer<UInt8>, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        func m(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == s.count }
            let c = p[i]
            if c == 0x2A {
                var k = j
                while true {
                    if m(i + 1, k) { return true }
                    if k == s.count || s[k] == 0x2E { return false }
                    k += 1
                }
            }
            guard j < s.count else { return false }
            if c == 0x3F { return s[j] != 0x2E && m(i + 1, j + 1) }
            return c == s[j] && m(i + 1, j + 1)
        }
        return m(0, 0)
    }
}
