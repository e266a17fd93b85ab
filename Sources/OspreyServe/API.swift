import Foundation
import Hummingbird
import NIOCore
import OspreyAnalytics
import OspreyCore
import OspreyParsing

/// The bodies of the REST API's answers, by endpoint (keys as docs/architecture.md and the page use them).
enum APIResponse {
    struct Reload: Encodable { var reloaded: Bool; var error: String? = nil }

    struct Ingested: Encodable { var accepted: Int; var error: String? = nil }

    struct Health: Encodable {
        var status: String
        var pendingRecords: Int
        var heldEvents: Int
        var alerts: Int
        var state: Nullable<String>
        enum CodingKeys: String, CodingKey { case status, pendingRecords = "pending_records", heldEvents = "held_events", alerts, state }
    }

    struct Content: Encodable {
        struct Model: Encodable { var id, name, kind, scope, feature: String }
        struct Rule: Encodable {
            var id, name, kind: String
            var score: Int
            var model: Nullable<String>
            var mitre: [String]
            var useCases: [String]
            enum CodingKeys: String, CodingKey { case id, name, kind, score, model, mitre, useCases = "use_cases" }
        }
        var models: [Model]
        var rules: [Rule]
    }

    struct Notable: Encodable { var sessions: [AnalyticsOutput]; var users: [User] }

    /// A user with alerts: the highest session score, notable sessions, rule triggers, sessions.
    struct User: Encodable {
        var user: String
        var maxScore, notableSessions, ruleTriggers, sessions: Int
        enum CodingKeys: String, CodingKey {
            case user, maxScore = "max_score", notableSessions = "notable_sessions", ruleTriggers = "rule_triggers", sessions
        }
    }

    struct UserSessions: Encodable {
        /// A session with its rule triggers; the open session without rules carries its running score and events.
        struct Session: Encodable {
            var session: String
            var summary: Nullable<AnalyticsOutput>
            var open: Bool
            var rules: [AnalyticsOutput]
            var score: Int? = nil
            var events: Int? = nil
        }
        var user: String
        var sessions: [Session]
    }

    struct Timeline: Encodable {
        struct Event: Encodable {
            var time, activityType, parser: String
            var fields: [String: String]
            enum CodingKeys: String, CodingKey { case time, activityType = "activity_type", parser, fields }
        }
        var session, user: String
        var summary: Nullable<AnalyticsOutput>
        var timeline: [AnalyticsOutput]
        var events: [Event]
    }

    struct Baselines: Encodable {
        struct Baseline: Encodable {
            struct Value: Encodable { var label: String; var count: Int }
            var model, name, kind: String
            var observations, distinct: Int
            var converged: Bool
            var values: [Value]
        }
        var user: String
        var baselines: [Baseline]
    }
}

enum API {
    /// Users with alerts: the highest session score, notable sessions, rule triggers.
    static func users(_ engine: ServeEngine, notableOnly: Bool) -> [APIResponse.User] {
        // Open sessions count too: a live `notable` record, and the open session's running score.
        var byUser: [String: (score: Int, notable: Set<String>, rules: Int, sessions: Set<String>)] = [:]
        for r in engine.index.all() {
            var u = byUser[r.user] ?? (0, [], 0, [])
            if r.kind == "session" || r.kind == "notable" {
                u.score = max(u.score, r.score); if r.notable { u.notable.insert(r.session) }
            } else { u.rules += 1 }
            u.sessions.insert(r.session)
            byUser[r.user] = u
        }
        for o in engine.read({ $0.analytics.openSessions }) {
            if let u = byUser[o.user] { byUser[o.user]?.score = max(u.score, o.score) }
        }
        return byUser.filter { !notableOnly || !$0.value.notable.isEmpty }
            .sorted { $0.value.score != $1.value.score ? $0.value.score > $1.value.score : $0.key < $1.key }
            .map { .init(user: $0.key, maxScore: $0.value.score, notableSessions: $0.value.notable.count,
                         ruleTriggers: $0.value.rules, sessions: $0.value.sessions.count) }
    }

    /// A user's sessions (closed with rules, and the open one), each with its rule triggers (reason, evidence).
    static func userSessions(_ engine: ServeEngine, user: String) -> APIResponse.UserSessions {
        var order: [String] = []
        var rules: [String: [AnalyticsOutput]] = [:]
        var summary: [String: AnalyticsOutput] = [:]
        for r in engine.index.forUser(user) {
            if rules[r.session] == nil { order.append(r.session); rules[r.session] = [] }
            if r.kind == "rule" { rules[r.session, default: []].append(r.alert) } else { summary[r.session] = r.alert }
        }
        let open = engine.read { $0.analytics.openSessions }.first { $0.user == user }
        var sessions: [APIResponse.UserSessions.Session] = order.map { s in
            .init(session: s, summary: Nullable(summary[s]), open: open?.session == s, rules: rules[s] ?? [])
        }
        if let open, rules[open.session] == nil {
            sessions.append(.init(session: open.session, summary: Nullable(nil), open: true, rules: [], score: open.score, events: open.events))
        }
        return .init(user: user, sessions: sessions)
    }

    /// A session's timeline: its rule triggers in event-time order with reason and evidence, its summary, and
    /// the user's events within the session's span that the in-memory event log still holds (EventLog).
    static func timeline(_ engine: ServeEngine, session: String) -> APIResponse.Timeline {
        let recs = engine.index.forSession(session)
        let rules = recs.filter { $0.kind == "rule" }.sorted { $0.timeMillis != $1.timeMillis ? $0.timeMillis < $1.timeMillis : $0.seq < $1.seq }
        let summary = recs.first { $0.kind == "session" }
        // The session's span: from its summary when closed, else from the engine's open sessions.
        var user = recs.first?.user ?? ""
        var from: Int64 = 0, to: Int64 = 0
        if let s = summary, case .session(let closed) = s.alert {
            from = closed.startMillis; to = closed.endMillis
        } else if let open = engine.read({ $0.analytics.openSessions }).first(where: { $0.session == session }) {
            user = open.user; from = open.startMillis; to = open.lastMillis
        }
        let events = user.isEmpty ? [] : engine.events.events(user: user, from: from, to: to)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .init(session: session, user: user, summary: Nullable(summary?.alert), timeline: rules.map(\.alert),
                     events: events.map { e in
                         .init(time: f.string(from: Date(timeIntervalSince1970: Double(e.timeMillis) / 1000)), activityType: e.activity,
                               parser: e.parser, fields: Dictionary(e.fields, uniquingKeysWith: { a, _ in a }))
                     })
    }
}

enum Metrics {
    static func render(engine: ServeEngine, started: Date) -> String {
        let c = engine.countersSnapshot
        let (p, a, held, clock) = engine.read { ($0.parseStats, $0.analytics.stats, $0.heldEvents, $0.analytics.clockMillis) }
        let (bounded, identities, strings) = engine.read { ($0.maintenance, $0.analytics.trackedIdentities, $0.analytics.internedStrings) }
        var s = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, v) in samples { s += name + labels + " " + (v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)) + "\n" }
        }
        metric("osprey_records_in_total", "counter", "Records received, by transport.",
               c.recordsIn.sorted { $0.key < $1.key }.map { ("{transport=\"\($0.key)\"}", Double($0.value)) })
        metric("osprey_lines_total", "counter", "Input lines processed by the pipeline.", [("", Double(p.lines))])
        metric("osprey_events_parsed_total", "counter", "Records parsed into events.", [("", Double(p.events))])
        metric("osprey_records_rejected_total", "counter", "Records rejected, by reason.",
               RejectReason.allCases.map { ("{reason=\"\($0.rawValue)\"}", Double(p.rejectsByReason[$0] ?? 0)) })
        metric("osprey_records_dropped_total", "counter", "UDP datagrams dropped while the pipeline was full.", [("", Double(c.droppedOverload))])
        metric("osprey_rules_fired_total", "counter", "Rule triggers emitted, by rule.",
               engine.fired.snapshot.sorted { $0.key < $1.key }.map { ("{rule=\"\(label($0.key))\"}", Double($0.value)) })
        metric("osprey_sessions_emitted_total", "counter", "Closed sessions with rules.", [("", Double(a.sessionsEmitted))])
        metric("osprey_notable_sessions_total", "counter", "Closed sessions at or above the notable score.", [("", Double(a.notableSessions))])
        metric("osprey_pending_records", "gauge", "Records accepted and not yet processed.", [("", Double(engine.pendingRecords))])
        metric("osprey_held_events", "gauge", "Events held by the reorder buffer and the assembler.", [("", Double(held))])
        // Bounded state (README "Durable state"): what maintenance released since the process started.
        metric("osprey_identities_evicted_total", "counter", "Identities not in users.csv dropped beyond the cap (least recently seen first).",
               [("", Double(bounded.identitiesEvicted))])
        metric("osprey_sessions_dropped_total", "counter", "Open sessions dropped with evicted identities (no output).", [("", Double(bounded.sessionsDropped))])
        metric("osprey_histograms_freed_total", "counter", "Model histograms freed after their whole aging window passed.", [("", Double(bounded.histogramsFreed))])
        metric("osprey_interner_compactions_total", "counter", "Interner compactions (strings nothing refers to dropped).", [("", Double(bounded.compactions))])
        metric("osprey_interned_strings_dropped_total", "counter", "Interned strings dropped by compaction.", [("", Double(bounded.stringsCompacted))])
        metric("osprey_tracked_identities", "gauge", "Identities with a last-seen record in the analytics state.", [("", Double(identities))])
        metric("osprey_interned_strings", "gauge", "Strings interned by the analytics state.", [("", Double(strings))])
        let lag = clock > 0 ? Date().timeIntervalSince1970 - Double(clock) / 1000 : 0
        metric("osprey_event_lag_seconds", "gauge", "Wall clock minus the newest event time processed.", [("", lag)])
        let tcp = engine.tcpLimiter.snapshot, http = engine.httpLimiter.snapshot
        metric("osprey_connections_open", "gauge", "Open connections, by listener.",
               [("{listener=\"tcp\"}", Double(tcp.open)), ("{listener=\"http\"}", Double(http.open))])
        metric("osprey_connections_total", "counter", "Syslog TCP connections accepted.", [("", Double(c.connectionsTotal))])
        metric("osprey_connections_refused_total", "counter", "Connections refused, by listener and reason (per_source: max_connections_per_source; full: max_connections with no stale connection to evict).",
               [("{listener=\"tcp\",reason=\"per_source\"}", Double(tcp.refusedPerSource)), ("{listener=\"tcp\",reason=\"full\"}", Double(tcp.refusedFull)),
                ("{listener=\"http\",reason=\"per_source\"}", Double(http.refusedPerSource)), ("{listener=\"http\",reason=\"full\"}", Double(http.refusedFull))])
        metric("osprey_connections_evicted_total", "counter", "Connections closed to admit a new one at max_connections (the one longest without progress).",
               [("{listener=\"tcp\"}", Double(tcp.evicted)), ("{listener=\"http\"}", Double(http.evicted))])
        metric("osprey_connections_timed_out_total", "counter", "Syslog TCP connections closed by frame_timeout_seconds or idle_seconds.", [("", Double(c.connectionsTimedOut))])
        metric("osprey_http_batches_total", "counter", "POST /ingest batches.", [("", Double(c.httpBatches))])
        let sinks = engine.sinks.stats
        metric("osprey_output_delivered_total", "counter", "Alerts delivered, by output.", sinks.map { ("{output=\"\($0.name)\"}", Double($0.delivered)) })
        metric("osprey_output_dropped_total", "counter", "Alerts dropped (output backlog full), by output.", sinks.map { ("{output=\"\($0.name)\"}", Double($0.dropped)) })
        metric("osprey_output_failures_total", "counter", "Failed deliveries, by output.", sinks.map { ("{output=\"\($0.name)\"}", Double($0.failures)) })
        metric("osprey_resident_bytes", "gauge", "Resident memory of the process.", [("", Double(residentBytes()))])
        metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
               [("", started.timeIntervalSince1970.rounded())])
        metric("osprey_build_info", "gauge", "Build information (value 1).", [("{version=\"\(label(OspreyVersion.string))\"}", 1)])
        s += MimecastInput.metrics(engine.mimecastInputs)
        return s
    }

    /// A Prometheus label value: backslash, quote and newline escaped.
    static func label(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let parts = s.split(separator: " ")
        guard parts.count > 1, let pages = Int(parts[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
