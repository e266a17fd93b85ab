import Foundation
import OspreyTestSupport
import XCTest
@testable import OspreyServe

/// `[tenant NAME]`: several organizations in one `osprey serve`, each its own instance routed by listener,
/// with its own token, state, context and outputs.
final class TenantTests: XCTestCase {
    let mainToken = "main-token-0123456789", acmeToken = "acme-token-0123456789"

    func parse(_ text: String) throws -> ServeConfig { try ServeConfig.parse(text, file: "t.conf", environment: [:]) }
    func error(_ text: String) -> String {
        do { _ = try parse(text); return "" } catch { return "\(error)" }
    }

    func testTenantSectionsParseAndOutputsFollowTheirTenant() throws {
        let c = try parse("""
        [serve main]
        http = 127.0.0.1:8080
        token = \(mainToken)
        state = /var/lib/osprey/main

        [tenant acme]
        tcp = 127.0.0.1:5515
        http = 127.0.0.1:8081
        token = \(acmeToken)
        state = /var/lib/osprey/acme
        context = /etc/osprey/acme
        reorder_seconds = 60

        [output main-file]
        type = jsonl
        path = /var/log/osprey/main.jsonl

        [output acme-file]
        tenant = acme
        type = jsonl
        path = /var/log/osprey/acme.jsonl
        """)
        XCTAssertEqual(c.name, "main")
        XCTAssertEqual(c.outputs.map(\.name), ["main-file"])
        XCTAssertEqual(c.tenants.count, 1)
        let acme = try XCTUnwrap(c.tenants.first)
        XCTAssertEqual(acme.name, "acme")
        XCTAssertEqual(acme.token, acmeToken)
        XCTAssertEqual(acme.state, "/var/lib/osprey/acme")
        XCTAssertEqual(acme.context, "/etc/osprey/acme")
        XCTAssertEqual(acme.reorderSeconds, 60)
        XCTAssertEqual(acme.tcp?.port, 5515)
        XCTAssertEqual(acme.outputs.map(\.name), ["acme-file"])
        XCTAssertTrue(acme.tenants.isEmpty)
        // A Mimecast input follows its `tenant` too (the key is not passed on to the collector's keys).
        let withInput = try parse("""
        [serve main]
        http = 127.0.0.1:0
        token = \(mainToken)

        [tenant acme]
        http = 127.0.0.1:0
        token = \(acmeToken)

        [input mimecast acme-api]
        tenant = acme
        base_url = https://api.services.mimecast.com
        client_id_env = MIMECAST_CLIENT_ID
        client_secret_file = /etc/osprey/mimecast-client-secret
        sources = audit
        """)
        XCTAssertTrue(withInput.mimecast.isEmpty)
        XCTAssertEqual(withInput.tenants.first?.mimecast.map(\.name), ["acme-api"])
        // Without tenants nothing changes.
        XCTAssertTrue(try parse("[serve a]\nhttp = 127.0.0.1:0\ntoken = \(mainToken)\n").tenants.isEmpty)
    }

    func testTenantsMustNotShareListenersTokensStateOrFiles() {
        let main = "[serve main]\nhttp = 127.0.0.1:8080\ntcp = 127.0.0.1:5514\ntoken = \(mainToken)\nstate = /s/main\n\n"
        var e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8080\ntoken = \(acmeToken)\n")
        XCTAssertTrue(e.contains("t.conf:7: http = 127.0.0.1:8080 is also a listener of 'main'"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:5514\ntoken = \(acmeToken)\n")   // tcp and http share TCP ports
        XCTAssertTrue(e.contains("is also a listener of 'main'"), e)
        XCTAssertEqual(error(main + "[tenant acme]\nudp = 127.0.0.1:5514\nhttp = 127.0.0.1:0\ntoken = \(acmeToken)\n"), "",
                       "UDP and TCP on the same port are different listeners; port 0 is never a clash")
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(mainToken)\n")
        XCTAssertTrue(e.contains("t.conf:7: the API token is also the token of 'main'"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nstate = /s/main/\n")
        XCTAssertTrue(e.contains("state = /s/main/ is also the state directory of 'main'"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\n\n[output a]\ntype = jsonl\npath = /o/x.jsonl\n\n[output b]\ntenant = acme\ntype = ecs\npath = /o/x.jsonl\n")
        XCTAssertTrue(e.contains("output b writes /o/x.jsonl, which 'main' writes too"), e)
        e = error(main + "[output a]\ntenant = acme\ntype = jsonl\npath = /o/x.jsonl\n")
        XCTAssertTrue(e.contains("t.conf:8: tenant 'acme' has no [tenant acme] section"), e)
        e = error(main + "[tenant main]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\n")
        XCTAssertTrue(e.contains("tenant name 'main' is used twice"), e)
        e = error(main + "[tenant acme]\ntoken = \(acmeToken)\n")
        XCTAssertTrue(e.contains("t.conf:7: [tenant acme] has no listener"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\n")
        XCTAssertTrue(e.contains("[tenant acme] has no API token"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nbogus = 1\n")
        XCTAssertTrue(e.contains("bogus"), e)
    }

    func testTenantSourcesParseAndMustNotOverlap() throws {
        let main = "[serve main]\nudp = 127.0.0.1:5514\ntcp = 127.0.0.1:5514\nhttp = 127.0.0.1:8080\ntoken = \(mainToken)\n\n"
        let c = try parse(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nsources = 10.1.0.0/16, 192.0.2.7, 2001:db8::/32\n")
        XCTAssertEqual(c.tenants.first?.sources.count, 3)
        XCTAssertTrue(c.sources.isEmpty)
        var e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nsources = 10.1.0.0/33\n")
        XCTAssertTrue(e.contains("t.conf:10: sources: '10.1.0.0/33': bad prefix length"), e)
        e = error(main + "[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nsources = 10.1.0.0/16\n\n"
                  + "[tenant beta]\nhttp = 127.0.0.1:8082\ntoken = beta-token-0123456789\nsources = 10.1.2.0/24\n")
        XCTAssertTrue(e.contains("sources 10.1.2.0/24 overlaps 10.1.0.0/16 of tenant 'acme'"), e)
        e = error("[serve main]\nhttp = 127.0.0.1:8080\ntoken = \(mainToken)\nsources = 10.0.0.0/8\n")
        XCTAssertTrue(e.contains("t.conf:4: sources belongs in a [tenant NAME] section"), e)
        e = error("[serve main]\nhttp = 127.0.0.1:8080\ntoken = \(mainToken)\n\n[tenant acme]\nhttp = 127.0.0.1:8081\ntoken = \(acmeToken)\nsources = 10.0.0.0/8\n")
        XCTAssertTrue(e.contains("has none (udp or tcp)"), e)
    }

    /// Syslog reaching the [serve] instance's listeners from a tenant's sender addresses goes to that tenant;
    /// other senders stay with the [serve] instance.
    func testSyslogIsRoutedBySenderAddress() throws {
        let dir = try makeTempDir("tenant-sources")
        let server = try ServerProcess(dir: dir, config: """
        [serve main]
        udp = 127.0.0.1:0
        tcp = 127.0.0.1:0
        http = 127.0.0.1:0
        token = test-token-0123456789

        [tenant acme]
        http = 127.0.0.1:0
        token = \(acmeToken)
        sources = 127.0.0.2
        """)
        defer { server.stop() }
        let acme = try XCTUnwrap(server.tenantPorts("acme"), server.stderrText)
        let line = Array("<134>1 2026-11-02T08:15:02Z relay01 mimecast - - - {\"auditType\":\"User Logged On\",\"user\":\"a@corp.example\",\"eventTime\":\"2026-11-02T08:15:01+0000\",\"eventInfo\":\"x\"}\n".utf8)

        let fromTenant = Loopback.tcpConnect(server.tcpPort, from: "127.0.0.2")
        XCTAssertGreaterThan(fromTenant, 0)
        XCTAssertTrue(Loopback.sendAll(fromTenant, Array((0..<7).map { _ in line }.joined())))
        close(fromTenant)
        let fromOther = Loopback.tcpConnect(server.tcpPort, from: "127.0.0.1")
        XCTAssertGreaterThan(fromOther, 0)
        XCTAssertTrue(Loopback.sendAll(fromOther, Array((0..<3).map { _ in line }.joined())))
        close(fromOther)
        XCTAssertTrue(server.waitProcessed(transport: "tcp", count: 7, port: acme.http), server.stderrText)
        XCTAssertTrue(server.waitProcessed(transport: "tcp", count: 3), server.stderrText)
        XCTAssertEqual(server.metric("osprey_records_in_total{transport=\"tcp\"}", port: acme.http), 7)
        XCTAssertEqual(server.metric("osprey_records_in_total{transport=\"tcp\"}"), 3)

        // UDP: each datagram by its sender.
        let u = Loopback.udpSocket()
        var b = sockaddr_in()
        b.sin_family = sa_family_t(AF_INET)
        b.sin_addr.s_addr = inet_addr("127.0.0.2")
        let bound = withUnsafePointer(to: &b) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(u, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(bound, 0)
        for _ in 0..<5 { Loopback.udpSend(u, server.udpPort, Array(line.dropLast())) }
        close(u)
        XCTAssertTrue(server.waitProcessed(transport: "udp", count: 5, port: acme.http), server.stderrText)
        XCTAssertLessThan(server.metric("osprey_records_in_total{transport=\"udp\"}"), 1)
    }

    /// One process, two organizations: the tenant's alerts are replay's for its logs, the other instance
    /// sees none of them, each token opens only its own API, the [serve] instance's /ingest routes by token,
    /// and SIGTERM stops both cleanly.
    func testTenantsAreSeparateInstancesInOneProcess() throws {
        let org = try GeneratedOrg.shared.path()
        let dir = try makeTempDir("tenants")
        let ref = try runOsprey(["replay", org + "/logs", "--context", org + "/context", "--out", dir + "/ref.jsonl"])
        XCTAssertEqual(ref.status, 0, ref.stderr)
        let expected = ruleLines(dir + "/ref.jsonl")
        XCTAssertFalse(expected.isEmpty)

        let server = try ServerProcess(dir: dir, config: """
        [serve main]
        tcp = 127.0.0.1:0
        http = 127.0.0.1:0
        token = test-token-0123456789

        [tenant acme]
        tcp = 127.0.0.1:0
        http = 127.0.0.1:0
        token = \(acmeToken)
        context = \(org)/context

        [output main-file]
        type = jsonl
        path = \(dir)/main.jsonl

        [output acme-file]
        tenant = acme
        type = jsonl
        path = \(dir)/acme.jsonl
        """)
        defer { server.stop() }
        let acme = try XCTUnwrap(server.tenantPorts("acme"), server.stderrText)
        XCTAssertNotEqual(acme.http, server.httpPort)

        let lines = try orgLines(org)
        var i = 0
        while i < lines.count {
            let end = min(lines.count, i + 2000)
            let body = Data((lines[i..<end].joined(separator: "\n") + "\n").utf8)
            XCTAssertEqual(server.http("POST", "/ingest", body: body, token: acmeToken, port: acme.http).0, 200)
            i = end
        }
        XCTAssertTrue(server.waitProcessed(transport: "http", count: lines.count, port: acme.http), server.stderrText)
        XCTAssertEqual(server.http("POST", "/api/flush", token: acmeToken, port: acme.http).0, 200)
        XCTAssertEqual(server.http("POST", "/api/flush").0, 200)

        let got = ruleLines(dir + "/acme.jsonl")
        XCTAssertEqual(got.count, expected.count)
        XCTAssertTrue(got == expected, "the tenant's rule triggers differ from replay's")
        XCTAssertTrue(ruleLines(dir + "/main.jsonl").isEmpty, "the other instance got the tenant's alerts")
        XCTAssertLessThan(server.metric("osprey_records_in_total{transport=\"http\"}"), 1, "records crossed over to the main instance")

        // Each token opens its own API only.
        XCTAssertEqual(server.http("GET", "/api/users", token: acmeToken).0, 401)
        XCTAssertEqual(server.http("GET", "/api/users", port: acme.http).0, 401)
        let (status, body) = server.http("GET", "/api/users", token: acmeToken, port: acme.http)
        XCTAssertEqual(status, 200)
        let users = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["users"] as? [Any] ?? []
        XCTAssertFalse(users.isEmpty)
        let mainUsers = server.json("/api/users")["users"] as? [Any] ?? []
        XCTAssertTrue(mainUsers.isEmpty)

        // The [serve] instance's /ingest takes a tenant's token too, and hands the body to that tenant.
        let before = server.metric("osprey_records_in_total{transport=\"http\"}", port: acme.http)
        let some = Data((lines[0..<100].joined(separator: "\n") + "\n").utf8)
        XCTAssertEqual(server.http("POST", "/ingest", body: some, token: acmeToken).0, 200)
        XCTAssertTrue(server.waitProcessed(transport: "http", count: Int(before) + 100, port: acme.http), server.stderrText)
        XCTAssertLessThan(server.metric("osprey_records_in_total{transport=\"http\"}"), 1, "a tenant's records went to the main pipeline")
        XCTAssertEqual(server.http("POST", "/ingest", body: some, token: "wrong-token-0123456789").0, 401)
        XCTAssertEqual(server.http("POST", "/ingest", body: some, token: nil).0, 401)
        XCTAssertEqual(server.http("POST", "/ingest", body: Data((lines[0..<10].joined(separator: "\n") + "\n").utf8)).0, 200)
        XCTAssertTrue(server.waitProcessed(transport: "http", count: 10), "the main token still reaches the main pipeline")
        // ... but not the other way round: the tenant's listener takes only the tenant's token.
        XCTAssertEqual(server.http("POST", "/ingest", body: some, port: acme.http).0, 401)

        server.stop()
        XCTAssertEqual(server.process.terminationStatus, 0, server.stderrText)
        XCTAssertTrue(server.stderrText.contains("osprey serve: tenant acme: stopped"), server.stderrText)
        XCTAssertTrue(server.stderrText.contains("osprey serve: stopped"), server.stderrText)
    }

    /// A tenant that cannot start (its port is taken) stops the whole process with its reason, instead of
    /// leaving the other organizations half served.
    func testATenantThatCannotStartStopsTheProcess() throws {
        let dir = try makeTempDir("tenant-fail")
        let (fd, port) = Loopback.tcpListen()
        XCTAssertGreaterThan(fd, 0)
        defer { close(fd) }
        try """
        [serve main]
        http = 127.0.0.1:0
        token = test-token-0123456789

        [tenant acme]
        tcp = 127.0.0.1:\(port)
        http = 127.0.0.1:0
        token = \(acmeToken)
        """.write(toFile: dir + "/serve.conf", atomically: true, encoding: .utf8)
        let r = try runOsprey(["serve", "--config", dir + "/serve.conf"], timeout: 60)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("tcp = 127.0.0.1:\(port): cannot listen: address already in use"), r.stderr)
    }
}
