import OspreyCore

/// Lookups by name, for consumers that ask the context directly instead of reading enrichment fields (the
/// analytics engine's `AnalyticsContextProvider`: `in_list(...)`, `attr(...)`). Allocation-light, but they
/// hash strings: the per-event path should prefer the fields `Enricher` sets.
extension Context {
    /// The lists `match(list:value:)` answers.
    public static var listNames: Set<String> { ContextLists.nameSet }

    /// The entry of list `name` that `value` matches, or nil (also for an unknown list name):
    /// IP lists (tor, blacklist, ransomware, network_zones) take an address and return the entry (the zone
    /// name for network_zones); domain lists take a domain or an address and return the matching entry
    /// (company domains take precedence: a company domain is never webmail or disposable); people lists
    /// (executives, service_accounts, privileged_users, deactivated_users — ever deactivated — and users)
    /// take an id or alias and return the user's id; suspicious_countries takes an ISO code.
    public func match(list name: String, value raw: String) -> String? {
        let value = raw.trimmingSpaces
        guard !value.isEmpty else { return nil }
        switch name {
        case "tor", "blacklist", "ransomware", "network_zones":
            guard let ip = IPAddress.parse(value) else { return nil }
            switch name {
            case "tor": return tor.lookup(ip)
            case "blacklist": return blacklist.lookup(ip)
            case "ransomware": return ransomware.lookup(ip)
            default: return zones.lookup(ip)
            }
        case "company_domains", "webmail_domains", "disposable_domains", "competitor_domains":
            let domain = value.utf8.contains(0x40) ? (Addresses.domain(of: value) ?? "") : DomainSet.normalize(value)
            guard !domain.isEmpty else { return nil }
            let company = companyDomains.match(domain, psl: psl)
            switch name {
            case "company_domains": return company
            case "competitor_domains": return company == nil ? competitorDomains.match(domain, psl: psl) : nil
            case "disposable_domains": return company == nil ? disposableDomains.match(domain, psl: psl) : nil
            default:
                guard company == nil, disposableDomains.match(domain, psl: psl) == nil else { return nil }
                return webmailDomains.match(domain, psl: psl)
            }
        case "suspicious_countries":
            let code = value.uppercased()
            return suspiciousCountries.contains(code) ? code : nil
        case "source_code_extensions":
            var x = Substring(value.lowercased())
            if x.hasPrefix(".") { x = x.dropFirst() }
            return sourceCodeExtensions.contains(String(x)) ? String(x) : nil
        case "executives", "service_accounts", "privileged_users", "deactivated_users", "users":
            guard let u = user(value) else { return nil }
            switch name {
            case "executives": return u.isExecutive ? u.id : nil
            case "service_accounts": return u.isServiceAccount ? u.id : nil
            case "privileged_users": return u.isPrivileged ? u.id : nil
            case "deactivated_users": return u.deactivatedAtMillis != nil ? u.id : nil
            default: return u.id
            }
        default:
            return nil
        }
    }

    /// An attribute of a user (by id, alias or `Name <address>`) at a time: `executive`, `service_account`,
    /// `privileged`, `deactivated` (at `timeMillis`), `known` ("true"/"false"); `department`, `peer_group`,
    /// `title`, `manager`, `display_name`, `id`; `personal_email` (the first) and `personal_emails`
    /// (comma-separated). Nil for an unknown user (except `known`) or an empty attribute.
    public func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String? {
        let u = user(entity)
        if name == "known" { return u != nil ? "true" : "false" }
        guard let u else { return nil }
        func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
        switch name {
        case "executive", "is_executive": return u.isExecutive ? "true" : "false"
        case "service_account", "is_service_account", "service": return u.isServiceAccount ? "true" : "false"
        case "privileged", "is_privileged": return u.isPrivileged ? "true" : "false"
        case "deactivated", "is_deactivated": return u.isDeactivated(at: timeMillis) ? "true" : "false"
        case "department": return nonEmpty(u.department)
        case "peer_group": return nonEmpty(u.peerGroup) ?? config.defaultPeerGroup
        case "title": return nonEmpty(u.title)
        case "manager": return nonEmpty(u.manager)
        case "display_name": return nonEmpty(u.displayName)
        case "id": return u.id
        case "personal_email": return u.personalEmails.first
        case "personal_emails": return u.personalEmails.isEmpty ? nil : u.personalEmails.joined(separator: ",")
        default: return nil
        }
    }

    /// The user for an id, alias or address (any case, `Name <address>` accepted).
    public func user(_ entity: String) -> UserRecord? {
        if let u = users.lookup(entity) { return u }
        let bare = EnrichText.bareAddress(entity)
        return bare == entity ? nil : users.lookup(bare)
    }
}
