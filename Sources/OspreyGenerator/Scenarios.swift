import OspreyCore

/// A labelled attack: what happened, to whom, when, and which rules should fire.
public struct ScenarioLabel: Sendable {
    public var id: String
    public var description: String
    public var user: String
    public var start: Int64
    public var end: Int64
    public var expectedRules: [String]
    public var useCase: String
    /// Every use case the scenario exercises (the primary one first), from the catalog's rule → use-case map.
    public var useCases: [String]
    public var mitre: [String]

    func jsonLine() -> String {
        LogFormats.json([("id", id), ("description", description), ("user", user), ("start", UTCTime.format(start)),
                         ("end", UTCTime.format(end)), ("expected_rules", expectedRules), ("use_case", useCase),
                         ("use_cases", useCases), ("mitre", mitre)])
    }
}

/// What a scenario asks of its victim, so the generator can pick one and keep its normal life consistent.
struct ScenarioSpec: Sendable {
    var id: String
    var description: String
    var useCase: String
    var expected: [String]
    var mitre: [String]
    var needs: @Sendable (Person) -> Bool
    var also: [String] = []
}

enum Mitre {
    static let validAccounts = "T1078 Valid Accounts"
    static let exfil = "T1048.003 Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted/Obfuscated Non-C2 Protocol"
    static let remote = "T1133 External Remote Services"
    static let exploit = "T1190 Exploit Public-Facing Application"
    static let delegate = "T1098.002 Account Manipulation: Exchange Email Delegate Permissions"
    static let forwarding = "T1114.003 Email Collection: Email Forwarding Rule"
    static let proxy = "T1090.003 Proxy: Multi-hop Proxy"
}

let scenarioSpecs: [ScenarioSpec] = [
    ScenarioSpec(id: "ato-tor-forwarding", description: "Account takeover: failed then successful logins from a TOR exit in a country new to the user, then a forwarding rule to public webmail",
                 useCase: "Compromised Credentials", expected: ["Auth-Tor-Shost", "UA-OC-F", "EM-InRule-Public", "EM-InRule-Fin"],
                 mitre: [Mitre.proxy, Mitre.validAccounts, Mitre.forwarding], needs: { !$0.isExecutive && !$0.isService },
                 also: ["Lateral Movement", "Data Leak"]),
    ScenarioSpec(id: "impossible-travel", description: "Logins from three countries within two hours in one session",
                 useCase: "Abnormal Authentication & Access", expected: ["UA-UC-Two", "UA-UC-Three", "UA-OC-F", "OSP-UA-Impossible-Travel"],
                 mitre: [Mitre.validAccounts, Mitre.remote], needs: { !$0.isService }),
    ScenarioSpec(id: "failed-logins-new-country", description: "A burst of failed logins from a country the organization never saw, then a successful one and archive searches for payment mail",
                 useCase: "Abnormal Authentication & Access", expected: ["FA-OC-F", "APP-F-FL", "UA-OC-F"],
                 mitre: [Mitre.validAccounts, Mitre.remote], needs: { !$0.isService }),
    ScenarioSpec(id: "ransomware-ip-login", description: "A login from an address on the ransomware infrastructure list",
                 useCase: "Ransomware", expected: ["Auth-Ransomware-Shost", "UA-OC-F"],
                 mitre: [Mitre.validAccounts], needs: { !$0.isService }),
    ScenarioSpec(id: "blacklisted-ip-login", description: "A login from a blacklisted host, then mail to a new domain",
                 useCase: "Malware", expected: ["Auth-Blacklist-Shost", "UA-OC-F"],
                 mitre: [Mitre.validAccounts], needs: { !$0.isService }),
    ScenarioSpec(id: "dormant-account-wakes", description: "An account silent for six weeks logs in from a country new to its peers and mails a file to public webmail",
                 useCase: "Abnormal Authentication & Access", expected: ["DORMANT-USER", "EM-PublicDomain"],
                 mitre: [Mitre.validAccounts], needs: { $0.dormantUntil != nil }),
    ScenarioSpec(id: "deactivated-account-sends", description: "A deactivated account logs in and sends mail after its deactivation date",
                 useCase: "Privileged Activity", expected: ["APP-Account-deactivated"],
                 mitre: [Mitre.validAccounts], needs: { $0.deactivatedAt != nil }),
    ScenarioSpec(id: "exec-mailbox-permission", description: "A non-executive grants delegate permissions on the CEO's and the CFO's mailboxes",
                 useCase: "Account Manipulation", expected: ["EM-InB-Ex"],
                 mitre: [Mitre.delegate], needs: { !$0.isExecutive && !$0.isService && $0.isPrivileged },
                 also: ["Privilege Escalation", "Privilege Abuse"]),
    ScenarioSpec(id: "large-mail-to-personal", description: "Over 10 MB of attachments sent to the user's own personal address in one session",
                 useCase: "Data Leak", expected: ["EM-BSum-5MB", "EM-PersonalEmail"],
                 mitre: [Mitre.exfil], needs: { $0.personalEmail != nil && !$0.isExecutive && !$0.isService }),
    ScenarioSpec(id: "source-code-to-competitor", description: "Source code and a confidential roadmap sent to a competitor",
                 useCase: "Data Leak", expected: ["EM-File", "EM-Competition", "EM-Confidential-File"],
                 mitre: [Mitre.exfil], needs: { $0.department == "Engineering" }),
    ScenarioSpec(id: "disposable-domain", description: "Customer data sent to two disposable mailbox domains",
                 useCase: "Data Leak", expected: ["EM-DED", "EM-OD-F"],
                 mitre: [Mitre.exfil], needs: { !$0.isService && !$0.isExecutive }),
    ScenarioSpec(id: "job-seeking", description: "A resume and job-application mail sent to the user's personal address, with a competitor in copy",
                 useCase: "Workforce Protection", expected: ["EM-Personal-Job", "EM-Competition"],
                 mitre: [Mitre.exfil], needs: { $0.personalEmail != nil && !$0.isService && !$0.isExecutive }),
    ScenarioSpec(id: "exec-mail-to-webmail", description: "A non-executive forwards two executives' board mails to public webmail",
                 useCase: "Data Leak", expected: ["EM-EXEC-Public", "EM-PublicDomain"],
                 mitre: [Mitre.exfil], needs: { !$0.isExecutive && !$0.isService }),
    ScenarioSpec(id: "repeated-failed-sends", description: "The same large attachment fails again and again to one public webmail address, then goes out in parts",
                 useCase: "Data Leak", expected: ["FEM-UD-R", "FEM-FU", "EM-BSum-5MB-Fail", "EM-BSum-5MB"],
                 mitre: [Mitre.exfil], needs: { !$0.isService && !$0.isExecutive }),
    ScenarioSpec(id: "outbound-mass-mail", description: "One message to far more external recipients than the user ever addressed",
                 useCase: "Workforce Protection", expected: ["EM-OutSpam-L"],
                 mitre: [Mitre.exfil], needs: { !$0.isService && !$0.isExecutive && $0.activity > 1.0 }),
    ScenarioSpec(id: "log4j-strings", description: "A Log4j JNDI lookup in an inbound subject, and an obfuscated one in a login",
                 useCase: "Compromised Credentials", expected: ["DLP-Log4j-String-2", "A-APP-Log4j-String", "APP-Log4j-String-2"],
                 mitre: [Mitre.exploit], needs: { !$0.isService }),
    ScenarioSpec(id: "non-privileged-admin-action", description: "A non-privileged user performs privileged console operations in an application new to them",
                 useCase: "Privilege Abuse", expected: ["APP-AT-PRIV", "APP-AppG-F"],
                 mitre: [Mitre.validAccounts], needs: { !$0.isPrivileged && !$0.isExecutive && !$0.isService },
                 also: ["Compromised Credentials", "Data Access", "Privileged Activity"]),
    ScenarioSpec(id: "phishing-lookalike-reply", description: "After a phishing click, the user's account logs in from abroad and sends bank details to a supplier domain the organization rarely mails (a compromised vendor)",
                 useCase: "Phishing", expected: ["EM-OD-A", "UA-OC-F", "EM-OD-F"],
                 mitre: [Mitre.exfil], needs: { $0.department == "Finance" }),
]
