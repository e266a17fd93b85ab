/// The Public Suffix List (https://publicsuffix.org/list/): public suffixes and registrable domains
/// (eTLD+1), with both the ICANN and the PRIVATE sections (so `foo.dynv6.net` stays its own registrable
/// domain, like the disposable lists expect). Rules: `com`, wildcards `*.ck`, exceptions `!www.ck`; the
/// implicit rule `*` applies when nothing matches. Domains are expected lowercased, ASCII (punycode) or UTF-8.
public struct PublicSuffixList: Sendable {
    private var exact: Set<String> = []
    private var wildcard: Set<String> = []   // "ck" for "*.ck"
    private var exception: Set<String> = [] // "www.ck" for "!www.ck"
    public private(set) var ruleCount = 0
    public private(set) var version: String?

    public init() {}

    /// Read on bytes (`TextLines`): the list has some 16,000 lines, and splitting it by Characters was half
    /// of every command's start-up.
    public init(text: String, file: String) throws {
        var rules: [(rule: String, line: Int)] = []
        TextLines.forEach(in: text) { lineNo, line in
            if line.starts(with: PublicSuffixList.versionMarker) {
                version = String(decoding: UnsafeBufferPointer(rebasing: line[PublicSuffixList.versionMarker.count...]), as: UTF8.self).trimmingSpaces
            }
            // The rule is the line's first word.
            var a = 0
            while a < line.count, line[a] == 0x20 { a += 1 }
            var z = a
            while z < line.count, line[z] != 0x20 { z += 1 }
            let rule = String(decoding: UnsafeBufferPointer(rebasing: line[a..<z]), as: UTF8.self).trimmingSpaces
            if !rule.isEmpty, !rule.hasPrefix("//") { rules.append((rule, lineNo)) }
        }
        for (rule, lineNo) in rules {
            let r = ASCII.lowercased(rule)
            try insert(r, raw: rule, file: file, line: lineNo)
            // Internationalized rules also in their ASCII form.
            if !r.utf8.allSatisfy({ $0 < 0x80 }) { try insert(Punycode.toASCII(r), raw: rule, file: file, line: lineNo) }
            ruleCount += 1
        }
    }

    private static let versionMarker = Array("// VERSION:".utf8)

    private mutating func insert(_ r: String, raw rule: String, file: String, line lineNo: Int) throws {
        if r.hasPrefix("!") {
            let e = String(r.dropFirst())
            guard e.utf8.contains(0x2E), !e.utf8.contains(0x2A) else {   // '.', '*' as bytes: Foundation's
                // substring search was a tenth of start-up
                throw ContentError(file: file, line: lineNo, reason: "exception rule '\(rule)' must name a domain below a wildcard")
            }
            exception.insert(e)
        } else if r.hasPrefix("*.") {
            let w = String(r.dropFirst(2))
            guard !w.isEmpty, !w.utf8.contains(0x2A) else {
                throw ContentError(file: file, line: lineNo, reason: "only a leading '*.' wildcard is supported: '\(rule)'")
            }
            wildcard.insert(w)
        } else {
            guard !r.utf8.contains(0x2A), !r.hasPrefix("."), !r.hasSuffix(".") else {
                throw ContentError(file: file, line: lineNo, reason: "bad rule '\(rule)'")
            }
            exact.insert(r)
        }
    }

    public static func load(path: String) throws -> PublicSuffixList {
        try PublicSuffixList(text: ContentDirectory.read(path), file: path)
    }

    /// Number of labels of the public suffix of `domain` (at least 1).
    public func suffixLabelCount(_ domain: Substring) -> Int {
        // Walk suffixes from the shortest (TLD) to the longest; the longest matching rule wins.
        var best = 1
        var labels = 0
        var idx = domain.endIndex
        while true {
            let start = domain[..<idx].lastIndex(of: ".").map { domain.index(after: $0) } ?? domain.startIndex
            labels += 1
            let suffix = domain[start...]
            let s = String(suffix)
            if exception.contains(s) { return labels - 1 }
            if exact.contains(s) { best = labels }
            // `*.parent` matches this suffix when its parent is the wildcard's base.
            if labels >= 2 {
                let parent = domain[idx...].dropFirst() // without the leading dot
                if wildcard.contains(String(parent)) { best = max(best, labels) }
            }
            if start == domain.startIndex { break }
            idx = domain.index(before: start)
        }
        return best
    }

    /// The public suffix (`co.uk` for `mail.example.co.uk`).
    public func publicSuffix(_ domain: String) -> String {
        let d = Substring(domain)
        return String(lastLabels(d, suffixLabelCount(d)))
    }

    /// The registrable domain (`example.co.uk` for `mail.example.co.uk`), nil when the domain is itself a
    /// public suffix or empty.
    public func registrableDomain(_ domain: String) -> String? {
        let d = Substring(domain)
        guard !d.isEmpty, !d.hasPrefix("."), !d.hasSuffix(".") else { return nil }
        let n = suffixLabelCount(d)
        let total = d.split(separator: ".", omittingEmptySubsequences: false).count
        guard total > n else { return nil }
        return String(lastLabels(d, n + 1))
    }

    /// Whether `rest` (e.g. `co.uk`) is exactly a public suffix under the list.
    public func isPublicSuffix(_ rest: Substring) -> Bool {
        guard !rest.isEmpty else { return false }
        let total = rest.split(separator: ".", omittingEmptySubsequences: false).count
        return suffixLabelCount(rest) == total
    }

    private func lastLabels(_ d: Substring, _ n: Int) -> Substring {
        var count = 0
        var i = d.endIndex
        while i > d.startIndex {
            let j = d.index(before: i)
            if d[j] == "." { count += 1; if count == n { return d[i...] } }
            i = j
        }
        return d
    }
}

/// RFC 3492 Punycode, for the ASCII (`xn--`) form of the PSL's internationalized rules: mail logs carry
/// domains in ASCII form.
public enum Punycode {
    /// `食狮.公司.cn` → `xn--85x722f.xn--55qx5d.cn`; ASCII labels are unchanged.
    public static func toASCII(_ domain: String) -> String {
        domain.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            label.unicodeScalars.allSatisfy(\.isASCII) ? String(label) : "xn--" + encode(Array(label.unicodeScalars.map(\.value)))
        }.joined(separator: ".")
    }

    static func encode(_ input: [UInt32]) -> String {
        let base: UInt32 = 36, tmin: UInt32 = 1, tmax: UInt32 = 26
        var out: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let b = UInt32(out.count)
        var h = b
        if b > 0 { out.append(0x2D) }
        var n: UInt32 = 128, delta: UInt32 = 0, bias: UInt32 = 72
        func digit(_ d: UInt32) -> UInt8 { d < 26 ? UInt8(0x61 + d) : UInt8(0x30 + d - 26) }
        func adapt(_ d0: UInt32, _ numPoints: UInt32, _ first: Bool) -> UInt32 {
            var d = first ? d0 / 700 : d0 / 2
            d += d / numPoints
            var k: UInt32 = 0
            while d > ((base - tmin) * tmax) / 2 { d /= base - tmin; k += base }
            return k + (((base - tmin + 1) * d) / (d + 38))
        }
        while h < UInt32(input.count) {
            let m = input.filter { $0 >= n }.min()!
            delta += (m - n) * (h + 1)
            n = m
            for c in input {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                        if q < t { break }
                        out.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    out.append(digit(q))
                    bias = adapt(delta, h + 1, h == b)
                    delta = 0
                    h += 1
                }
            }
            delta += 1; n += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
