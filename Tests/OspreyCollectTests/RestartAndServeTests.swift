import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import OspreyCollect
import OspreyCore
import OspreyTestSupport
import XCTest

/// The real binary against the emulator: `osprey collect --state` killed with SIGKILL mid-run and restarted
/// until done archives every record exactly once and writes the alerts of an uninterrupted run; serve with an
/// `[input mimecast]` section reaches the rule triggers of `osprey replay` over the same records, and so does
/// a tenant that owns the input.
final class RestartAndServeTests: XCTestCase {
    static let sources = "siem-batch, audit, ttp-url, ttp-attachment, ttp-impersonation, dlp, held-release"

    func start(_ f: MimecastEmulator.Faults) throws -> (MimecastEmulator, String) {
        let emu = MimecastEmulator(faults: f)
        for l in try TestData.generated().lines { emu.add(l) }
        emu.finishLoading()
        try blocking { try await emu.start() }
        let d = try makeTempDir("secret")
        try emu.clientSecret.write(toFile: d + "/secret", atomically: true, encoding: .utf8)
        return (emu, d + "/secret")
    }

    func archived(_ dir: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
        return names.flatMap { n in
            ((try? String(contentsOfFile: dir + "/" + n, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    func testKilledCollectResumesExactlyOnce() throws {
        var f = MimecastEmulator.Faults()
        f.every429 = 23; f.every500 = 31; f.expireTokenAfter = 47; f.truncateOneFile = true; f.duplicatePages = true
        f.delayMillis = 2; f.retryAfterSeconds = 0; f.fileMillis = 6 * 3_600_000
        let (emu, secret) = try start(f)
        defer { try? blocking { await emu.stop() } }
        let org = try TestData.generated().dir
        let work = try makeTempDir("collect-kill")
        try TestData.config(emu, sources: RestartAndServeTests.sources, pageSize: 20, secretFile: secret)
            .write(toFile: work + "/c.conf", atomically: true, encoding: .utf8)
        func args(_ tag: String) -> [String] {
            ["collect", "--config", work + "/c.conf", "--state", work + "/state-" + tag, "--out", work + "/out-" + tag,
             "--alerts", work + "/alerts-" + tag + ".jsonl", "--context", org + "/context", "--once", "--finish",
             "--since", "2015-01-01T00:00:00Z", "--until", "2030-01-01T00:00:00Z", "--checkpoint-records", "200"]
        }
        // Killed run: SIGKILL at random moments until one run finishes on its own.
        var kills = 0, killsAfterProgress = 0, runs = 0, finished = false
        var rng = SystemRandomNumberGenerator()
        while runs < 25 && killsAfterProgress < 3 {
            runs += 1
            let before = archived(work + "/out-k").count
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try ospreyBinary())
            p.arguments = args("k")
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            // An uninterrupted run takes about 5 s here, so waits of 2-3.5 s often let the second run finish
            // before a second kill (a flaky "killed mid-way at least twice"); 1-2 s leaves room for several.
            let wait = Double.random(in: 1.0...2.0, using: &rng)
            let deadline = Date().addingTimeInterval(wait)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if !p.isRunning { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0); finished = true; break }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            kills += 1
            let after = archived(work + "/out-k").count
            if after > before { killsAfterProgress += 1 }
        }
        if !finished {
            let r = try runOsprey(args("k"))
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        print("RestartAndServeTests: \(kills) kills (\(killsAfterProgress) after archived progress), \(runs) runs")
        XCTAssertGreaterThanOrEqual(killsAfterProgress, 2, "the run must be killed mid-way at least twice")
        let served = emu.allRecords
        let got = archived(work + "/out-k")
        XCTAssertEqual(got.count, served.count)
        XCTAssertTrue(got.counted == served.counted, "every record archived exactly once across \(kills) kills")
        // The same run without kills (fresh state, faults on) writes the same alerts.
        let t0 = Date()
        let r = try runOsprey(args("u"))
        print("RestartAndServeTests: uninterrupted run \(String(format: "%.1f", Date().timeIntervalSince(t0))) s: \(r.stderr)")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(archived(work + "/out-u").counted == served.counted)
        let a1 = (try? String(contentsOfFile: work + "/alerts-k.jsonl", encoding: .utf8)) ?? ""
        let a2 = (try? String(contentsOfFile: work + "/alerts-u.jsonl", encoding: .utf8)) ?? ""
        XCTAssertFalse(a2.isEmpty, "the uninterrupted run made alerts")
        XCTAssertEqual(a1, a2, "killed and restarted run = uninterrupted run")
    }

    func testServeMimecastInputGivesReplayAlerts() throws {
        let (emu, secret) = try start(MimecastEmulator.Faults())
        defer { try? blocking { await emu.stop() } }
        let org = try TestData.generated().dir
        let work = try makeTempDir("collect-serve")
        let sources = "siem-stream, audit, ttp-url, ttp-attachment, ttp-impersonation, dlp, held-release"
        // Reference: the records in the order the collector hands them on, replayed.
        let text = TestData.config(emu, sources: sources, pageSize: 40, secretFile: secret, extra: "lookback = 10000000")
        let cfg = try CollectConfig.parse(text, file: "t.conf")[0]
        let client = MimecastClient(config: cfg, transport: AHCTransport())
        try client.loadCredentials()
        let collector = Collector(config: cfg, client: client, positions: CollectPositions(limit: cfg.dedupLimit))
        let lines = LockedBox<[String]>([])
        _ = try blocking {
            let r = await collector.poll(since: nil, until: nil) { s in if let r = s.record { lines.value.append(String(decoding: r, as: UTF8.self)) } }
            await client.transport.shutdown()
            return r.failures.count
        }
        XCTAssertTrue(lines.value.counted == emu.allRecords.counted)
        try (lines.value.joined(separator: "\n") + "\n").write(toFile: work + "/ordered.jsonl", atomically: true, encoding: .utf8)
        let rr = try runOsprey(["replay", work + "/ordered.jsonl", "--context", org + "/context", "--out", work + "/ref.jsonl"])
        XCTAssertEqual(rr.status, 0, rr.stderr)
        let expected = ruleLines(work + "/ref.jsonl")
        XCTAssertFalse(expected.isEmpty, "the replay made rule triggers")
        print("RestartAndServeTests: \(lines.value.count) records, \(expected.count) rule triggers in the replay")

        let conf = """
        [serve t]
        http = 127.0.0.1:0
        token = t0ken-for-the-collect-tests
        context = \(org)/context

        [output file]
        type = jsonl
        path = \(work)/alerts.jsonl

        """ + TestData.config(emu, name: "m", sources: sources, pageSize: 40, secretFile: secret, kind: "input mimecast",
                              interval: 3600, extra: "lookback = 10000000")
        try conf.write(toFile: work + "/serve.conf", atomically: true, encoding: .utf8)
        let server = try ServerProcess(configPath: work + "/serve.conf")
        defer { server.stop() }
        XCTAssertTrue(server.waitMetric("osprey_records_in_total{transport=\"mimecast\"}", atLeast: Double(lines.value.count)),
                      "serve did not take every record: \(server.stderrText)")
        XCTAssertTrue(server.waitMetric("osprey_pending_records", atMost: 0))
        XCTAssertEqual(server.http("POST", "/api/flush", token: "t0ken-for-the-collect-tests").0, 200)
        let metrics = String(decoding: server.http("GET", "/metrics").1, as: UTF8.self)
        XCTAssertTrue(metrics.contains("osprey_mimecast_records_total{stream=\"m/audit\"}"), metrics)
        XCTAssertTrue(metrics.contains("osprey_mimecast_lag_seconds"))
        let got = ruleLines(work + "/alerts.jsonl")
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "serve's rule triggers differ from replay's over the same records")
        server.stop()

        // The same input owned by a tenant (`tenant = acme` in the input section): the tenant's pipeline
        // takes every record and reaches the same triggers; the [serve] instance gets nothing.
        let tenantConf = """
        [serve t]
        http = 127.0.0.1:0
        token = t0ken-for-the-collect-tests

        [tenant acme]
        http = 127.0.0.1:0
        token = acme-t0ken-for-the-collect-tests
        context = \(org)/context

        [output main-file]
        type = jsonl
        path = \(work)/main-alerts.jsonl

        [output acme-file]
        tenant = acme
        type = jsonl
        path = \(work)/acme-alerts.jsonl

        """ + TestData.config(emu, name: "m", sources: sources, pageSize: 40, secretFile: secret, kind: "input mimecast",
                              interval: 3600, extra: "lookback = 10000000\ntenant = acme")
        try tenantConf.write(toFile: work + "/tenant.conf", atomically: true, encoding: .utf8)
        let tenants = try ServerProcess(configPath: work + "/tenant.conf")
        defer { tenants.stop() }
        let acme = try XCTUnwrap(tenants.tenantPorts("acme"), tenants.stderrText)
        XCTAssertTrue(tenants.waitMetric("osprey_records_in_total{transport=\"mimecast\"}", atLeast: Double(lines.value.count), port: acme.http),
                      "the tenant did not take every record: \(tenants.stderrText)")
        XCTAssertTrue(tenants.waitMetric("osprey_pending_records", atMost: 0, port: acme.http))
        XCTAssertEqual(tenants.http("POST", "/api/flush", token: "acme-t0ken-for-the-collect-tests", port: acme.http).0, 200)
        XCTAssertEqual(tenants.http("POST", "/api/flush", token: "t0ken-for-the-collect-tests").0, 200)
        XCTAssertLessThan(tenants.metric("osprey_records_in_total{transport=\"mimecast\"}"), 1, "records reached the [serve] instance")
        let acmeGot = ruleLines(work + "/acme-alerts.jsonl")
        XCTAssertEqual(acmeGot.count, expected.count)
        XCTAssertTrue(acmeGot == expected, "the tenant's rule triggers differ from replay's over the same records")
        XCTAssertTrue(ruleLines(work + "/main-alerts.jsonl").isEmpty, "the [serve] instance wrote the tenant's alerts")
    }

    /// Serve with state and an `[input mimecast]` section, killed with SIGKILL while it pulls and restarted:
    /// the pipeline's committed line count ends at exactly the number of records served (none lost, none
    /// twice), and a further restart fetches nothing new.
    func testServeWithStateKilledCountsEveryRecordOnce() throws {
        var f = MimecastEmulator.Faults()
        f.delayMillis = 4; f.duplicatePages = true; f.every500 = 37; f.retryAfterSeconds = 0; f.fileMillis = 6 * 3_600_000
        let (emu, secret) = try start(f)
        defer { try? blocking { await emu.stop() } }
        let org = try TestData.generated().dir
        let work = try makeTempDir("collect-serve-state")
        let total = emu.allRecords.count
        let conf = """
        [serve t]
        http = 127.0.0.1:0
        token = t0ken-for-the-collect-tests
        context = \(org)/context
        state = \(work)/state
        checkpoint_records = 150
        checkpoint_seconds = 0.3

        """ + TestData.config(emu, name: "m", sources: RestartAndServeTests.sources, pageSize: 20, secretFile: secret,
                              kind: "input mimecast", interval: 3600, extra: "lookback = 10000000")
        try conf.write(toFile: work + "/serve.conf", atomically: true, encoding: .utf8)
        var kills = 0
        for _ in 0..<2 {
            let server = try ServerProcess(configPath: work + "/serve.conf")
            usleep(UInt32.random(in: 800_000...1_600_000))
            let lines = server.metric("osprey_lines_total")
            kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
            if lines > 0 && lines < Double(total) { kills += 1 }
        }
        var server = try ServerProcess(configPath: work + "/serve.conf")
        XCTAssertTrue(server.waitMetric("osprey_lines_total", atLeast: Double(total), timeout: 120), "lines: \(server.metric("osprey_lines_total")) of \(total)")
        usleep(500_000)
        XCTAssertEqual(server.metric("osprey_lines_total"), Double(total), "every record in the pipeline exactly once after \(kills) kills")
        server.stop()
        server = try ServerProcess(configPath: work + "/serve.conf")
        XCTAssertTrue(server.waitMetric("osprey_mimecast_requests_total{stream=\"m/held-release\"}", atLeast: 1))
        usleep(300_000)
        XCTAssertEqual(server.metric("osprey_lines_total"), Double(total), "a restart after the end fetched nothing twice")
        XCTAssertLessThanOrEqual(max(0, server.metric("osprey_mimecast_records_total{stream=\"m/audit\"}")), 0)
        server.stop()
        print("RestartAndServeTests: serve with state: \(kills) kills mid-run, \(total) records")
        XCTAssertGreaterThanOrEqual(kills, 1, "serve was killed mid-run")
    }
}
