import Foundation
import OspreyTestSupport
import XCTest

/// The generated organization's log lines in replay order (files sorted by name, lines in file order).
func orgLines(_ org: String) throws -> [String] {
    let dir = org + "/logs"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted()
    var out: [String] = []
    for n in names {
        let text = try String(contentsOfFile: dir + "/" + n, encoding: .utf8)
        for l in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var s = String(l)
            if s.hasSuffix("\r") { s.removeLast() }
            if !s.trimmingCharacters(in: .whitespaces).isEmpty { out.append(s) }
        }
    }
    return out
}
