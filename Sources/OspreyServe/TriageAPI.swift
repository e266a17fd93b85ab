import Foundation
import Hummingbird
import NIOCore
import OspreyAnalytics
import OspreyCore
import OspreyEnrichment
import OspreyState

/// Analysts' accept / dismiss decisions on sessions: in memory, and with a state directory also in its
/// `triage` table (loaded at start, written on every decision). Thread-safe.
final class TriageBook: @unchecked Sendable {
    private let lock = NSLock()
    private var decisions: [String: TriageDecision] = [:]
    private let table: TriageTable?

    init(engine: ServeEngine) throws {
        if let store = engine.durable?.store {
            let t = try TriageTable(store: store)
            for d in try t.all() { decisions[d.session] = d }
            table = t
        } else {
            table = nil
        }
    }

    var persistent: Bool { table != nil }

    func set(_ d: TriageDecision) throws {
        try table?.save(d)
        lock.lock(); decisions[d.session] = d; lock.unlock()
    }

    func clear(session: String) throws {
        try table?.remove(session: session)
        lock.lock(); decisions[session] = nil; lock.unlock()
    }

    func get(_ session: String) -> TriageDecision? { lock.lock(); defer { lock.unlock() }; return decisions[session] }

    func all() -> [TriageDecision] {
        lock.lock(); defer { lock.unlock() }
        return decisions.values.sorted { $0.decidedMillis != $1.decidedMillis ? $0.decidedMillis < $1.decidedMillis : $0.session < $1.session }
    }
}

/// The triage endpoints behind the page: `GET /api/user`, `GET /api/pivot`, `GET|POST /api/triage`.
enum TriageAPI {
    static let maxCommentCharacters = 4000
    static let maxPivotUsers = 500
    static let maxPivotAlerts = 500

    static func register(_ secured: RouterGroup<BasicRequestContext>, engine: ServeEngine) {
        let (book, bookError): (TriageBook?, String)
        do { (book, bookError) = (try TriageBook(engine: engine), "") } catch {
            (book, bookError) = (nil, "triage table unavailable: \(error)")
            FileHandle.standardError.write(Data(("osprey serve: " + bookError + "\n").utf8))
        }
        secured.get("/api/user") { request, _ in
            guard let user = request.query("user"), !user.isEmpty else { return jsonResponse(["error": "user= required"], status: .badRequest) }
            return jsonResponse(userCard(engine, user: user, book: book))
        }
        secured.get("/api/pivot") { request, _ in
            guard let field = request.query("field"), !field.isEmpty, let value = request.query("value"), !value.isEmpty else {
                return jsonResponse(["error": "field= and value= required"], status: .badRequest)
            }
            return jsonResponse(pivot(engine, field: field, value: value))
        }
        secured.get("/api/triage") { _, _ in
            guard let book else { return jsonResponse(["error": bookError], status: .internalServerError) }
            return jsonResponse(Decisions(persistent: book.persistent, decisions: book.all().map(Decision.init)))
        }
        secured.post("/api/triage") { request, _ -> Response in
            guard let book else { return jsonResponse(["error": bookError], status: .internalServerError) }
            var request = request
            guard let body = try? await request.collectBody(upTo: 64 * 1024) else {
                return jsonResponse(["error": "body over 65536 bytes"], status: .contentTooLarge)
            }
            let triage: TriageRequest
            switch TriageRequest.read(Data(body.readableBytesView)) {
            case .success(let r): triage = r
            case .failure(let problem): return jsonResponse(["error": problem.message], status: .badRequest)
            }
            let (session, decision, comment) = (triage.session, triage.decision, triage.comment)
            guard let user = sessionUser(engine, session: session) else {
                return jsonResponse(["error": "unknown session"], status: .notFound)
            }
            do {
                if decision == "reopen" {
                    try book.clear(session: session)
                    return jsonResponse(["session": session, "user": user, "decision": "reopen"])
                }
                let d = TriageDecision(session: session, user: user, decision: decision, comment: comment,
                                       decidedMillis: Int64(Date().timeIntervalSince1970 * 1000))
                try book.set(d)
                return jsonResponse(Decision(d))
            } catch {
                return jsonResponse(["error": "could not store the decision: \(error)"], status: .internalServerError)
            }
        }
    }

    static func iso(_ millis: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// A decision as the API shows it (`decided`: ISO 8601 wall-clock time).
    struct Decision: Encodable {
        var session, user, decision, comment, decided: String
        init(_ d: TriageDecision) {
            session = d.session; user = d.user; decision = d.decision; comment = d.comment; decided = TriageAPI.iso(d.decidedMillis)
        }
    }

    struct Decisions: Encodable { var persistent: Bool; var decisions: [Decision] }

    /// The body of `POST /api/triage`: `{session, decision, comment}` (comment optional).
    struct TriageRequest: Decodable {
        var session: String
        var decision: String
        var comment: String

        enum CodingKeys: String, CodingKey { case session, decision, comment }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            session = try c.decode(String.self, forKey: .session)
            decision = try c.decode(String.self, forKey: .decision)
            // Present means a string: `null` or a number is an error, not an empty comment.
            comment = c.contains(.comment) ? try c.decode(String.self, forKey: .comment) : ""
        }

        /// Why a body is refused (the 400 answer's `error`).
        struct Problem: Error { var message: String }

        /// The request in `body`, checked (session length, decision word, comment length), or the problem
        /// naming the first key that is wrong.
        static func read(_ body: Data) -> Result<TriageRequest, Problem> {
            let r: TriageRequest
            do {
                r = try JSONDecoder().decode(TriageRequest.self, from: body)
            } catch let DecodingError.keyNotFound(key, _) {
                return .failure(problem(key.stringValue))
            } catch let DecodingError.typeMismatch(_, c) {
                return .failure(problem(c.codingPath.first?.stringValue))
            } catch let DecodingError.valueNotFound(_, c) {
                return .failure(problem(c.codingPath.first?.stringValue))
            } catch {
                return .failure(problem(nil))
            }
            guard !r.session.isEmpty, r.session.count <= 512 else { return .failure(problem("session")) }
            guard ["accept", "dismiss", "reopen"].contains(r.decision) else { return .failure(problem("decision")) }
            guard r.comment.count <= maxCommentCharacters else {
                return .failure(Problem(message: "comment over \(maxCommentCharacters) characters"))
            }
            return .success(r)
        }

        private static func problem(_ key: String?) -> Problem {
            switch key {
            case "session": return Problem(message: "session must be a non-empty string of at most 512 characters")
            case "decision": return Problem(message: "decision must be accept, dismiss or reopen")
            case "comment": return Problem(message: "comment must be a string")
            default: return Problem(message: "body must be a JSON object {session, decision, comment}")
            }
        }
    }

    /// The user of a session the server knows (in the alert index or open).
    static func sessionUser(_ engine: ServeEngine, session: String) -> String? {
        if let r = engine.index.forSession(session).first { return r.user }
        return engine.read { $0.analytics.openSessions }.first { $0.session == session }?.user
    }

    /// `GET /api/user`: the context's record of the user (absent keys for an unknown user) and their risk
    /// over time.
    struct UserCard: Encodable {
        struct Session: Encodable {
            var session, start, end: String
            var score: Int
            var notable, open: Bool
            var rules: [String]
            var triage: String? = nil
        }
        struct Day: Encodable {
            var day: String
            var maxScore, totalScore, sessions, notable: Int
            enum CodingKeys: String, CodingKey { case day, maxScore = "max_score", totalScore = "total_score", sessions, notable }
        }
        var user: String
        var known: Bool
        var id, displayName: String?
        var aliases: [String]?
        var department, title, manager, managerName, peerGroup: String?
        var executive, serviceAccount, privileged, deactivated: Bool?
        /// Present (null when not deactivated) for a known user.
        var deactivatedAt: Nullable<String>?
        var sessions: [Session] = []
        var days: [Day] = []

        enum CodingKeys: String, CodingKey {
            case user, known, id, displayName = "display_name", aliases, department, title, manager, managerName = "manager_name"
            case peerGroup = "peer_group", executive, serviceAccount = "service_account", privileged, deactivated
            case deactivatedAt = "deactivated_at", sessions, days
        }
    }

    /// The user's record in the context (department, title, manager, flags, peer group) and their risk over
    /// time: every session with rules (closed, from the alert index, and the open one) and a per-day roll-up.
    static func userCard(_ engine: ServeEngine, user: String, book: TriageBook?) -> UserCard {
        let (context, clock, open) = engine.read { ($0.contextStore.current, $0.analytics.clockMillis, $0.analytics.openSessions) }
        var out = UserCard(user: user, known: false)
        if let u = context.user(user) {
            let at = clock > 0 ? clock : Int64(Date().timeIntervalSince1970 * 1000)
            out.known = true
            out.id = u.id
            out.displayName = u.displayName
            out.aliases = u.aliases
            out.department = u.department
            out.title = u.title
            out.manager = u.manager
            if let m = context.user(u.manager), !u.manager.isEmpty { out.managerName = m.displayName.isEmpty ? m.id : m.displayName }
            out.peerGroup = context.attribute("peer_group", of: u.id, at: at) ?? ""
            out.executive = u.isExecutive
            out.serviceAccount = u.isServiceAccount
            out.privileged = u.isPrivileged
            out.deactivated = u.isDeactivated(at: at)
            out.deactivatedAt = Nullable(u.deactivatedAtMillis.map(iso))
        }
        // Sessions with rules, oldest first.
        var sessions: [String: UserCard.Session] = [:]
        var order: [String] = []
        for r in engine.index.forUser(user) {
            guard r.kind == "session", case .session(let s) = r.alert else { continue }
            if sessions[r.session] == nil { order.append(r.session) }
            sessions[r.session] = .init(session: r.session, start: UTCTime.format(s.startMillis), end: UTCTime.format(s.endMillis),
                                        score: r.score, notable: r.notable, open: false, rules: s.rules)
        }
        if let o = open.first(where: { $0.user == user }), o.score > 0 || !o.rules.isEmpty {
            if sessions[o.session] == nil { order.append(o.session) }
            sessions[o.session] = .init(session: o.session, start: iso(o.startMillis), end: iso(o.lastMillis), score: o.score,
                                        notable: false, open: true, rules: o.rules)
        }
        var list = order.compactMap { sessions[$0] }
        for i in list.indices { list[i].triage = book?.get(list[i].session)?.decision }
        list.sort { $0.start < $1.start }
        // Per UTC day (of the session's start): highest and summed score, sessions, notable sessions.
        var days: [String: (max: Int, total: Int, sessions: Int, notable: Int)] = [:]
        for s in list {
            let day = String(s.start.prefix(10))
            guard day.count == 10 else { continue }
            var d = days[day] ?? (0, 0, 0, 0)
            d.max = max(d.max, s.score)
            let (t, o) = d.total.addingReportingOverflow(s.score)
            d.total = o ? Int.max : t
            d.sessions += 1
            if s.notable { d.notable += 1 }
            days[day] = d
        }
        out.sessions = list
        out.days = days.sorted { $0.key < $1.key }.map {
            .init(day: $0.key, maxScore: $0.value.max, totalScore: $0.value.total, sessions: $0.value.sessions, notable: $0.value.notable)
        }
        return out
    }

    // MARK: - pivot

    /// What a pivot field matches: an event field by exact name, or a kind (`ip`, `domain`, `file`) that
    /// covers every field of that kind (IP fields `*_ip`/`ip`; domain fields `*domain` and the domain of any
    /// address field; file fields: file name / attachment name fields, `email_` prefixed or not, lists split on `,` `;` `|`).
    enum PivotKind {
        case ip, domain, file, exact(String)

        init(_ field: String) {
            switch field.lowercased() {
            case "ip", "src_ip", "dest_ip", "dst_ip", "ip_address": self = .ip
            case "domain", "sender_domain", "recipient_domain", "from_domain", "to_domain": self = .domain
            case "file", "file_name", "filename", "attachment", "attachments", "attachment_names", "email_attachment", "email_attachments": self = .file
            default: self = .exact(field)
            }
        }

        var name: String {
            switch self { case .ip: return "ip"; case .domain: return "domain"; case .file: return "file"; case .exact(let f): return f }
        }

        static func isIPField(_ n: String) -> Bool { n == "ip" || n.hasSuffix("_ip") || n == "ip_address" }
        static let fileFields: Set<String> = ["file", "file_name", "filename", "attachment", "attachments", "attachment_name",
                                              "attachment_names"]
        static func isFileField(_ name: String) -> Bool {
            fileFields.contains(name.hasPrefix("email_") ? String(name.dropFirst(6)) : name)
        }

        /// True when field `n` with text `v` matches `value` (lowercased).
        func matches(field n: String, text v: String, value: String) -> Bool {
            switch self {
            case .ip:
                return PivotKind.isIPField(n) && v.lowercased() == value
            case .domain:
                let t = v.lowercased()
                if n.hasSuffix("domain") { return t == value || t.hasSuffix("." + value) }
                guard let at = t.lastIndex(of: "@") else { return false }
                var d = t[t.index(after: at)...]
                while let last = d.last, last == ">" || last == " " { d = d.dropLast() }
                return d == value || d.hasSuffix("." + value)
            case .file:
                guard PivotKind.isFileField(n) else { return false }
                return v.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "|" })
                    .contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == value }
            case .exact(let f):
                return n == f && v.lowercased() == value
            }
        }

        /// True when an evidence string matches (the field name is not known there).
        func matchesEvidence(_ s: String, value: String) -> Bool {
            let t = s.lowercased()
            switch self {
            case .domain:
                if t == value || t.hasSuffix("." + value) || t.hasSuffix("@" + value) { return true }
                return false
            case .file:
                return t == value || t.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "|" })
                    .contains { $0.trimmingCharacters(in: .whitespaces) == value }
            default:
                return t == value
            }
        }
    }

    /// The strings of an evidence value, at any depth (bounded).
    static func strings(in v: JSONValue, into out: inout [String], depth: Int = 0) {
        guard depth < 16, out.count < 10_000 else { return }
        switch v {
        case .string(let s): out.append(s)
        case .array(let a): for x in a { strings(in: x, into: &out, depth: depth + 1) }
        case .object(let kv): for (_, x) in kv { strings(in: x, into: &out, depth: depth + 1) }
        default: break
        }
    }

    /// `GET /api/pivot`: who touched a value, and the rule triggers that hold it.
    struct Pivot: Encodable {
        struct User: Encodable {
            var user: String
            var events: Int
            var first, last: Nullable<String>
            var fields: [String]
            var alerts: Int
        }
        struct Alert: Encodable { var user, session, rule, name, time: String; var score: Int }
        var field, kind, value: String
        var users: [User]
        var userCount: Int
        var alerts: [Alert]
        var alertCount: Int
        var eventsScanned: Int
        enum CodingKeys: String, CodingKey {
            case field, kind, value, users, userCount = "user_count", alerts, alertCount = "alert_count", eventsScanned = "events_scanned"
        }
    }

    /// Everyone who touched a value: users whose kept events carry it (the in-memory event log), and rule
    /// triggers whose evidence holds it (the alert index).
    static func pivot(_ engine: ServeEngine, field: String, value raw: String) -> Pivot {
        let kind = PivotKind(field)
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        var users: [String: (events: Int, first: Int64, last: Int64, fields: Set<String>)] = [:]
        var scanned = 0
        for (user, entries) in engine.events.snapshot() {
            for e in entries {
                scanned += 1
                var hit = false
                for (n, v) in e.fields where kind.matches(field: n, text: v, value: value) {
                    var u = users[user] ?? (0, e.timeMillis, e.timeMillis, [])
                    u.fields.insert(n)
                    users[user] = u
                    hit = true
                }
                if hit, var u = users[user] {
                    u.events += 1; u.first = min(u.first, e.timeMillis); u.last = max(u.last, e.timeMillis)
                    users[user] = u
                }
            }
        }
        var alerts: [Pivot.Alert] = []
        var alertUsers: [String: Int] = [:]
        var alertCount = 0
        for r in engine.index.all() where r.kind == "rule" && r.line.range(of: raw.trimmingCharacters(in: .whitespaces), options: .caseInsensitive) != nil {
            guard case .rule(let t) = r.alert else { continue }
            var ss: [String] = []
            strings(in: t.evidence, into: &ss)
            guard ss.contains(where: { kind.matchesEvidence($0, value: value) }) else { continue }
            alertCount += 1
            alertUsers[r.user, default: 0] += 1
            if alerts.count < maxPivotAlerts {
                alerts.append(.init(user: r.user, session: r.session, rule: r.rule ?? "", name: t.name,
                                    time: UTCTime.format(t.timeMillis), score: r.score))
            }
        }
        alerts.sort { $0.time > $1.time }
        let names = Set(users.keys).union(alertUsers.keys)
        let rows: [Pivot.User] = names.map { n in
            let u = users[n]
            return .init(user: n, events: u?.events ?? 0, first: Nullable(u.map { iso($0.first) }), last: Nullable(u.map { iso($0.last) }),
                         fields: (u?.fields ?? []).sorted(), alerts: alertUsers[n] ?? 0)
        }.sorted {
            let a = $0.events + $0.alerts, b = $1.events + $1.alerts
            return a != b ? a > b : $0.user < $1.user
        }
        return .init(field: field, kind: kind.name, value: raw, users: Array(rows.prefix(maxPivotUsers)), userCount: rows.count,
                     alerts: alerts, alertCount: alertCount, eventsScanned: scanned)
    }
}
