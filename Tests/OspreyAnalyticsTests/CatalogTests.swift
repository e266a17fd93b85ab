import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// The loaded content must equal the seed catalog (Fixtures/catalog.json, a copy of
/// shared/content/catalog.json): every rule's id, name, activity types, MITRE techniques, use cases and
/// model link, and every model's id, name, activity types, use cases and the rules that use it.
final class CatalogTests: XCTestCase {
    func catalog() throws -> [String: Any] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "catalog", withExtension: "json", subdirectory: "Fixtures"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testRulesMatchCatalogExactly() throws {
        let content = try Support.content()
        let rules = try XCTUnwrap(catalog()["rules"] as? [[String: Any]])
        XCTAssertEqual(rules.count, 105)
        // Osprey's own rules (OSP- prefix, Content/rules/osprey.rules) come on top of the catalog's 105.
        let seed = content.rules.filter { !$0.id.hasPrefix("OSP-") }
        XCTAssertEqual(seed.count, 105, "content defines \(seed.count) seed rules")
        let loaded = Dictionary(uniqueKeysWithValues: seed.map { ($0.id, $0) })
        XCTAssertEqual(Set(loaded.keys), Set(rules.map { $0["id"] as! String }))
        for c in rules {
            let id = c["id"] as! String
            guard let r = loaded[id] else { XCTFail("rule \(id) missing from content"); continue }
            XCTAssertEqual(r.name, c["name"] as? String, "\(id) name")
            XCTAssertEqual(r.activityTypes.map(\.rawValue), c["event_types"] as? [String], "\(id) activity types")
            // Ids and the seed's text as written; the names that reach outputs come from Content/attack.
            XCTAssertEqual(r.mitre.map(\.writtenText), c["mitre"] as? [String], "\(id) MITRE")
            XCTAssertEqual(r.useCases, c["use_cases"] as? [String], "\(id) use cases")
            XCTAssertEqual(r.model, c["model"] as? String, "\(id) model")
        }
    }

    func testModelsMatchCatalogExactly() throws {
        let content = try Support.content()
        let models = try XCTUnwrap(catalog()["models"] as? [[String: Any]])
        XCTAssertEqual(models.count, 43)
        let seed = content.models.filter { !$0.id.hasPrefix("OSP-") }
        XCTAssertEqual(seed.count, 43, "content defines \(seed.count) seed models")
        let loaded = Dictionary(uniqueKeysWithValues: seed.map { ($0.id, $0) })
        XCTAssertEqual(Set(loaded.keys), Set(models.map { $0["id"] as! String }))
        for c in models {
            let id = c["id"] as! String
            guard let m = loaded[id] else { XCTFail("model \(id) missing from content"); continue }
            XCTAssertEqual(m.name, c["name"] as? String, "\(id) name")
            XCTAssertEqual(m.activityTypes.map(\.rawValue), c["event_types"] as? [String], "\(id) activity types")
            XCTAssertEqual(m.useCases, c["use_cases"] as? [String], "\(id) use cases")
            XCTAssertEqual(m.rules.filter { !$0.hasPrefix("OSP-") }, c["rules"] as? [String], "\(id) rules")
        }
    }

    func testOspreyRulesAreMarkedAndExplained() throws {
        let content = try Support.content()
        let own = content.rules.filter { $0.id.hasPrefix("OSP-") }
        XCTAssertGreaterThanOrEqual(own.count, 6)
        for r in own { XCTAssertTrue(r.source.file.hasSuffix("osprey.rules"), "\(r.id) lives in osprey.rules") }
    }

    func testEveryRuleHasItsDesignedParts() throws {
        let content = try Support.content()
        for r in content.rules {
            XCTAssertFalse(r.reasonTemplate.isEmpty, r.id)
            XCTAssertGreaterThan(r.score, 0, r.id)
            if r.kind.usesModel { XCTAssertNotNil(r.model, r.id) } else { XCTAssertNotNil(r.conditionText, r.id) }
        }
    }
}
