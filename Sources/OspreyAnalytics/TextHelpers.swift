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
                    for k in 0..<pre.count where ASCII.lower(raw[p + k]) != pre[k] { ok = false; break }
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
                out.append(ASCII.lower(c))
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether a subject starts with a reply or forward prefix (`Re:`, `FW:`, `Fwd:`, `AW:`…).
    public static func hasReplyPrefix(_ s: String) -> Bool {
        var t = s   // bytes, no copies: this runs for every email (the array copies were 0.3% of replay)
        return t.withUTF8 { b in
            var i = 0
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x5B { i += 1 }
            return replyPrefixes.contains { p in
                guard b.count - i >= p.count else { return false }
                for k in 0..<p.count where ASCII.lower(b[i + k]) != p[k] { return false }
                return true
            }
        }
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
        let u = Array(ua.utf8).map(ASCII.lower)
        let os = osTokens.first { ASCII.contains($0.needle, in: u) }?.name ?? "Other"
        let browser = browserTokens.first { ASCII.contains($0.needle, in: u) }?.name ?? "Other"
        return os + "/" + browser
    }


    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// `Sun 03:00` for hour-of-week 3.
    public static func hourOfWeekLabel(_ h: Int) -> String {
        let hh = h % 24
        return weekdays[h / 24 % 7] + " " + (hh < 10 ? "0" : "") + String(hh) + ":00"
    }
}
