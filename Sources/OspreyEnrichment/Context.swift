import Foundation
import OspreyCore
import Synchronization

/// The keyword lists of the context, in bit order for `KeywordMatcher`.
public enum KeywordList: Int, CaseIterable, Sendable {
    case financial = 0, privacy, job, confidentialFile

    /// `keywords/<file>` in the context and lists directories.
    public var file: String {
        switch self {
        case .financial: return "financial.txt"
        case .privacy: return "privacy.txt"
        case .job: return "job.txt"
        case .confidentialFile: return "confidential_files.txt"
        }
    }
    /// Name in context.conf (`keyword_fields financial = …`) and `replace_defaults`.
    public var configName: String {
        switch self {
        case .financial: return "financial"
        case .privacy: return "privacy"
        case .job: return "job"
        case .confidentialFile: return "confidential_file"
        }
    }
    public var field: Field { Field.named("kw_" + configName) }
    public var matchField: Field { Field.named("kw_" + configName + "_match") }

    public var defaultFields: [String] {
        switch self {
        case .financial: return ["email_subject", "additional_info"]
        case .privacy, .job: return ["email_subject"]
        case .confidentialFile: return ["email_attachments", "email_attachment", "file_name"]
        }
    }
}

/// Settings from `context.conf` (one `[context NAME]` section; every key optional).
public struct ContextConfig: Sendable {
    public var name = "default"
    public var companyDomains: [String] = []
    public var defaultPeerGroup = "unknown"
    /// Zone for source IPs in no configured network; nil = leave src_zone unset.
    public var defaultZone: String? = "external"
    /// MaxMind DB files, tried in order (absolute paths after loading).
    public var geoDatabases: [String] = []
    /// tor-geoipdb / IPFire text range files (country fallback).
    public var geoRanges: [String] = []
    public var genericCcTLDs: Set<String> = Countries.defaultGenericCcTLDs
    /// Shipped default lists not to load: webmail, disposable, psl, log4j, source_code, financial, privacy,
    /// job, confidential_file.
    public var replaceDefaults: Set<String> = []
    public var keywordFields: [KeywordList: [String]] = Dictionary(uniqueKeysWithValues: KeywordList.allCases.map { ($0, $0.defaultFields) })
    public var exploitFields: [String] = ["user", "sender", "email_subject", "email_attachments", "email_attachment",
                                          "file_name", "url", "additional_info", "user_agent", "host"]
    /// Match a recipient's local part against the user's name (EM-PersonalEmail's second condition).
    public var personalNameMatch = true
    /// Entries of each enricher's per-IP and per-domain caches (rounded up to a power of two).
    public var ipCacheSize = 16384
    public var domainCacheSize = 8192

    public init() {}

    static let allowedKeys: Set<String> = ["company_domains", "default_peer_group", "default_zone", "geo_databases",
                                           "geo_ranges", "generic_cctlds", "replace_defaults", "exploit_fields",
                                           "personal_name_match", "ip_cache_size", "domain_cache_size"]
    static let defaultNames: Set<String> = Set(["webmail", "disposable", "psl", "log4j", "source_code"])
        .union(KeywordList.allCases.map(\.configName))

    /// Parses context.conf. Relative paths are resolved against `directory`.
    public static func parse(_ text: String, file: String, directory: String) throws -> ContextConfig {
        var c = ContextConfig()
        let sections = try ContentFile.parse(text, file: file)
        guard sections.count <= 1 else {
            throw sections[1].error(at: sections[1].line, "context.conf holds one [context NAME] section, found a second")
        }
        guard let s = sections.first else { return c }
        guard s.kind == "context" else { throw s.error(at: s.line, "expected a [context NAME] section, found [\(s.kind) \(s.name)]") }
        c.name = s.name
        try s.checkKeys(allowed: allowedKeys, prefixes: ["keyword_fields"])
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }
        func count(_ e: ContentEntry, _ range: ClosedRange<Int>) throws -> Int {
            guard let n = Int(e.value), range.contains(n) else {
                throw s.error(at: e.line, column: e.valueColumn, "\(e.key): expected a number in \(range)")
            }
            return n
        }
        for e in s.entries {
            switch e.key {
            case "company_domains":
                for d in splitList(e.value) {
                    if let p = DomainSet.problem(with: d) { throw s.error(at: e.line, column: e.valueColumn, "company_domains: \(p)") }
                    c.companyDomains.append(d)
                }
            case "default_peer_group":
                guard !e.value.isEmpty else { throw s.error(at: e.line, "default_peer_group is empty") }
                c.defaultPeerGroup = e.value
            case "default_zone": c.defaultZone = (e.value.isEmpty || e.value == "none") ? nil : e.value
            case "geo_databases": c.geoDatabases += splitList(e.value).map(resolve)
            case "geo_ranges": c.geoRanges += splitList(e.value).map(resolve)
            case "generic_cctlds": c.genericCcTLDs = Set(splitList(e.value).map { $0.lowercased() })
            case "replace_defaults":
                for d in splitList(e.value) {
                    guard defaultNames.contains(d) else {
                        throw s.error(at: e.line, column: e.valueColumn,
                                      "replace_defaults: unknown list '\(d)' (one of \(defaultNames.sorted().joined(separator: ", ")))")
                    }
                    c.replaceDefaults.insert(d)
                }
            case "exploit_fields": c.exploitFields = splitList(e.value)
            case "personal_name_match":
                switch e.value.lowercased() {
                case "true", "yes", "on": c.personalNameMatch = true
                case "false", "no", "off": c.personalNameMatch = false
                default: throw s.error(at: e.line, column: e.valueColumn, "personal_name_match: expected true or false")
                }
            case "ip_cache_size": c.ipCacheSize = try count(e, 16...1 << 22)
            case "domain_cache_size": c.domainCacheSize = try count(e, 16...1 << 22)
            default: break
            }
        }
        for (arg, e) in s.prefixed("keyword_fields") {
            guard let list = KeywordList.allCases.first(where: { $0.configName == arg }) else {
                throw s.error(at: e.line, "keyword_fields: unknown list '\(arg)' (financial, privacy, job, confidential_file)")
            }
            c.keywordFields[list] = splitList(e.value)
        }
        return c
    }
}

/// Everything enrichment knows beyond the log line, loaded from a context directory plus the shipped
/// default lists. Immutable: a reload builds a new one (see `ContextStore`).
public final class Context: Sendable {
    public let directory: String?
    public let config: ContextConfig
    public let users: UserDirectory
    public let psl: PublicSuffixList
    public let companyDomains: DomainSet
    public let competitorDomains: DomainSet
    public let webmailDomains: DomainSet
    public let disposableDomains: DomainSet
    public let zones: IPRangeTable<String>
    public let tor: IPRangeTable<String>
    public let blacklist: IPRangeTable<String>
    public let ransomware: IPRangeTable<String>
    public let suspiciousCountries: Set<String>
    public let keywords: KeywordMatcher
    public let sourceCodeExtensions: Set<String>
    public let exploits: ExploitScanner
    public let geo: GeoLocator
    /// Wall-clock time of loading (ms).
    public let loadedAtMillis: Int64

    public init(directory: String?, config: ContextConfig, users: UserDirectory, psl: PublicSuffixList,
                companyDomains: DomainSet, competitorDomains: DomainSet, webmailDomains: DomainSet,
                disposableDomains: DomainSet, zones: IPRangeTable<String>, tor: IPRangeTable<String>,
                blacklist: IPRangeTable<String>, ransomware: IPRangeTable<String>, suspiciousCountries: Set<String>,
                keywords: KeywordMatcher, sourceCodeExtensions: Set<String>, exploits: ExploitScanner, geo: GeoLocator) {
        self.directory = directory; self.config = config; self.users = users; self.psl = psl
        self.companyDomains = companyDomains; self.competitorDomains = competitorDomains
        self.webmailDomains = webmailDomains; self.disposableDomains = disposableDomains
        self.zones = zones; self.tor = tor; self.blacklist = blacklist; self.ransomware = ransomware
        self.suspiciousCountries = suspiciousCountries; self.keywords = keywords
        self.sourceCodeExtensions = sourceCodeExtensions; self.exploits = exploits; self.geo = geo
        self.loadedAtMillis = Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// The shipped lists: `OSPREY_LISTS`, else `$OSPREY_CONTENT/lists`, else nil (pass the bundle's
    /// `lists` directory, e.g. `OspreyContent.directory.appendingPathComponent("lists").path`).
    public static var defaultListsDirectory: String? {
        let env = ProcessInfo.processInfo.environment
        if let l = env["OSPREY_LISTS"], !l.isEmpty { return l }
        if let c = env["OSPREY_CONTENT"], !c.isEmpty { return c + "/lists" }
        return nil
    }

    /// Files a context directory may hold (others with these suffixes are rejected as likely typos).
    public static let knownFiles: Set<String> = [
        "context.conf", "users.csv", "company_domains.txt", "competitor_domains.txt", "webmail_domains.txt",
        "disposable_domains.txt", "network_zones.txt", "suspicious_countries.txt", "source_code_extensions.txt",
        "log4j_patterns.txt", "public_suffix_list.dat",
        "tuning.conf",   // read by the pipeline (analytics tuning, docs/tuning.md), not by the context loader
    ]
    public static let tiFiles = ["tor.txt", "blacklist.txt", "ransomware.txt"]

    /// Loads a context directory (every file optional) over the default lists in `lists`. All files are
    /// validated; every problem found is reported, each with file, line and reason.
    public static func load(directory: String, lists: String? = Context.defaultListsDirectory) throws -> Context {
        guard ListFile.isDirectory(directory) else {
            throw ContextLoadError(errors: [ContentError(file: directory, line: 0, reason: "context directory not found")])
        }
        return try Loader(directory: directory, lists: lists).load()
    }

    /// A context with only the default lists (no users, no company domains, no geolocation).
    public static func defaults(lists: String? = Context.defaultListsDirectory) throws -> Context {
        try Loader(directory: nil, lists: lists).load()
    }

    public var summary: String {
        "context \(config.name): \(users.count) users, \(companyDomains.count) company / \(competitorDomains.count) competitor / "
            + "\(webmailDomains.count) webmail / \(disposableDomains.count) disposable domains, PSL \(psl.ruleCount) rules"
            + (psl.version.map { " (\($0))" } ?? "")
            + ", \(zones.rangeCount) zone ranges, TI \(tor.rangeCount)/\(blacklist.rangeCount)/\(ransomware.rangeCount) ranges, "
            + "\(keywords.keywords.count) keywords, \(exploits.patterns.count) exploit patterns, "
            + "\(geo.databases.count) geo databases, \(geo.ranges.rangeCount) geo ranges"
    }
}

/// Every problem found while loading a context.
public struct ContextLoadError: Error, CustomStringConvertible, Sendable {
    public var errors: [ContentError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Holds the current context and swaps in a new one on reload, without a restart. Enrichers created from
/// the store pick the new snapshot up on their next event; a failed reload keeps the old one.
public final class ContextStore: Sendable {
    public let directory: String
    public let lists: String?
    private let state: Mutex<Context>
    private let generationCounter = Atomic<Int>(0)

    public init(directory: String, lists: String? = Context.defaultListsDirectory) throws {
        self.directory = directory
        self.lists = lists
        state = Mutex(try Context.load(directory: directory, lists: lists))
    }

    public init(context: Context) {
        directory = context.directory ?? ""
        lists = nil
        state = Mutex(context)
    }

    public var current: Context { state.withLock { $0 } }
    /// Increases on every successful reload or replace.
    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    /// Reloads the directory; on any error the current context stays and the error is thrown.
    @discardableResult
    public func reload() throws -> Context {
        let fresh = try Context.load(directory: directory, lists: lists)
        replace(with: fresh)
        return fresh
    }

    public func replace(with context: Context) {
        state.withLock { $0 = context }
        generationCounter.add(1, ordering: .releasing)
    }
}

/// Reads the files of one context directory and the default lists.
struct Loader {
    let directory: String?
    let lists: String?
    init(directory: String?, lists: String?) { self.directory = directory; self.lists = lists }

    func path(_ name: String) -> String? {
        guard let d = directory else { return nil }
        let p = d + "/" + name
        return ListFile.exists(p) ? p : nil
    }
    func listPath(_ name: String) -> String? {
        guard let l = lists else { return nil }
        let p = l + "/" + name
        return ListFile.exists(p) ? p : nil
    }
    /// Default list files matching `prefix*.txt` in the lists directory (e.g. webmail_spamassassin.txt).
    func listFiles(prefix: String) -> [String] {
        guard let l = lists, let files = try? ContentDirectory.files(in: l, suffix: ".txt") else { return [] }
        return files.filter { ($0 as NSString).lastPathComponent.hasPrefix(prefix) }
    }

    func load() throws -> Context {
        var errors: [ContentError] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() }
            catch let e as ContentError { errors.append(e) }
            catch let e as ContextLoadError { errors.append(contentsOf: e.errors) }
            catch { errors.append(ContentError(file: directory ?? "", line: 0, reason: "\(error)")) }
        }
        if let l = lists, !ListFile.isDirectory(l) {
            throw ContextLoadError(errors: [ContentError(file: l, line: 0, reason: "default lists directory not found")])
        }
        var config = ContextConfig()
        if let d = directory {
            if let p = path("context.conf") {
                attempt { config = try ContextConfig.parse(ContentDirectory.read(p), file: p, directory: d) }
            }
            attempt { try checkUnknownFiles(d, config: config) }
        }
        let useDefault = { (name: String) in !config.replaceDefaults.contains(name) }

        var users = UserDirectory()
        if let p = path("users.csv") { attempt { users = try UserDirectory.parse(ContentDirectory.read(p), file: p) } }

        var psl = PublicSuffixList()
        if let p = path("public_suffix_list.dat") ?? (useDefault("psl") ? listPath("public_suffix_list.dat") : nil) {
            attempt { psl = try PublicSuffixList.load(path: p) }
        }

        var company = DomainSet(), competitor = DomainSet(), webmail = DomainSet(), disposable = DomainSet()
        for d in config.companyDomains { company.insert(d) }
        if let p = path("company_domains.txt") { attempt { company.formUnion(try domains(p)) } }
        if let p = path("competitor_domains.txt") { attempt { competitor = try domains(p) } }
        if useDefault("webmail") { for p in listFiles(prefix: "webmail_") { attempt { webmail.formUnion(try domains(p)) } } }
        if let p = path("webmail_domains.txt") { attempt { webmail.formUnion(try domains(p)) } }
        if useDefault("disposable") { for p in listFiles(prefix: "disposable_") { attempt { disposable.formUnion(try domains(p)) } } }
        if let p = path("disposable_domains.txt") { attempt { disposable.formUnion(try domains(p)) } }

        var zones = IPRangeTable<String>()
        if let p = path("network_zones.txt") { attempt { zones = try networkZones(p) } }
        var ti: [IPRangeTable<String>] = []
        for f in Context.tiFiles {
            var t = IPRangeTable<String>()
            if let p = path("ti/" + f) { attempt { t = try ipList(p) } }
            ti.append(t)
        }

        var suspicious = Set<String>()
        if let p = path("suspicious_countries.txt") {
            attempt {
                for e in try ListFile.read(p) {
                    let code = e.text.uppercased()
                    if let why = Countries.problem(with: code) { throw ContentError(file: p, line: e.line, reason: why) }
                    suspicious.insert(code)
                }
            }
        }

        var kw: [KeywordMatcher.Keyword] = []
        for list in KeywordList.allCases {
            var files: [String] = []
            if useDefault(list.configName), let p = listPath("keywords/" + list.file) { files.append(p) }
            if let p = path("keywords/" + list.file) { files.append(p) }
            for p in files {
                attempt {
                    for e in try ListFile.read(p) {
                        guard let k = KeywordMatcher.keyword(e.text, list: list.rawValue) else {
                            throw ContentError(file: p, line: e.line, reason: "empty keyword")
                        }
                        if k.bytes.count < 2 { throw ContentError(file: p, line: e.line, reason: "keyword '\(e.text)' is shorter than 2 characters") }
                        if !kw.contains(k) { kw.append(k) }
                    }
                }
            }
        }

        var extensions = Set<String>()
        for p in [useDefault("source_code") ? listPath("source_code_extensions.txt") : nil, path("source_code_extensions.txt")].compactMap({ $0 }) {
            attempt {
                for e in try ListFile.read(p) {
                    var x = Substring(e.text.lowercased())
                    if x.hasPrefix("*.") { x = x.dropFirst(2) } else if x.hasPrefix(".") { x = x.dropFirst() }
                    guard !x.isEmpty, x.count <= 16, x.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "_" }) else {
                        throw ContentError(file: p, line: e.line, reason: "'\(e.text)' is not a file extension")
                    }
                    extensions.insert(String(x))
                }
            }
        }

        var patterns: [String] = []
        for p in [useDefault("log4j") ? listPath("log4j_patterns.txt") : nil, path("log4j_patterns.txt")].compactMap({ $0 }) {
            attempt {
                for e in try ListFile.read(p) {
                    guard e.text.utf8.count >= 3 else { throw ContentError(file: p, line: e.line, reason: "pattern '\(e.text)' is too short") }
                    if !patterns.contains(e.text.lowercased()) { patterns.append(e.text.lowercased()) }
                }
            }
        }

        var geo = GeoLocator()
        for p in config.geoDatabases {
            attempt {
                guard ListFile.exists(p) else { throw ContentError(file: p, line: 0, reason: "geo database not found (context.conf geo_databases)") }
                geo.databases.append(try MaxMindDB(path: p))
            }
        }
        if !config.geoRanges.isEmpty {
            attempt {
                for p in config.geoRanges where !ListFile.exists(p) {
                    throw ContentError(file: p, line: 0, reason: "geo range file not found (context.conf geo_ranges)")
                }
                geo.ranges = try IPFireRanges.load(paths: config.geoRanges)
            }
        }

        for u in users.users {
            for p in u.personalEmails {
                if let d = Addresses.domain(of: p), company.match(d, psl: psl) != nil {
                    errors.append(ContentError(file: (directory ?? "") + "/users.csv", line: u.line,
                                               reason: "personal_emails: '\(p)' is in a company domain"))
                }
            }
        }

        if !errors.isEmpty { throw ContextLoadError(errors: errors) }
        return Context(directory: directory, config: config, users: users, psl: psl, companyDomains: company,
                       competitorDomains: competitor, webmailDomains: webmail, disposableDomains: disposable,
                       zones: zones, tor: ti[0], blacklist: ti[1], ransomware: ti[2], suspiciousCountries: suspicious,
                       keywords: KeywordMatcher(kw), sourceCodeExtensions: extensions,
                       exploits: ExploitScanner(patterns: patterns), geo: geo)
    }

    /// Strict directory: every file and folder must be one the loader reads (or a README, a hidden file, or a
    /// geo file named in context.conf; `geo/` may hold any files). Anything else is an error with the closest
    /// known name ("did you mean"), so a misnamed list (`keyword/`, `TI/`, `users.CSV`, `x.txt.bak`) is
    /// never silently ignored.
    func checkUnknownFiles(_ d: String, config: ContextConfig) throws {
        let fm = FileManager.default
        var geoTop = Set<String>(["geo"])
        for p in config.geoDatabases + config.geoRanges where p.hasPrefix(d + "/") {
            if let first = p.dropFirst(d.count + 1).split(separator: "/").first { geoTop.insert(String(first)) }
        }
        let dirs = ["ti": Set(Context.tiFiles), "keywords": Set(KeywordList.allCases.map(\.file))]
        var errors: [ContentError] = []
        func ignorable(_ n: String) -> Bool { n.hasPrefix(".") || n.lowercased().hasPrefix("readme") }
        for n in ((try? fm.contentsOfDirectory(atPath: d)) ?? []).sorted() where !ignorable(n) {
            let isDir = ListFile.isDirectory(d + "/" + n)
            if geoTop.contains(n) { continue }
            if isDir, dirs[n] != nil { continue }
            if !isDir, Context.knownFiles.contains(n) { continue }
            let candidates = isDir ? Array(dirs.keys) + ["geo"] : Array(Context.knownFiles) + dirs.flatMap { k, v in v.map { k + "/" + $0 } }
            let hint = Loader.suggestion(n, among: candidates, directory: isDir)
            errors.append(ContentError(file: d + "/" + n, line: 0,
                                       reason: "unknown context \(isDir ? "folder" : "file")" + (hint.map { " (did you mean \($0)?)" } ?? "")
                                       + "; known: \(Context.knownFiles.sorted().joined(separator: ", ")), ti/, keywords/, geo/"))
        }
        for (sub, allowed) in dirs.sorted(by: { $0.key < $1.key }) where ListFile.isDirectory(d + "/" + sub) {
            for n in ((try? fm.contentsOfDirectory(atPath: d + "/" + sub)) ?? []).sorted() where !ignorable(n) && !allowed.contains(n) {
                let isDir = ListFile.isDirectory(d + "/" + sub + "/" + n)
                let hint = isDir ? nil : Loader.suggestion(n, among: Array(allowed), directory: false)
                errors.append(ContentError(file: d + "/" + sub + "/" + n, line: 0,
                                           reason: "unknown \(isDir ? "folder" : "file") in \(sub)/" + (hint.map { " (did you mean \(sub)/\($0)?)" } ?? "")
                                           + "; expected one of \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        if !errors.isEmpty { throw ContextLoadError(errors: errors) }
    }

    /// The known name closest to `name`: equal ignoring case, a known name with a suffix added
    /// (`x.txt.bak`), or within a small edit distance (`keyword` → `keywords`).
    static func suggestion(_ name: String, among known: [String], directory: Bool) -> String? {
        let lower = name.lowercased()
        let sorted = known.sorted()
        func show(_ k: String) -> String { directory ? k + "/" : k }
        if let k = sorted.first(where: { $0.lowercased() == lower }) { return show(k) }
        if let k = sorted.first(where: { lower.hasPrefix($0.lowercased() + ".") || lower.hasPrefix($0.lowercased() + "~") }) { return show(k) }
        if let k = sorted.first(where: { ($0 as NSString).lastPathComponent.lowercased() == lower }) { return show(k) }
        var best: (String, Int)? = nil
        for k in sorted {
            let limit = max(2, k.count / 4)
            let dist = Suggest.distance(Array(lower.utf8), Array(k.lowercased().utf8), limit: limit)
            if dist <= limit, best.map({ dist < $0.1 }) ?? true { best = (k, dist) }
        }
        return best.map { show($0.0) }
    }

    func domains(_ p: String) throws -> DomainSet {
        var set = DomainSet()
        for e in try ListFile.read(p) {
            if let why = DomainSet.problem(with: e.text) { throw ContentError(file: p, line: e.line, reason: why) }
            set.insert(e.text)
        }
        return set
    }

    /// `CIDR zone` per line (whitespace-separated); zone names are one word.
    func networkZones(_ p: String) throws -> IPRangeTable<String> {
        var entries: [(IPRange, String)] = []
        for e in try ListFile.read(p) {
            let parts = e.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2 else {
                throw ContentError(file: p, line: e.line, reason: "expected 'CIDR zone' (e.g. '10.0.0.0/8 corp-lan'), found \(parts.count) fields")
            }
            switch IPRange.parse(String(parts[0])) {
            case .success(let r): entries.append((r, String(parts[1])))
            case .failure(let why): throw ContentError(file: p, line: e.line, reason: "bad CIDR '\(parts[0])': \(why)")
            }
        }
        return IPRangeTable(entries)
    }

    /// One IP, CIDR or `first-last` range per line; the payload is the entry as written.
    func ipList(_ p: String) throws -> IPRangeTable<String> {
        var entries: [(IPRange, String)] = []
        for e in try ListFile.read(p) {
            let item = e.text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? e.text
            switch IPRange.parse(item) {
            case .success(let r): entries.append((r, item))
            case .failure(let why): throw ContentError(file: p, line: e.line, reason: "bad IP or CIDR '\(item)': \(why)")
            }
        }
        return IPRangeTable(entries)
    }
}
