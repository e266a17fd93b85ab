import Foundation
import GRDB
import OspreyAnalytics
import OspreyCore
import OspreyParsing
import OspreyPipeline

/// The state directory: one SQLite database, `DIR/osprey.sqlite` (WAL mode), written only inside
/// transactions at checkpoints. Tables:
/// - `meta(key, value)`: schema version, content signature.
/// - `checkpoint(id=1, seq, records, created, analytics, parse_stats)`: the analytics engine's state
///   (models, open sessions, user history; binary, see AnalyticsEngine.snapshot) and counters.
/// - `inputs(source, records, lines, bytes)`: how much of each input was consumed at the checkpoint.
/// - `alerts(seq, kind, user, session, time_ms, rule, score, notable, line)`: every output emitted, in order.
/// - `deliveries(sink, seq)`: the last alert seq each output sink has delivered.
public final class StateStore: @unchecked Sendable {
    public let directory: String
    public let db: DatabaseQueue
    // Side state (SideState.swift): rows of other components committed with each checkpoint.
    var participants: [CommitParticipant] = []
    let participantsLock = NSLock()

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=FULL")
        }
        db = try DatabaseQueue(path: directory + "/osprey.sqlite", configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE checkpoint(id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL,
                    records INTEGER NOT NULL, created TEXT NOT NULL, analytics BLOB NOT NULL, parse_stats TEXT NOT NULL);
                CREATE TABLE inputs(source TEXT PRIMARY KEY, records INTEGER NOT NULL, lines INTEGER NOT NULL,
                    bytes INTEGER NOT NULL);
                CREATE TABLE alerts(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL,
                    session TEXT NOT NULL, time_ms INTEGER NOT NULL, rule TEXT, score INTEGER NOT NULL,
                    notable INTEGER NOT NULL, line TEXT NOT NULL);
                CREATE INDEX alerts_user ON alerts(user, seq);
                CREATE INDEX alerts_session ON alerts(session, seq);
                CREATE TABLE deliveries(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                """)
        }
        try migrator.migrate(db)
    }

    public struct Checkpoint {
        public var seq: Int
        public var records: Int
        public var analytics: [UInt8]
        public var parseStats: ParseStats
        public var inputs: [String: InputPosition]
    }

    public struct InputPosition: Sendable, Equatable {
        public var records = 0, lines = 0, bytes = 0
        public init() {}
    }

    public func loadCheckpoint() throws -> Checkpoint? {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, records, analytics, parse_stats FROM checkpoint WHERE id = 1")
            else { return nil }
            var inputs: [String: InputPosition] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT source, records, lines, bytes FROM inputs") {
                var p = InputPosition(); p.records = r[1]; p.lines = r[2]; p.bytes = r[3]
                inputs[r[0]] = p
            }
            let blob: Data = row[2]
            return Checkpoint(seq: row[0], records: row[1], analytics: [UInt8](blob),
                              parseStats: StateStore.decodeStats(row[3]), inputs: inputs)
        }
    }

    /// One checkpoint: state, positions and the alerts emitted since the previous one, atomically.
    public func save(seq: Int, records: Int, analytics: [UInt8], parseStats: ParseStats,
                     inputs: [String: InputPosition], newAlerts: [(seq: Int, output: AnalyticsOutput, line: String)]) throws {
        try db.write { db in
            for a in newAlerts {
                switch a.output {
                case .rule(let r):
                    try db.execute(sql: "INSERT INTO alerts VALUES (?, 'rule', ?, ?, ?, ?, ?, 0, ?)",
                                   arguments: [a.seq, r.user, r.session, r.timeMillis, r.rule, r.score, a.line])
                case .session(let s):
                    try db.execute(sql: "INSERT INTO alerts VALUES (?, 'session', ?, ?, ?, NULL, ?, ?, ?)",
                                   arguments: [a.seq, s.user, s.session, s.endMillis, s.score, s.notable ? 1 : 0, a.line])
                }
            }
            for (source, p) in inputs {
                try db.execute(sql: "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?)",
                               arguments: [source, p.records, p.lines, p.bytes])
            }
            try writeParticipants(db)  // side state (SideState.swift), same transaction
            try db.execute(sql: "INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?, ?, ?, ?)",
                           arguments: [seq, records, ISO8601DateFormatter().string(from: Date()), Data(analytics),
                                       StateStore.encodeStats(parseStats)])
        }
    }

    /// Alert lines with seq in (after, upTo], in order.
    public func alertLines(after: Int = 0, limit: Int = Int.max) throws -> [(seq: Int, line: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, line FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?",
                             arguments: [after, limit]).map { ($0[0], $0[1]) }
        }
    }

    public func delivered(sink: String) throws -> Int {
        try db.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM deliveries WHERE sink = ?", arguments: [sink]) ?? 0 }
    }

    public func setDelivered(sink: String, seq: Int) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO deliveries VALUES (?, ?)", arguments: [sink, seq])
        }
    }

    static func encodeStats(_ p: ParseStats) -> String {
        var o: [String: Any] = ["lines": p.lines, "records": p.records, "events": p.events, "empty_pages": p.emptyPages]
        o["by_parser"] = p.eventsByParser
        o["rejects"] = Dictionary(uniqueKeysWithValues: p.rejectsByReason.map { ($0.key.rawValue, $0.value) })
        let d = try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
        return String(decoding: d, as: UTF8.self)
    }

    static func decodeStats(_ s: String) -> ParseStats {
        var p = ParseStats()
        guard let o = (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] else { return p }
        p.lines = o["lines"] as? Int ?? 0
        p.records = o["records"] as? Int ?? 0
        p.events = o["events"] as? Int ?? 0
        p.emptyPages = o["empty_pages"] as? Int ?? 0
        p.eventsByParser = o["by_parser"] as? [String: Int] ?? [:]
        for (k, v) in o["rejects"] as? [String: Int] ?? [:] {
            if let r = RejectReason(rawValue: k) { p.rejectsByReason[r] = v }
        }
        return p
    }
}
