import OspreyCore

/// The enrichment fields (docs/fields.md), interned once.
public enum EF {
    public static let srcCountry = Field.named("src_country")
    public static let srcASN = Field.named("src_asn")
    public static let srcISP = Field.named("src_isp")
    public static let srcZone = Field.named("src_zone")
    public static let srcCountrySuspicious = Field.named("src_country_suspicious")
    public static let destCountry = Field.named("dest_country")
    public static let destCountrySource = Field.named("dest_country_source")
    public static let peerGroup = Field.named("peer_group")
    public static let userKnown = Field.named("user_known")
    public static let userDepartment = Field.named("user_department")
    public static let userTitle = Field.named("user_title")
    public static let userManager = Field.named("user_manager")
    public static let userIsExecutive = Field.named("user_is_executive")
    public static let userIsService = Field.named("user_is_service")
    public static let userIsPrivileged = Field.named("user_is_privileged")
    public static let userIsDeactivated = Field.named("user_is_deactivated")
    public static let destIsCompany = Field.named("dest_is_company")
    public static let destIsExternal = Field.named("dest_is_external")
    public static let destIsWebmail = Field.named("dest_is_webmail")
    public static let destIsDisposable = Field.named("dest_is_disposable")
    public static let destIsCompetitor = Field.named("dest_is_competitor")
    public static let destIsPersonal = Field.named("dest_is_personal")
    public static let destPersonalBy = Field.named("dest_personal_by")
    public static let destRegDomain = Field.named("dest_reg_domain")
    public static let destUserKnown = Field.named("dest_user_known")
    public static let destUserIsExecutive = Field.named("dest_user_is_executive")
    public static let senderIsCompany = Field.named("sender_is_company")
    public static let senderIsWebmail = Field.named("sender_is_webmail")
    public static let tiTor = Field.named("ti_tor")
    public static let tiBlacklist = Field.named("ti_blacklist")
    public static let tiRansomware = Field.named("ti_ransomware")
    public static let tiMatch = Field.named("ti_match")
    public static let fileIsSourceCode = Field.named("file_is_source_code")
    public static let fileSourceCodeMatch = Field.named("file_source_code_match")
    public static let exploitLog4j = Field.named("exploit_log4j")
    public static let exploitMatch = Field.named("exploit_match")
    public static let exploitField = Field.named("exploit_field")
    public static let exploitPattern = Field.named("exploit_pattern")
    public static let userAgent = Field.named("user_agent")

    /// Every field enrichment may add, for documentation checks and output schemas.
    public static var all: [Field] {
        [srcCountry, srcASN, srcISP, srcZone, srcCountrySuspicious, destCountry, destCountrySource, peerGroup,
         userKnown, userDepartment, userTitle, userManager, userIsExecutive, userIsService, userIsPrivileged,
         userIsDeactivated, destIsCompany, destIsExternal, destIsWebmail, destIsDisposable, destIsCompetitor,
         destIsPersonal, destPersonalBy, destRegDomain, destUserKnown, destUserIsExecutive, senderIsCompany,
         senderIsWebmail, tiTor, tiBlacklist, tiRansomware, tiMatch, fileIsSourceCode, fileSourceCodeMatch,
         exploitLog4j, exploitMatch, exploitField, exploitPattern, F.destDomain]
            + KeywordList.allCases.flatMap { [$0.field, $0.matchField] }
    }
}

/// Counters of one enricher; add them up across workers with `+=`.
public struct EnrichmentStats: Sendable, Equatable, CustomStringConvertible {
    public var events = 0
    public var eventsWithoutUser = 0
    /// Events whose user is not in users.csv (they get the default peer group).
    public var unknownUserEvents = 0
    /// The first distinct unknown users seen (at most `unknownUserSampleLimit`).
    public var unknownUserSample: [String] = []
    public var ipCacheHits = 0
    public var ipCacheMisses = 0
    public var domainCacheHits = 0
    public var domainCacheMisses = 0
    public var unparsableIPs = 0
    public var reloadsSeen = 0
    public static let unknownUserSampleLimit = 32

    public init() {}

    public static func += (a: inout EnrichmentStats, b: EnrichmentStats) {
        a.events += b.events; a.eventsWithoutUser += b.eventsWithoutUser; a.unknownUserEvents += b.unknownUserEvents
        for u in b.unknownUserSample where a.unknownUserSample.count < unknownUserSampleLimit && !a.unknownUserSample.contains(u) {
            a.unknownUserSample.append(u)
        }
        a.ipCacheHits += b.ipCacheHits; a.ipCacheMisses += b.ipCacheMisses
        a.domainCacheHits += b.domainCacheHits; a.domainCacheMisses += b.domainCacheMisses
        a.unparsableIPs += b.unparsableIPs; a.reloadsSeen += b.reloadsSeen
    }

    public var description: String {
        "\(events) events, \(unknownUserEvents) with unknown users, \(eventsWithoutUser) without user, "
            + "IP cache \(ipCacheHits) hits / \(ipCacheMisses) misses, domain cache \(domainCacheHits) / \(domainCacheMisses), "
            + "\(unparsableIPs) unparsable IPs"
    }
}

/// Classes of one domain, computed once per enricher and cached.
public struct DomainFacts: Sendable {
    public var isCompany = false
    public var isWebmail = false
    public var isDisposable = false
    public var isCompetitor = false
    public var registrable: String?
    public var tldCountry: String?
}

/// Adds the enrichment fields to events. Not thread-safe: make one per worker thread (they share the
/// immutable `Context`). Created from a `ContextStore`, it switches to a reloaded context on the next event.
public final class Enricher {
    public private(set) var context: Context
    public private(set) var stats = EnrichmentStats()
    private let store: ContextStore?
    private var generation: Int

    // Direct-mapped caches (bounded, no per-event allocation).
    private var ipKeys: [IPAddress] = []
    private var ipValid: [Bool] = []
    private var ipFacts: [IPFacts] = []
    private var ipShift: UInt64 = 0
    private var domKeys: [String] = []
    private var domFacts: [DomainFacts] = []
    private var domMask = 0

    // Per-field scan plans resolved from the config.
    private var keywordPlan: [(Field, UInt32)] = []
    private var exploitPlan: [Field] = []
    private var scratch = ExploitScanner.Scratch()

    private let vTrue = Value.bool(true), vFalse = Value.bool(false)
    private var vDefaultPeer: Value = .string("unknown")
    private var vDefaultZone: Value?
    private static let vIP = Value.string("ip"), vTLD = Value.string("tld")
    private static let vContext = Value.string("context"), vName = Value.string("name")

    public init(context: Context) {
        self.context = context
        store = nil
        generation = 0
        configure()
    }

    public init(store: ContextStore) {
        self.store = store
        generation = store.generation
        context = store.current
        configure()
    }

    private func configure() {
        let c = context.config
        var ipSize = 16
        while ipSize < c.ipCacheSize { ipSize <<= 1 }
        ipKeys = [IPAddress](repeating: IPAddress(hi: 0, lo: 0), count: ipSize)
        ipValid = [Bool](repeating: false, count: ipSize)
        ipFacts = [IPFacts](repeating: IPFacts(), count: ipSize)
        ipShift = UInt64(64 - ipSize.trailingZeroBitCount)
        var domSize = 16
        while domSize < c.domainCacheSize { domSize <<= 1 }
        domKeys = [String](repeating: "", count: domSize)
        domFacts = [DomainFacts](repeating: DomainFacts(), count: domSize)
        domMask = domSize - 1
        var masks: [String: UInt32] = [:]
        var order: [String] = []
        for list in KeywordList.allCases {
            for f in c.keywordFields[list] ?? [] {
                if masks[f] == nil { order.append(f) }
                masks[f, default: 0] |= 1 << UInt32(list.rawValue)
            }
        }
        keywordPlan = order.map { (Field.named($0), masks[$0]!) }
        exploitPlan = c.exploitFields.map(Field.named)
        vDefaultPeer = .string(c.defaultPeerGroup)
        vDefaultZone = c.defaultZone.map { .string($0) }
    }

    /// Switches to the store's newest context if it was reloaded (caches are dropped).
    @inline(__always) private func refresh() {
        guard let s = store else { return }
        let g = s.generation
        if g != generation {
            generation = g
            context = s.current
            stats.reloadsSeen += 1
            configure()
        }
    }

    /// Enriches one event in place. See docs/fields.md for which fields appear when.
    public func enrich(_ e: inout Event) {
        refresh()
        stats.events += 1
        enrichSource(&e)
        enrichUser(&e)
        enrichDestination(&e)
        enrichSender(&e)
        enrichContent(&e)
    }

    // MARK: Source IP

    private func enrichSource(_ e: inout Event) {
        guard let raw = e.string(F.srcIP), !raw.isEmpty else { return }
        guard let ip = IPAddress.parse(raw) else { stats.unparsableIPs += 1; return }
        let f = facts(ip)
        if let c = f.country {
            e[EF.srcCountry] = .string(c)
            e[EF.srcCountrySuspicious] = f.countrySuspicious ? vTrue : vFalse
        }
        if let a = f.asn { e[EF.srcASN] = .int(a) }
        if let i = f.isp { e[EF.srcISP] = .string(i) }
        if let z = f.zone { e[EF.srcZone] = .string(z) } else if let z = vDefaultZone { e[EF.srcZone] = z }
        e[EF.tiTor] = f.tor != nil ? vTrue : vFalse
        e[EF.tiBlacklist] = f.blacklist != nil ? vTrue : vFalse
        e[EF.tiRansomware] = f.ransomware != nil ? vTrue : vFalse
        if let m = f.tor ?? f.blacklist ?? f.ransomware { e[EF.tiMatch] = .string(m) }
    }

    /// Geolocation, zone and TI facts for an address, through the cache.
    public func facts(_ ip: IPAddress) -> IPFacts {
        let h = Int(truncatingIfNeeded: ((ip.hi &* 0x9E37_79B9_7F4A_7C15) ^ (ip.lo &* 0xC2B2_AE3D_27D4_EB4F)) >> ipShift)
        if ipValid[h], ipKeys[h] == ip { stats.ipCacheHits += 1; return ipFacts[h] }
        stats.ipCacheMisses += 1
        let ctx = context
        var f = IPFacts()
        if !ctx.geo.isEmpty {
            let g = ctx.geo.locate(ip)
            f.country = g.country; f.asn = g.asn; f.isp = g.organization
        }
        if let c = f.country { f.countrySuspicious = ctx.suspiciousCountries.contains(c) }
        f.zone = ctx.zones.lookup(ip)
        f.tor = ctx.tor.lookup(ip)
        f.blacklist = ctx.blacklist.lookup(ip)
        f.ransomware = ctx.ransomware.lookup(ip)
        ipKeys[h] = ip; ipValid[h] = true; ipFacts[h] = f
        return f
    }

    // MARK: User

    private func enrichUser(_ e: inout Event) {
        guard let u = e.string(F.user), !u.isEmpty else {
            stats.eventsWithoutUser += 1
            e[EF.peerGroup] = vDefaultPeer
            e[EF.userKnown] = vFalse
            return
        }
        guard let rec = context.users.lookup(u) else {
            stats.unknownUserEvents += 1
            if stats.unknownUserSample.count < EnrichmentStats.unknownUserSampleLimit, !stats.unknownUserSample.contains(u) {
                stats.unknownUserSample.append(u)
            }
            e[EF.peerGroup] = vDefaultPeer
            e[EF.userKnown] = vFalse
            e[EF.userIsExecutive] = vFalse
            e[EF.userIsService] = vFalse
            e[EF.userIsPrivileged] = vFalse
            e[EF.userIsDeactivated] = vFalse
            return
        }
        e[EF.peerGroup] = rec.peerGroup.isEmpty ? vDefaultPeer : .string(rec.peerGroup)
        e[EF.userKnown] = vTrue
        if !rec.department.isEmpty { e[EF.userDepartment] = .string(rec.department) }
        if !rec.title.isEmpty { e[EF.userTitle] = .string(rec.title) }
        if !rec.manager.isEmpty { e[EF.userManager] = .string(rec.manager) }
        e[EF.userIsExecutive] = rec.isExecutive ? vTrue : vFalse
        e[EF.userIsService] = rec.isServiceAccount ? vTrue : vFalse
        e[EF.userIsPrivileged] = rec.isPrivileged ? vTrue : vFalse
        e[EF.userIsDeactivated] = rec.isDeactivated(at: e.timeMillis) ? vTrue : vFalse
    }

    // MARK: Destination

    private func enrichDestination(_ e: inout Event) {
        var destDomain = e.string(F.destDomain)
        let destAddress = e.string(F.destEmailAddress)
        if destDomain == nil, let a = destAddress, let d = EnrichText.domain(of: a) {
            destDomain = d
            e[F.destDomain] = .string(d)
        }
        // With no single recipient, classify every address of email_recipients.
        var recipients: [String]? = nil
        if destAddress == nil, destDomain == nil, case .list(let l)? = e[F.emailRecipients], !l.isEmpty {
            recipients = l
            if let d = EnrichText.domain(of: l[0]) { e[F.destDomain] = .string(d) }
        } else if destAddress == nil, destDomain == nil, let single = e.string(F.emailRecipients), single.contains("@") {
            recipients = [single]
            if let d = EnrichText.domain(of: single) { e[F.destDomain] = .string(d) }
        }

        var isCompany = true, isExternal = false, webmail = false, disposable = false, competitor = false
        var personal = false, personalByName = false
        var regDomain: String? = nil, tldCountry: String? = nil
        var any = false
        let user = e.string(F.user).flatMap { context.users.lookup($0) }

        func classify(domain: String, address: String?) {
            any = true
            let f = domainFacts(domain)
            if !f.isCompany {
                isCompany = false
                if !isExternal { regDomain = f.registrable; tldCountry = f.tldCountry }
                isExternal = true
            } else if regDomain == nil { regDomain = f.registrable; tldCountry = f.tldCountry }
            webmail = webmail || f.isWebmail
            disposable = disposable || f.isDisposable
            competitor = competitor || f.isCompetitor
            if let a = address, let u = user, !f.isCompany {
                let lower = EnrichText.bareAddress(a)
                if u.personalEmails.contains(lower) { personal = true }
                else if context.config.personalNameMatch, !personal, f.isWebmail,
                        EnrichText.nameMatches(localPart: lower, user: u) { personal = true; personalByName = true }
            }
        }
        if let d = destDomain, !d.isEmpty { classify(domain: d, address: destAddress) }
        else if let rs = recipients { for r in rs { if let d = EnrichText.domain(of: r) { classify(domain: d, address: r) } } }
        guard any else { return }

        e[EF.destIsCompany] = isCompany ? vTrue : vFalse
        e[EF.destIsExternal] = isExternal ? vTrue : vFalse
        e[EF.destIsWebmail] = webmail ? vTrue : vFalse
        e[EF.destIsDisposable] = disposable ? vTrue : vFalse
        e[EF.destIsCompetitor] = competitor ? vTrue : vFalse
        e[EF.destIsPersonal] = personal ? vTrue : vFalse
        if personal { e[EF.destPersonalBy] = personalByName ? Enricher.vName : Enricher.vContext }
        if let r = regDomain { e[EF.destRegDomain] = .string(r) }

        // Country: the delivery server's IP when known, else the ccTLD.
        var country: String? = nil
        if let ipText = e.string(F.destIP), let ip = IPAddress.parse(ipText), let c = facts(ip).country {
            country = c
            e[EF.destCountrySource] = Enricher.vIP
        } else if let c = tldCountry {
            country = c
            e[EF.destCountrySource] = Enricher.vTLD
        }
        if let c = country { e[EF.destCountry] = .string(c) }

        // The target mailbox of audit events (permissions, forwarding) or the recipient of internal mail.
        if let a = destAddress, isCompany {
            if let target = context.users.lookup(EnrichText.bareAddress(a)) {
                e[EF.destUserKnown] = vTrue
                e[EF.destUserIsExecutive] = target.isExecutive ? vTrue : vFalse
            } else {
                e[EF.destUserKnown] = vFalse
            }
        }
    }

    private func enrichSender(_ e: inout Event) {
        var d = e.string(F.senderDomain)
        if d == nil, let s = e.string(F.sender) { d = EnrichText.domain(of: s) }
        guard let domain = d, !domain.isEmpty else { return }
        let f = domainFacts(domain)
        e[EF.senderIsCompany] = f.isCompany ? vTrue : vFalse
        e[EF.senderIsWebmail] = f.isWebmail ? vTrue : vFalse
    }

    /// Classes of a domain, through the cache.
    public func domainFacts(_ rawDomain: String) -> DomainFacts {
        let h = EnrichText.hash(rawDomain) & domMask
        if domKeys[h] == rawDomain { stats.domainCacheHits += 1; return domFacts[h] }
        stats.domainCacheMisses += 1
        let ctx = context
        let domain = DomainSet.normalize(rawDomain)
        var f = DomainFacts()
        f.isCompany = ctx.companyDomains.match(domain, psl: ctx.psl) != nil
        f.registrable = ctx.psl.registrableDomain(domain) ?? domain
        if !f.isCompany {
            f.isDisposable = ctx.disposableDomains.match(domain, psl: ctx.psl) != nil
            // Disposable first: the broad webmail lists also hold disposable services.
            f.isWebmail = !f.isDisposable && ctx.webmailDomains.match(domain, psl: ctx.psl) != nil
            f.isCompetitor = ctx.competitorDomains.match(domain, psl: ctx.psl) != nil
        }
        if let dot = domain.lastIndex(of: ".") {
            f.tldCountry = Countries.country(ofTLD: domain[domain.index(after: dot)...], generic: ctx.config.genericCcTLDs)
        }
        domKeys[h] = rawDomain; domFacts[h] = f
        return f
    }

    // MARK: Content: keywords, exploit strings, source code

    private func enrichContent(_ e: inout Event) {
        let ctx = context
        // Keywords.
        if !ctx.keywords.isEmpty {
            var hits: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
            var found: UInt32 = 0, present: UInt32 = 0
            for (field, mask) in keywordPlan {
                guard let v = e[field] else { continue }
                present |= mask
                switch v {
                case .string(var s):
                    found = s.withUTF8 { ctx.keywords.scan(UnsafeRawBufferPointer($0), wanted: mask, found: found, hits: &hits) }
                case .list(let l):
                    for var s in l { found = s.withUTF8 { ctx.keywords.scan(UnsafeRawBufferPointer($0), wanted: mask, found: found, hits: &hits) } }
                default: break
                }
            }
            if present != 0 {
                withUnsafeBytes(of: hits) { raw in
                    for list in KeywordList.allCases {
                        let bit = UInt32(1) << UInt32(list.rawValue)
                        guard present & bit != 0 else { continue }
                        if found & bit != 0 {
                            e[list.field] = vTrue
                            let ki = raw.load(fromByteOffset: list.rawValue * 4, as: Int32.self)
                            e[list.matchField] = .string(ctx.keywords.keyword(at: ki).text)
                        } else {
                            e[list.field] = vFalse
                        }
                    }
                }
            }
        }

        // Exploit strings.
        if !ctx.exploits.isEmpty {
            var hit: ExploitScanner.Hit? = nil
            var hitField: Field? = nil
            outer: for field in exploitPlan {
                guard let v = e[field] else { continue }
                switch v {
                case .string(var s):
                    if let h = s.withUTF8({ ctx.exploits.scan(UnsafeRawBufferPointer($0), scratch: &scratch) }) { hit = h; hitField = field; break outer }
                case .list(let l):
                    for var s in l {
                        if let h = s.withUTF8({ ctx.exploits.scan(UnsafeRawBufferPointer($0), scratch: &scratch) }) { hit = h; hitField = field; break outer }
                    }
                default: break
                }
            }
            if let h = hit, let f = hitField {
                e[EF.exploitLog4j] = vTrue
                e[EF.exploitMatch] = .string(h.match)
                e[EF.exploitField] = .string(f.name)
                e[EF.exploitPattern] = .string(h.pattern)
            } else {
                e[EF.exploitLog4j] = vFalse
            }
        }

        // Source code attachments / files.
        if !ctx.sourceCodeExtensions.isEmpty {
            var present = false
            var match: String? = nil
            func check(_ name: String) {
                present = true
                if match == nil, let x = EnrichText.fileExtension(name), ctx.sourceCodeExtensions.contains(x) { match = name }
            }
            if let v = e[F.emailAttachments] { for n in v.elements where !n.isEmpty { check(n) } }
            if match == nil, let n = e.string(F.emailAttachment), !n.isEmpty { check(n) }
            if match == nil, let n = e.string(F.fileName), !n.isEmpty { check(n) }
            if match == nil, let x = e.string(F.fileExt), !x.isEmpty {
                present = true
                if ctx.sourceCodeExtensions.contains(x.lowercased()) { match = x }
            }
            if present {
                e[EF.fileIsSourceCode] = match != nil ? vTrue : vFalse
                if let m = match { e[EF.fileSourceCodeMatch] = .string(m) }
            }
        }
    }
}

/// Small text helpers for the per-event path.
public enum EnrichText {
    /// `Name <a@b.com>` / `a@b.com` → `b.com` (lowercased).
    public static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        var d = address[address.index(after: at)...]
        while let l = d.last, l == ">" || l == " " || l == "." { d = d.dropLast() }
        guard !d.isEmpty else { return nil }
        return d.lowercased()
    }

    /// `Name <A@B.com>` → `a@b.com`.
    public static func bareAddress(_ a: String) -> String {
        var t = Substring(a)
        if let lt = t.lastIndex(of: "<") { t = t[t.index(after: lt)...] }
        while let l = t.last, l == ">" || l == " " { t = t.dropLast() }
        while t.first == " " { t = t.dropFirst() }
        return t.lowercased()
    }

    public static func fileExtension(_ name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), name.index(after: dot) < name.endIndex else { return nil }
        var x = name[name.index(after: dot)...]
        while let l = x.last, l == " " || l == "\"" { x = x.dropLast() }
        guard !x.isEmpty, x.utf8.count <= 16 else { return nil }
        return x.lowercased()
    }

    /// FNV-1a over the UTF-8 bytes.
    @inline(__always) public static func hash(_ s: String) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        if let r = s.utf8.withContiguousStorageIfAvailable({ buf -> UInt64 in
            var x = h
            for b in buf { x = (x ^ UInt64(b)) &* 0x100_0000_01b3 }
            return x
        }) { h = r } else { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Whether the local part of `address` is the user's own name: the same letters as the user's id local
    /// part (`john.smith` ~ `johnsmith`), or first+last / last+first / initial+last / last+initial of the
    /// user's name tokens (`jsmith`, `smith.john`), ignoring digits and punctuation. At least 4 letters.
    public static func nameMatches(localPart address: String, user: UserRecord) -> Bool {
        let local = address.split(separator: "@").first ?? Substring(address)
        var r = ""
        for ch in local.unicodeScalars where ch.properties.isAlphabetic { r.unicodeScalars.append(ch) }
        guard r.count >= 4 else { return false }
        let r2 = r.lowercased()
        var own = ""
        let idLocal = user.id.split(separator: "@").first ?? Substring(user.id)
        for ch in idLocal.unicodeScalars where ch.properties.isAlphabetic { own.unicodeScalars.append(ch) }
        if own.count >= 4, own == r2 { return true }
        let t = user.nameTokens
        for a in t { for b in t where a != b && b.count >= 3 && a.count >= 2 {
            if r2 == a + b || r2 == b + a { return true }
            if let i = a.first, r2 == String(i) + b || r2 == b + String(i) { return true }
        } }
        return false
    }
}
