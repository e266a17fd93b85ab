import Foundation
import XCTest
@testable import OspreyAnalytics
import OspreyAssembly
import OspreyCore
import OspreyEnrichment
import OspreyGenerator
import OspreyIO
import OspreyParsing
@testable import OspreyPipeline

/// The field catalog (Content/fields/fields.conf) is the contract between the stages. This ties together
/// what each stage declares it writes, what it really writes on a replay of a generated organization, the
/// rule compiler's fields and list names, and docs/fields.md.
final class FieldCatalogTests: XCTestCase {
    typealias Stage = FieldCatalog.Stage
    typealias Kind = FieldCatalog.Kind

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let content = root.appendingPathComponent("Content").path
    static let docs = root.appendingPathComponent("docs/fields.md").path

    /// Field names (with the kinds of their values) present on the events each stage puts out.
    typealias Observed = [Stage: [String: Set<Kind>]]

    /// What each stage declares it writes: the shipped parsers' mappings, captures, copies and constants
    /// plus the event builder's derived fields; `AssemblyField.writes`; `EnrichedFields.writes`.
    static func declaredWrites() throws -> [Stage: Set<String>] {
        let parsers = try ParserLoader.load(directory: content + "/parsers", catalog: nil)
        var parse = Set(ParseEngine.writes.map(\.name))
        for p in parsers { parse.formUnion(p.writes.map(\.name)) }
        return [.parse: parse, .assembly: Set(AssemblyField.writes.map(\.name)),
                .enrichment: Set(EnrichedFields.writes.map(\.name))]
    }

    /// Replays a generated organization stage by stage (parse → reorder → assemble → enrich) and records
    /// every field on the events after each stage.
    nonisolated(unsafe) static let observed: Observed = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-fieldcatalog-\(getpid())").path
        var o = GeneratorOptions()
        o.users = 30; o.days = 10
        do {
            _ = try OrganizationGenerator.generate(o, into: dir)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            return try observe(logs: dir + "/logs", context: dir + "/context")
        } catch {
            XCTFail("generating and replaying the organization failed: \(error)")
            return [:]
        }
    }()

    static func observe(logs: String, context: String) throws -> Observed {
        let parser = try ParseEngine(contentDirectory: content)
        let enricher = Enricher(store: try ContextStore(directory: context, lists: content + "/lists"))
        var reorder = ReorderBuffer(windowMillis: 600_000)
        var assembler = Assembler()
        var out: Observed = [:]
        func record(_ e: Event, _ stage: Stage) {
            for i in 0..<e.fieldCount {
                let (f, v) = e.field(at: i)
                out[stage, default: [:]][f.name, default: []].insert(Kind(of: v))
            }
        }
        var ordered: [Event] = [], assembled: [Event] = []
        func drain() {
            for e in ordered { assembler.push(e, into: &assembled) }
            ordered.removeAll()
            for var e in assembled {
                record(e, .assembly)
                enricher.enrich(&e)
                record(e, .enrichment)
            }
            assembled.removeAll()
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: logs).sorted() {
            try LineReader(path: logs + "/" + file).forEach { rec in
                guard case .line(let b, _) = rec else { return }
                parser.parse(line: b) { result in
                    if case .event(let e) = result {
                        record(e, .parse)
                        reorder.push(e, into: &ordered)
                    }
                }
                drain()
            }
        }
        reorder.finish(into: &ordered)
        drain()
        assembler.finish(into: &assembled)
        drain()
        return out
    }

    /// Every way the stages and the catalog disagree. A field on a stage's output must be in the catalog,
    /// with a kind the catalog allows, and declared by that stage or an earlier one; every declared write
    /// must be in the catalog at that stage or an earlier one; every catalog entry's stage must be the first
    /// stage that declares writing it.
    static func problems(observed: Observed, declared: [Stage: Set<String>], catalog: FieldCatalog) -> [String] {
        var out: [String] = []
        for stage in Stage.allCases {
            let upTo = Stage.allCases.filter { $0 <= stage }.reduce(into: Set<String>()) { $0.formUnion(declared[$1] ?? []) }
            for (name, kinds) in (observed[stage] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard catalog.contains(name) else {
                    out.append("the \(stage.rawValue) stage's events carry '\(name)', which the field catalog does not list")
                    continue
                }
                for k in kinds.sorted(by: { $0.rawValue < $1.rawValue }) {
                    if let p = catalog.problem(value: k, in: name) { out.append("after \(stage.rawValue): \(p)") }
                }
                if !upTo.contains(name) {
                    out.append("the \(stage.rawValue) stage's events carry '\(name)', which no stage up to \(stage.rawValue) declares writing")
                }
            }
            for name in (declared[stage] ?? []).sorted() {
                if let p = catalog.problem(writing: name, at: stage, by: stage.rawValue) { out.append(p) }
            }
        }
        for e in catalog.entries {
            guard let first = Stage.allCases.first(where: { declared[$0]?.contains(e.name) ?? false }) else {
                out.append("\(e.file):\(e.line): catalog field '\(e.name)' is written by no stage")
                continue
            }
            if first != e.stage {
                out.append("\(e.file):\(e.line): catalog field '\(e.name)' says stage \(e.stage.rawValue), but \(first.rawValue) first writes it")
            }
        }
        return out
    }

    func testEveryFieldEveryStageWritesIsInTheCatalog() throws {
        let catalog = try FieldCatalog.load(contentDirectory: Self.content)
        let observed = Self.observed
        let declared = try Self.declaredWrites()
        // The replay really exercised each stage, including the fields the issue found missing.
        XCTAssertGreaterThan(observed[.parse]?.count ?? 0, 20)
        for name in ["mail_outcome", "partial", "parts", "assembled"] { XCTAssertNotNil(observed[.assembly]?[name], name) }
        for name in ["dest_reg_domain", "peer_group", "user_known", "dest_is_external"] { XCTAssertNotNil(observed[.enrichment]?[name], name) }
        XCTAssertEqual(Self.problems(observed: observed, declared: declared, catalog: catalog), [])
    }

    func testTheCheckReportsAFieldTheCatalogLacks() throws {
        let catalog = try FieldCatalog.load(contentDirectory: Self.content)
        var declared = try Self.declaredWrites()
        var observed = Self.observed
        // A stage that writes a field nobody declared or catalogued…
        observed[.enrichment, default: [:]]["zz_unlisted_field", default: []].insert(.string)
        // …a declared write the catalog lacks, and a catalogued field written as the wrong kind.
        declared[.assembly, default: []].insert("zz_declared_only")
        observed[.parse, default: [:]]["user", default: []].insert(.bool)
        let p = Self.problems(observed: observed, declared: declared, catalog: catalog)
        XCTAssertTrue(p.contains { $0.contains("'zz_unlisted_field', which the field catalog does not list") }, "\(p)")
        XCTAssertTrue(p.contains { $0.contains("assembly writes field 'zz_declared_only'") }, "\(p)")
        XCTAssertTrue(p.contains { $0.contains("field 'user' holds a bool") }, "\(p)")
        // And a catalog entry that no stage writes.
        declared[.enrichment]?.remove("dest_reg_domain")
        XCTAssertTrue(Self.problems(observed: [:], declared: declared, catalog: catalog)
            .contains { $0.contains("catalog field 'dest_reg_domain' is written by no stage") })
    }

    func testThePipelineRefusesToStartWhenTheCatalogLacksAFieldAStageWrites() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("osprey-fieldcatalog-content-\(getpid())").path
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir + "/fields", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        for sub in try fm.contentsOfDirectory(atPath: Self.content) where sub != "fields" {
            try fm.createSymbolicLink(atPath: dir + "/" + sub, withDestinationPath: Self.content + "/" + sub)
        }
        let text = try String(contentsOfFile: Self.content + "/fields/fields.conf", encoding: .utf8)
        func without(_ field: String) -> String {
            var lines: [Substring] = []
            var skipping = false
            for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if l.hasPrefix("[") { skipping = l == "[field \(field)]" }
                if !skipping { lines.append(l) }
            }
            return lines.joined(separator: "\n")
        }
        for (field, stage) in [("mail_outcome", "assembly"), ("exploit_pattern", "enrichment")] {
            try without(field).write(toFile: dir + "/fields/fields.conf", atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Pipeline(options: PipelineOptions(contentDirectory: dir, contextDirectory: nil))) { e in
                XCTAssertTrue("\(e)".contains("\(stage) writes field '\(field)'"), "\(e)")
            }
        }
        // A parser mapping to a field the catalog lacks is an error at the mapping's line.
        try without("url_verdict").write(toFile: dir + "/fields/fields.conf", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ParseEngine(contentDirectory: dir)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains(".parser:") && s.contains("writes field 'url_verdict'"), s)
        }
    }

    func testRulesMayReadEveryCatalogFieldAndEveryContextList() throws {
        let catalog = try FieldCatalog.load(contentDirectory: Self.content)
        let content = try AnalyticsContent.load(directory: Self.content)
        XCTAssertEqual(content.knownFields, Set(catalog.names).union(content.declaredFields))
        // A [fields] declaration is for fields no stage writes; a written one belongs in the catalog.
        let written = Self.observed.values.reduce(into: Set<String>()) { $0.formUnion($1.keys) }
        XCTAssertEqual(content.declaredFields.intersection(written), [])
        // One rule reading every catalog field and asking every list the context serves compiles.
        let condition = catalog.names.map { "exists(\($0))" }.joined(separator: " or ")
            + " or " + ContextLists.names.map { "in_list(\"\($0)\", user)" }.joined(separator: " or ")
        let rule = "[rule T-1]\nname = t\nactivity_types = app-login\nmitre = T1078 Valid Accounts\nuse_cases = Test\nkind = fact\ncondition = \(condition)\nscore = 1\nreason = r\n"
        XCTAssertNoThrow(try AnalyticsContent.load(texts: [("t.rules", rule)], fields: catalog))
        // The lists come from one table.
        XCTAssertEqual(CompileEnvironment.providerLists, ContextLists.nameSet)
        XCTAssertEqual(Context.listNames, ContextLists.nameSet)
        let provider = EnrichmentContextProvider(store: ContextStore(context: try Context.defaults(lists: Self.content + "/lists")))
        for name in ContextLists.names { XCTAssertTrue(provider.hasList(name), name) }
        // An unknown field is still an error, naming the catalog.
        XCTAssertThrowsError(try AnalyticsContent.load(texts: [("t.rules", rule.replacingOccurrences(of: "exists(user)", with: "exists(no_such_field)"))], fields: catalog)) { e in
            XCTAssertTrue("\(e)".contains("unknown field 'no_such_field'") && "\(e)".contains("fields.conf"), "\(e)")
        }
    }

    /// docs/fields.md carries the catalog's table; `OSPREY_UPDATE_FIELDS_DOC=1` rewrites it.
    func testDocsFieldsMdCarriesTheCurrentCatalog() throws {
        let catalog = try FieldCatalog.load(contentDirectory: Self.content)
        let doc = try String(contentsOfFile: Self.docs, encoding: .utf8)
        let updated = try XCTUnwrap(catalog.updatingDocument(doc), "docs/fields.md lacks the catalog markers")
        if ProcessInfo.processInfo.environment["OSPREY_UPDATE_FIELDS_DOC"] == "1", updated != doc {
            try updated.write(toFile: Self.docs, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(doc, updated, "docs/fields.md is not current: run OSPREY_UPDATE_FIELDS_DOC=1 swift test --filter FieldCatalogTests")
        for name in catalog.names { XCTAssertTrue(doc.contains("`\(name)`"), name) }
    }

    func testCatalogErrorsPointAtTheLine() {
        func error(_ text: String) -> String {
            do { _ = try FieldCatalog.parse(text, file: "f.conf"); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(error("[field a]\ntype = text\nstage = parse\ndoc = d\n"), "f.conf:2:8: unknown type 'text' (string, int, double, bool, list)")
        XCTAssertEqual(error("[field a]\ntype = int\nstage = later\ndoc = d\n"), "f.conf:3:9: unknown stage 'later' (parse, assembly, enrichment)")
        XCTAssertEqual(error("[field a]\ntype = int\nstage = parse\n"), "f.conf:1: [field a] has no 'doc'")
        XCTAssertEqual(error("[field a]\ntype = int\nstage = parse\ndoc = d\n[field a]\ntype = int\nstage = parse\ndoc = d\n"),
                       "f.conf:5: field 'a' already defined at line 1")
        XCTAssertEqual(error("[field A-b]\ntype = int\nstage = parse\ndoc = d\n"), "f.conf:1: field name 'A-b' must be lowercase letters, digits and '_'")
        XCTAssertEqual(error("[field a]\ntype = int\nstage = parse\ndoc = d\nunit = ms\n"), "f.conf:5: unknown key 'unit' in [field a]")
        XCTAssertEqual(error("[parser a]\n"), "f.conf:1: unknown section kind 'parser' in the field catalog (expected [field NAME])")
    }
}
