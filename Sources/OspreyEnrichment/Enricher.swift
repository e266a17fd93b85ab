import OspreyCore


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
    // The per-event state below is unchecked for dynamic exclusivity: an enricher runs on one thread and
    // calls out to nothing while it holds an access, and the runtime checks (a thread-local access set per
    // access) were 3% of replay across the pipeline's stages.
    @exclusivity(unchecked) public private(set) var stats = EnrichmentStats()
    private let store: ContextStore?
    private var generation: Int

    // Two-way set-associative caches (bounded, no per-event allocation): slots 2s and 2s+1 form set s;
    // `*Recent[s]` is the slot used last, the other one is replaced on a miss.
    @exclusivity(unchecked) private var ipKeys: [IPAddress] = []
    @exclusivity(unchecked) private var ipValid: [Bool] = []
    @exclusivity(unchecked) private var ipFacts: [IPFacts] = []
    @exclusivity(unchecked) private var ipRecent: [UInt8] = []
    private var ipShift: UInt64 = 0
    @exclusivity(unchecked) private var domKeys: [String] = []
    @exclusivity(unchecked) private var domFacts: [DomainFacts] = []
    @exclusivity(unchecked) private var domRecent: [UInt8] = []
    private var domMask = 0

    // What each input field is used for, by field id: one pass over the event reads everything.
    private var roles: [UInt32] = []
    private static let rSrcIP: UInt32 = 1 << 0, rUser: UInt32 = 1 << 1, rDestDomain: UInt32 = 1 << 2
    private static let rDestAddress: UInt32 = 1 << 3, rRecipients: UInt32 = 1 << 4, rDestIP: UInt32 = 1 << 5
    private static let rSender: UInt32 = 1 << 6, rSenderDomain: UInt32 = 1 << 7, rFileName: UInt32 = 1 << 8
    private static let rFileExt: UInt32 = 1 << 9, rExploit: UInt32 = 1 << 10, rInfo: UInt32 = 1 << 11
    private static let keywordShift: UInt32 = 16
    private var keywordFields: [(flag: Field, match: Field)] = []
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
        var ipSets = 8
        while ipSets * 2 < c.ipCacheSize { ipSets <<= 1 }
        ipKeys = [IPAddress](repeating: IPAddress(hi: 0, lo: 0), count: ipSets * 2)
        ipValid = [Bool](repeating: false, count: ipSets * 2)
        ipFacts = [IPFacts](repeating: IPFacts(), count: ipSets * 2)
        ipRecent = [UInt8](repeating: 0, count: ipSets)
        ipShift = UInt64(64 - ipSets.trailingZeroBitCount)
        var domSets = 8
        while domSets * 2 < c.domainCacheSize { domSets <<= 1 }
        domKeys = [String](repeating: "", count: domSets * 2)
        domFacts = [DomainFacts](repeating: DomainFacts(), count: domSets * 2)
        domRecent = [UInt8](repeating: 0, count: domSets)
        domMask = domSets - 1

        var r: [Field: UInt32] = [:]
        func add(_ f: Field, _ bit: UInt32) { r[f, default: 0] |= bit }
        add(Fields.srcIP, Self.rSrcIP); add(Fields.user, Self.rUser); add(Fields.destDomain, Self.rDestDomain)
        add(Fields.destEmailAddress, Self.rDestAddress); add(Fields.emailRecipients, Self.rRecipients); add(Fields.destIP, Self.rDestIP)
        add(Fields.sender, Self.rSender); add(Fields.senderDomain, Self.rSenderDomain); add(Fields.additionalInfo, Self.rInfo)
        if !context.sourceCodeExtensions.isEmpty {
            add(Fields.emailAttachments, Self.rFileName); add(Fields.emailAttachment, Self.rFileName); add(Fields.fileName, Self.rFileName)
            add(Fields.fileExt, Self.rFileExt)
        }
        if !context.exploits.isEmpty { for name in c.exploitFields { add(Field.named(name), Self.rExploit) } }
        if !context.keywords.isEmpty {
            for list in KeywordList.allCases {
                for name in c.keywordFields[list] ?? [] { add(Field.named(name), 1 << (Self.keywordShift + UInt32(list.rawValue))) }
            }
        }
        let maxID = r.keys.map { Int($0.id) }.max() ?? 0
        roles = [UInt32](repeating: 0, count: maxID + 1)
        for (f, bits) in r { roles[Int(f.id)] = bits }
        keywordFields = KeywordList.allCases.map { ($0.field, $0.matchField) }
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

    /// The text of a single-valued input (the first element of a list, as `Event.string`).
    @inline(__always) private static func text(_ v: Value) -> String? {
        switch v {
        case .string(let s): return s
        case .list(let l): return l.first
        default: return v.text
        }
    }

    /// Enriches one event in place. See docs/fields.md for which fields appear when.
    public func enrich(_ e: inout Event) {
        refresh()
        stats.events += 1
        let ctx = context

        // One pass over the event: collect inputs, scan content.
        var srcIP: String? = nil, user: String? = nil, destDomain: String? = nil, destAddress: String? = nil
        var recipients: Value? = nil, destIP: String? = nil, sender: String? = nil, senderDomain: String? = nil
        var kwHits: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
        var kwFound: UInt32 = 0, kwPresent: UInt32 = 0
        var exploit: ExploitScanner.Hit? = nil, exploitField: Field? = nil
        var filePresent = false, sourceMatch: String? = nil
        var info: String? = nil
        let roles = self.roles
        let keys = e.keys
        for i in 0..<keys.count {
            let field = keys[i]
            let id = Int(field.id)
            guard id < roles.count else { continue }
            let r = roles[id]
            if r == 0 { continue }
            let v = e.values[i]
            if r & 0xFF != 0 {
                if r & Self.rSrcIP != 0 { srcIP = Self.text(v) }
                if r & Self.rUser != 0 { user = Self.text(v) }
                if r & Self.rDestDomain != 0 { destDomain = Self.text(v) }
                if r & Self.rDestAddress != 0 { destAddress = Self.text(v) }
                if r & Self.rRecipients != 0 { recipients = v }
                if r & Self.rDestIP != 0 { destIP = Self.text(v) }
                if r & Self.rSender != 0 { sender = Self.text(v) }
                if r & Self.rSenderDomain != 0 { senderDomain = Self.text(v) }
            }
            if r & Self.rInfo != 0 { info = Self.text(v) }
            if r & Self.rFileName != 0, sourceMatch == nil {
                switch v {
                case .string(let n): if !n.isEmpty { filePresent = true; if isSourceCode(n, ctx) { sourceMatch = n } }
                case .list(let l): for n in l where !n.isEmpty { filePresent = true; if isSourceCode(n, ctx) { sourceMatch = n; break } }
                default: break
                }
            }
            if r & Self.rFileExt != 0, sourceMatch == nil, let x = Self.text(v), !x.isEmpty {
                filePresent = true
                if ctx.sourceCodeExtensions.contains(x) || ctx.sourceCodeExtensions.contains(x.lowercased()) { sourceMatch = x }
            }
            if r & Self.rExploit != 0, exploit == nil {
                switch v {
                case .string(var s):
                    exploit = s.withUTF8 { ctx.exploits.scan(UnsafeRawBufferPointer($0), scratch: &scratch) }
                case .list(let l):
                    for var s in l {
                        exploit = s.withUTF8 { ctx.exploits.scan(UnsafeRawBufferPointer($0), scratch: &scratch) }
                        if exploit != nil { break }
                    }
                default: break
                }
                if exploit != nil { exploitField = field }
            }
            let kwMask = r >> Self.keywordShift
            if kwMask != 0 {
                kwPresent |= kwMask
                switch v {
                case .string(var s):
                    kwFound = s.withUTF8 { ctx.keywords.scan(UnsafeRawBufferPointer($0), wanted: kwMask, found: kwFound, hits: &kwHits) }
                case .list(let l):
                    for var s in l { kwFound = s.withUTF8 { ctx.keywords.scan(UnsafeRawBufferPointer($0), wanted: kwMask, found: kwFound, hits: &kwHits) } }
                default: break
                }
            }
        }

        // Source IP: geolocation, zone, threat intelligence.
        if let raw = srcIP, !raw.isEmpty {
            if let ip = IPAddress.parse(raw) {
                let slot = factsSlot(ip)
                let f = ipFacts[slot]
                if let c = f.country {
                    put(&e, EnrichedFields.srcCountry, .string(c))
                    put(&e, EnrichedFields.srcCountrySuspicious, f.countrySuspicious ? vTrue : vFalse)
                }
                if let a = f.asn { put(&e, EnrichedFields.srcASN, .int(a)) }
                if let isp = f.isp { put(&e, EnrichedFields.srcISP, .string(isp)) }
                if let z = f.zone { put(&e, EnrichedFields.srcZone, .string(z)) } else if let z = vDefaultZone { put(&e, EnrichedFields.srcZone, z) }
                put(&e, EnrichedFields.tiTor, f.tor != nil ? vTrue : vFalse)
                put(&e, EnrichedFields.tiBlacklist, f.blacklist != nil ? vTrue : vFalse)
                put(&e, EnrichedFields.tiRansomware, f.ransomware != nil ? vTrue : vFalse)
                if let m = f.tor ?? f.blacklist ?? f.ransomware { put(&e, EnrichedFields.tiMatch, .string(m)) }
            } else {
                stats.unparsableIPs += 1
            }
        }

        // User context.
        var rec: UserRecord? = nil
        if let u = user, !u.isEmpty {
            rec = ctx.users.lookup(u)
            if rec == nil, u.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { rec = ctx.users.lookup(u.lowercased()) }
            if rec == nil {
                stats.unknownUserEvents += 1
                if stats.unknownUserSample.count < EnrichmentStats.unknownUserSampleLimit, !stats.unknownUserSample.contains(u) {
                    stats.unknownUserSample.append(u)
                }
            }
        } else {
            stats.eventsWithoutUser += 1
        }
        if let r = rec {
            put(&e, EnrichedFields.peerGroup, r.peerGroup.isEmpty ? vDefaultPeer : r.peerGroupValue)
            put(&e, EnrichedFields.userKnown, vTrue)
            if let v = r.departmentValue { put(&e, EnrichedFields.userDepartment, v) }
            if let v = r.titleValue { put(&e, EnrichedFields.userTitle, v) }
            if let v = r.managerValue { put(&e, EnrichedFields.userManager, v) }
            put(&e, EnrichedFields.userIsExecutive, r.isExecutive ? vTrue : vFalse)
            put(&e, EnrichedFields.userIsService, r.isServiceAccount ? vTrue : vFalse)
            put(&e, EnrichedFields.userIsPrivileged, r.isPrivileged ? vTrue : vFalse)
            put(&e, EnrichedFields.userIsDeactivated, r.isDeactivated(at: e.timeMillis) ? vTrue : vFalse)
        } else {
            put(&e, EnrichedFields.peerGroup, vDefaultPeer)
            put(&e, EnrichedFields.userKnown, vFalse)
            if user != nil {
                put(&e, EnrichedFields.userIsExecutive, vFalse)
                put(&e, EnrichedFields.userIsService, vFalse)
                put(&e, EnrichedFields.userIsPrivileged, vFalse)
                put(&e, EnrichedFields.userIsDeactivated, vFalse)
            }
        }

        // Audit events (mailbox permission granted, forwarding rule created, …) name their target only in the
        // details text: the first address there other than the actor's becomes dest_email_address.
        if destAddress == nil, destDomain == nil, recipients == nil, e.activityType == .appActivity,
           let text = info, let target = EnrichText.firstAddress(in: text, except: user) {
            destAddress = target
            put(&e, Fields.destEmailAddress, .string(target))
        }

        enrichDestination(&e, destDomain: destDomain, destAddress: destAddress, recipients: recipients, destIP: destIP, user: rec)

        // Sender domain classes.
        if let d = (senderDomain ?? sender.flatMap { Addresses.domain(of: $0) }), !d.isEmpty {
            let f = domFacts[domainSlot(d)]
            put(&e, EnrichedFields.senderIsCompany, f.isCompany ? vTrue : vFalse)
            put(&e, EnrichedFields.senderIsWebmail, f.isWebmail ? vTrue : vFalse)
        }

        // Content results.
        if kwPresent != 0 {
            withUnsafeBytes(of: kwHits) { raw in
                for list in 0..<keywordFields.count {
                    let bit = UInt32(1) << UInt32(list)
                    guard kwPresent & bit != 0 else { continue }
                    if kwFound & bit != 0 {
                        put(&e, keywordFields[list].flag, vTrue)
                        let ki = raw.load(fromByteOffset: list * 4, as: Int32.self)
                        put(&e, keywordFields[list].match, .string(ctx.keywords.keyword(at: ki).text))
                    } else {
                        put(&e, keywordFields[list].flag, vFalse)
                    }
                }
            }
        }
        if !ctx.exploits.isEmpty {
            if let h = exploit, let f = exploitField {
                put(&e, EnrichedFields.exploitLog4j, vTrue)
                put(&e, EnrichedFields.exploitMatch, .string(h.match))
                put(&e, EnrichedFields.exploitField, .string(f.name))
                put(&e, EnrichedFields.exploitPattern, .string(h.pattern))
            } else {
                put(&e, EnrichedFields.exploitLog4j, vFalse)
            }
        }
        if filePresent {
            put(&e, EnrichedFields.fileIsSourceCode, sourceMatch != nil ? vTrue : vFalse)
            if let m = sourceMatch { put(&e, EnrichedFields.fileSourceCodeMatch, .string(m)) }
        }
    }

    /// Every field enrichment writes goes through here. With an `Event` API that appends a field known to be
    /// absent (no scan of the existing keys) and reserves capacity, this is the one place to switch to it:
    /// the scan in `Event.subscript(_:)`'s setter is about 40% of enrichment's instructions.
    @inline(__always) private func put(_ e: inout Event, _ field: Field, _ value: Value) {
        e[field] = value
    }

    @inline(__always) private func isSourceCode(_ name: String, _ ctx: Context) -> Bool {
        guard let x = FileNames.fileExtension(name) else { return false }
        return ctx.sourceCodeExtensions.contains(x)
    }

    // MARK: Destination

    private func enrichDestination(_ e: inout Event, destDomain rawDomain: String?, destAddress: String?, recipients: Value?,
                                   destIP: String?, user: UserRecord?) {
        var destDomain = rawDomain
        if destDomain == nil, let a = destAddress, let d = Addresses.domain(of: a) {
            destDomain = d
            put(&e, Fields.destDomain, .string(d))
        }
        // With no single recipient, classify every address of email_recipients.
        var list: [String]? = nil
        if destAddress == nil, destDomain == nil, let r = recipients {
            switch r {
            case .list(let l) where !l.isEmpty: list = l
            case .string(let s) where s.utf8.contains(0x40): list = [s]
            default: break
            }
            if let first = list?.first, let d = Addresses.domain(of: first) { put(&e, Fields.destDomain, .string(d)) }
        }

        var isCompany = true, isExternal = false, webmail = false, disposable = false, competitor = false
        var personal = false, personalByName = false
        var regDomain: String? = nil, tldCountry: String? = nil
        var any = false
        let ctx = context

        func classify(domain: String, address: String?) {
            any = true
            let f = domFacts[domainSlot(domain)]
            if !f.isCompany {
                isCompany = false
                if !isExternal { regDomain = f.registrable; tldCountry = f.tldCountry }
                isExternal = true
            } else if regDomain == nil { regDomain = f.registrable; tldCountry = f.tldCountry }
            webmail = webmail || f.isWebmail
            disposable = disposable || f.isDisposable
            competitor = competitor || f.isCompetitor
            if let a = address, let u = user, !f.isCompany, !personal {
                let bare = EnrichText.bareAddress(a)
                if u.personalEmails.contains(bare) { personal = true }
                // Names only guess for people whose personal addresses the directory does not list: a listed
                // address is the answer, and a customer who shares a name form (k.williams@…) is not the user.
                else if ctx.config.personalNameMatch, u.personalEmails.isEmpty, f.isWebmail,
                        PersonNames.localPartIsOwnName(bare, forms: u.nameForms) {
                    personal = true; personalByName = true
                }
            }
        }
        if let d = destDomain, !d.isEmpty { classify(domain: d, address: destAddress) }
        else if let rs = list { for r in rs { if let d = Addresses.domain(of: r) { classify(domain: d, address: r) } } }
        guard any else { return }

        put(&e, EnrichedFields.destIsCompany, isCompany ? vTrue : vFalse)
        put(&e, EnrichedFields.destIsExternal, isExternal ? vTrue : vFalse)
        put(&e, EnrichedFields.destIsWebmail, webmail ? vTrue : vFalse)
        put(&e, EnrichedFields.destIsDisposable, disposable ? vTrue : vFalse)
        put(&e, EnrichedFields.destIsCompetitor, competitor ? vTrue : vFalse)
        put(&e, EnrichedFields.destIsPersonal, personal ? vTrue : vFalse)
        if personal { put(&e, EnrichedFields.destPersonalBy, personalByName ? Enricher.vName : Enricher.vContext) }
        if let r = regDomain { put(&e, EnrichedFields.destRegDomain, .string(r)) }

        // Country: the delivery server's IP when known, else the ccTLD.
        if let ipText = destIP, let ip = IPAddress.parse(ipText), let c = ipFacts[factsSlot(ip)].country {
            put(&e, EnrichedFields.destCountry, .string(c))
            put(&e, EnrichedFields.destCountrySource, Enricher.vIP)
        } else if let c = tldCountry {
            put(&e, EnrichedFields.destCountry, .string(c))
            put(&e, EnrichedFields.destCountrySource, Enricher.vTLD)
        }

        // The target mailbox of audit events (permissions, forwarding) or the recipient of internal mail.
        if let a = destAddress, isCompany {
            if let target = ctx.users.lookup(EnrichText.bareAddress(a)) {
                put(&e, EnrichedFields.destUserKnown, vTrue)
                put(&e, EnrichedFields.destUserIsExecutive, target.isExecutive ? vTrue : vFalse)
            } else {
                put(&e, EnrichedFields.destUserKnown, vFalse)
            }
        }
    }

    // MARK: Caches

    /// Geolocation, zone and TI facts for an address, through the cache.
    public func facts(_ ip: IPAddress) -> IPFacts { ipFacts[factsSlot(ip)] }

    private func factsSlot(_ ip: IPAddress) -> Int {
        let set = Int(truncatingIfNeeded: ((ip.hi &* 0x9E37_79B9_7F4A_7C15) ^ (ip.lo &* 0xC2B2_AE3D_27D4_EB4F)) >> ipShift)
        let a = set << 1, b = a | 1
        if ipValid[a], ipKeys[a] == ip { stats.ipCacheHits += 1; ipRecent[set] = 0; return a }
        if ipValid[b], ipKeys[b] == ip { stats.ipCacheHits += 1; ipRecent[set] = 1; return b }
        stats.ipCacheMisses += 1
        let h = ipRecent[set] == 0 ? b : a
        ipRecent[set] = UInt8(h & 1)
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
        return h
    }

    /// Classes of a domain, through the cache.
    public func domainFacts(_ domain: String) -> DomainFacts { domFacts[domainSlot(domain)] }

    private func domainSlot(_ rawDomain: String) -> Int {
        let set = EnrichText.hash(rawDomain) & domMask
        let a = set << 1, b = a | 1
        if domKeys[a] == rawDomain { stats.domainCacheHits += 1; domRecent[set] = 0; return a }
        if domKeys[b] == rawDomain { stats.domainCacheHits += 1; domRecent[set] = 1; return b }
        stats.domainCacheMisses += 1
        let h = domRecent[set] == 0 ? b : a
        domRecent[set] = UInt8(h & 1)
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
        f.tldCountry = Countries.country(ofDomain: domain, generic: ctx.config.genericCcTLDs)
        domKeys[h] = rawDomain; domFacts[h] = f
        return h
    }
}
