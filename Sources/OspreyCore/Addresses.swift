/// Email addresses and domains: the one definition every stage uses (parse derives email_domain,
/// dest_domain and sender_domain with it, assembly the per-recipient dest_domain, enrichment the domain it
/// classifies, and the rules' `domain()`), so a derived domain never depends on which stage computed it.
public enum Addresses {
    @inline(__always) static func isTrailingJunk(_ c: UInt8) -> Bool {
        c == 0x3E || c == 0x20 || c == 0x09 || c == 0x22 || c == 0x27 || c == 0x2E // > space tab " ' .
    }

    /// The domain of an address: the text after the last `@` (so a quoted local part holding `@` is no
    /// problem), without leading spaces and without trailing `>`, quotes, spaces or dots (`Name <a@B.com>`,
    /// `"a@b.com"`, the absolute `a@example.com.`), lowercased (ASCII fast path; other text by Unicode rules;
    /// punycode `xn--` labels pass through). Nil without `@` or when nothing is left.
    public static func domain(of address: String) -> String? {
        var a = address   // withUTF8 reads a native string's own bytes (copying only a bridged one)
        return a.withUTF8 { b -> String? in
            var at = b.count - 1
            while at >= 0, b[at] != 0x40 { at -= 1 }
            guard at >= 0 else { return nil }
            var start = at + 1, end = b.count
            while end > start, isTrailingJunk(b[end - 1]) { end -= 1 }
            while start < end, b[start] == 0x20 || b[start] == 0x09 { start += 1 }
            guard start < end else { return nil }
            return ASCII.lowercased(String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self))
        }
    }

    /// `domain(of:)` for the addresses one event names, each distinct address computed once: an event's
    /// user is usually also its sender (outbound) or its recipient (inbound), so its email_domain and its
    /// sender_domain or dest_domain then share one string instead of allocating it twice.
    public struct DomainMemo {
        // The last two addresses: an event derives at most three domains, and two of them often agree.
        private var a: (address: String, domain: String?)?
        private var b: (address: String, domain: String?)?
        public init() {}
        public mutating func domain(of address: String) -> String? {
            if let m = a, m.address == address { return m.domain }
            if let m = b, m.address == address { return m.domain }
            let d = Addresses.domain(of: address)
            b = a
            a = (address, d)
            return d
        }
    }

    /// A domain written on its own (`Example.COM.`): lowercased, spaces and trailing dots removed. Nil
    /// when nothing is left.
    public static func normalizedDomain(_ domain: String) -> String? {
        let u = domain.utf8
        var start = u.startIndex, end = u.endIndex
        while end > start, isTrailingJunk(u[u.index(before: end)]) { end = u.index(before: end) }
        while start < end, u[start] == 0x20 || u[start] == 0x09 { start = u.index(after: start) }
        guard start < end else { return nil }
        return ASCII.lowercased(String(decoding: u[start..<end], as: UTF8.self))
    }
}
