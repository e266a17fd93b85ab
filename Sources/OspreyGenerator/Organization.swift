import OspreyCore

/// A network block the generated organization's IP space is cut into: country, ASN and ISP are what the
/// geo data written next to the logs says about it.
public struct NetBlock: Sendable {
    public var cidr: String         // a /16 inside 100.64.0.0/10 (shared address space: never a real host)
    public var first: UInt32
    public var country: String
    public var asn: Int
    public var isp: String
    public var kind: Kind
    public enum Kind: Sendable { case residential, corporate, hosting, tor, ransomware, blacklist, mta }

    public func address(_ host: Int) -> String {
        let v = first + UInt32(1 + host % 65_000)
        return "\(v >> 24).\((v >> 16) & 255).\((v >> 8) & 255).\(v & 255)"
    }
}

public struct Person: Sendable {
    public var email: String
    public var first: String
    public var last: String
    public var department: String
    public var title: String
    public var manager: String?
    public var isExecutive = false
    public var isService = false
    public var isPrivileged = false
    public var deactivatedAt: Int64?       // epoch ms
    public var dormantUntil: Int64?        // no activity before this (dormant accounts)
    public var personalEmail: String?
    public var country: String
    public var homeBlock: Int              // index into networks
    public var apps: [String]
    public var partners: [String]          // usual outside domains
    public var utcOffsetHours: Int
    public var activity: Double            // 0.3 … 1.6: how busy
    // Realistic rhythm (profiles other than classic; docs/calibration.md):
    /// Probability of being active on a working day (1: every working day).
    public var activeRate = 1.0
    /// Part-timers: the weekdays (d % 7, 0 = Monday) they work; nil = all five.
    public var workdays: [Int]? = nil
    /// People who never use a Mimecast application (mail only, no logins).
    public var usesApps = true
    /// Days off (a vacation week).
    public var offDays: Set<Int> = []
    /// A conference week abroad: days and the network block used there.
    public var tripDays: Set<Int> = []
    public var tripBlock: Int? = nil
    /// Local time abroad: a traveller keeps the hours of the place they are in, not of home.
    public var tripUtcOffsetHours: Int? = nil
    /// Works remotely (never from an office network).
    public var remote = false
    /// A shared mailbox (several people send from it; no logins of its own).
    public var shared = false
    /// Mails customers or patients at webmail addresses every working day (a billing team).
    public var mailsWebmailCustomers = false
}

/// The generated company: people, peer groups, domains and its IP space.
public struct Organization: Sendable {
    public static let domain = "northwind.example"
    public static let competitors = ["globex.example", "initech.example"]
    public static let webmail = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"]
    public static let disposable = ["mailinator.com", "guerrillamail.com", "10minutemail.com"]
    public static let departments: [(name: String, weight: Int, exts: [String], partners: [String])] = [
        ("Sales", 22, ["pdf", "docx", "pptx"], ["contoso.example", "fabrikam.example", "adatum.example", "litware.example", "wingtip.example", "tailspin.example"]),
        ("Engineering", 24, ["pdf", "png", "zip", "txt"], ["github-notify.example", "cloudvendor.example", "fabrikam.example", "proseware.example"]),
        ("Finance", 12, ["xlsx", "pdf", "csv"], ["bank-partner.example", "auditfirm.example", "contoso.example", "payroll-svc.example"]),
        ("Marketing", 12, ["pptx", "png", "jpg", "pdf"], ["adagency.example", "printshop.example", "wingtip.example", "eventco.example"]),
        ("HR", 8, ["docx", "pdf"], ["benefits-co.example", "recruit-partner.example", "payroll-svc.example"]),
        ("Legal", 6, ["docx", "pdf"], ["lawfirm.example", "auditfirm.example", "contoso.example"]),
        ("IT", 10, ["txt", "zip", "pdf", "log"], ["cloudvendor.example", "msp-partner.example", "proseware.example"]),
        ("Executive", 6, ["pdf", "pptx", "docx"], ["contoso.example", "bank-partner.example", "lawfirm.example", "boardportal.example"]),
    ]
    public static let offices: [(country: String, share: Int, offset: Int)] = [("US", 70, -5), ("GB", 15, 0), ("DE", 10, 1), ("IN", 5, 5)]

    public var people: [Person]
    public var networks: [NetBlock]
    public var corporateBlock: [String: Int]     // country → corporate egress block
    public var mtaBlocks: [Int]

    public func people(in department: String) -> [Person] { people.filter { $0.department == department } }

    static let firstNames = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas", "Mia", "Levi",
                             "Amelia", "Asher", "Harper", "James", "Evelyn", "Leo", "Abigail", "Ethan", "Emily", "Aiden", "Ella",
                             "Henry", "Priya", "Arjun", "Hannah", "Jonas", "Lena", "Felix", "Chloe", "Oscar", "Grace", "Samuel",
                             "Zoe", "Daniel", "Nora", "Ryan", "Aisha", "Omar", "Yuki", "Kenji", "Maria", "Diego", "Sofia", "Lars"]
    static let lastNames = ["Hart", "Ng", "Patel", "Garcia", "Smith", "Johnson", "Brown", "Muller", "Schmidt", "Kumar", "Singh",
                            "Williams", "Jones", "Miller", "Davis", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore",
                            "Martin", "Lee", "Walker", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
                            "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Fischer", "Weber"]

    static func makeNetworks() -> [NetBlock] {
        // One /16 per (country, ISP) inside 100.64.0.0/10; ASNs from the private range 64512–65534.
        let specs: [(String, String, NetBlock.Kind)] = [
            ("US", "Northwind Corporate Egress", .corporate), ("GB", "Northwind Corporate Egress", .corporate),
            ("DE", "Northwind Corporate Egress", .corporate), ("IN", "Northwind Corporate Egress", .corporate),
            ("US", "Lakeside Cable", .residential), ("US", "Prairie Fiber", .residential), ("US", "Coastal Wireless", .residential),
            ("GB", "Albion Broadband", .residential), ("GB", "Thames Mobile", .residential),
            ("DE", "Rheinnetz", .residential), ("DE", "Alpen Mobil", .residential),
            ("IN", "Deccan Telecom", .residential),
            ("US", "Example Mail Hosting", .mta), ("DE", "Example Mail Hosting EU", .mta), ("FR", "Gaulois Hosting", .mta),
            ("NL", "Dutch Relay Hosting", .tor), ("RO", "Carpathian VPS", .ransomware), ("RU", "Volga Hosting", .blacklist),
            ("RU", "Ural Telecom", .residential), ("BR", "Rio Telecom", .residential), ("NG", "Lagos Net", .residential),
            ("SG", "Lion City Cloud", .hosting), ("FR", "Gaulois Telecom", .residential), ("CN", "Pearl River Net", .residential),
            ("KP", "Ryugyong Net", .residential), ("JP", "Sakura Net", .residential),
            // Used by the realistic profiles: remote staff, conference hotels, a hosting range at home.
            ("ES", "Iberia Fibra", .residential), ("PT", "Lusa Net", .residential), ("US", "Bluehaze VPS", .hosting),
            ("SG", "Marina Hotel Wifi", .residential),
            // Conference destinations no scenario's attacker uses (appended so earlier blocks keep their addresses).
            ("IT", "Tevere Hotel Wifi", .residential), ("CA", "Maple Fibre", .residential),
        ]
        return specs.enumerated().map { i, s in
            let first = UInt32(100) << 24 | UInt32(64 + i) << 16
            return NetBlock(cidr: "100.\(64 + i).0.0/16", first: first, country: s.0, asn: 64_512 + i, isp: s.1, kind: s.2)
        }
    }

    static func generate(users: Int, start: Int64, days: Int, rng: inout SeededRandom) -> Organization {
        let nets = makeNetworks()
        var corporate: [String: Int] = [:]
        for (i, n) in nets.enumerated() where n.kind == .corporate { corporate[n.country] = i }
        let mta = nets.indices.filter { nets[$0].kind == .mta }
        var people: [Person] = []
        var used = Set<String>()
        let totalWeight = departments.map(\.weight).reduce(0, +)
        for i in 0..<users {
            var first = rng.pick(firstNames), last = rng.pick(lastNames)
            var email = "\(first.lowercased()).\(last.lowercased())@\(domain)"
            while used.contains(email) {
                first = rng.pick(firstNames); last = rng.pick(lastNames)
                email = "\(first.lowercased()).\(last.lowercased())\(rng.int(90) + 10)@\(domain)"
            }
            used.insert(email)
            // Department by weight; the first few people are the executives.
            var dept = departments[0]
            var r = rng.int(totalWeight)
            for d in departments { if r < d.weight { dept = d; break }; r -= d.weight }
            if i < max(3, users / 50) { dept = departments.first { $0.name == "Executive" }! }
            var officeRoll = rng.int(100)
            var office = offices[0]
            for o in offices { if officeRoll < o.share { office = o; break }; officeRoll -= o.share }
            if dept.name == "Executive" { office = offices[0] }
            let home = nets.indices.filter { nets[$0].country == office.country && nets[$0].kind == .residential }
            var apps = ["Mimecast for Outlook"]
            if rng.chance(0.5) { apps.append("mimecast-moa") }
            if rng.chance(0.3) { apps.append("Personal Portal") }
            var partners = Array(dept.partners.shuffled(using: &rng).prefix(3 + rng.int(2)))
            if rng.chance(0.2) { partners.append(rng.pick(departments).partners[0]) }
            var p = Person(email: email, first: first, last: last, department: dept.name,
                           title: dept.name == "Executive" ? ["CEO", "CFO", "COO", "CTO", "General Counsel"][min(i, 4)] : "\(dept.name) Specialist",
                           manager: nil, country: office.country, homeBlock: rng.pick(home), apps: apps, partners: partners,
                           utcOffsetHours: office.offset, activity: 0.4 + rng.unit() * 1.2)
            p.isExecutive = dept.name == "Executive"
            if dept.name == "IT", rng.chance(0.5) {
                p.isPrivileged = true
                p.apps.append("Administration Console")
            }
            if rng.chance(0.3) {
                let host = rng.pick(["gmail.com", "outlook.com", "yahoo.com"])
                p.personalEmail = "\(first.lowercased()).\(last.lowercased())\(rng.int(89) + 10)@\(host)"
            }
            people.append(p)
        }
        // Managers: the first executive manages department heads, heads manage their department.
        let ceo = people[0].email
        for i in people.indices where i > 0 {
            people[i].manager = people[i].isExecutive ? ceo : people.first { $0.department == people[i].department && $0.email != people[i].email }?.email ?? ceo
        }
        // Service accounts: journaling and an API integration; privileged, never interactive from new places.
        for (name, app) in [("svc-journal", "Journaling"), ("svc-api-sync", "Integrations")] {
            people.append(Person(email: "\(name)@\(domain)", first: name, last: "service", department: "IT", title: "Service account",
                                 manager: nil, isExecutive: false, isService: true, isPrivileged: true, deactivatedAt: nil,
                                 dormantUntil: nil, personalEmail: nil, country: "US", homeBlock: corporate["US"]!, apps: [app],
                                 partners: ["cloudvendor.example"], utcOffsetHours: -5, activity: 0.6))
        }
        return Organization(people: people, networks: nets, corporateBlock: corporate, mtaBlocks: mta)
    }
}
