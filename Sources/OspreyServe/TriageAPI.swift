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
            return jsonResponse(["persistent": book.persistent, "decisions": book.all().map(json)])
        }
        secured.post("/api/triage") { request, _ -> Response in
            guard let book else { return jsonResponse(["error": bookError], status: .internalServerError) }
            var request = request
            guard let body = try? await request.collectBody(upTo: 64 * 1024) else {
                return jsonResponse(["error": "body over 65536 bytes"], status: .contentTooLarge)
            }
            let data = Data(body.readableBytesView)
            guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                return jsonResponse(["error": "body must be a JSON object {session, decision, comment}"], status: .badRequest)
            }
            guard let session = o["session"] as? String, !session.isEmpty, session.count <= 512 else {
                return jsonResponse(["error": "session must be a non-empty string"], status: .badRequest)
            }
            guard let decision = o["decision"] as? String, ["accept", "dismiss", "reopen"].contains(decision) else {
                return jsonResponse(["error": "decision must be accept, dismiss or reopen"], status: .badRequest)
            }
            let comment = o["comment"] as? String ?? ""
            if o["comment"] != nil, !(o["comment"] is String) {
                return jsonResponse(["error": "comment must be a string"], status: .badRequest)
            }
            guard comment.count <= maxCommentCharacters else {
                return jsonResponse(["error": "comment over \(maxCommentCharacters) characters"], status: .badRequest)
            }
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
                return jsonResponse(json(d))
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

    static func json(_ d: TriageDecision) -> [String: Any] {
        ["session": d.session, "user": d.user, "decision": d.decision, "comment": d.comment, "decided": iso(d.decidedMillis)]
    }

    /// The user of a session the server knows (in the alert index or open).
    static func sessionUser(_ engine: ServeEngine, session: String) -> String? {
        if let r = engine.index.forSession(session).first { return r.user }
        return engine.read { $0.analytics.openSessions }.first { $0.session == session }?.user
    }

    /// The user's record in the context (department, title, manager, flags, peer group) and their risk over
    /// time: every session with rules (closed, from the alert index, and the open one) and a per-day roll-up.
    static func userCard(_ engine: ServeEngine, user: String, book: TriageBook?) -> [String: Any] {
        let (context, clock, open) = engine.read { ($0.contextStore.current, $0.analytics.clockMillis, $0.analytics.openSessions) }
        var out: [String: Any] = ["user": user]
        if let u = context.user(user) {
            let at = clock > 0 ? clock : Int64(Date().timeIntervalSince1970 * 1000)
            out["known"] = true
            out["id"] = u.id
            out["display_name"] = u.displayName
            out["aliases"] = u.aliases
            out["department"] = u.department
            out["title"] = u.title
            out["manager"] = u.manager
            if let m = context.user(u.manager), !u.manager.isEmpty { out["manager_name"] = m.displayName.isEmpty ? m.id : m.displayName }
            out["peer_group"] = context.attribute("peer_group", of: u.id, at: at) ?? ""
            out["executive"] = u.isExecutive
            out["service_account"] = u.isServiceAccount
            out["privileged"] = u.isPrivileged
            out["deactivated"] = u.isDeactivated(at: at)
            out["deactivated_at"] = u.deactivatedAtMillis.map { iso($0) as Any } ?? NSNull()
        } else {
            out["known"] = false
        }
        // Sessions with rules, oldest first.
        var sessions: [String: [String: Any]] = [:]
        var order: [String] = []
        var firstRule: [String: Int64] = [:]
        for r in engine.index.forUser(user) {
            if r.kind == "rule" {
                firstRule[r.session] = min(firstRule[r.session] ?? r.timeMillis, r.timeMillis)
                continue
            }
            guard r.kind == "session", case .session(let s) = r.alert else { continue }
            if sessions[r.session] == nil { order.append(r.session) }
            sessions[r.session] = ["session": r.session, "start": UTCTime.format(s.startMillis), "end": UTCTime.format(s.endMillis),
                                   "score": r.score, "notable": r.notable, "open": false, "rules": s.rules]
        }
        if let o = open.first(where: { $0.user == user }), o.score > 0 || !o.rules.isEmpty {
            if sessions[o.session] == nil { order.append(o.session) }
            sessions[o.session] = ["session": o.session, "start": iso(o.startMillis), "end": iso(o.lastMillis), "score": o.score,
                                   "notable": false, "open": true, "rules": o.rules]
        }
        var list: [[String: Any]] = order.compactMap { sessions[$0] }
        for i in list.indices {
            if let s = list[i]["session"] as? String, let d = book?.get(s) { list[i]["triage"] = d.decision }
        }
        list.sort { ($0["start"] as? String ?? "") < ($1["start"] as? String ?? "") }
        // Per UTC day (of the session's start): highest and summed score, sessions, notable sessions.
        var days: [String: (max: Int, total: Int, sessions: Int, notable: Int)] = [:]
        for s in list {
            let day = String((s["start"] as? String ?? "").prefix(10))
            guard day.count == 10 else { continue }
            let score = s["score"] as? Int ?? 0
            var d = days[day] ?? (0, 0, 0, 0)
            d.max = max(d.max, score)
            let (t, o) = d.total.addingReportingOverflow(score)
            d.total = o ? Int.max : t
            d.sessions += 1
            if s["notable"] as? Bool == true { d.notable += 1 }
            days[day] = d
        }
        out["sessions"] = list
        out["days"] = days.sorted { $0.key < $1.key }.map {
            ["day": $0.key, "max_score": $0.value.max, "total_score": $0.value.total, "sessions": $0.value.sessions,
             "notable": $0.value.notable] as [String: Any]
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

    /// Everyone who touched a value: users whose kept events carry it (the in-memory event log), and rule
    /// triggers whose evidence holds it (the alert index).
    static func pivot(_ engine: ServeEngine, field: String, value raw: String) -> [String: Any] {
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
        var alerts: [[String: Any]] = []
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
                alerts.append(["user": r.user, "session": r.session, "rule": r.rule ?? "", "name": t.name,
                               "time": UTCTime.format(t.timeMillis), "score": r.score])
            }
        }
        alerts.sort { ($0["time"] as? String ?? "") > ($1["time"] as? String ?? "") }
        let names = Set(users.keys).union(alertUsers.keys)
        let rows: [[String: Any]] = names.map { n in
            let u = users[n]
            return ["user": n, "events": u?.events ?? 0, "first": u.map { iso($0.first) as Any } ?? NSNull(),
                    "last": u.map { iso($0.last) as Any } ?? NSNull(), "fields": (u?.fields ?? []).sorted(),
                    "alerts": alertUsers[n] ?? 0]
        }.sorted {
            let a = ($0["events"] as? Int ?? 0) + ($0["alerts"] as? Int ?? 0), b = ($1["events"] as? Int ?? 0) + ($1["alerts"] as? Int ?? 0)
            return a != b ? a > b : ($0["user"] as? String ?? "") < ($1["user"] as? String ?? "")
        }
        return ["field": field, "kind": kind.name, "value": raw, "users": Array(rows.prefix(maxPivotUsers)), "user_count": rows.count,
                "alerts": alerts, "alert_count": alertCount, "events_scanned": scanned]
    }
}
