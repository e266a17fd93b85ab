import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

enum Support {
    static let root: String = {
        // Tests/OspreyAnalyticsTests/Support.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()
    static var contentDirectory: String { root + "/Content" }

    static func fields() throws -> FieldCatalog { try FieldCatalog.load(contentDirectory: contentDirectory) }

    nonisolated(unsafe) static var cached: AnalyticsContent?
    static func content() throws -> AnalyticsContent {
        if let c = cached { return c }
        let c = try AnalyticsContent.load(directory: contentDirectory)
        cached = c
        return c
    }
}

let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 86_400_000
/// 2024-04-01T00:00:00Z, a Monday.
let T0: Int64 = 1_711_929_600_000

let uaWinChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
let uaWinChrome121 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36"
let uaMacSafari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
let uaLinuxFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
let uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
let uaCurl = "curl/8.4.0"

/// A user of the synthetic test organization.
struct TestUser {
    var name: String
    var group: String
    var executive = false
    var privileged = false
    var service = false
    var email: String { name + "@corp.com" }
}

/// Builds events and feeds an engine; collects everything it outputs.
final class Harness {
    let engine: AnalyticsEngine
    let provider = StaticContextProvider()
    var outputs: [AnalyticsOutput] = []
    var users: [String: TestUser] = [:]

    static let defaultUsers: [TestUser] = [
        TestUser(name: "sam", group: "sales"), TestUser(name: "sue", group: "sales"),
        TestUser(name: "sid", group: "sales"), TestUser(name: "sal", group: "sales"),
        TestUser(name: "eve", group: "eng"), TestUser(name: "eli", group: "eng"),
        TestUser(name: "ema", group: "eng"), TestUser(name: "eric", group: "eng"),
        TestUser(name: "ceo", group: "exec", executive: true),
        TestUser(name: "admin", group: "it", privileged: true),
        TestUser(name: "svc-backup", group: "it", service: true),
        TestUser(name: "john.smith", group: "sales"),
    ]

    init(options: AnalyticsOptions = AnalyticsOptions()) throws {
        engine = AnalyticsEngine(content: try Support.content(), context: provider, options: options)
        for u in Harness.defaultUsers { users[u.name] = u }
        provider.setList("tor", mode: .cidr, entries: ["185.220.101.0/24", "171.25.193.77"])
        provider.setList("blacklist", mode: .cidr, entries: ["203.0.113.66"])
        provider.setList("ransomware", mode: .cidr, entries: ["198.51.100.0/28"])
        provider.setList("company_domains", mode: .domain, entries: ["corp.com"])
        provider.setList("webmail_domains", mode: .domain, entries: ["gmail.com", "yahoo.com", "outlook.com", "proton.me"])
        provider.setList("disposable_domains", mode: .domain, entries: ["mailinator.com", "10minutemail.com"])
        provider.setList("competitor_domains", mode: .domain, entries: ["rival.com"])
        provider.setList("suspicious_countries", mode: .exact, entries: ["KP", "IR"])
        provider.setList("executives", mode: .exact, entries: ["ceo@corp.com", "cfo@corp.com"])
        provider.setList("service_accounts", mode: .exact, entries: ["svc-backup@corp.com"])
        provider.setList("privileged_users", mode: .exact, entries: ["admin@corp.com"])
        provider.setAttribute("personal_email", of: "sam@corp.com", to: "sam.private@gmail.com")
    }

    // MARK: event builders

    func user(_ name: String) -> TestUser { users[name] ?? TestUser(name: name, group: "sales") }

    func base(_ type: ActivityType, _ name: String, _ t: Int64) -> Event {
        let u = user(name)
        var e = Event(parser: "test", activityType: type, timeMillis: t)
        e[Fields.user] = .string(u.email)
        e["email_address"] = .string(u.email)
        e["email_domain"] = .string("corp.com")
        e["peer_group"] = .string(u.group)
        e["user_is_executive"] = .bool(u.executive)
        e["user_is_privileged"] = .bool(u.privileged)
        e["user_is_service"] = .bool(u.service)
        e["outcome"] = .string(type.isFailure ? "failure" : "success")
        return e
    }

    func login(_ name: String, _ t: Int64, country: String = "GB", isp: String = "BT", ip: String? = nil,
               ua: String = uaWinChrome, app: String = "Administration Console", zone: String = "office",
               failed: Bool = false, extra: [String: Value] = [:]) -> Event {
        var e = base(failed ? .failedAppLogin : .appLogin, name, t)
        e["app"] = .string(app)
        e["operation"] = .string(failed ? "Logon Authentication Failed" : "User Logged On")
        e["src_country"] = .string(country)
        e["src_isp"] = .string(isp)
        e["src_ip"] = .string(ip ?? "81.2.69.\(name.utf8.reduce(0) { ($0 + Int($1)) % 200 } + 1)")
        e["user_agent"] = .string(ua)
        e["client_id"] = .string("cid-" + name)
        e["src_zone"] = .string(zone)
        for (k, v) in extra { e[k] = v }
        return e
    }

    func activity(_ name: String, _ t: Int64, operation: String = "Search", app: String = "Administration Console",
                  object: String = "archive", mime: String? = "application/pdf", country: String = "GB",
                  ua: String = uaWinChrome, extra: [String: Value] = [:]) -> Event {
        var e = base(.appActivity, name, t)
        e["app"] = .string(app)
        e["operation"] = .string(operation)
        e["object"] = .string(object)
        if let mime { e["mime_type"] = .string(mime) }
        e["src_country"] = .string(country)
        e["src_isp"] = .string("BT")
        e["src_ip"] = .string("81.2.69.10")
        e["user_agent"] = .string(ua)
        e["client_id"] = .string("cid-" + name)
        e["src_zone"] = .string("office")
        for (k, v) in extra { e[k] = v }
        return e
    }

    func mail(_ name: String, _ t: Int64, to: String = "bob@partner.com", bytes: Int64 = 50_000,
              attachments: [String] = ["report.pdf"], recipients: [String]? = nil, subject: String = "Weekly update",
              country: String? = "US", failed: Bool = false, messageID: String? = nil, extra: [String: Value] = [:]) -> Event {
        var e = base(failed ? .emailOutFailed : .emailOut, name, t)
        let domain = String(to.split(separator: "@").last ?? "")
        e["sender"] = .string(user(name).email)
        e["dest_email_address"] = .string(to)
        e["dest_domain"] = .string(domain)
        e["email_recipients"] = .list(recipients ?? [to])
        e["email_subject"] = .string(subject)
        if !attachments.isEmpty { e["email_attachments"] = .list(attachments) }
        e["attachment_count"] = .int(Int64(attachments.count))
        e["bytes"] = .int(bytes)
        e["direction"] = .string("outbound")
        if let country { e["dest_country"] = .string(country) }
        e["message_id"] = .string(messageID ?? "<\(name)-\(t)@corp.com>")
        for (k, v) in extra { e[k] = v }
        return e
    }

    // MARK: feeding

    /// Feeds events (sorted by time, stable) and returns the rule triggers among the outputs.
    @discardableResult
    func feed(_ events: [Event]) -> [RuleTrigger] {
        let sorted = events.enumerated().sorted { ($0.element.timeMillis, $0.offset) < ($1.element.timeMillis, $1.offset) }.map(\.element)
        var triggers: [RuleTrigger] = []
        for e in sorted {
            for o in engine.process(e) {
                outputs.append(o)
                if case .rule(let r) = o { triggers.append(r) }
            }
        }
        return triggers
    }

    @discardableResult
    func finish() -> [SessionSummary] {
        var s: [SessionSummary] = []
        for o in engine.finish() {
            outputs.append(o)
            if case .session(let x) = o { s.append(x) }
        }
        return s
    }

    /// Closed sessions (live `notable` summaries of open sessions left out).
    var sessions: [SessionSummary] {
        outputs.compactMap { if case .session(let s) = $0, !s.live { return s }; return nil }
    }

    /// The baseline organization (24 days: past the 14-day warm-up, 24 sessions per user ≥ 20 observations,
    /// inside the 28-day minimum aging window): `days` days of ordinary work for every default user. Each day is one
    /// session per user (09:00–15:30 UTC): a login, app activity, two emails; the CEO's mail has
    /// executive subjects; the admin grants a mailbox permission every other day and performs the
    /// privileged "Update Policy"; the service account runs a nightly-ish "Export" at 10:00.
    func baseline(days: Int = 24, users names: [String]? = nil, extra: (Int, Int64) -> [Event] = { _, _ in [] }) {
        feed(baselineEvents(days: days, users: names, extra: extra))
    }

    /// The baseline's events, unsorted and not fed.
    func baselineEvents(days: Int = 24, users names: [String]? = nil, extra: (Int, Int64) -> [Event] = { _, _ in [] }) -> [Event] {
        var events: [Event] = []
        let list = names.map { $0.map(user) } ?? Harness.defaultUsers
        for d in 0..<days {
            let day = T0 + Int64(d) * dayMs
            for (i, u) in list.enumerated() {
                let t = day + 9 * hourMs + Int64(i) * 60_000
                events.append(login(u.name, t))
                events.append(activity(u.name, t + hourMs, operation: "Search"))
                events.append(activity(u.name, t + 2 * hourMs, operation: "View Message", object: "message", mime: "message/rfc822"))
                events.append(mail(u.name, t + 3 * hourMs, to: "bob@partner.com", bytes: 40_000 + Int64((d * 7 + i * 13) % 20) * 1_000,
                                   attachments: ["report.pdf"], recipients: ["bob@partner.com"]))
                events.append(mail(u.name, t + 5 * hourMs, to: "ann@client.org", bytes: 30_000 + Int64((d * 11 + i * 5) % 20) * 1_000,
                                   attachments: d % 2 == 0 ? ["notes.docx"] : [], recipients: ["ann@client.org", "kim@corp.com"], country: "DE"))
                events.append(activity(u.name, t + 6 * hourMs + 30 * 60_000, operation: "Search"))
                if u.executive {
                    events.append(mail(u.name, t + 4 * hourMs, to: "board@corp.com", attachments: [], recipients: ["board@corp.com"],
                                       subject: "Board strategy review day \(d)", country: nil,
                                       extra: ["dest_is_external": .bool(false)]))
                }
                if u.privileged {
                    events.append(activity(u.name, t + 4 * hourMs, operation: "Update Policy", object: "policy", mime: nil))
                    if d % 2 == 0 {
                        events.append(activity(u.name, t + 4 * hourMs + 60_000, operation: "Mailbox Permission Added", object: "mailbox", mime: nil,
                                               extra: ["additional_info": .string("Granted FullAccess on mailbox user\(d)@corp.com to helpdesk@corp.com")]))
                    }
                }
                if u.service {
                    events.append(activity(u.name, t + hourMs + 60_000, operation: "Export", object: "archive", mime: "application/zip"))
                }
            }
            events += extra(d, day)
        }
        return events
    }

    /// Start of day `d` (day 0 = T0).
    func day(_ d: Int, _ hour: Int = 9, _ minute: Int = 0) -> Int64 { T0 + Int64(d) * dayMs + Int64(hour) * hourMs + Int64(minute) * 60_000 }
}

// MARK: assertions

func fired(_ triggers: [RuleTrigger], _ rule: String) -> [RuleTrigger] { triggers.filter { $0.rule == rule } }

@discardableResult
func assertFires(_ triggers: [RuleTrigger], _ rule: String, reason: String? = nil, evidence: [String: JSONValue] = [:],
                 file: StaticString = #filePath, line: UInt = #line) -> RuleTrigger? {
    guard let t = fired(triggers, rule).first else {
        XCTFail("\(rule) did not fire; fired: \(triggers.map(\.rule))", file: file, line: line)
        return nil
    }
    if let reason {
        XCTAssertTrue(t.reason.contains(reason), "\(rule) reason '\(t.reason)' lacks '\(reason)'", file: file, line: line)
    }
    for (k, v) in evidence {
        let got = t.evidence[k] ?? t.evidence["model_evidence"]?[k]
        XCTAssertEqual(got, v, "\(rule) evidence \(k): \(t.evidence.serialized())", file: file, line: line)
    }
    XCTAssertFalse(t.reason.contains("?"), "\(rule) reason has an unresolved placeholder: \(t.reason)", file: file, line: line)
    return t
}

func assertSilent(_ triggers: [RuleTrigger], _ rule: String, _ why: String, file: StaticString = #filePath, line: UInt = #line) {
    let f = fired(triggers, rule)
    XCTAssertTrue(f.isEmpty, "\(rule) fired on a near miss (\(why)): \(f.map(\.reason))", file: file, line: line)
}

/// The first match of a fact rule's evidence.
func firstMatch(_ t: RuleTrigger?) -> JSONValue? { t?.evidence["matches"]?.arrayValue?.first }
