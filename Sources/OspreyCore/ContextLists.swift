/// The lists the organization's context serves by name (`in_list("NAME", …)` in rules; docs/context.md):
/// the one table both the enrichment context (`Context.match(list:value:)`) and the rule compiler read.
public enum ContextLists {
    public static let names: [String] = [
        "tor", "blacklist", "ransomware", "network_zones",
        "company_domains", "webmail_domains", "disposable_domains", "competitor_domains",
        "suspicious_countries", "source_code_extensions",
        "executives", "service_accounts", "privileged_users", "deactivated_users", "users",
    ]
    public static let nameSet: Set<String> = Set(names)
}
