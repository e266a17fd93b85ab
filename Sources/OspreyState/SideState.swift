import Foundation
import GRDB

/// Rows other components keep in the state store and commit in the checkpoint's own transaction
/// (the Mimecast collector's positions: continuation tokens, batch files done, last event time per stream).
/// Table `side_state(owner, key, value)`; a participant's rows are written inside `StateStore.save`, so
/// they always describe exactly the input the committed analytics state holds.
public protocol CommitParticipant: AnyObject {
    /// Owner name (one per participant), e.g. `collect`.
    var owner: String { get }
    /// Rows to write (key, value): every row this process changed, each time (so a failed transaction
    /// loses nothing: the next checkpoint writes them again).
    func rowsToCommit() -> [(String, [UInt8])]
}

extension StateStore {
    static let sideTableSQL = "CREATE TABLE IF NOT EXISTS side_state(owner TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY(owner, key))"

    /// Registers a participant: its rows go into every later checkpoint transaction.
    public func addParticipant(_ p: CommitParticipant) {
        participantsLock.lock(); participants.append(p); participantsLock.unlock()
    }

    /// The committed rows of `owner`.
    public func sideState(owner: String) throws -> [String: [UInt8]] {
        try db.write { db in
            try db.execute(sql: StateStore.sideTableSQL)
            var out: [String: [UInt8]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT key, value FROM side_state WHERE owner = ?", arguments: [owner]) {
                let d: Data = r[1]
                out[r[0]] = [UInt8](d)
            }
            return out
        }
    }

    /// Called inside the checkpoint transaction (Store.swift `save`).
    func writeParticipants(_ db: Database) throws {
        participantsLock.lock(); let ps = participants; participantsLock.unlock()
        guard !ps.isEmpty else { return }
        try db.execute(sql: StateStore.sideTableSQL)
        for p in ps {
            for (k, v) in p.rowsToCommit() {
                try db.execute(sql: "INSERT OR REPLACE INTO side_state VALUES (?, ?, ?)", arguments: [p.owner, k, Data(v)])
            }
        }
    }
}
