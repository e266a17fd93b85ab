import OspreyCore

/// What rules may ask about the world outside the event: lists (threat intelligence, domain classes,
/// keywords) and attributes of people and addresses (executive, department, personal address…). The
/// enrichment stage answers most questions by setting fields on the event (docs/fields.md); this
/// protocol is for the rest, and for lists the analytics content defines itself. Called on the per-event
/// path: implementations must be fast (hash lookups, no I/O) and deterministic.
public protocol AnalyticsContextProvider: AnyObject {
    /// Whether the provider holds a list of this name (it then takes precedence over a content list of the
    /// same name).
    func hasList(_ name: String) -> Bool
    /// The entry of list `name` that `value` matches (the provider decides how: exact, CIDR, domain
    /// suffix, keyword), or nil.
    func match(list name: String, value: String) -> String?
    /// An attribute of an entity at a time, e.g. ("executive", "ceo@corp.com") → "true",
    /// ("personal_email", "alice@corp.com") → "alice.smith@gmail.com", ("department", user) → "Finance".
    func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String?
    /// The country-code TLDs the organization treats as generic (context.conf `generic_cctlds`), so that
    /// the rules' `tld_country()` agrees with enrichment's dest_country.
    var genericCcTLDs: Set<String> { get }
}

extension AnalyticsContextProvider {
    public var genericCcTLDs: Set<String> { Countries.defaultGenericCcTLDs }
}

/// A provider with nothing in it: rules fall back to event fields and content lists.
public final class EmptyContextProvider: AnalyticsContextProvider {
    public init() {}
    public func hasList(_ name: String) -> Bool { false }
    public func match(list name: String, value: String) -> String? { nil }
    public func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String? { nil }
}

/// How a list's entries are compared with a value.
public enum ListMatchMode: String, Sendable, CaseIterable {
    /// Equal, ignoring ASCII case.
    case exact
    /// The enrichment's domain-list rule (`DomainSet`): a domain equal to an entry or a subdomain of it
    /// (`mail.example.com` matches `example.com`), SpamAssassin-style globs within a label (`*.att.ne.jp`,
    /// `mail2*.com`), and `stem.*` for the stem before any public suffix.
    case domain
    /// The entry occurs inside the value, ignoring ASCII case (keywords).
    case keyword
    /// An IPv4/IPv6 address equal to an entry or inside a CIDR or `first-last` entry (`10.0.0.0/8`,
    /// `2001:db8::/32`), the most specific entry first.
    case cidr
}

/// An in-memory list with one of the match modes; used for content lists and by `StaticContextProvider`.
public final class MatchList: @unchecked Sendable {
    public let name: String
    public let mode: ListMatchMode
    public let entries: [String]
    private var exact: [String: String] = [:]
    private var keywords: [[UInt8]] = []
    private var keywordEntries: [String] = []
    private var ranges: [(range: IPRange, entry: String)] = []
    private var domains = DomainSet()
    private var domainEntries: [String: String] = [:]   // normalized entry → the entry as written
    private let psl: PublicSuffixList

    /// `psl` places `stem.*` domain globs; without one (the default), a public suffix is the last label.
    public init(name: String, mode: ListMatchMode, entries: [String], psl: PublicSuffixList = PublicSuffixList()) {
        self.psl = psl
        self.name = name
        self.mode = mode
        self.entries = entries
        for e in entries {
            let lower = e.asciiLowercased
            switch mode {
            case .exact: exact[lower] = e
            case .domain:
                domains.insert(e)
                let key = DomainSet.normalize(e)
                if domainEntries[key] == nil { domainEntries[key] = e }
            case .keyword: keywords.append(Array(lower.utf8)); keywordEntries.append(e)
            case .cidr:
                // The context's own address rules (IPRange: IPv4 and IPv6 addresses, CIDRs, `first-last`), so
                // `2001:DB8::1` matches `2001:db8:0::1`; a CIDR with host bits set is read as its network.
                // Anything else is compared as text.
                if case .success(let r) = IPRange.parse(lower, strict: false) {
                    ranges.append((r, e))
                } else {
                    exact[lower] = e
                }
            }
        }
        ranges.sort { a, b in   // most specific (smallest) range first
            let wa = IPRange.width(a.range), wb = IPRange.width(b.range)
            return wa.hi != wb.hi ? wa.hi < wb.hi : wa.lo < wb.lo
        }
    }

    public func match(_ value: String) -> String? {
        if value.isEmpty { return nil }
        switch mode {
        case .exact:
            return exact[value.asciiLowercased]
        case .domain:
            return domains.match(DomainSet.normalize(value), psl: psl).map { domainEntries[$0] ?? $0 }
        case .keyword:
            let hay = Array(value.asciiLowercased.utf8)
            for (k, kw) in keywords.enumerated() where ASCII.contains(kw, in: hay) { return keywordEntries[k] }
            return nil
        case .cidr:
            if let e = exact[value.asciiLowercased] { return e }
            guard let ip = IPAddress.parse(value) else { return nil }
            for r in ranges where r.range.contains(ip) { return r.entry }
            return nil
        }
    }
}

/// A provider built from in-memory lists and attribute tables (tests, tools, and a simple default the CLI
/// can fill from a context directory).
public final class StaticContextProvider: AnalyticsContextProvider {
    public private(set) var lists: [String: MatchList] = [:]
    /// attribute name → entity (lowercased) → value
    public private(set) var attributes: [String: [String: String]] = [:]

    public init() {}

    public func setList(_ name: String, mode: ListMatchMode, entries: [String]) {
        lists[name] = MatchList(name: name, mode: mode, entries: entries)
    }

    public func setAttribute(_ name: String, of entity: String, to value: String) {
        attributes[name, default: [:]][entity.asciiLowercased] = value
    }

    public func hasList(_ name: String) -> Bool { lists[name] != nil }
    public func match(list name: String, value: String) -> String? { lists[name]?.match(value) }
    public func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String? {
        attributes[name]?[entity.asciiLowercased]
    }
}
