import Foundation
import GRDB

/// An analyst's decision on a session (the page's accept / dismiss), as kept in the state directory.
public struct TriageDecision: Sendable, Equatable {
    public var session: String
    public var user: String
    public var decision: String      // "accept" or "dismiss"
    public var comment: String
    public var decidedMillis: Int64  // wall clock, UTC epoch ms

    public init(session: String, user: String, decision: String, comment: String, decidedMillis: Int64) {
        self.session = session; self.user = user; self.decision = decision; self.comment = comment
        self.decidedMillis = decidedMillis
    }
}

/// The triage table of the state database (`triage(session, user, decision, comment, decided_ms)`, one row per
/// session, the latest decision): created on first use, so a state directory written before it existed works
/// unchanged. Written directly (not at checkpoints): a decision is the analyst's, not derived from the input,
/// so it is durable as soon as the request returns.
public final class TriageTable: @unchecked Sendable {
    let db: DatabaseQueue

    public init(store: StateStore) throws {
        db = store.db
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS triage(session TEXT PRIMARY KEY, user TEXT NOT NULL,
                    decision TEXT NOT NULL, comment TEXT NOT NULL, decided_ms INTEGER NOT NULL)
                """)
        }
    }

    public func all() throws -> [TriageDecision] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT session, user, decision, comment, decided_ms FROM triage ORDER BY decided_ms, session").map {
                TriageDecision(session: $0[0], user: $0[1], decision: $0[2], comment: $0[3], decidedMillis: $0[4])
            }
        }
    }

    public func save(_ d: TriageDecision) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO triage VALUES (?, ?, ?, ?, ?)",
                           arguments: [d.session, d.user, d.decision, d.comment, d.decidedMillis])
        }
    }

    public func remove(session: String) throws {
        try db.write { db in try db.execute(sql: "DELETE FROM triage WHERE session = ?", arguments: [session]) }
    }
}
