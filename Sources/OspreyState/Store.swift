import Foundation
import GRDB
import OspreyAnalytics
import OspreyCore
import OspreyParsing
import OspreyPipeline

/// A state directory that cannot be used as it is: what is wrong, and how to recover.
public struct StateError: Error, CustomStringConvertible {
    public var directory: String
    public var problem: String
    public init(directory: String, problem: String) { self.directory = directory; self.problem = problem }
    public var description: String {
        "state \(directory)/osprey.sqlite: \(problem)\n"
            + "  check it with `osprey state check --state \(directory)`; to start afresh, rerun replay with --reset-state "
            + "or run `osprey state reset --state \(directory)` (the old database is moved aside, not deleted)"
    }
}

/// The state directory: one SQLite database, `DIR/osprey.sqlite` (WAL mode), written only inside
/// transactions at checkpoints. Tables:
/// - `meta(key, value)`: schema version, content signature.
/// - `checkpoint(id=1, seq, records, created, analytics, parse_stats, high_water)`: the analytics engine's
///   state (models, open sessions, user history; binary, see AnalyticsEngine.snapshot), counters and the
///   stream's event-time high-water mark (time sanity, see Pipeline).
/// - `inputs(source, records, lines, bytes, device, inode, size, head_len, head_hash)`: how much of each
///   input was consumed at the checkpoint, and the identity of the file it was read from.
/// - `alerts(seq, kind, user, session, time_ms, rule, score, notable, line)`: every output emitted, in order.
/// - `deliveries(sink, seq)`: the last alert seq each output sink has delivered.
///
/// Every column is read defensively (type and range checked): a damaged row is a `StateError`, never a trap.
public final class StateStore: @unchecked Sendable {
    public let directory: String
    public let db: DatabaseQueue
    // Side state (SideState.swift): rows of other components committed with each checkpoint.
    var participants: [CommitParticipant] = []
    let participantsLock = NSLock()
    /// Counters and sequence numbers are refused above this (2^62): increments can then never overflow.
    public static let maxCounter = 1 << 62

    public static func databasePath(_ directory: String) -> String { directory + "/osprey.sqlite" }

    static func migrator() -> DatabaseMigrator {
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
        // v2: file identity per input (resume by identity) and the event-time high-water mark. Rows written
        // by v1 have NULL identity: their inputs resume by path and record count, as v1 did.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE inputs ADD COLUMN device INTEGER;
                ALTER TABLE inputs ADD COLUMN inode INTEGER;
                ALTER TABLE inputs ADD COLUMN size INTEGER;
                ALTER TABLE inputs ADD COLUMN head_len INTEGER;
                ALTER TABLE inputs ADD COLUMN head_hash INTEGER;
                ALTER TABLE checkpoint ADD COLUMN high_water INTEGER;
                """)
        }
        // v3: the analytics image in content-defined chunks (ChunkedImage.swift), so that a checkpoint writes
        // what changed. `checkpoint.analytics` is then empty and `analytics_manifest` names the chunks; a
        // non-empty `analytics` (written before v3) is still read as the whole image.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: StateStore.chunkTableSQL)
            try db.execute(sql: "ALTER TABLE checkpoint ADD COLUMN analytics_manifest BLOB")
        }
        return migrator
    }

    /// Content key → id of every stored chunk, as of the last committed checkpoint (nil: read it first).
    var chunkIndex: [ChunkKey: Int64]?
    /// What the last checkpoint wrote of the analytics image: chunks and bytes inserted, of how many.
    public private(set) var lastImageWrite: (chunks: Int, of: Int, bytes: Int, imageBytes: Int) = (0, 0, 0, 0)
    /// Summed over the checkpoints of this process: image bytes written, and the images' whole size.
    public private(set) var imageBytesWritten = 0, imageBytesTotal = 0

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=FULL")
        }
        do {
            db = try DatabaseQueue(path: StateStore.databasePath(directory), configuration: config)
            let migrator = StateStore.migrator()
            if try db.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StateError(directory: directory, problem: "written by a newer osprey (unknown schema migrations: "
                                 + (try db.read { try migrator.appliedMigrations($0) }).joined(separator: ", ") + ")")
            }
            try migrator.migrate(db)
        } catch let e as StateError {
            throw e
        } catch {
            throw StateError(directory: directory, problem: "cannot open the database: \(error)")
        }
    }

    /// Moves `DIR/osprey.sqlite` (and its WAL files) aside as `osprey.sqlite.old-TIMESTAMP`; returns the
    /// new name, or nil when there was no database.
    @discardableResult
    public static func moveAside(directory: String) throws -> String? {
        let fm = FileManager.default
        let path = databasePath(directory)
        guard fm.fileExists(atPath: path) else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var target = path + ".old-" + f.string(from: Date())
        var n = 1
        while fm.fileExists(atPath: target) { n += 1; target = path + ".old-" + f.string(from: Date()) + "-\(n)" }
        try fm.moveItem(atPath: path, toPath: target)
        for suffix in ["-wal", "-shm"] where fm.fileExists(atPath: path + suffix) {
            try fm.moveItem(atPath: path + suffix, toPath: target + suffix)
        }
        return target
    }

    public struct Checkpoint {
        public var seq: Int
        public var records: Int
        public var analytics: [UInt8]
        /// The pipeline's events in flight (`Pipeline.writeInFlight`); nil in checkpoints written before they
        /// were kept (those flushed them).
        public var inFlight: [UInt8]?
        public var parseStats: ParseStats
        public var inputs: [String: InputPosition]
        /// The latest event time accepted from the stream (nil: none yet, or a v1 database).
        public var highWater: Int64?
    }

    /// Which file an input position was read from: device, inode, size at the checkpoint and a hash of its
    /// first `headLength` bytes (at most 4 KiB). nil for stdin and for positions written by schema v1.
    public struct FileIdentity: Sendable, Equatable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int
        public var headLength: Int
        public var headHash: UInt64
        public init(device: UInt64, inode: UInt64, size: Int, headLength: Int, headHash: UInt64) {
            self.device = device; self.inode = inode; self.size = size; self.headLength = headLength; self.headHash = headHash
        }
    }

    public struct InputPosition: Sendable, Equatable {
        public var records = 0, lines = 0, bytes = 0
        public var identity: FileIdentity? = nil
        public init() {}
    }

    // MARK: defensive column reads

    private func problem(_ what: String) -> StateError { StateError(directory: directory, problem: what) }

    private func int(_ row: Row, _ i: Int, _ what: String, nullable: Bool = false) throws -> Int? {
        let v: DatabaseValue = row[i]
        if v.isNull {
            if nullable { return nil }
            throw problem("\(what) is NULL")
        }
        guard case .int64(let n) = v.storage else { throw problem("\(what) is not an integer (\(v))") }
        return Int(n)
    }

    private func counter(_ row: Row, _ i: Int, _ what: String) throws -> Int {
        let n = try int(row, i, what)!
        guard n >= 0, n <= StateStore.maxCounter else { throw problem("\(what) = \(n) is out of range (0…2^62)") }
        return n
    }

    private func text(_ row: Row, _ i: Int, _ what: String) throws -> String {
        let v: DatabaseValue = row[i]
        guard let s = String.fromDatabaseValue(v) else { throw problem("\(what) is not text (\(v.isNull ? "NULL" : "\(v)"))") }
        return s
    }

    public func loadCheckpoint() throws -> Checkpoint? {
        do {
            return try db.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT seq, records, analytics, parse_stats, high_water, analytics_manifest FROM checkpoint WHERE id = 1")
                else { return nil }
                var inputs: [String: InputPosition] = [:]
                for r in try Row.fetchAll(db, sql: "SELECT source, records, lines, bytes, device, inode, size, head_len, head_hash FROM inputs") {
                    let source = try text(r, 0, "inputs.source")
                    let w = "inputs row '\(source)'"
                    var p = InputPosition()
                    p.records = try counter(r, 1, w + " records"); p.lines = try counter(r, 2, w + " lines")
                    p.bytes = try counter(r, 3, w + " bytes")
                    let ids = try (4...8).map { try int(r, $0, w + " identity column \($0 - 3)", nullable: true) }
                    if let dev = ids[0], let ino = ids[1], let size = ids[2], let hl = ids[3], let hh = ids[4] {
                        guard size >= 0, hl >= 0, hl <= 4096 else { throw problem(w + ": bad file identity (size \(size), head \(hl))") }
                        p.identity = FileIdentity(device: UInt64(bitPattern: Int64(dev)), inode: UInt64(bitPattern: Int64(ino)),
                                                  size: size, headLength: hl, headHash: UInt64(bitPattern: Int64(hh)))
                    } else if ids.contains(where: { $0 != nil }) {
                        throw problem(w + ": file identity partly NULL")
                    }
                    inputs[source] = p
                }
                let av: DatabaseValue = row[2]
                guard let blob = Data.fromDatabaseValue(av), case .blob = av.storage else {
                    throw problem("checkpoint.analytics is not a blob")
                }
                let hw = try int(row, 4, "checkpoint.high_water", nullable: true).map(Int64.init)
                var image = [UInt8](blob)
                let mv: DatabaseValue = row[5]
                if image.isEmpty, !mv.isNull {
                    guard case .blob(let md) = mv.storage, let manifest = ImageManifest([UInt8](md)) else {
                        throw problem("checkpoint.analytics_manifest is not a chunk manifest")
                    }
                    image = try readChunks(db, manifest: manifest)
                }
                let (inFlight, analytics) = try StateStore.unframe(image)
                return Checkpoint(seq: try counter(row, 0, "checkpoint.seq"), records: try counter(row, 1, "checkpoint.records"),
                                  analytics: analytics, inFlight: inFlight,
                                  parseStats: try StateStore.decodeStats(try text(row, 3, "checkpoint.parse_stats"), directory: directory),
                                  inputs: inputs, highWater: hw)
            }
        } catch let e as StateError {
            throw e
        } catch {
            throw problem("cannot read the checkpoint: \(error)")
        }
    }

    /// One checkpoint: state, positions and the alerts emitted since the previous one, atomically.
    public func save(seq: Int, records: Int, analytics: [UInt8], inFlight: [UInt8]? = nil, parseStats: ParseStats,
                     highWater: Int64? = nil, inputs: [String: InputPosition],
                     newAlerts: [(seq: Int, output: AnalyticsOutput, line: String)]) throws {
        try save(seq: seq, records: records, image: { $0(analytics) }, inFlight: inFlight, parseStats: parseStats,
                 highWater: highWater, inputs: inputs, newAlerts: newAlerts)
    }

    /// The stored image is the in-flight events framed by a magic number and their length, then the analytics
    /// image; an image without the frame (written before in-flight events were kept) is the analytics image.
    static let inFlightFrameMagic: UInt32 = 0x4F53_5046   // "OSPF"

    func frame(_ inFlight: [UInt8]) throws -> [UInt8] {
        guard let n = UInt32(exactly: inFlight.count) else {
            throw problem("\(inFlight.count) bytes of events in flight cannot be saved (at most 4 GiB)")
        }
        var w = SnapshotWriter()
        w.u32(StateStore.inFlightFrameMagic); w.u32(n); w.raw(inFlight)
        return w.bytes
    }

    static func unframe(_ image: [UInt8]) throws -> (inFlight: [UInt8]?, analytics: [UInt8]) {
        var r = SnapshotReader(image)
        guard image.count >= 4, try r.u32() == inFlightFrameMagic else { return (nil, image) }
        let n = try r.count("in-flight image bytes", each: 1)
        let inFlight = Array(try r.take(n))
        return (inFlight, Array(image[r.offset...]))
    }

    /// The same, with the analytics image streamed in pieces by `image` (AnalyticsEngine.snapshot(streamingTo:)):
    /// it is chunked as it streams and only chunks the previous checkpoint did not have are written.
    public func save(seq: Int, records: Int, image: (@escaping ([UInt8]) -> Void) -> Void, inFlight: [UInt8]? = nil,
                     parseStats: ParseStats, highWater: Int64? = nil, inputs: [String: InputPosition],
                     newAlerts: [(seq: Int, output: AnalyticsOutput, line: String)]) throws {
        let head = try inFlight.map { try frame($0) } ?? []
        let known = chunkIndex
        chunkIndex = nil   // unknown until this transaction commits
        var newIndex: [ChunkKey: Int64] = [:]
        var stats = (chunks: 0, of: 0, bytes: 0, imageBytes: 0)
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
                let id = p.identity
                try db.execute(sql: "INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               arguments: [source, p.records, p.lines, p.bytes,
                                           id.map { Int64(bitPattern: $0.device) }, id.map { Int64(bitPattern: $0.inode) },
                                           id?.size, id?.headLength, id.map { Int64(bitPattern: $0.headHash) }])
            }
            try writeParticipants(db)  // side state (SideState.swift), same transaction
            let (manifest, index, written, bytes) = try writeChunks(db, index: try known ?? loadChunkIndex(db), head: head, image: image)
            newIndex = index
            stats = (written, manifest.ids.count, bytes, manifest.length)
            try db.execute(sql: "INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [seq, records, ISO8601DateFormatter().string(from: Date()), Data(),
                                       StateStore.encodeStats(parseStats), highWater, Data(manifest.bytes)])
        }
        chunkIndex = newIndex
        lastImageWrite = stats
        imageBytesWritten += stats.bytes
        imageBytesTotal += stats.imageBytes
    }

    /// Alert lines with seq in (after, upTo], in order.
    public func alertLines(after: Int = 0, limit: Int = Int.max) throws -> [(seq: Int, line: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, line FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?",
                             arguments: [after, limit]).map { (try int($0, 0, "alerts.seq")!, try text($0, 1, "alerts.line")) }
        }
    }

    public func delivered(sink: String) throws -> Int {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq FROM deliveries WHERE sink = ?", arguments: [sink]) else { return 0 }
            return try counter(row, 0, "deliveries.seq of '\(sink)'")
        }
    }

    public func setDelivered(sink: String, seq: Int) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO deliveries VALUES (?, ?)", arguments: [sink, seq])
        }
    }

    /// SQLite's own structural check (`PRAGMA quick_check`): "ok" or the problems it found.
    public func quickCheck() throws -> [String] {
        try db.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
    }

    /// `checkpoint.parse_stats`: the parse counters as a JSON object, keys sorted (the text format every
    /// schema version wrote: lines, records, events, empty_pages, by_parser, rejects by reason name).
    struct StoredParseStats: Codable {
        var lines, records, events, emptyPages: Int
        var byParser: [String: Int]
        var rejects: [String: Int]
        enum CodingKeys: String, CodingKey { case lines, records, events, emptyPages = "empty_pages", byParser = "by_parser", rejects }

        init(_ p: ParseStats) {
            lines = p.lines; records = p.records; events = p.events; emptyPages = p.emptyPages
            byParser = p.eventsByParser
            rejects = Dictionary(uniqueKeysWithValues: p.rejectsByReason.map { ($0.key.rawValue, $0.value) })
        }

        /// A missing key reads as 0 (empty); a present one must be a counter in 0…maxCounter.
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            lines = try c.decodeIfPresent(Int.self, forKey: .lines) ?? 0
            records = try c.decodeIfPresent(Int.self, forKey: .records) ?? 0
            events = try c.decodeIfPresent(Int.self, forKey: .events) ?? 0
            emptyPages = try c.decodeIfPresent(Int.self, forKey: .emptyPages) ?? 0
            byParser = try Self.counters(c, .byParser)
            rejects = try Self.counters(c, .rejects)
        }

        /// A nested object of counters, decoded key by key so that an error names the key (`by_parser.p`).
        private static func counters(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [String: Int] {
            struct Name: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }
            guard c.contains(key), try !c.decodeNil(forKey: key) else { return [:] }
            let n = try c.nestedContainer(keyedBy: Name.self, forKey: key)
            var out: [String: Int] = [:]
            for k in n.allKeys {
                guard let v = try? n.decode(Int.self, forKey: k) else {
                    throw DecodingError.typeMismatch(Int.self, .init(codingPath: [key, k], debugDescription: "not an integer counter"))
                }
                out[k.stringValue] = v
            }
            return out
        }

        var parseStats: ParseStats {
            var p = ParseStats()
            p.lines = lines; p.records = records; p.events = events; p.emptyPages = emptyPages
            p.eventsByParser = byParser
            // A reason this build does not know (written by another version) is left out.
            for (k, v) in rejects { if let r = RejectReason(rawValue: k) { p.rejectsByReason[r] = v } }
            return p
        }

        /// The first counter outside 0…maxCounter, by its key.
        var outOfRange: (key: String, value: Int)? {
            let counters = [("lines", lines), ("records", records), ("events", events), ("empty_pages", emptyPages)]
                + byParser.sorted { $0.key < $1.key }.map { ("by_parser." + $0.key, $0.value) }
                + rejects.sorted { $0.key < $1.key }.map { ("rejects." + $0.key, $0.value) }
            return counters.first { $0.1 < 0 || $0.1 > StateStore.maxCounter }.map { (key: $0.0, value: $0.1) }
        }
    }

    static func encodeStats(_ p: ParseStats) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(StoredParseStats(p)), as: UTF8.self)
    }

    static func decodeStats(_ s: String, directory: String) throws -> ParseStats {
        func problem(_ what: String) -> StateError { StateError(directory: directory, problem: "checkpoint.parse_stats " + what) }
        let stored: StoredParseStats
        do {
            stored = try JSONDecoder().decode(StoredParseStats.self, from: Data(s.utf8))
        } catch DecodingError.typeMismatch(_, let c) where !c.codingPath.isEmpty {
            throw problem("'\(c.codingPath.map(\.stringValue).joined(separator: "."))' is not an integer counter")
        } catch DecodingError.valueNotFound(_, let c) where !c.codingPath.isEmpty {
            throw problem("'\(c.codingPath.map(\.stringValue).joined(separator: "."))' is null")
        } catch DecodingError.dataCorrupted(let c) where !c.codingPath.isEmpty {
            throw problem("'\(c.codingPath.map(\.stringValue).joined(separator: "."))' is not an integer counter")
        } catch {
            throw problem("is not a JSON object")
        }
        if let bad = stored.outOfRange { throw problem("'\(bad.key)' = \(bad.value) is out of range (0…2^62)") }
        return stored.parseStats
    }
}
