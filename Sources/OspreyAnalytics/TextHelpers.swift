import OspreyCore

/// Domain and text helpers behind the expression functions. Byte-level where they run per event.
public enum TextHelpers {
    /// `Alice <alice@Corp.com>` → `corp.com`
    public static func domain(_ s: String) -> String? {
        guard let at = s.lastIndex(of: "@") else {
            // Already a domain?
            return s.contains(".") && !s.contains(" ") ? s.asciiLowercased : nil
        }
        var d = s[s.index(after: at)...]
        while let l = d.last, l == ">" || l == " " || l == "\"" || l == "'" { d = d.dropLast() }
        return d.isEmpty ? nil : String(d).asciiLowercased
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

    /// The country a country-code TLD stands for (`de` → `DE`, `uk` → `GB`); nil for generic TLDs.
    public static func tldCountry(_ domain: String) -> String? {
        guard let t = tld(domain), t.utf8.count == 2, t.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return nil }
        switch t {
        case "uk": return "GB"
        case "eu", "su", "ac", "io", "co", "tv", "me", "ai", "ly", "fm", "am", "gg": return nil // used generically
        default: return t.uppercased()
        }
    }

    /// `Report.Q3.XLSX` → `xlsx`; nil without an extension.
    public static func fileExtension(_ name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let e = name[name.index(after: dot)...]
        guard !e.isEmpty, e.utf8.count <= 10, !e.contains(" "), !e.contains("/") else { return nil }
        return String(e).asciiLowercased
    }

    static let replyPrefixes = ["re:", "fw:", "fwd:", "aw:", "wg:", "tr:", "sv:", "vs:", "rv:", "enc:"]

    /// A subject without reply/forward prefixes, lowercased, spaces collapsed: `RE: Fwd:  Q3  plan` →
    /// `q3 plan`.
    public static func subjectKey(_ s: String) -> String {
        var t = Substring(s.asciiLowercased)
        var changed = true
        while changed {
            changed = false
            while let f = t.first, f == " " || f == "\t" || f == "[" { t = t.dropFirst() }
            for p in replyPrefixes where t.hasPrefix(p) {
                t = t.dropFirst(p.count); changed = true; break
            }
        }
        var out = ""
        var space = false
        for c in t {
            if c == " " || c == "\t" { space = true; continue }
            if space, !out.isEmpty { out.append(" ") }
            space = false
            out.append(c)
        }
        return out
    }

    /// Operating system and browser family of a user agent: `Windows/Chrome`, `iOS/Safari`,
    /// `macOS/Outlook`… Token checks in a fixed order, no regex.
    public static func uaFamily(_ ua: String) -> String {
        let u = Array(ua.asciiLowercased.utf8)
        func has(_ s: String) -> Bool { TextOps.find(Array(s.utf8), in: u) }
        let os: String
        if has("windows phone") { os = "WindowsPhone" }
        else if has("windows") || has("win64") || has("win32") { os = "Windows" }
        else if has("iphone") || has("ipad") || has("ios") || has("cpu os") { os = "iOS" }
        else if has("android") { os = "Android" }
        else if has("mac os x") || has("macintosh") || has("macos") || has("darwin") { os = "macOS" }
        else if has("cros") { os = "ChromeOS" }
        else if has("linux") || has("x11") { os = "Linux" }
        else { os = "Other" }
        let browser: String
        if has("outlook") || has("microsoft office") { browser = "Outlook" }
        else if has("mimecast") { browser = "Mimecast" }
        else if has("edg/") || has("edge/") { browser = "Edge" }
        else if has("opr/") || has("opera") { browser = "Opera" }
        else if has("firefox/") || has("fxios") { browser = "Firefox" }
        else if has("chrome/") || has("crios") { browser = "Chrome" }
        else if has("safari/") { browser = "Safari" }
        else if has("curl/") || has("python") || has("java/") || has("okhttp") || has("go-http") || has("powershell") { browser = "Script" }
        else { browser = "Other" }
        return os + "/" + browser
    }

    /// Whether two address local parts plausibly name the same person: equal after removing separators
    /// and digits, or sharing both name tokens (`john.smith` ~ `smith_john`, `johnsmith85`), or one
    /// containing the other when that other is at least 6 letters (`jsmith` is not enough on its own).
    public static func nameMatch(_ a: String, _ b: String) -> Bool {
        func letters(_ s: String) -> String { String(s.asciiLowercased.filter { $0.isLetter }) }
        func tokens(_ s: String) -> [String] {
            s.asciiLowercased.split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 2 }
        }
        let la = letters(a), lb = letters(b)
        guard la.count >= 3, lb.count >= 3 else { return false }
        if la == lb { return true }
        let ta = tokens(a), tb = tokens(b)
        if ta.count >= 2, ta.allSatisfy({ lb.contains($0) }) { return true }
        if tb.count >= 2, tb.allSatisfy({ la.contains($0) }) { return true }
        if la.count >= 6, lb.contains(la) { return true }
        if lb.count >= 6, la.contains(lb) { return true }
        return false
    }

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// `Sun 03:00` for hour-of-week 3.
    public static func hourOfWeekLabel(_ h: Int) -> String {
        let hh = h % 24
        return weekdays[h / 24 % 7] + " " + (hh < 10 ? "0" : "") + String(hh) + ":00"
    }
}
