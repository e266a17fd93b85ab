/// Whether an address is a person's own name, in one place for every stage: enrichment (a personal address
/// at a webmail provider: `dest_personal_by = name`) and the rules' `name_match()`.
public enum PersonNames {
    /// The id's local part as letters (`john.smith` → `johnsmith`), and first+last, last+first,
    /// initial+last, last+initial over pairs of name tokens (the last at least 3 letters); 4 letters or more.
    public static func forms(id: String, tokens t: [String]) -> Set<String> {
        var forms = Set<String>()
        let idLocal = id.split(separator: "@").first ?? Substring(id)
        let own = String(String.UnicodeScalarView(idLocal.unicodeScalars.filter { $0.properties.isAlphabetic })).lowercased()
        if own.count >= 4 { forms.insert(own) }
        for a in t { for b in t where a != b && b.count >= 3 && a.count >= 2 {
            forms.insert(a + b); forms.insert(b + a)
            if let i = a.first { forms.insert(String(i) + b); forms.insert(b + String(i)) }
        } }
        return forms.filter { $0.count >= 4 }
    }

    /// Whether the local part of `address` is the user's own name: the same letters as the user's id local
    /// part (`john.smith` ~ `johnsmith`), or first+last / last+first / initial+last / last+initial of the
    /// user's name tokens (`jsmith`, `smith.john`), ignoring digits and punctuation. At least 4 letters.
    public static func localPartIsOwnName(_ address: String, forms: Set<String>) -> Bool {
        guard !forms.isEmpty else { return false }
        let u = address.utf8
        let end = u.firstIndex(of: 0x40) ?? u.endIndex
        var letters: [UInt8] = []
        letters.reserveCapacity(32)
        var ascii = true
        for c in u[u.startIndex..<end] {
            if c >= 0x61 && c <= 0x7A { letters.append(c) }
            else if c >= 0x41 && c <= 0x5A { letters.append(c | 0x20) }
            else if c >= 0x80 { ascii = false; break }
        }
        if ascii {
            guard letters.count >= 4 else { return false }
            return forms.contains(String(decoding: letters, as: UTF8.self))
        }
        let local = address[..<end]
        let r = String(String.UnicodeScalarView(local.unicodeScalars.filter { $0.properties.isAlphabetic })).lowercased()
        return r.count >= 4 && forms.contains(r)
    }

    /// Whether two address local parts plausibly name the same person: equal after removing separators
    /// and digits, or sharing both name tokens (`john.smith` ~ `smith_john`, `johnsmith85`), or one
    /// containing the other when that other is at least 6 letters and starts where a name token of the
    /// longer one starts (`liam.brown` ~ `liambrownhome`; not `m.brown`, whose letters sit inside
    /// `lia|mbrown` across the token boundary: another person with the same surname).
    public static func sameName(_ a: String, _ b: String) -> Bool {
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
}
