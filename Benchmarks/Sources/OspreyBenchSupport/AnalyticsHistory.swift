import OspreyAnalytics
import OspreyContent
import OspreyCore

/// The analytics benchmark's input (ported from the former `osprey-analytics-bench`): an enriched event history
/// for a synthetic organization, generated day by day (so memory need hold only one day), and the engine
/// it runs through (the bundled content, a static context of company / webmail domains and a tor range).
public final class AnalyticsHistory {
    public let users: Int
    public let days: Int
    public let seed: UInt64

    /// Seeded draws over OspreyCore's SplitMix64.
    struct Rng {
        var core: SplitMix64
        init(s: UInt64) { core = SplitMix64(state: s) }
        mutating func next() -> UInt64 { core.next() }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    }

    struct Profile { var name: String; var group: String; var country: String; var isp: String; var ua: String; var domains: [String]; var app: String }

    let countries = ["GB", "US", "DE", "FR", "NL", "IE", "ES", "IT"]
    let isps = ["BT", "Virgin", "Sky", "Vodafone", "Comcast", "Orange"]
    let apps = ["Administration Console", "Mimecast Mobile", "Outlook Add-in", "API Integration"]
    let operations = ["Search", "View Message", "Release Message", "Export", "Update Policy", "Add Sender", "Permit Sender", "Message Tracking"]
    let uas = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    ]
    let partnerDomains = (0..<2000).map { "partner\($0).example" }
    let exts = ["pdf", "docx", "xlsx", "pptx", "png", "zip", "csv"]
    let fUser = Field.named("user"), fPeer = Field.named("peer_group"), fDomain = Field.named("email_domain")
    let t0: Int64 = 1_711_929_600_000   // 2024-04-01
    var rng: Rng
    let profiles: [Profile]

    public init(users: Int, days: Int, seed: UInt64 = 7) {
        self.users = users; self.days = days; self.seed = seed
        var rng = Rng(s: seed)
        let groups = (0..<max(1, users / 200)).map { "group-\($0)" }
        let countries = self.countries, isps = self.isps, uas = self.uas, partnerDomains = self.partnerDomains, apps = self.apps
        profiles = (0..<users).map { i in
            Profile(name: "user\(i)@corp.example", group: groups[i % groups.count], country: rng.chance(0.9) ? "GB" : countries[rng.int(countries.count)],
                    isp: isps[rng.int(isps.count)], ua: uas[rng.int(uas.count)],
                    domains: (0..<8).map { _ in partnerDomains[rng.int(partnerDomains.count)] }, app: apps[rng.int(apps.count)])
        }
        self.rng = rng
    }

    /// The engine of the benchmark over the bundled content.
    public static func engine() throws -> AnalyticsEngine {
        let content = try AnalyticsContent.load(directory: OspreyContent.directory.path)
        let provider = StaticContextProvider()
        provider.setList("company_domains", mode: .domain, entries: ["corp.example"])
        provider.setList("webmail_domains", mode: .domain, entries: ["gmail.com", "yahoo.com", "outlook.com", "proton.me"])
        provider.setList("tor", mode: .cidr, entries: ["185.220.101.0/24"])
        return AnalyticsEngine(content: content, context: provider)
    }

    func base(_ p: Profile, _ type: ActivityType, _ t: Int64) -> Event {
        var e = Event(parser: "bench", activityType: type, timeMillis: t)
        e[fUser] = .string(p.name)
        e["email_address"] = .string(p.name)
        e[fDomain] = .string("corp.example")
        e[fPeer] = .string(p.group)
        e["outcome"] = .string(type.isFailure ? "failure" : "success")
        return e
    }

    /// Day `d`'s events in time order (days must be generated in order: the draws continue).
    public func generateDay(_ d: Int) -> [Event] {
        var out: [Event] = []
        out.reserveCapacity(users * 12)
        let day = t0 + Int64(d) * 86_400_000
        let weekend = (d % 7) >= 5
        for (i, p) in profiles.enumerated() {
            if weekend && !rng.chance(0.1) { continue }
            let start = day + 8 * 3_600_000 + Int64(rng.int(3 * 3_600_000))
            var t = start
            let country = rng.chance(0.02) ? countries[rng.int(countries.count)] : p.country
            var login = base(p, rng.chance(0.02) ? .failedAppLogin : .appLogin, t)
            login["app"] = .string(p.app)
            login["operation"] = .string("User Logged On")
            login["src_ip"] = .string("81.2.\(i % 250).\(i / 250 % 250)")
            login["src_country"] = .string(country)
            login["src_isp"] = .string(rng.chance(0.03) ? isps[rng.int(isps.count)] : p.isp)
            login["user_agent"] = .string(rng.chance(0.02) ? uas[rng.int(uas.count)] : p.ua)
            login["client_id"] = .string("cid-\(i)")
            login["src_zone"] = .string("office")
            out.append(login)
            for _ in 0..<(2 + rng.int(4)) {
                t += Int64(5 * 60_000 + rng.int(40 * 60_000))
                var a = base(p, .appActivity, t)
                a["app"] = .string(p.app)
                a["operation"] = .string(operations[min(operations.count - 1, rng.int(3) + (rng.chance(0.05) ? rng.int(operations.count) : 0))])
                a["object"] = .string(rng.chance(0.8) ? "archive" : "policy")
                a["src_ip"] = .string("81.2.\(i % 250).\(i / 250 % 250)")
                a["src_country"] = .string(country)
                a["src_isp"] = .string(p.isp)
                a["user_agent"] = .string(p.ua)
                a["mime_type"] = .string(rng.chance(0.7) ? "application/pdf" : "message/rfc822")
                out.append(a)
            }
            for _ in 0..<(3 + rng.int(6)) {
                t += Int64(5 * 60_000 + rng.int(30 * 60_000))
                let failed = rng.chance(0.01)
                var m = base(p, failed ? .emailOutFailed : .emailOut, t)
                let domain = rng.chance(0.05) ? partnerDomains[rng.int(partnerDomains.count)] : (rng.chance(0.02) ? "gmail.com" : p.domains[rng.int(p.domains.count)])
                let to = "contact\(rng.int(50))@\(domain)"
                m["sender"] = .string(p.name)
                m["dest_email_address"] = .string(to)
                m["dest_domain"] = .string(domain)
                let n = 1 + (rng.chance(0.1) ? rng.int(6) : 0)
                m["email_recipients"] = .list((0..<n).map { k in k == 0 ? to : "colleague\(k)@corp.example" })
                m["email_subject"] = .string("Re: project \(rng.int(500)) status")
                let attachments = rng.chance(0.4) ? (0..<(1 + rng.int(2))).map { _ in "file\(rng.int(100)).\(exts[rng.int(exts.count)])" } : []
                if !attachments.isEmpty { m["email_attachments"] = .list(attachments) }
                m["attachment_count"] = .int(Int64(attachments.count))
                m["bytes"] = .int(Int64(5_000 + rng.int(200_000) + attachments.count * rng.int(2_000_000)))
                m["dest_country"] = .string(rng.chance(0.8) ? "GB" : countries[rng.int(countries.count)])
                m["dest_is_external"] = .bool(true)
                m["dest_is_webmail"] = .bool(domain == "gmail.com")
                m["message_id"] = .string("<\(i)-\(t)@corp.example>")
                out.append(m)
            }
            for _ in 0..<(2 + rng.int(4)) {
                t += Int64(rng.int(30 * 60_000))
                var m = base(p, rng.chance(0.02) ? .emailInFailed : .emailIn, t)
                m["sender"] = .string("news@\(p.domains[0])")
                m["dest_email_address"] = .string(p.name)
                m["email_subject"] = .string("Newsletter")
                m["bytes"] = .int(Int64(20_000 + rng.int(50_000)))
                out.append(m)
            }
        }
        out.sort { $0.timeMillis < $1.timeMillis }
        return out
    }

    /// Every day's events, in time order.
    public func allDays() -> [Event] {
        var all: [Event] = []
        for d in 0..<days { all += generateDay(d) }
        return all
    }
}
