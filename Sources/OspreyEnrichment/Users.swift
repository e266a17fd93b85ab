import OspreyCore

/// One person or account from `users.csv` (a class: the enricher passes it around per event).
public final class UserRecord: Sendable {
    public let id: String
    public let aliases: [String]
    public let displayName: String
    public let department: String
    public let peerGroup: String
    public let title: String
    public let manager: String
    public let isExecutive: Bool
    public let isServiceAccount: Bool
    public let isPrivileged: Bool
    /// Deactivated from this instant (UTC epoch ms) on; nil when active.
    public let deactivatedAtMillis: Int64?
    /// The user's own personal addresses (lowercased), e.g. a private gmail address.
    public let personalEmails: [String]
    /// Name tokens (lowercase letters only) from the display name and the local part of the id, for matching
    /// a recipient's local part to the user's own name.
    public let nameTokens: [String]
    /// The line in users.csv.
    public let line: Int
    /// Field values prepared once for the enricher.
    let peerGroupValue: Value, departmentValue: Value?, titleValue: Value?, managerValue: Value?
    /// Letter-only forms of the user's own name a personal address would use (see `PersonNames.localPartIsOwnName`).
    let nameForms: Set<String>

    public init(id: String, aliases: [String], displayName: String, department: String, peerGroup: String, title: String,
                manager: String, isExecutive: Bool, isServiceAccount: Bool, isPrivileged: Bool,
                deactivatedAtMillis: Int64?, personalEmails: [String], nameTokens: [String], line: Int) {
        self.id = id; self.aliases = aliases; self.displayName = displayName; self.department = department
        self.peerGroup = peerGroup; self.title = title; self.manager = manager; self.isExecutive = isExecutive
        self.isServiceAccount = isServiceAccount; self.isPrivileged = isPrivileged
        self.deactivatedAtMillis = deactivatedAtMillis; self.personalEmails = personalEmails
        self.nameTokens = nameTokens; self.line = line
        peerGroupValue = .string(peerGroup)
        departmentValue = department.isEmpty ? nil : .string(department)
        titleValue = title.isEmpty ? nil : .string(title)
        managerValue = manager.isEmpty ? nil : .string(manager)
        nameForms = PersonNames.forms(id: id, tokens: nameTokens)
    }


    public func isDeactivated(at millis: Int64) -> Bool {
        guard let d = deactivatedAtMillis else { return false }
        return millis >= d
    }
}

/// The users of the organization, by id and every alias (lowercased).
public struct UserDirectory: Sendable {
    public private(set) var users: [UserRecord] = []
    private var index: [String: Int] = [:]

    public init() {}

    public var count: Int { users.count }

    @inline(__always) public func lookup(_ key: String) -> UserRecord? {
        index[key].map { users[$0] }
    }
    @inline(__always) public func indexOf(_ key: String) -> Int? { index[key] }

    public static let columns = ["user", "aliases", "display_name", "department", "peer_group", "title", "manager",
                                 "is_executive", "is_service_account", "is_privileged", "deactivated_at", "personal_emails"]
    static let columnAliases = ["email": "user", "user_id": "user", "id": "user"]

    /// Parses users.csv: a header row naming the columns (any order; `user` required, the others optional),
    /// then one row per user. Multi-valued cells (aliases, personal_emails) separate values with `;` or spaces.
    public static func parse(_ text: String, file: String) throws -> UserDirectory {
        let rows = try CSV.parse(text, file: file)
        guard let header = rows.first else { return UserDirectory() }
        var col: [String: Int] = [:]
        for (i, raw) in header.fields.enumerated() {
            var name = raw.trimmingSpaces.lowercased()
            if i == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            name = columnAliases[name] ?? name
            guard columns.contains(name) else {
                throw ContentError(file: file, line: header.line,
                                   reason: "unknown column '\(raw)' in the header (expected: \(columns.joined(separator: ", ")))")
            }
            guard col[name] == nil else { throw ContentError(file: file, line: header.line, reason: "column '\(name)' given twice") }
            col[name] = i
        }
        guard col["user"] != nil else {
            throw ContentError(file: file, line: header.line, reason: "the header has no 'user' column (user id or email)")
        }
        var dir = UserDirectory()
        var owner: [String: Int] = [:] // key -> line that claimed it
        for row in rows.dropFirst() {
            guard row.fields.count == header.fields.count else {
                throw ContentError(file: file, line: row.line,
                                   reason: "expected \(header.fields.count) columns as in the header, found \(row.fields.count)")
            }
            func cell(_ name: String) -> String { col[name].map { row.fields[$0].trimmingSpaces } ?? "" }
            func flag(_ name: String) throws -> Bool {
                switch cell(name).lowercased() {
                case "", "false", "no", "n", "0": return false
                case "true", "yes", "y", "1", "x": return true
                case let v: throw ContentError(file: file, line: row.line, reason: "\(name): expected true/false, found '\(v)'")
                }
            }
            let id = cell("user").lowercased()
            guard !id.isEmpty else { throw ContentError(file: file, line: row.line, reason: "empty user") }
            guard !id.contains(" ") else { throw ContentError(file: file, line: row.line, reason: "user '\(id)' contains a space") }
            let aliases = multi(cell("aliases"))
            var personal = multi(cell("personal_emails"))
            for p in personal where !p.contains("@") || p.hasPrefix("@") || p.hasSuffix("@") {
                throw ContentError(file: file, line: row.line, reason: "personal_emails: '\(p)' is not an email address")
            }
            personal = Array(Set(personal)).sorted()
            var deactivated: Int64? = nil
            let d = cell("deactivated_at")
            if !d.isEmpty {
                guard let ms = parseInstant(d) else {
                    throw ContentError(file: file, line: row.line,
                                       reason: "deactivated_at: '\(d)' is not a date (YYYY-MM-DD) or ISO 8601 time")
                }
                deactivated = ms
            }
            let department = cell("department")
            let display = cell("display_name")
            let rec = UserRecord(
                id: id, aliases: aliases, displayName: display, department: department,
                peerGroup: cell("peer_group").isEmpty ? department : cell("peer_group"),
                title: cell("title"), manager: cell("manager").lowercased(),
                isExecutive: try flag("is_executive"), isServiceAccount: try flag("is_service_account"),
                isPrivileged: try flag("is_privileged"), deactivatedAtMillis: deactivated,
                personalEmails: personal, nameTokens: nameTokens(display: display, id: id), line: row.line)
            let n = dir.users.count
            for key in [id] + aliases {
                if let prev = owner[key] {
                    let what = prev == row.line ? "is given twice in this row" : "is already defined at line \(prev)"
                    throw ContentError(file: file, line: row.line, reason: "duplicate user: '\(key)' \(what)")
                }
                owner[key] = row.line
                dir.index[key] = n
            }
            dir.users.append(rec)
        }
        return dir
    }

    static func multi(_ s: String) -> [String] {
        s.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "|" || $0 == "," }).map { $0.lowercased() }.filter { !$0.isEmpty }
    }

    /// `2024-05-01` (midnight UTC) or any form UTCTime accepts.
    static func parseInstant(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        if u.count == 10, u[4] == 0x2D, u[7] == 0x2D,
           let y = Int(s.prefix(4)), let m = Int(s.dropFirst(5).prefix(2)), let d = Int(s.suffix(2)),
           (1...12).contains(m), (1...31).contains(d) {
            return Int64(UTCTime.days(year: y, month: m, day: d)) * 86_400_000
        }
        return UTCTime.parse(s)
    }

    /// Lowercase letter-only tokens of the display name (`Smith, John` → john, smith) and the id's local part.
    static func nameTokens(display: String, id: String) -> [String] {
        var tokens: [String] = []
        func add(_ s: Substring) {
            let t = String(s.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic })
            if t.count >= 2, !tokens.contains(t) { tokens.append(t) }
        }
        for w in display.split(whereSeparator: { !$0.isLetter }) { add(w) }
        let local = id.split(separator: "@").first ?? Substring(id)
        for w in local.split(whereSeparator: { $0 == "." || $0 == "_" || $0 == "-" }) { add(w) }
        return tokens
    }
}
