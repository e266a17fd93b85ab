import Foundation
import OspreyCore

public struct GeneratorOptions: Sendable {
    public var users = 300
    public var days = 45
    public var seed: UInt64 = 7
    /// classic: the original organization (every person busy every working day); small / medium / large:
    /// realistic rhythms (docs/calibration.md).
    public var profile: OrganizationProfile = .classic
    /// Midnight UTC of the first day (a Monday): 2026-09-28.
    public var firstDay: Int64 = 1_790_553_600_000
    public init() {}
}

public struct GenerationSummary: Sendable {
    public var lines = 0
    public var files = 0
    public var messages = 0
    public var logins = 0
    public var scenarios = 0
    public var users = 0
    public var firstDay: Int64 = 0
    public var days = 0
}

/// Writes a synthetic organization: `context/` (users, domains, zones, TI and keyword lists, geo data for its
/// IP space), `logs/` (one file per day, every shape Osprey reads, lines in time order) and `labels.jsonl`
/// (the injected attack scenarios). The same options always give the same bytes.
public final class OrganizationGenerator {
    let options: GeneratorOptions
    var rng: SeededRandom
    var onDay: ((Int, Int) -> Void)?
    var org: Organization
    let day = Int64(86_400_000)
    var seq = 0
    var summary = GenerationSummary()
    var execSubjects: [String] = []
    var victims: [String: Int] = [:]          // scenario id → person index

    public init(options: GeneratorOptions) {
        self.options = options
        rng = SeededRandom(seed: options.seed)
        org = Organization.generate(users: max(1, options.users), start: options.firstDay, days: options.days, rng: &rng)
        if options.profile != .classic { applyProfile() }
        markSpecialAccounts()
        if options.profile != .classic { planScenarioDays() }
    }

    /// Scenario day per scenario id (realistic profiles: a random day in the last third).
    var scenarioDays: [String: Int] = [:]
    /// Org-wide holidays (realistic profiles).
    var holidays: Set<Int> = []
    /// Benign patterns written to benign.jsonl (user, pattern).
    var benign: [(String, String)] = []
    var specs: [ScenarioSpec] { options.profile == .classic ? scenarioSpecs : scenarioSpecs + singleSignalSpecs }
    /// Whether the span can hold a scenario: a dormant account needs 30 silent days after its first week, so
    /// spans under 40 days do not label the dormant scenarios (their events are still written, as before).
    func labelled(_ spec: ScenarioSpec) -> Bool {
        options.days >= 40 || (spec.id != "dormant-account-wakes" && spec.id != "single-dormant-login")
    }

    /// `onDay(done, total)` after each generated day (progress on a terminal).
    public static func generate(_ options: GeneratorOptions, into dir: String,
                                onDay: ((Int, Int) -> Void)? = nil) throws -> GenerationSummary {
        let g = OrganizationGenerator(options: options)
        g.onDay = onDay
        return try g.write(to: dir)
    }

    func dayStart(_ d: Int) -> Int64 { options.firstDay + Int64(d) * day }

    private func markSpecialAccounts() {
        let n = org.people.count
        let ordinary = org.people.indices.filter { !org.people[$0].isExecutive && !org.people[$0].isService && !org.people[$0].shared }
        // Two deactivated accounts (left the company 20 days before the end) and two dormant ones
        // (active the first week only, then silent until a scenario wakes one of them).
        for k in 0..<2 where ordinary.count > 10 {
            let i = ordinary[(k * 7 + 3) % ordinary.count]
            org.people[i].deactivatedAt = dayStart(options.days - 20)
        }
        for k in 0..<2 where ordinary.count > 10 {
            let i = ordinary[(k * 11 + 5) % ordinary.count]
            if org.people[i].deactivatedAt == nil { org.people[i].dormantUntil = dayStart(options.days) }
        }
        // Scenario victims: the first person (in a seed-shuffled order) meeting each scenario's needs.
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        var taken = Set<Int>()
        if options.profile != .classic {
            // A third deactivated and dormant account each for the single-signal scenarios.
            if ordinary.count > 10 {
                let i = ordinary[(3 * 7 + 3) % ordinary.count], j = ordinary[(3 * 11 + 5) % ordinary.count]
                if org.people[i].dormantUntil == nil { org.people[i].deactivatedAt = dayStart(options.days - 20) }
                if org.people[j].deactivatedAt == nil { org.people[j].dormantUntil = dayStart(options.days) }
            }
            // Benign patterns are nobody's scenario.
            for i in org.people.indices where !org.people[i].tripDays.isEmpty || org.people[i].mailsWebmailCustomers || org.people[i].shared || org.people[i].remote {
                taken.insert(i)
            }
        }
        let specialIDs: Set<String> = ["dormant-account-wakes", "deactivated-account-sends", "single-dormant-login", "single-deactivated-mail"]
        for spec in specs {
            // Dormant and deactivated accounts serve only the scenarios about them: elsewhere their thin
            // history would turn the expected rules into their new-user variants.
            let special = specialIDs.contains(spec.id)
            if let i = order.first(where: { i in
                let p = org.people[i]
                // Realistic profiles: the non-privileged admin is outside IT, whose peer group uses the console (so
                // APP-AppG-F, "first use by the group", can hold). Classic keeps its victims (and bytes) unchanged.
                let itOK = options.profile == .classic || spec.id != "non-privileged-admin-action" || p.department != "IT"
                return !taken.contains(i) && spec.needs(p) && itOK && (special || (p.dormantUntil == nil && p.deactivatedAt == nil))
            }) {
                victims[spec.id] = i
                taken.insert(i)
            }
        }
    }

    // MARK: writing

    func write(to dir: String) throws -> GenerationSummary {
        let fm = FileManager.default
        for sub in ["logs", "context", "context/ti", "context/keywords", "context/geo"] {
            try fm.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        try writeContext(dir + "/context")
        var labels: [ScenarioLabel] = []
        // Lines are generated per local working day and written per UTC day, so every file is in time order
        // and files follow each other in time (a Bangalore morning is the previous UTC evening).
        var lines: [(Int64, Int, String)] = []
        for d in 0..<options.days {
            func add(_ items: [(Int64, String)]) { for (t, s) in items { seq += 1; lines.append((t, seq, s)) } }
            for i in org.people.indices {
                // A leaver's last local evening can run past the UTC midnight of their deactivation: nothing
                // of theirs happens after it (only the scenarios about deactivated accounts act then).
                let gone = org.people[i].deactivatedAt ?? .max
                add(normalDay(person: i, day: d).filter { $0.0 < gone })
            }
            for spec in specs {
                guard let v = victims[spec.id], scenarioDay(spec) == d else { continue }
                let (items, label) = scenario(spec, victim: v, day: d)
                add(items)
                if labelled(spec) { labels.append(label) }
            }
            onDay?(d + 1, options.days)
        }
        lines.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var start = 0
        while start < lines.count {
            let dayIndex = (lines[start].0 - options.firstDay) >= 0 ? (lines[start].0 - options.firstDay) / day : -1
            let end = lines[start...].firstIndex { ($0.0 - options.firstDay) >= 0 ? ($0.0 - options.firstDay) / day != dayIndex : dayIndex != -1 } ?? lines.count
            let name = String(UTCTime.format(options.firstDay + dayIndex * day).prefix(10))
            var text = ""
            text.reserveCapacity((end - start) * 400)
            for l in lines[start..<end] { text += l.2; text += "\n" }
            try text.write(toFile: "\(dir)/logs/mimecast-\(name).log", atomically: false, encoding: .utf8)
            summary.lines += end - start
            summary.files += 1
            start = end
        }
        try (labels.map { $0.jsonLine() }.joined(separator: "\n") + "\n").write(toFile: dir + "/labels.jsonl", atomically: false, encoding: .utf8)
        if options.profile != .classic {
            let text = benign.map { LogFormats.json([("user", $0.0), ("pattern", $0.1)]) }.joined(separator: "\n")
            try (text + "\n").write(toFile: dir + "/benign.jsonl", atomically: false, encoding: .utf8)
        }
        summary.scenarios = labels.count
        summary.users = org.people.count
        summary.firstDay = options.firstDay
        summary.days = options.days
        return summary
    }

    func scenarioDay(_ spec: ScenarioSpec) -> Int {
        if let d = scenarioDays[spec.id] { return d }
        let i = scenarioSpecs.firstIndex { $0.id == spec.id } ?? 0
        return options.days - 1 - (i % 4)
    }

    // MARK: ordinary life

    func shapeFor(_ r: Int) -> Shape { [Shape.connector, .connector, .apiJSON, .apiJSON, .siemV2, .keyValue][r % 6] }

    func localTime(_ p: Person, day d: Int, hour: Double) -> Int64 {
        let offset = p.tripDays.contains(d) ? (p.tripUtcOffsetHours ?? p.utcOffsetHours) : p.utcOffsetHours
        return dayStart(d) + Int64((hour - Double(offset)) * 3_600_000)
    }

    func isActive(_ p: Person, at t: Int64) -> Bool {
        if let until = p.dormantUntil, t >= dayStart(7), t < until { return false }
        if let gone = p.deactivatedAt, t >= gone { return false }
        return true
    }

    func normalDay(person i: Int, day d: Int) -> [(Int64, String)] {
        let p = org.people[i]
        let weekday = (d % 7) < 5            // firstDay is a Monday
        let scale = (weekday ? 1.0 : 0.08) * p.activity
        var out: [(Int64, String)] = []
        guard isActive(p, at: dayStart(d)) else { return out }
        if options.profile != .classic {
            // Realistic rhythm: holidays, vacations, part-time weekdays, active on a share of working days.
            if !p.isService {
                if holidays.contains(d) || p.offDays.contains(d) { return out }
                if weekday, let wd = p.workdays, !wd.contains(d % 7) { return out }
                if weekday, !rng.chance(p.activeRate) { return out }
            }
            if p.shared { return sharedMailboxDay(person: i, day: d, weekday: weekday) }
            // A traveller spends the days of the outbound and the return flight in the air: no activity, so
            // consecutive places are a flight apart (local hours follow the place: localTime).
            if p.tripDays.contains(d) != p.tripDays.contains(d - 1) { return out }
        }
        let abroad = p.tripDays.contains(d)
        let officeDay = weekday && !p.remote && !abroad && rng.chance(0.7)
        let block = abroad ? (p.tripBlock ?? p.homeBlock) : officeDay ? (org.corporateBlock[p.country] ?? p.homeBlock) : p.homeBlock
        let ip = org.networks[block].address(i * 7 + rng.int(3))
        let ua = p.apps.contains("mimecast-moa") && !officeDay ? "Mimecast/5.2 (iPhone; iOS 17.4)" : "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Outlook/16.0"
        // Logins: the first thing in the morning, sometimes again after lunch.
        var logins = p.isService ? 1 : (scale < 0.2 ? (rng.chance(scale * 3) ? 1 : 0) : 1 + (rng.chance(0.4) ? 1 : 0))
        if !p.usesApps { logins = 0 }
        for k in 0..<logins {
            let t = p.isService ? dayStart(d) + Int64(rng.int(3_600_000)) : localTime(p, day: d, hour: 8.0 + Double(k) * 5 + rng.unit() * 1.5)
            let app = rng.pick(p.apps)
            if !p.isService, rng.chance(0.03) {
                out.append(login(p, t - 40_000, ip: ip, app: app, ua: ua, success: false))
            }
            out.append(login(p, t, ip: ip, app: app, ua: ua, success: true))
            summary.logins += 1
        }
        // Privileged admins work in the console.
        if p.isPrivileged, !p.isService, weekday {
            for _ in 0..<rng.int(in: 1...4) {
                let t = localTime(p, day: d, hour: 9 + rng.unit() * 8)
                let op = rng.pick([("Search Action", "case_review_logs", "Search Criteria: {\"keywords\":\"invoice\"}"),
                                   ("Message Action", "case_review_logs", "Message released from hold queue"),
                                   ("Policy Definition Changed", "policy_logs", "Anti-spoofing policy updated"),
                                   ("User Password Changed", "user_account_and_role_logs", "Password reset for user")])
                let info = "\(op.2), Date: \(UTCTime.format(t).prefix(10)), Time: \(UTCTime.format(t).dropFirst(11).prefix(8))+0000, IP: \(ip), Application: Administration Console"
                out.append(LogFormats.audit(AuditEvent(time: t, user: p.email, auditType: op.0, category: op.1, info: info),
                                            shape: rng.chance(0.5) ? .apiJSON : .connector, app: "Administration Console", ip: ip, success: true, spaced: rng.chance(0.7)))
            }
        }
        if p.isService { return out }
        // Outgoing mail: partners, colleagues, now and then the user's own personal address.
        let sent = rng.poisson(3.5 * scale)
        let dept = Organization.departments.first { $0.name == p.department } ?? Organization.departments.first { $0.name == "Finance" }!
        if p.mailsWebmailCustomers, weekday {
            // A billing team writes to patients and customers at their webmail addresses every day.
            for _ in 0..<rng.int(in: 2...6) {
                let t = localTime(p, day: d, hour: 9 + rng.unit() * 7)
                let to = "\(rng.pick(["pat", "j", "m", "k", "lee", "ana"])).\(rng.pick(Organization.lastNames).lowercased())\(rng.int(900) + 10)@\(rng.pick(Organization.webmail))"
                let m = Message(time: t, code: code(), sender: p.email, recipient: to, direction: "Outbound",
                                subject: rng.pick(["Your statement", "Invoice \(rng.int(90_000) + 10_000)", "Payment reminder", "Re: your account"]),
                                attachments: rng.chance(0.6) ? ["statement-\(rng.int(90_000) + 10_000).pdf"] : [], attachmentBytes: 120_000,
                                bytes: 140_000, sourceIP: org.networks[org.corporateBlock["US"]!].address(1),
                                destIP: org.networks[rng.pick(org.mtaBlocks)].address(rng.int(500)), held: false, rejected: false, delivered: true)
                out += LogFormats.message(m, shape: shapeFor(rng.int(6)), spaced: rng.chance(0.7))
                summary.messages += 1
            }
        }
        for _ in 0..<sent {
            let t = localTime(p, day: d, hour: 8.5 + rng.unit() * 9)
            var recipient: String
            var direction = "Outbound"
            let roll = rng.unit()
            if roll < 0.35 {
                let other = org.people[rng.int(org.people.count)]
                recipient = other.email; direction = "Internal"
            } else if roll < 0.37, let personal = p.personalEmail {
                recipient = personal
            } else if roll < 0.375, p.department == "Finance" {
                recipient = "accounts@supplier-billing.example"   // a vendor the organization mails rarely
            } else {
                recipient = "\(rng.pick(["info", "sales", "j.doe", "accounts", "m.lee", "team", "support"]))@\(rng.pick(p.partners))"
            }
            var attachments: [String] = []
            if rng.chance(0.25) {
                for _ in 0..<(1 + (rng.chance(0.2) ? 1 : 0)) { attachments.append("\(rng.pick(["report", "notes", "proposal", "summary", "draft", "invoice"]))-\(rng.int(900) + 100).\(rng.pick(dept.exts))") }
            }
            let attBytes = attachments.isEmpty ? 0 : Int(rng.logNormal(median: 250_000, sigma: 0.9))
            var subject = rng.pick(["Re: project update", "Meeting notes", "Follow-up", "Quick question", "Re: schedule",
                                     "Proposal for review", "Weekly status", "Re: contract", "Invoice question", "Thanks!"])
            if p.isExecutive {
                // Executives' mail has subjects of its own (board, deals, budgets): what EM-EXEC learns.
                subject = rng.pick(["Board strategy Q4 review", "Acquisition plan: Project Falcon", "Leadership offsite agenda",
                                    "Budget reallocation FY27", "Confidential: restructuring proposal", "Investor update draft",
                                    "Re: Board strategy Q4 review", "Re: Acquisition plan: Project Falcon"])
                execSubjects.append(subject)
            }
            let destBlock = direction == "Internal" ? org.corporateBlock["US"]! : rng.pick(org.mtaBlocks)
            let m = Message(time: t, code: code(), sender: p.email, recipient: recipient, direction: direction, subject: subject,
                            attachments: attachments, attachmentBytes: attBytes, bytes: attBytes + Int(rng.logNormal(median: 18_000, sigma: 0.6)),
                            sourceIP: org.networks[org.corporateBlock["US"]!].address(1), destIP: org.networks[destBlock].address(rng.int(500)),
                            held: false, rejected: false, delivered: !rng.chance(0.01))
            out += LogFormats.message(m, shape: shapeFor(rng.int(6)), spaced: rng.chance(0.7))
            summary.messages += 1
        }
        // Incoming mail, protection verdicts and URL clicks.
        let received = rng.poisson(5 * scale)
        for _ in 0..<received {
            let t = localTime(p, day: d, hour: 6 + rng.unit() * 14)
            let from = "\(rng.pick(["news", "info", "alerts", "billing", "j.smith", "team"]))@\(rng.pick(p.partners + ["newsletter-mail.example", "saas-updates.example"]))"
            let spam = rng.chance(0.03)
            let m = Message(time: t, code: code(), sender: from, recipient: p.email, direction: "Inbound", subject: spam ? "You have won a prize" : "Update from our team",
                            attachments: rng.chance(0.1) ? ["document-\(rng.int(99)).pdf"] : [], attachmentBytes: 80_000,
                            bytes: Int(rng.logNormal(median: 25_000, sigma: 0.7)), sourceIP: org.networks[rng.pick(org.mtaBlocks)].address(rng.int(900)),
                            destIP: "100.64.0.25", held: spam, rejected: false, delivered: true)
            out += LogFormats.message(m, shape: shapeFor(rng.int(6)), spaced: rng.chance(0.7))
            summary.messages += 1
            if rng.chance(0.08) {
                out.append(LogFormats.urlClick(time: t + 600_000, user: p.email, sender: from, url: "https://links.newsletter-mail.example/c/\(rng.int(99_999))",
                                               verdict: "clean", category: "Business", ip: m.sourceIP, shape: rng.chance(0.5) ? .connector : .apiJSON, spaced: true))
            }
            if !m.attachments.isEmpty, rng.chance(0.3) {
                out.append(LogFormats.attachmentProtect(time: t + 5_000, user: p.email, sender: from, file: m.attachments[0], result: "safe",
                                                        shape: rng.chance(0.5) ? .connector : .apiJSON, spaced: true))
            }
        }
        return out
    }

    func code() -> String {
        seq += 1
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        var s = ""
        var v = rng.next()
        for _ in 0..<22 { s.append(alphabet[Int(v & 63)]); v >>= 6; if v == 0 { v = rng.next() } }
        return s
    }

    func login(_ p: Person, _ t: Int64, ip: String, app: String, ua: String?, success: Bool, shape: Shape? = nil) -> (Int64, String) {
        let info = LogFormats.loginInfo(user: p.email, name: "\(p.first) \(p.last)", success: success, time: t, ip: ip, app: app,
                                        method: rng.pick(["Cloud", "Office 365"]), userAgent: ua,
                                        clientID: app == "mimecast-moa" ? "moa-" + String(UInt32(truncatingIfNeeded: FNV.hash(p.email)), radix: 16) : nil)
        let a = AuditEvent(time: t, user: p.email, auditType: success ? "User Logged On" : "Logon Authentication Failed",
                           category: "authentication_logs", info: info)
        // Logins as raw API JSON or audit key=value lines: both become app-login / failed-app-login. The
        // connector's audit parser (seed) reads every audit type as app-activity; admin actions use it.
        return LogFormats.audit(a, shape: shape ?? (rng.chance(0.6) ? .apiJSON : .keyValue), app: app, ip: ip, success: success, spaced: true)
    }
}
