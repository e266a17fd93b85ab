import OspreyCore

/// Derives what the seed's information model adds after extraction: normalized direction, activity type,
/// outcome, the user by direction, and domains. The decisions come from the activity table (content).
public enum EventBuilder {
    static let success = Value.string("success"), failure = Value.string("failure")
    static let emailUser = Field.named("email_user")
    static let emailAddress = Field.named("email_address")

    public static func finish(_ e: inout Event, rule: ActivityRule) {
        switch rule.kind {
        case .email:
            var direction = rule.defaultDirection
            if let raw = e.string(Fields.direction) {
                direction = rule.directions.first(where: { d in d.values.contains { ASCII.equalsIgnoringCase(raw, lowered: $0) } })?.normalized ?? direction
            }
            if let d = direction { e[Fields.direction] = .string(d) }
            let failed = isFailure(e, rule)
            // No direction (process lines): the sender is the only party the record names, so it is read as
            // the sender's outgoing mail; assembly later decides on the whole message.
            let out = direction == "outbound" || direction == "internal"
                || (direction == nil && !e.has(Fields.destEmailAddress) && e.has(Fields.sender))
            e.activityType = out ? (failed ? .emailOutFailed : .emailOut) : (failed ? .emailInFailed : .emailIn)
            if !e.has(Fields.user) {
                for f in rule.userFields.forDirection(direction) {
                    if let u = e.string(f), u.utf8.contains(0x40) { e.appendNew(Fields.user, .string(ASCII.lowercased(u))); break }
                }
            }
        case .audit:
            if rule.failedLogins.contains(where: { $0.test(e) }) { e.activityType = .failedAppLogin }
            else if rule.logins.contains(where: { $0.test(e) }) { e.activityType = .appLogin }
            else { e.activityType = .appActivity }
            pickUser(&e, rule)
        case .login:
            e.activityType = isFailure(e, rule) ? .failedAppLogin : .appLogin
            pickUser(&e, rule)
        case .fixed:
            e.activityType = rule.fixedType ?? .appActivity
            pickUser(&e, rule)
        }
        e[Fields.outcome] = e.activityType.isFailure ? failure : success
        var domains = Addresses.DomainMemo()
        if let u = e.string(Fields.user) {
            let lower = ASCII.lowercased(u)
            if lower != u { e[Fields.user] = .string(lower) }
            if !e.has(Fields.emailDomain), let d = domains.domain(of: lower) { e.appendNew(Fields.emailDomain, .string(d)) }
        }
        if !e.has(Fields.destDomain), let r = e.string(Fields.destEmailAddress), let d = domains.domain(of: r) { e.appendNew(Fields.destDomain, .string(d)) }
        if !e.has(Fields.senderDomain), let s = e.string(Fields.sender), let d = domains.domain(of: s) { e.appendNew(Fields.senderDomain, .string(d)) }
        if !e.has(Fields.fileExt), let name = e.string(Fields.emailAttachment) ?? e.string(Fields.fileName), let ext = FileNames.fileExtension(name) {
            e.appendNew(Fields.fileExt, .string(ext))
        }
    }

    static func pickUser(_ e: inout Event, _ rule: ActivityRule) {
        guard !e.has(Fields.user) else { return }
        for f in rule.userFields.any {
            if let u = e.string(f), !u.isEmpty { e.appendNew(Fields.user, .string(ASCII.lowercased(u))); return }
        }
    }

    static func isFailure(_ e: Event, _ rule: ActivityRule) -> Bool {
        if rule.successes.contains(where: { $0.test(e) }) { return false }
        return rule.failures.contains(where: { $0.test(e) })
    }

    /// The fields `finish` may write (checked against the field catalog when the parse engine loads).
    public static let writes: [Field] = [Fields.direction, Fields.user, Fields.outcome, Fields.emailDomain, Fields.destDomain, Fields.senderDomain, Fields.fileExt]

    public static func stripAngle(_ s: String) -> String {
        let u = s.utf8
        var a = u.startIndex, z = u.endIndex
        while a < z, u[a] == 0x20 { a = u.index(after: a) }
        var changed = a != u.startIndex
        if a < z, u[a] == 0x3C { a = u.index(after: a); changed = true }
        if z > a, u[u.index(before: z)] == 0x3E { z = u.index(before: z); changed = true }
        return changed ? String(decoding: u[a..<z], as: UTF8.self) : s
    }

    /// `"a.docx", "b.xlsx"` (Mimecast's AttNames string), a JSON array text, or a comma list → names.
    /// An item is quoted when it starts with `"` (after spaces); its closing quote is the first `"` followed
    /// by optional spaces and then `,` or the end, so quotes inside a name are kept
    /// (`"so-called "TPS REPORTS" we need to fill.docx"` is one name with its quotes). In an unquoted item
    /// every character up to the next `,` is the name.
    public static func splitNames(_ s: String) -> [String] {
        var out: [String] = []
        var t = s
        t.withUTF8 { b in
            var start = 0, end = b.count
            while start < end, b[start] == 0x20 { start += 1 }
            while end > start, b[end - 1] == 0x20 { end -= 1 }
            if end - start >= 2, b[start] == 0x5B, b[end - 1] == 0x5D { start += 1; end -= 1 }
            func add(_ a0: Int, _ z0: Int) {
                var a = a0, z = z0
                while a < z, b[a] == 0x20 { a += 1 }
                while z > a, b[z - 1] == 0x20 { z -= 1 }
                if z > a { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[a..<z]), as: UTF8.self)) }
            }
            func closesItem(_ q: Int) -> Int? {   // offset after the `,` (or end) when the quote at q closes
                var k = q + 1
                while k < end, b[k] == 0x20 { k += 1 }
                if k == end { return end }
                return b[k] == 0x2C ? k + 1 : nil
            }
            var i = start
            while i < end {
                while i < end, b[i] == 0x20 { i += 1 }
                guard i < end else { break }
                if b[i] == 0x22 {
                    var q = i + 1
                    var next: Int?
                    while q < end {
                        if b[q] == 0x22, let n = closesItem(q) { next = n; break }
                        q += 1
                    }
                    if let next {
                        add(i + 1, q)
                        i = next
                        continue
                    }
                }
                var c = i
                while c < end, b[c] != 0x2C { c += 1 }
                add(i, c)
                i = c + 1
            }
        }
        return out
    }
}
