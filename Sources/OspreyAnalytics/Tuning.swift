import OspreyCore

/// An organization's tuning of the shipped content, from `tuning.conf` in its context directory
/// (docs/tuning.md): per-rule score overrides and disables, allowlists of values per rule with an expiry and a
/// comment, and watchlists of people or peer groups whose sessions are always listed. Applied where a rule
/// trigger is emitted, so the content itself is never forked. Validated against the loaded content with the
/// file, line and reason of every error.
public struct Tuning: Sendable {
    public struct RuleOverride: Sendable {
        public var score: Int?
        public var disabled: Bool
        /// Scored triggers of the rule per session (0: no cap).
        public var sessionCap: Int? = nil
        public var comment: String
        public var line: Int
    }

    public struct Allow: Sendable {
        public var name: String
        /// Rule ids, or nil for every rule.
        public var rules: Set<String>?
        public var field: Field
        public var fieldName: String
        public var values: MatchList
        /// The entry stops applying at this instant (exclusive); nil = no expiry.
        public var expiresMillis: Int64?
        public var comment: String
        public var line: Int
    }

    public struct Watch: Sendable {
        public var name: String
        public var users: Set<String>
        public var peerGroups: Set<String>
        public var comment: String
    }

    public private(set) var rules: [String: RuleOverride] = [:]
    public private(set) var allows: [Allow] = []
    public private(set) var watches: [Watch] = []
    public var file: String = ""
    /// `[scoring session] rule_cap`: scored triggers of any rule per session (docs/analytics.md, "Session cap").
    public private(set) var ruleSessionCap: Int? = nil

    public init() {}
    public var isEmpty: Bool { rules.isEmpty && allows.isEmpty && watches.isEmpty && ruleSessionCap == nil }

    /// The organization's session cap for one rule, if it sets one.
    public func sessionCap(rule id: String) -> Int? { rules[id]?.sessionCap }

    /// Fields whose allowlist values are IP addresses or CIDRs, and those compared as domains (a value
    /// allows the domain and its subdomains); every other field is compared exactly, ignoring ASCII case.
    static let ipFields: Set<String> = ["src_ip", "dest_ip"]
    static let domainFields: Set<String> = ["dest_domain", "dest_reg_domain", "email_domain", "sender_domain"]

    /// Parses and validates `text` (the file `file`) against `content`.
    public static func parse(_ text: String, file: String, content: AnalyticsContent) throws -> Tuning {
        var t = Tuning()
        t.file = file
        let ruleIds = Set(content.rules.map(\.id))
        var names: Set<String> = []
        for s in try ContentFile.parse(text, file: file) {
            switch s.kind {
            case "rule":
                try s.checkKeys(allowed: ["score", "disabled", "session_cap", "comment"])
                guard ruleIds.contains(s.name) else {
                    throw s.error(at: s.line, "unknown rule '\(s.name)'\(suggestion(s.name, ruleIds))")
                }
                guard t.rules[s.name] == nil else { throw s.error(at: s.line, "rule '\(s.name)' tuned twice") }
                var o = RuleOverride(score: nil, disabled: false, comment: try s.optional("comment")?.value ?? "", line: s.line)
                if let e = try s.optional("score") {
                    guard let v = Int(e.value), (0...1000).contains(v) else {
                        throw s.error(at: e.line, column: e.valueColumn, "score must be an integer from 0 to 1000, got '\(e.value)'")
                    }
                    o.score = v
                }
                if let e = try s.optional("disabled") {
                    guard let b = parseBool(e.value) else { throw s.error(at: e.line, column: e.valueColumn, "disabled must be true or false") }
                    o.disabled = b
                }
                if let e = try s.optional("session_cap") {
                    guard let v = Int(e.value), (0...1000).contains(v) else {
                        throw s.error(at: e.line, column: e.valueColumn, "session_cap must be an integer from 0 (no cap) to 1000, got '\(e.value)'")
                    }
                    o.sessionCap = v
                }
                guard o.score != nil || o.disabled || o.sessionCap != nil else { throw s.error(at: s.line, "[rule \(s.name)] sets none of score, disabled, session_cap") }
                t.rules[s.name] = o
            case "allow":
                try s.checkKeys(allowed: ["rules", "field", "values", "expires", "comment"])
                guard names.insert("allow " + s.name).inserted else { throw s.error(at: s.line, "allowlist '\(s.name)' defined twice") }
                let rulesEntry = try s.required("rules")
                let listed = rulesEntry.value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                var rules: Set<String>? = []
                for r in listed {
                    if r == "*" { rules = nil; continue }
                    guard ruleIds.contains(r) else {
                        throw s.error(at: rulesEntry.line, column: rulesEntry.valueColumn, "unknown rule '\(r)'\(suggestion(r, ruleIds))")
                    }
                    rules?.insert(r)
                }
                if listed.isEmpty { throw s.error(at: rulesEntry.line, "rules is empty (rule ids, or * for every rule)") }
                let fieldEntry = try s.required("field")
                let fieldName = fieldEntry.value
                guard content.knownFields.contains(fieldName) else {
                    throw s.error(at: fieldEntry.line, column: fieldEntry.valueColumn, "unknown field '\(fieldName)'\(suggestion(fieldName, content.knownFields))")
                }
                let mode: ListMatchMode = ipFields.contains(fieldName) ? .cidr : domainFields.contains(fieldName) ? .domain : .exact
                // Each value is checked for its field's kind, and a bad one is reported on its own line.
                var values: [String] = []
                for e in s.all("values") {
                    for v in e.value.split(separator: ",").map({ $0.trimmingSpaces }) where !v.isEmpty {
                        if mode == .cidr, case .failure = IPRange.parse(v, strict: false) {
                            throw s.error(at: e.line, "'\(v)' is not an IP address, CIDR or first-last range")
                        }
                        if mode == .domain, let problem = DomainSet.problem(with: v) { throw s.error(at: e.line, "[allow \(s.name)] \(problem)") }
                        values.append(v)
                    }
                }
                guard !values.isEmpty else { throw s.error(at: s.line, "[allow \(s.name)] has no values") }
                var expires: Int64? = nil
                if let e = try s.optional("expires") {
                    guard let day = parseDate(e.value) else {
                        throw s.error(at: e.line, column: e.valueColumn, "expires must be a date YYYY-MM-DD, got '\(e.value)'")
                    }
                    expires = (day + 1) * 86_400_000   // the whole expiry day still applies
                }
                let comment = try s.required("comment").value
                guard !comment.isEmpty else { throw s.error(at: s.line, "[allow \(s.name)] needs a comment (who asked, why)") }
                t.allows.append(Allow(name: s.name, rules: rules, field: Field.named(fieldName), fieldName: fieldName,
                                      values: MatchList(name: "allow " + s.name, mode: mode, entries: values),
                                      expiresMillis: expires, comment: comment, line: s.line))
            case "scoring":
                guard s.name == "session" else { throw s.error(at: s.line, "unknown scoring section '[scoring \(s.name)]' (scoring session)") }
                try s.checkKeys(allowed: ["rule_cap", "comment"])
                guard t.ruleSessionCap == nil else { throw s.error(at: s.line, "[scoring session] defined twice") }
                let e = try s.required("rule_cap")
                guard let v = Int(e.value), (0...1000).contains(v) else {
                    throw s.error(at: e.line, column: e.valueColumn, "rule_cap must be an integer from 0 (no cap) to 1000, got '\(e.value)'")
                }
                t.ruleSessionCap = v
            case "watch":
                try s.checkKeys(allowed: ["users", "peer_groups", "comment"])
                guard names.insert("watch " + s.name).inserted else { throw s.error(at: s.line, "watchlist '\(s.name)' defined twice") }
                let users = Set(s.all("users").flatMap { $0.value.split(separator: ",").map { $0.trimmingSpaces.asciiLowercased } }.filter { !$0.isEmpty })
                let groups = Set(s.all("peer_groups").flatMap { $0.value.split(separator: ",").map { $0.trimmingSpaces.asciiLowercased } }.filter { !$0.isEmpty })
                guard !users.isEmpty || !groups.isEmpty else { throw s.error(at: s.line, "[watch \(s.name)] names no users and no peer_groups") }
                t.watches.append(Watch(name: s.name, users: users, peerGroups: groups, comment: try s.optional("comment")?.value ?? ""))
            default:
                throw s.error(at: s.line, "unknown section kind '[\(s.kind) …]' (tuning has rule, allow, watch, scoring)")
            }
        }
        return t
    }

    /// What tuning does to one trigger of `rule` on `event`.
    public enum Decision: Sendable {
        case keep(score: Int)
        case disabled
        case allowed(Allow, matched: String)
    }

    public func decide(rule: RuleDefinition, event: Event) -> Decision {
        let o = rules[rule.id]
        if o?.disabled == true { return .disabled }
        for a in allows where a.rules?.contains(rule.id) ?? true {
            if let exp = a.expiresMillis, event.timeMillis >= exp { continue }
            guard let v = event[a.field] else { continue }
            for text in v.elements {
                if let m = a.values.match(text) { return .allowed(a, matched: m) }
            }
        }
        return .keep(score: o?.score ?? rule.score)
    }

    /// The watchlist a session of `user` (peer group `group`) is on, if any.
    public func watchlist(user: String, peerGroup: String?) -> String? {
        let u = user.asciiLowercased
        let g = peerGroup?.asciiLowercased
        return watches.first { $0.users.contains(u) || (g.map($0.peerGroups.contains) ?? false) }?.name
    }

    /// The evidence of an allowlisted trigger.
    static func evidence(allowed a: Allow, matched: String) -> JSONValue {
        var ev: [(String, JSONValue)] = [
            ("action", .string("allowlisted")), ("allowlist", .string(a.name)), ("field", .string(a.fieldName)),
            ("entry", .string(matched)), ("comment", .string(a.comment)),
        ]
        if let e = a.expiresMillis { ev.append(("expires", .string(UTCTime.format(e)))) }
        return .object(ev)
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.asciiLowercased { case "true", "yes", "1": return true; case "false", "no", "0": return false; default: return nil }
    }

    /// Days since the epoch of `YYYY-MM-DD`.
    static func parseDate(_ s: String) -> Int64? {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]),
              (1970...9999).contains(y), (1...12).contains(m), (1...31).contains(d) else { return nil }
        let days = UTCTime.days(year: y, month: m, day: d)
        guard UTCTime.civil(days: days) == (y, m, d) else { return nil }   // 2027-02-30
        return Int64(days)
    }

    static func suggestion<S: Sequence>(_ name: String, _ known: S) -> String where S.Element == String {
        Suggest.hint(name, known)
    }
}
