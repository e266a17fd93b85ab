import OspreyCore

/// Domain and text helpers behind the expression functions. Byte-level where they run per event.
public enum TextHelpers {
    /// The rules' `domain()`: of an address by `Addresses.domain(of:)` (`Alice <alice@Corp.com>` →
    /// `corp.com`); a value without `@` that looks like a domain (a dot, no space) is taken as one.
    public static func domain(_ s: String) -> String? {
        if let d = Addresses.domain(of: s) { return d }
        guard !s.utf8.contains(0x40), s.utf8.contains(0x2E), !s.utf8.contains(0x20) else { return nil }
        return Addresses.normalizedDomain(s)
    }

    public static func localPart(_ s: String) -> String? {
        guard let at = s.lastIndex(of: "@") else { return nil }
        var l = s[..<at]
        if let lt = l.lastIndex(of: "<") { l = l[l.index(after: lt)...] }
        while let f = l.first, f == " " || f == "\"" || f == "'" { l = l.dropFirst() }
        return l.isEmpty ? nil : String(l).asciiLowercased
    }

    public static func tld(_ domain: String) -> String? {
        guard let dot = domain.lastIndex(of: ".") else { return nil }
        let t = domain[domain.index(after: dot)...]
        return t.isEmpty ? nil : String(t).asciiLowercased
    }

    static let replyPrefixes: [[UInt8]] = ["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "vs:", "rv:", "enc:"].map { Array($0.utf8) }

    /// A subject without reply/forward prefixes, lowercased, spaces collapsed: `RE: Fwd:  Q3  plan` →
    /// `q3 plan`. Byte-level: runs for every outgoing email.
    public static func subjectKey(_ s: String) -> String {
        var out: [UInt8] = []
        var text = s
        return text.withUTF8 { raw -> String in
            let n = raw.count
            var p = 0
            var changed = true
            while changed {
                changed = false
                while p < n, raw[p] == 0x20 || raw[p] == 0x09 || raw[p] == 0x5B { p += 1 }
                for pre in replyPrefixes where p + pre.count <= n {
                    var ok = true
                    for k in 0..<pre.count where TextOps.lower(raw[p + k]) != pre[k] { ok = false; break }
                    if ok { p += pre.count; changed = true; break }
                }
            }
            out.reserveCapacity(n - p)
            var space = false
            while p < n {
                let c = raw[p]
                p += 1
                if c == 0x20 || c == 0x09 { space = true; continue }
                if space, !out.isEmpty { out.append(0x20) }
                space = false
                out.append(TextOps.lower(c))
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether a subject starts with a reply or forward prefix (`Re:`, `FW:`, `Fwd:`, `AW:`…).
    public static func hasReplyPrefix(_ s: String) -> Bool {
        var t = Substring(s)
        while let f = t.first, f == " " || f == "\t" || f == "[" { t = t.dropFirst() }
        let head = Array(t.utf8.prefix(5)).map(TextOps.lower)
        return replyPrefixes.contains { p in head.count >= p.count && Array(head[0..<p.count]) == p }
    }

    static let osTokens: [(needle: [UInt8], name: String)] = [
        ("windows phone", "WindowsPhone"), ("windows", "Windows"), ("win64", "Windows"), ("win32", "Windows"),
        ("iphone", "iOS"), ("ipad", "iOS"), ("ios", "iOS"), ("cpu os", "iOS"), ("android", "Android"),
        ("mac os x", "macOS"), ("macintosh", "macOS"), ("macos", "macOS"), ("darwin", "macOS"),
        ("cros", "ChromeOS"), ("linux", "Linux"), ("x11", "Linux"),
    ].map { (Array($0.0.utf8), $0.1) }
    static let browserTokens: [(needle: [UInt8], name: String)] = [
        ("outlook", "Outlook"), ("microsoft office", "Outlook"), ("mimecast", "Mimecast"), ("edg/", "Edge"),
        ("edge/", "Edge"), ("opr/", "Opera"), ("opera", "Opera"), ("firefox/", "Firefox"), ("fxios", "Firefox"),
        ("chrome/", "Chrome"), ("crios", "Chrome"), ("safari/", "Safari"), ("curl/", "Script"),
        ("python", "Script"), ("java/", "Script"), ("okhttp", "Script"), ("go-http", "Script"), ("powershell", "Script"),
    ].map { (Array($0.0.utf8), $0.1) }

    /// Operating system and browser family of a user agent: `Windows/Chrome`, `iOS/Safari`,
    /// `macOS/Outlook`… Token checks in a fixed order, no regex.
    public static func uaFamily(_ ua: String) -> String {
        let u = Array(ua.utf8).map(TextOps.lower)
        let os = osTokens.first { TextOps.find($0.needle, in: u) }?.name ?? "Other"
        let browser = browserTokens.first { TextOps.find($0.needle, in: u) }?.name ?? "Other"
        return os + "/" + browser
    }

    /// Whether two address local parts plausibly name the same person: equal after removing separators
    /// and digits, or sharing both name tokens (`john.smith` ~ `smith_john`, `johnsmith85`), or one
    /// containing the other when that other is at least 6 letters and starts where a name token of the
    /// longer one starts (`liam.brown` ~ `liambrownhome`; not `m.brown`, whose letters sit inside
    /// `lia|mbrown` across the token boundary: another person with the same surname).
    public static func nameMatch(_ a: String, _ b: String) -> Bool {
        /// The letters of `s`, lowercased, and the offsets (in those letters) where a token of letters starts.
        func letters(_ s: String) -> (text: [Character], starts: Set<Int>) {
            var out: [Character] = [], starts = Set<Int>(), inToken = false
            for c in s.asciiLowercased {
                if c.isLetter {
                    if !inToken { starts.insert(out.count) }
                    out.append(c); inToken = true
                } else { inToken = false }
            }
            return (out, starts)
        }
        func tokens(_ s: String) -> [String] {
            s.asciiLowercased.split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 2 }
        }
        /// `inner` occurs in `outer` at an offset where one of outer's tokens starts.
        func containsAligned(_ outer: (text: [Character], starts: Set<Int>), _ inner: [Character]) -> Bool {
            guard inner.count >= 6, outer.text.count > inner.count else { return false }
            for s in outer.starts.sorted() where s + inner.count <= outer.text.count {
                if Array(outer.text[s..<(s + inner.count)]) == inner { return true }
            }
            return false
        }
        let la = letters(a), lb = letters(b)
        guard la.text.count >= 3, lb.text.count >= 3 else { return false }
        if la.text == lb.text { return true }
        let sa = String(la.text), sb = String(lb.text)
        let ta = tokens(a), tb = tokens(b)
        if ta.count >= 2, ta.allSatisfy({ sb.contains($0) }) { return true }
        if tb.count >= 2, tb.allSatisfy({ sa.contains($0) }) { return true }
        return containsAligned(la, lb.text) || containsAligned(lb, la.text)
    }

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// `Sun 03:00` for hour-of-week 3.
    public static func hourOfWeekLabel(_ h: Int) -> String {
        let hh = h % 24
        return weekdays[h / 24 % 7] + " " + (hh < 10 ? "0" : "") + String(hh) + ":00"
    }
}
