import Foundation
import XCTest
import OspreyCore
@testable import OspreyEnrichment

enum Paths {
    /// The repository root, from this file's location.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var lists: String { root + "/Content/lists" }
    static var fixtures: String { root + "/Tests/OspreyEnrichmentTests/Fixtures" }
    static var example: String { root + "/docs/context-example" }
}

/// A scratch directory removed at deinit.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "osprey-enrich-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = path + "/" + name
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func writeBytes(_ name: String, _ bytes: [UInt8]) -> String {
        let p = path + "/" + name
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// A copy of docs/context-example to modify.
    static func exampleCopy() -> TempDir {
        let t = TempDir()
        try! FileManager.default.removeItem(atPath: t.path)
        try! FileManager.default.copyItem(atPath: Paths.example, toPath: t.path)
        return t
    }
}

/// Loads and expects a failure; returns the errors. Without the shipped lists unless asked (faster).
func loadErrors(_ dir: String, lists: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> [ContentError] {
    do {
        _ = try Context.load(directory: dir, lists: lists)
        XCTFail("expected the context to be rejected", file: file, line: line)
        return []
    } catch let e as ContextLoadError {
        return e.errors
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return []
    }
}

func ms(_ iso: String) -> Int64 { UTCTime.parse(iso)! }

extension Event {
    func bool(_ name: String) -> Bool? {
        guard let v = self[name] else { return nil }
        if case .bool(let b) = v { return b }
        return nil
    }
    func text(_ name: String) -> String? { self[name]?.text }
}
