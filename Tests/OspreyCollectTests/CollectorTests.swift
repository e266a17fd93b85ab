import Foundation
@testable import OspreyCollect
import OspreyCore
import OspreyTestSupport
import XCTest

/// The collector against the local emulator: every record of every endpoint arrives exactly once through
/// 429s, 500s, revoked tokens, a truncated gzip and duplicated pages; waits follow Retry-After /
/// X-RateLimit-Reset and the exponential backoff with the injected jitter.
final class CollectorTests: XCTestCase {
    static let all = "audit, ttp-url, ttp-attachment, ttp-impersonation, dlp, held-release"

    func emulator(_ faults: MimecastEmulator.Faults, lines: [String]) throws -> MimecastEmulator {
        let emu = MimecastEmulator(faults: faults)
        var served = 0
        for l in lines where emu.add(l) { served += 1 }
        emu.finishLoading()
        XCTAssertGreaterThan(served, 0)
        try blocking { try await emu.start() }
        return emu
    }

    func secretFile(_ emu: MimecastEmulator) throws -> String {
        let d = try makeTempDir("secret")
        try emu.clientSecret.write(toFile: d + "/secret", atomically: true, encoding: .utf8)
        return d + "/secret"
    }

    /// Runs one in-process poll; returns the records in order and the client.
    func collect(_ emu: MimecastEmulator, sources: String, pageSize: Int = 7, clock: RecordingClock = RecordingClock(),
                 positions: CollectPositions? = nil, since: Int64 = UTCTime.parse("2015-01-01T00:00:00Z")!,
                 until: Int64 = UTCTime.parse("2030-01-01T00:00:00Z")!) throws -> (records: [String], client: MimecastClient, failures: [String]) {
        let text = TestData.config(emu, sources: sources, pageSize: pageSize, secretFile: try secretFile(emu))
        let cfg = try CollectConfig.parse(text, file: "test.conf")[0]
        let client = MimecastClient(config: cfg, transport: AHCTransport(), clock: clock, jitter: { 0.5 })
        try client.loadCredentials()
        let pos = positions ?? CollectPositions(limit: cfg.dedupLimit)
        let collector = Collector(config: cfg, client: client, positions: pos)
        let out = LockedBox<[String]>([])
        let r = try blocking {
            let r = await collector.poll(since: since, until: until) { step in
                pos.apply(step)
                if let rec = step.record { out.value.append(String(decoding: rec, as: UTF8.self)) }
            }
            await client.transport.shutdown()
            return r
        }
        return (out.value, client, r.failures.map { "\($0.stream): \($0.error)" })
    }

    func allLines() throws -> [String] {
        var lines = try TestData.generated().lines
        if let c = TestData.corpusLines() { lines += c } else {
            print("CollectorTests: ../shared/corpus absent: the corpus records are not served (generated organization only)")
        }
        return lines
    }

    func testEveryRecordOnceThroughFaultsBatch() throws {
        var f = MimecastEmulator.Faults()
        f.every429 = 11; f.every500 = 13; f.expireTokenAfter = 29; f.truncateOneFile = true; f.duplicatePages = true
        let emu = try emulator(f, lines: try allLines())
        defer { try? blocking { await emu.stop() } }
        let clock = RecordingClock()
        let (got, client, failures) = try collect(emu, sources: "siem-batch, " + CollectorTests.all, clock: clock)
        XCTAssertEqual(failures, [])
        let expected = emu.allRecords
        XCTAssertEqual(got.count, expected.count, "records handed on vs served")
        XCTAssertTrue(got.counted == expected.counted, "every served record exactly once")
        // Every fault path was taken and survived.
        XCTAssertGreaterThan(emu.counted("429"), 0); XCTAssertGreaterThan(emu.counted("500"), 0)
        XCTAssertGreaterThan(emu.counted("expired"), 0); XCTAssertEqual(emu.counted("truncated"), 1)
        XCTAssertGreaterThan(emu.counted("dup-page"), 0)
        let m = client.metrics.snapshot.values
        XCTAssertGreaterThan(m.map(\.duplicates).reduce(0, +), 0, "duplicated pages dropped by identity")
        XCTAssertGreaterThan(m.map(\.tokenRefreshes).reduce(0, +), 1, "a revoked token was replaced")
        XCTAssertEqual(m.map(\.rateLimited).reduce(0, +), emu.counted("429"))
        // 429 waits: Retry-After: 3 (seconds) and X-RateLimit-Reset: 3000 (milliseconds) both mean 3 s.
        XCTAssertGreaterThanOrEqual(clock.sleeps.filter { $0 == 3 }.count, emu.counted("429"), "\(clock.sleeps)")
        // Batch files: one download per file, plus one for the truncated one.
        XCTAssertEqual(m.map(\.files).reduce(0, +) + 1, emu.counted("download"))
    }

    func testEveryRecordOnceThroughFaultsStream() throws {
        var f = MimecastEmulator.Faults()
        f.every429 = 7; f.every500 = 9; f.expireTokenAfter = 17
        let lines = try TestData.generated().lines + (TestData.corpusLines() ?? [])
        let emu = try emulator(f, lines: lines)
        defer { try? blocking { await emu.stop() } }
        let (got, _, failures) = try collect(emu, sources: "siem-stream", pageSize: 25)
        XCTAssertEqual(failures, [])
        let expected = emu.allRecords.filter { MimecastEmulator.endpoint(of: $0)?.hasPrefix("siem:") == true }
        XCTAssertFalse(expected.isEmpty)
        XCTAssertTrue(got.counted == expected.counted, "stream: \(got.count) handed on, \(expected.count) served")
    }

    /// A second pass continues from the committed positions: the overlap re-reads the last window's tail
    /// and the identities drop it; the stream continues from its token.
    func testOverlappingWindowsAreDeduplicated() throws {
        let emu = try emulator(MimecastEmulator.Faults(), lines: try allLines())
        defer { try? blocking { await emu.stop() } }
        let pos = CollectPositions(limit: 100_000)
        let all = emu.allRecords.compactMap { MimecastEmulator.time(of: $0) }
        let mid = all.sorted()[all.count / 2]
        let (first, _, f1) = try collect(emu, sources: "siem-stream, " + CollectorTests.all, positions: pos, until: mid)
        let (second, c2, f2) = try collect(emu, sources: "siem-stream, " + CollectorTests.all, positions: pos)
        XCTAssertEqual(f1 + f2, [])
        XCTAssertTrue((first + second).counted == emu.allRecords.counted, "\(first.count) + \(second.count) vs \(emu.allRecords.count)")
        XCTAssertGreaterThan(c2.metrics.snapshot.values.map(\.duplicates).reduce(0, +), 0, "the overlap re-read records")
    }

    func testBackoffIsExponentialWithInjectedJitter() throws {
        var f = MimecastEmulator.Faults()
        f.every500 = 1   // every API request fails
        let emu = try emulator(f, lines: try TestData.generated().lines)
        defer { try? blocking { await emu.stop() } }
        let text = TestData.config(emu, sources: "audit", secretFile: try secretFile(emu), extra: "max_retries = 4")
        let cfg = try CollectConfig.parse(text, file: "t.conf")[0]
        let clock = RecordingClock()
        let client = MimecastClient(config: cfg, transport: AHCTransport(), clock: clock, jitter: { 0.25 })
        try client.loadCredentials()
        let result = try blocking { () -> String in
            defer { Task { await client.transport.shutdown() } }
            do { _ = try await client.call(stream: "s", method: "POST", url: emu.baseURL + "/api/audit/get-audit-events", json: Array("{}".utf8)); return "ok" }
            catch { return "\(error)" }
        }
        XCTAssertTrue(result.contains("HTTP 500"), result)
        // base 1 s × 2^attempt × (0.5 + 0.25); the throttle adds no wait at this rate.
        XCTAssertEqual(clock.sleeps.filter { $0 >= 0.5 }, [0.75, 1.5, 3, 6])
        XCTAssertEqual(emu.counted("500"), 5)
    }

    func testGzipTruncationIsDetected() throws {
        let gz = MimecastEmulator.gzip(Array(String(repeating: "{\"a\":1}\n", count: 500).utf8))
        XCTAssertEqual(try Gzip.decompress(gz, limit: 1 << 20).count, 4000)
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.prefix(gz.count - 5)), limit: 1 << 20))
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.prefix(gz.count / 2)), limit: 1 << 20))
        XCTAssertThrowsError(try Gzip.decompress(gz, limit: 100), "the size limit holds")
        XCTAssertThrowsError(try Gzip.decompress([0x1f, 0x8b, 1, 2, 3], limit: 100))
        // Two members concatenated are one file.
        XCTAssertEqual(try Gzip.decompress(gz + gz, limit: 1 << 20).count, 8000)
    }

    /// Hostile responses are errors, never traps; odd times are ignored, not formatted.
    func testHostileResponsesAreRejected() {
        let spec = MimecastAPI.paged(.ttpURL)!
        for body in ["", "not json", "{", "[]", "{\"data\":5}", "{\"data\":[{\"clickLogs\":[1,2", "{\"fail\":[{\"code\":\"x\"}],\"data\":[]}",
                     String(repeating: "[", count: 10_000)] {
            XCTAssertThrowsError(try Collector.pagedRecords(Array(body.utf8), spec: spec), body.prefix(40).description)
            XCTAssertThrowsError(try Collector.siemPage(Array(body.utf8), path: "/x"), body.prefix(40).description)
        }
        // Records other than objects still pass (the pipeline counts them as rejects); a missing list is no records.
        let (recs, next) = try! Collector.pagedRecords(Array("{\"meta\":{\"pagination\":{\"next\":\"n1\"}},\"data\":[{\"clickLogs\":[ {\"a\" : 1} , \"s\"]},{}],\"fail\":[]}".utf8), spec: spec)
        XCTAssertEqual(recs.map { String(decoding: $0, as: UTF8.self) }, ["{\"a\":1}", "\"s\""])
        XCTAssertEqual(next, "n1")
        let fields = [FNV.hash("timestamp"), FNV.hash("eventTime")]
        XCTAssertNil(RecordJSON.eventTime(Array("{\"timestamp\":999999999999999}".utf8), fields: fields))
        XCTAssertNil(RecordJSON.eventTime(Array("{\"timestamp\":-5}".utf8), fields: fields))
        XCTAssertNil(RecordJSON.eventTime(Array("{\"eventTime\":\"99999-01-01T00:00:00Z\"}".utf8), fields: fields))
        XCTAssertEqual(RecordJSON.eventTime(Array("{\"timestamp\":1731499059314}".utf8), fields: fields), 1_731_499_059_314)
        XCTAssertEqual(RecordJSON.eventTime(Array("{\"eventTime\":\"2021-10-15T20:41:25+0000\"}".utf8), fields: fields), UTCTime.parse("2021-10-15T20:41:25Z"))
        XCTAssertEqual(RecordJSON.lines(Array("{\"a\": \"b c\"}\n\n  \nnot json\n".utf8)).map { String(decoding: $0, as: UTF8.self) }, ["{\"a\":\"b c\"}", "not json"])
    }

    /// The small API bodies go through Codable: the paged request's exact bytes (keys sorted), and the token
    /// answer with `expires_in` as a number, a numeric string, or something else (the default life).
    func testPagedRequestAndTokenResponse() throws {
        let spec = MimecastAPI.paged(.audit)!
        let first = try Collector.pagedRequest(spec: spec, pageSize: 500, pageToken: nil, start: "2026-11-02T08:00:00+0000", end: "2026-11-02T09:00:00+0000")
        XCTAssertEqual(String(decoding: first, as: UTF8.self),
                       #"{"data":[{"endDateTime":"2026-11-02T09:00:00+0000","startDateTime":"2026-11-02T08:00:00+0000"}],"meta":{"pagination":{"pageSize":500}}}"#)
        let next = try Collector.pagedRequest(spec: spec, pageSize: 7, pageToken: "t\"1", start: "a", end: "b")
        XCTAssertEqual(String(decoding: next, as: UTF8.self),
                       #"{"data":[{"endDateTime":"b","startDateTime":"a"}],"meta":{"pagination":{"pageSize":7,"pageToken":"t\"1"}}}"#)
        func token(_ body: String) -> MimecastClient.TokenResponse? {
            try? JSONDecoder().decode(MimecastClient.TokenResponse.self, from: Data(body.utf8))
        }
        XCTAssertEqual(token(#"{"access_token":"a","expires_in":1800}"#)?.expiresIn, 1800)
        XCTAssertEqual(token(#"{"access_token":"a","expires_in":"900"}"#)?.expiresIn, 900)
        XCTAssertNil(token(#"{"access_token":"a","expires_in":[1]}"#)?.expiresIn)
        XCTAssertEqual(token(#"{"access_token":"a"}"#)?.accessToken, "a")
        XCTAssertNil(token(#"{"access_token":5}"#)?.accessToken)
        XCTAssertNil(token("[]"))
    }

    func testPositionsRoundTrip() {
        var s = StreamState(limit: 3)
        s.cursor.pageToken = "p:10"; s.cursor.skip = 4; s.cursor.lastEventMillis = 1_700_000_000_000
        for i in 1...5 { s.seen.insert(UInt64(i)) }
        s.files.insert("http://x/a.gz")
        let d = StreamState.decode(s.encode(), limit: 3)
        XCTAssertEqual(d?.cursor, s.cursor)
        XCTAssertEqual(d.map { Array($0.seen.ordered) }, [3, 4, 5], "bounded: the oldest identities left")
        XCTAssertTrue(d?.files.contains("http://x/a.gz") == true)
        XCTAssertNil(StreamState.decode(Array(s.encode().prefix(12)), limit: 3), "a cut image is refused, not trusted")
    }

    func testConfigErrorsArePrecise() {
        func err(_ t: String) -> String {
            do { _ = try CollectConfig.parse(t, file: "c.conf"); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(err("[collect a]\nbase_url = https://api.services.mimecast.com\nclient_id = x\nclient_secret = y\n").contains("client_secret is not read"))
        XCTAssertTrue(err("[collect a]\nbase_url = ftp://x\nclient_id = x\nclient_secret_env = S\n").hasPrefix("c.conf:2:"))
        XCTAssertTrue(err("[collect a]\nbase_url = https://x\nclient_id = x\nclient_secret_env = S\nsources = audit, nope\n").contains("unknown source 'nope'"))
        XCTAssertTrue(err("[collect a]\nbase_url = https://x\nclient_id = x\nclient_secret_env = S\nsources = siem-batch, siem-stream\n").contains("not both"))
        XCTAssertTrue(err("[collect a]\nbase_url = https://x\nclient_id = x\nclient_secret_env = S\npage_size = 0\n").hasPrefix("c.conf:5:"))
        XCTAssertEqual(err("[collect a]\nbase_url = https://x\nclient_id = x\nclient_secret_env = S\n"), "")
    }
}
