import Foundation
import XCTest
import OspreyCore
import OspreyIO
@testable import OspreyParsing

/// Paths and helpers shared by the parsing tests.
enum Support {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var contentDir: String { packageRoot.appendingPathComponent("Content").path }
    /// ../shared beside the package (the team's shared corpus); nil when absent.
    static var sharedDir: URL? {
        let u = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: u.appendingPathComponent("corpus").path) ? u : nil
    }

    static func requireShared() throws -> URL {
        guard let s = sharedDir else {
            throw XCTSkip("../shared/corpus is not present beside the package: corpus tests skipped (they run inside the Osprey workspace)")
        }
        return s
    }

    static func engine() throws -> ParseEngine { try ParseEngine(contentDirectory: contentDir) }

    static func parse(_ line: String, engine: ParseEngine? = nil) throws -> [ParseResult] {
        let e = try engine ?? Support.engine()
        var out: [ParseResult] = []
        e.parse(line: line) { out.append($0) }
        return out
    }

    static func events(_ line: String, engine: ParseEngine? = nil) throws -> [Event] {
        try parse(line, engine: engine).compactMap { if case .event(let e) = $0 { return e }; return nil }
    }

    /// Parses a whole file as `osprey parse` does (framing included).
    static func parseFile(_ path: String, engine: ParseEngine) throws -> [ParseResult] {
        var out: [ParseResult] = []
        let reader = try LineReader(path: path)
        try reader.forEach { rec in
            switch rec {
            case .tooLong(let n, _): out.append(.reject(Reject(reason: .tooLong, detail: "\(n)")))
            case .line(let b, _):
                if b.allSatisfy({ $0 == 0x20 }) { return }
                engine.parse(line: b) { out.append($0) }
            }
        }
        return out
    }

    /// The connector wrapper (mimecast-formats.md §2): syslog header, CEF header, extensions, raw JSON in cs6.
    static func connector(_ json: String, dproc: String, spaced: Bool = true, time: String = "2021-10-19T06:06:41.120Z") -> String {
        let marker = spaced ? "destinationServiceName =Mimecast Email Security" : "destinationServiceName=Mimecast Email Security"
        return "<110>1 \(time) exa-cc-01 Skyformation - 6865378086067993358 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data cs6Label=raw-event \(marker) dproc=\(dproc) requestClientApplication=Mimecast cs6=\(json)"
    }
}

extension Event {
    func s(_ name: String) -> String? { self[name].map { v -> String in if case .list(let l) = v { return l.joined(separator: ",") }; return v.text } }
    var timeText: String { UTCTime.format(timeMillis) }
}
