import OspreyAnalytics
import OspreyCore
import OspreyEnrichment

/// Answers the analytics content's list and attribute questions from the enrichment context, so rules that
/// ask about someone other than the event's user (the target of a mailbox permission, say) see the same
/// users.csv, domain lists and TI lists as enrichment.
public final class EnrichmentContextProvider: AnalyticsContextProvider {
    private let store: ContextStore

    public init(store: ContextStore) { self.store = store }

    private var context: Context { store.current }

    static let lists: Set<String> = ["company_domains", "competitor_domains", "webmail_domains", "disposable_domains",
                                     "executives", "privileged_users", "service_accounts", "tor", "blacklist", "ransomware",
                                     "suspicious_countries", "source_code_extensions"]

    public func hasList(_ name: String) -> Bool { Self.lists.contains(name) }

    public func match(list name: String, value: String) -> String? {
        let c = context
        let v = ASCII.lowercased(value)
        func domain(_ set: DomainSet) -> String? {
            let d = v.contains("@") ? (ASCII.domain(of: v) ?? v) : v
            return set.match(d, psl: c.psl)
        }
        func ip(_ table: IPRangeTable<String>) -> String? { IPAddress.parse(value).flatMap { table.lookup($0) } }
        switch name {
        case "company_domains": return domain(c.companyDomains)
        case "competitor_domains": return domain(c.competitorDomains)
        case "webmail_domains": return domain(c.webmailDomains)
        case "disposable_domains": return domain(c.disposableDomains)
        case "executives": return c.users.lookup(v).flatMap { $0.isExecutive ? $0.id : nil }
        case "privileged_users": return c.users.lookup(v).flatMap { $0.isPrivileged ? $0.id : nil }
        case "service_accounts": return c.users.lookup(v).flatMap { $0.isServiceAccount ? $0.id : nil }
        case "tor": return ip(c.tor)
        case "blacklist": return ip(c.blacklist)
        case "ransomware": return ip(c.ransomware)
        case "suspicious_countries": return c.suspiciousCountries.contains(value.uppercased()) ? value.uppercased() : nil
        case "source_code_extensions": return c.sourceCodeExtensions.contains(v) ? v : nil
        default: return nil
        }
    }

    public func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String? {
        guard let u = context.users.lookup(ASCII.lowercased(entity)) else { return nil }
        switch name {
        case "executive": return u.isExecutive ? "true" : "false"
        case "privileged": return u.isPrivileged ? "true" : "false"
        case "service": return u.isServiceAccount ? "true" : "false"
        case "deactivated": return u.isDeactivated(at: timeMillis) ? "true" : "false"
        case "personal_email": return u.personalEmails.first
        case "department": return u.department
        case "peer_group": return u.peerGroup
        case "title": return u.title
        case "manager": return u.manager
        default: return nil
        }
    }
}
