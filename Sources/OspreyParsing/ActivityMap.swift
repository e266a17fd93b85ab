import OspreyCore

/// How a parser's fields become an activity type, an outcome and a user: the content table in
/// Content/mappings/activity.conf (one `[activity NAME]` section per family, referenced by parsers).
/// A class: every record reads its parser's rule, and copying a struct of arrays retained each of them.
public final class ActivityRule: Sendable {
    public enum Kind: String, Sendable { case email, audit, login, fixed }
    public struct Match: Sendable {
        public var field: Field
        public var values: [String]      // lowercased
        public var contains: Bool        // substring match instead of equality
        func test(_ e: Event) -> Bool {
            guard let v = e[field] else { return false }
            func hit(_ s: String) -> Bool {
                for want in values {
                    if contains ? ASCII.containsIgnoringCase(s, lowered: want) : ASCII.equalsIgnoringCase(s, lowered: want) { return true }
                }
                return false
            }
            switch v {
            case .list(let l): return l.contains(where: hit)
            case .string(let s): return hit(s)
            default: return hit(v.text)
            }
        }
    }

    public let name: String
    public let kind: Kind
    public let fixedType: ActivityType?
    public let directions: [(normalized: String, values: [String])]
    public let defaultDirection: String?
    public let failures: [Match]
    public let successes: [Match]          // explicit success overrides failure (e.g. Delivered=true)
    public let logins: [Match]
    public let failedLogins: [Match]
    public let userFields: UserFields

    init(name: String, kind: Kind, fixedType: ActivityType?, directions: [(normalized: String, values: [String])],
         defaultDirection: String?, failures: [Match], successes: [Match], logins: [Match], failedLogins: [Match],
         userFields: UserFields) {
        self.name = name; self.kind = kind; self.fixedType = fixedType; self.directions = directions
        self.defaultDirection = defaultDirection; self.failures = failures; self.successes = successes
        self.logins = logins; self.failedLogins = failedLogins; self.userFields = userFields
    }

    /// The fields tried for the user, in order, per normalized direction; a direction without its own
    /// list (or no direction) uses `any`. Resolved at load, so a record costs no dictionary lookup.
    public struct UserFields: Sendable {
        public var inbound: [Field]?
        public var outbound: [Field]?
        public var internalMail: [Field]?
        public var any: [Field] = []
        public static let directions = ["inbound", "outbound", "internal", "any"]

        public func forDirection(_ d: String?) -> [Field] {
            switch d {
            case "inbound": return inbound ?? any
            case "outbound": return outbound ?? any
            case "internal": return internalMail ?? any
            default: return any
            }
        }

        mutating func set(_ direction: String, _ fields: [Field]) {
            switch direction {
            case "inbound": inbound = fields
            case "outbound": outbound = fields
            case "internal": internalMail = fields
            default: any = fields
            }
        }
    }
}

public struct ActivityMap: Sendable {
    public var rules: [String: ActivityRule]

    public static func load(file: String) throws -> ActivityMap {
        try parse(try ContentDirectory.read(file), file: file)
    }

    public static func parse(_ text: String, file: String) throws -> ActivityMap {
        var rules: [String: ActivityRule] = [:]
        for s in try ContentFile.parse(text, file: file) {
            guard s.kind == "activity" else { throw s.error(at: s.line, "unknown section kind '\(s.kind)' (expected [activity NAME])") }
            try s.checkKeys(allowed: ["kind", "type", "default_direction", "rationale"],
                            prefixes: ["direction", "fail", "fail_contains", "success", "login", "failed_login",
                                       "failed_login_contains", "login_contains", "user"])
            let kindEntry = try s.required("kind")
            guard let kind = ActivityRule.Kind(rawValue: kindEntry.value) else {
                throw s.error(at: kindEntry.line, "unknown kind '\(kindEntry.value)' (email, audit, login, fixed)")
            }
            var fixedType: ActivityType?
            if let t = try s.optional("type") {
                guard let at = ActivityType(rawValue: t.value) else { throw s.error(at: t.line, "unknown activity type '\(t.value)'") }
                fixedType = at
            }
            if kind == .fixed, fixedType == nil { throw s.error(at: s.line, "kind fixed needs 'type'") }
            var directions: [(normalized: String, values: [String])] = []
            for (dir, e) in s.prefixed("direction") {
                guard ["inbound", "outbound", "internal"].contains(dir) else {
                    throw s.error(at: e.line, "direction must be inbound, outbound or internal, got '\(dir)'")
                }
                directions.append((dir, splitList(e.value).map { $0.lowercased() }))
            }
            func matches(_ prefix: String, contains: Bool) -> [ActivityRule.Match] {
                s.prefixed(prefix).map { ActivityRule.Match(field: Field.named($0.arg), values: splitList($0.entry.value).map { $0.lowercased() }, contains: contains) }
            }
            var userFields = ActivityRule.UserFields()
            for (dir, e) in s.prefixed("user") {
                guard ActivityRule.UserFields.directions.contains(dir) else {
                    throw s.error(at: e.line, "user \(dir): the direction must be inbound, outbound, internal or any")
                }
                userFields.set(dir, splitList(e.value).map(Field.named))
            }
            let rule = ActivityRule(
                name: s.name, kind: kind, fixedType: fixedType, directions: directions,
                defaultDirection: try s.optional("default_direction")?.value,
                failures: matches("fail", contains: false) + matches("fail_contains", contains: true),
                successes: matches("success", contains: false),
                logins: matches("login", contains: false) + matches("login_contains", contains: true),
                failedLogins: matches("failed_login", contains: false) + matches("failed_login_contains", contains: true),
                userFields: userFields)
            if rules[s.name] != nil { throw s.error(at: s.line, "activity '\(s.name)' defined twice") }
            rules[s.name] = rule
        }
        return ActivityMap(rules: rules)
    }
}
