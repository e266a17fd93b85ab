import Foundation
import GRDB
import OspreyTestSupport
import XCTest
import OspreyAnalytics
import OspreyCore
import OspreyPipeline
import OspreyState

/// Hostile state and input for `--state`: corrupt analytics images and database rows are errors that say
/// what is wrong and how to recover (never a trap); a record from the future cannot move the clock;
/// inputs resume by file identity.
final class StateHardeningTests: XCTestCase {
    static let content = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Content").path

    /// A state directory after replaying the first `limit` records of the generated organization.
    func makeState(_ dir: String, limit: Int = 6000) throws -> [UInt8] {
        let org = try GeneratedOrg.shared.path()
        let d = try DurablePipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"),
                                    stateDirectory: dir, checkpointEvery: 100_000) { _ in }
        var n = 0
        for f in try FileManager.default.contentsOfDirectory(atPath: org + "/logs").sorted() {
            let data = try Data(contentsOf: URL(fileURLWithPath: org + "/logs/" + f))
            let source = try d.plan(path: org + "/logs/" + f).source
            for line in data.split(separator: 0x0A) where n < limit {
                n += 1
                try Array(line).withUnsafeBytes { try d.push(source: source, line: $0, bytes: line.count + 1) }
            }
        }
        try d.checkpoint()
        return d.pipeline.analytics.snapshot()
    }

    nonisolated(unsafe) static var loaded: AnalyticsContent?
    func freshEngine() throws -> AnalyticsEngine {
        if Self.loaded == nil { Self.loaded = try AnalyticsContent.load(directory: Self.content) }
        return AnalyticsEngine(content: Self.loaded!)
    }

    func testCorruptAnalyticsImagesAreErrorsNeverTraps() throws {
        let tmp = try makeTempDir("snap"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let image = try makeState(tmp + "/s")
        XCTAssertNoThrow(try freshEngine().restore(snapshot: image))
        var rng = SplitMix64(state: 11)
        var failures = 0, tried = 0
        func attempt(_ bytes: [UInt8]) throws {
            tried += 1
            let e = try freshEngine()
            do {
                try e.restore(snapshot: bytes)
                _ = e.finish()   // a restored engine must also be usable
            } catch is AnalyticsSnapshotError {
                failures += 1
            }
        }
        // Truncated at many points.
        for k in 0..<40 { try attempt(Array(image.prefix(Int(rng.next() % UInt64(image.count))))); _ = k }
        // Flipped bytes.
        for _ in 0..<80 {
            var b = image
            for _ in 0..<3 { let i = Int(rng.next() % UInt64(b.count)); b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            try attempt(b)
        }
        // Huge counts: every 4-byte position among the first 4 KiB set to 0xFFFFFFF0.
        for i in stride(from: 8, to: min(image.count - 4, 4096), by: 37) {
            var b = image
            for k in 0..<4 { b[i + k] = k == 0 ? 0xF0 : 0xFF }
            try attempt(b)
        }
        XCTAssertGreaterThan(failures, tried / 2, "most corruptions must be detected (\(failures)/\(tried))")
        // Specific, named errors.
        var b = image; b[4] = 9
        XCTAssertThrowsError(try freshEngine().restore(snapshot: b)) { XCTAssertTrue("\($0)".contains("version 9"), "\($0)") }
        XCTAssertThrowsError(try freshEngine().restore(snapshot: image + [0])) { XCTAssertTrue("\($0)".contains("after the end"), "\($0)") }
    }

    func testCorruptDatabaseRowsAreClearErrors() throws {
        let tmp = try makeTempDir("rows"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        _ = try makeState(tmp + "/s", limit: 3000)
        let org = try GeneratedOrg.shared.path()
        func reopen() throws {
            _ = try DurablePipeline(options: PipelineOptions(contentDirectory: Self.content, contextDirectory: org + "/context"),
                                    stateDirectory: tmp + "/s", checkpointEvery: 1000) { _ in }
        }
        XCTAssertNoThrow(try reopen())
        let cases: [(String, String)] = [
            ("UPDATE checkpoint SET seq = 'many'", "checkpoint.seq is not an integer"),
            ("UPDATE checkpoint SET seq = 9223372036854775807", "checkpoint.seq = 9223372036854775807 is out of range"),
            ("UPDATE checkpoint SET records = -5", "checkpoint.records = -5 is out of range"),
            ("UPDATE checkpoint SET analytics = 'text'", "checkpoint.analytics is not a blob"),
            ("UPDATE checkpoint SET analytics = x'0102'", "truncated state image"),
            ("UPDATE checkpoint SET parse_stats = x'00ff'", "parse_stats"),
            ("UPDATE checkpoint SET parse_stats = '[1]'", "checkpoint.parse_stats is not a JSON object"),
            ("UPDATE checkpoint SET parse_stats = '{\"lines\":-1}'", "checkpoint.parse_stats 'lines' = -1 is out of range"),
            ("UPDATE checkpoint SET parse_stats = '{\"events\":\"many\"}'", "checkpoint.parse_stats 'events' is not an integer counter"),
            ("UPDATE checkpoint SET parse_stats = '{\"by_parser\":{\"p\":2.5}}'", "checkpoint.parse_stats 'by_parser.p' is not an integer counter"),
            ("UPDATE inputs SET lines = 2.5", "lines is not an integer"),
            ("UPDATE inputs SET inode = NULL", "file identity partly NULL"),
        ]
        for (sql, expect) in cases {
            let saved = try Data(contentsOf: URL(fileURLWithPath: tmp + "/s/osprey.sqlite"))
            let store = try StateStore(directory: tmp + "/s")
            try store.db.write { try $0.execute(sql: sql) }
            try store.db.close()
            XCTAssertThrowsError(try reopen(), sql) { e in
                XCTAssertTrue(e is StateError, "\(sql): \(type(of: e))")
                XCTAssertTrue("\(e)".contains(expect), "\(sql): \(e)")
                XCTAssertTrue("\(e)".contains("--reset-state"), "\(e)")
            }
            let check = try runOsprey(["state", "check", "--state", tmp + "/s"])
            XCTAssertEqual(check.status, 1, sql)
            try saved.write(to: URL(fileURLWithPath: tmp + "/s/osprey.sqlite"))
        }
        // The text every version wrote (JSONSerialization, keys sorted) still reads, an unknown reject reason left out.
        let store = try StateStore(directory: tmp + "/s")
        try store.db.write {
            try $0.execute(sql: #"UPDATE checkpoint SET parse_stats = '{"by_parser":{"mimecast-x":3},"empty_pages":1,"events":3,"lines":5,"records":4,"rejects":{"a reason from elsewhere":1}}'"#)
        }
        try store.db.close()
        XCTAssertNoThrow(try reopen())
        // A file that is not a database at all.
        try Data("not sqlite".utf8).write(to: URL(fileURLWithPath: tmp + "/s/osprey.sqlite"))
        XCTAssertThrowsError(try reopen()) { XCTAssertTrue("\($0)".contains("cannot"), "\($0)") }
        // Reset moves it aside; the next run starts afresh.
        let reset = try runOsprey(["state", "reset", "--state", tmp + "/s"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/s/osprey.sqlite"))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: tmp + "/s").contains { $0.hasPrefix("osprey.sqlite.old-") })
        XCTAssertNoThrow(try reopen())
    }

    func testStateCheckReportsOK() throws {
        let tmp = try makeTempDir("check"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        _ = try makeState(tmp + "/s", limit: 2000)
        let r = try runOsprey(["state", "check", "--state", tmp + "/s"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testV1DatabaseIsMigrated() throws {
        let tmp = try makeTempDir("v1"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        try FileManager.default.createDirectory(atPath: tmp + "/s", withIntermediateDirectories: true)
        let q = try DatabaseQueue(path: tmp + "/s/osprey.sqlite")
        try q.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE checkpoint(id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL,
                    records INTEGER NOT NULL, created TEXT NOT NULL, analytics BLOB NOT NULL, parse_stats TEXT NOT NULL);
                CREATE TABLE inputs(source TEXT PRIMARY KEY, records INTEGER NOT NULL, lines INTEGER NOT NULL, bytes INTEGER NOT NULL);
                CREATE TABLE alerts(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL,
                    session TEXT NOT NULL, time_ms INTEGER NOT NULL, rule TEXT, score INTEGER NOT NULL,
                    notable INTEGER NOT NULL, line TEXT NOT NULL);
                CREATE TABLE deliveries(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                INSERT INTO inputs VALUES ('/x/a.log', 7, 7, 70);
                """)
        }
        try q.close()
        let store = try StateStore(directory: tmp + "/s")
        XCTAssertNil(try store.loadCheckpoint())
        let cols = try store.db.read { try $0.columns(in: "inputs").map(\.name) }
        XCTAssertTrue(cols.contains("head_hash"), "\(cols)")
        try store.db.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9')") }
        try store.db.close()
        XCTAssertThrowsError(try StateStore(directory: tmp + "/s")) { XCTAssertTrue("\($0)".contains("newer osprey"), "\($0)") }
    }

    /// One record dated a year ahead, early in a stateful replay: quarantined, so the alerts equal those
    /// of the clean run, and the reject is counted and written with its reason.
    func testARecordFromTheFutureDoesNotChangeDetection() throws {
        let org = try GeneratedOrg.shared.path()
        let tmp = try makeTempDir("future"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        // The poisoned run gets one extra record, the copy of a record dated a year ahead, so its checkpoints
        // fall one record later than the clean run's (checkpoints keep the events in flight, so that changes
        // nothing).
        for dir in ["/clean", "/logs"] {
            try FileManager.default.createDirectory(atPath: tmp + dir, withIntermediateDirectories: true)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: org + "/logs").sorted()
        var poisoned = false
        for f in files {
            var text = try String(contentsOfFile: org + "/logs/" + f, encoding: .utf8)
            let clean = text
            if !poisoned, let line = text.split(separator: "\n").dropFirst(200).first(where: { $0.contains("datetime") }),
               let r = String(line).range(of: #"20[0-9][0-9]-"#, options: .regularExpression) {
                var future = String(line)
                let year = Int(future[r].prefix(4))!
                future.replaceSubrange(r, with: "\(year + 1)-")
                let at = text.range(of: String(line) + "\n")!.upperBound
                text.insert(contentsOf: future + "\n", at: at)
                poisoned = true
            }
            try text.write(toFile: tmp + "/logs/" + f, atomically: false, encoding: .utf8)
            try clean.write(toFile: tmp + "/clean/" + f, atomically: false, encoding: .utf8)
        }
        XCTAssertTrue(poisoned)
        func args(_ logs: String, _ state: String, _ out: String) -> [String] {
            ["replay", logs, "--context", org + "/context", "--state", state, "--out", out, "--checkpoint-records", "2000", "--finish"]
        }
        let clean = try runOsprey(args(tmp + "/clean", tmp + "/sa", tmp + "/a.jsonl"))
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let bad = try runOsprey(args(tmp + "/logs", tmp + "/sb", tmp + "/b.jsonl") + ["--rejects", tmp + "/rejects.jsonl"])
        XCTAssertEqual(bad.status, 0, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("1 events quarantined as time in the future"), bad.stderr)
        let a = try String(contentsOfFile: tmp + "/a.jsonl", encoding: .utf8)
        XCTAssertGreaterThan(a.split(separator: "\n").count, 10)
        XCTAssertTrue(a == (try String(contentsOfFile: tmp + "/b.jsonl", encoding: .utf8)), "the future record changed the alerts")
        let rejects = try String(contentsOfFile: tmp + "/rejects.jsonl", encoding: .utf8)
        XCTAssertEqual(rejects.split(separator: "\n").count, 1)
        XCTAssertTrue(rejects.contains("\"reason\":\"time in the future\""), rejects)
        // Without the check (skew 0 = off) the record does poison the run: the test can fail.
        let off = try runOsprey(args(tmp + "/logs", tmp + "/sc", tmp + "/c.jsonl") + ["--max-future-skew", "0"])
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(a == (try String(contentsOfFile: tmp + "/c.jsonl", encoding: .utf8)), "expected the unchecked run to differ")
    }

    func testResumeByFileIdentity() throws {
        let tmp = try makeTempDir("ident"); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let org = try GeneratedOrg.shared.path()
        let first = try FileManager.default.contentsOfDirectory(atPath: org + "/logs").sorted().first!
        let lines = try String(contentsOfFile: org + "/logs/" + first, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 300)
        let log = tmp + "/app.log"
        func write(_ part: ArraySlice<Substring>, to p: String = log) throws {
            try (part.joined(separator: "\n") + "\n").write(toFile: p, atomically: false, encoding: .utf8)
        }
        func run(_ input: String) throws -> String {
            let r = try runOsprey(["replay", input, "--context", org + "/context", "--state", tmp + "/s", "--out", tmp + "/o.jsonl"])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stderr
        }
        try write(lines[0..<200])
        XCTAssertTrue(try run(log).contains(": 200 records read, 0 skipped"))
        // Appended: only the new records.
        try write(lines[0..<250])
        XCTAssertTrue(try run(log).contains(": 50 records read, 200 skipped"))
        // A symlink to the consumed file is that file.
        try FileManager.default.createSymbolicLink(atPath: tmp + "/link.log", withDestinationPath: log)
        XCTAssertTrue(try run(tmp + "/link.log").contains(": 0 records read, 250 skipped"))
        // Rotated: the old file renamed (still consumed), a new file at the path is read from its start.
        try FileManager.default.moveItem(atPath: log, toPath: tmp + "/app.log.1")
        try write(lines[250..<300])
        let rotated = try run(log)
        XCTAssertTrue(rotated.contains(": 50 records read, 0 skipped"), rotated)
        XCTAssertTrue(rotated.contains("rotated"), rotated)
        XCTAssertTrue(try run(tmp + "/app.log.1").contains(": 0 records read, 250 skipped"))
        // Truncated in place (same inode, shorter): read from its start.
        let h = FileHandle(forWritingAtPath: log)!; try h.truncate(atOffset: 0); try h.close()
        let h2 = FileHandle(forWritingAtPath: log)!
        try h2.write(contentsOf: Data((lines[0..<20].joined(separator: "\n") + "\n").utf8)); try h2.close()
        let truncated = try run(log)
        XCTAssertTrue(truncated.contains(": 20 records read, 0 skipped"), truncated)
        XCTAssertTrue(truncated.contains("truncated") || truncated.contains("changed"), truncated)
        // Stdin with --state needs a name.
        let refused = try runOsprey(["replay", "-", "--state", tmp + "/s", "--out", tmp + "/o.jsonl"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--source-id"), refused.stderr)
    }
}

