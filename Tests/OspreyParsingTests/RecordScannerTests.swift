import XCTest
import OspreyCore
@testable import OspreyParsing

/// The connector scanner's byte searches, held against plain forward walks written the obvious way.
final class RecordScannerTests: XCTestCase {
    /// The definition of a CEF extension boundary, one space at a time: the first space `i` at or after
    /// `from` followed by a key (letters, digits, `_.-`), then `=`, or ` =` for the connector's own
    /// spaced key (`destinationServiceName =…`).
    static func referenceNextExtensionStart(_ b: [UInt8], from: Int) -> Int {
        let n = b.count
        var i = from
        while i < n {
            if b[i] == 0x20 {
                var k = i + 1
                while k < n, RecordScanner.isKeyByte(b[k]) { k += 1 }
                if k > i + 1 {
                    var q = k
                    if q < n, b[q] == 0x20 { q += 1 }
                    let spacedKey = Array(b[(i + 1)..<k]) == Array("destinationServiceName".utf8)
                    if q < n, b[q] == 0x3D, !(k < n && b[k] == 0x20 && q == k + 1 && !spacedKey) { return i }
                }
            }
            i += 1
        }
        return n
    }

    func testNextExtensionStartMatchesTheForwardWalk() {
        var rng = SplitMix64(state: 15)
        let pieces: [[UInt8]] = [" ", "=", " =", "a", "Zq", "7", "_", ".", "-", "|", "\\", "\\=", "\"", "é", "{",
                                 " destinationServiceName =", " destinationServiceName", " x=", "  ", "=="].map { Array($0.utf8) }
        for round in 0..<20_000 {
            var line: [UInt8] = []
            for _ in 0..<Int(rng.next() % 24) { line += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let from = line.isEmpty ? 0 : Int(rng.next() % UInt64(line.count + 1))
            let want = Self.referenceNextExtensionStart(line, from: from)
            let got = line.withUnsafeBytes { RecordScanner.nextExtensionStart($0, from: from) }
            XCTAssertEqual(got, want, "round \(round): \(String(decoding: line, as: UTF8.self).debugDescription) from \(from)")
            if got != want { return }
        }
    }

    func testNextExtensionStartOnConnectorText() {
        let line = Array("cat=application-data cs6Label=raw-event destinationServiceName =Mimecast Email Security dproc=SIEM Logs a=b = c d=e".utf8)
        var starts: [Int] = []
        var p = 0
        while true {
            guard let eq = line[p...].firstIndex(of: 0x3D) else { break }
            let next = line.withUnsafeBytes { RecordScanner.nextExtensionStart($0, from: eq + 1) }
            starts.append(next)
            if next >= line.count { break }
            p = next + 1
        }
        let names = starts.dropLast().map { s -> String in
            let rest = line[(s + 1)...]
            let end = rest.firstIndex(where: { $0 == 0x3D || $0 == 0x20 }) ?? line.count
            return String(decoding: line[(s + 1)..<end], as: UTF8.self)
        }
        // `b = c` is value text (only the connector's own key may have a space before `=`).
        XCTAssertEqual(names, ["cs6Label", "destinationServiceName", "dproc", "a", "d"])
        XCTAssertEqual(starts.last, line.count)
        XCTAssertEqual(Array(" ".utf8).withUnsafeBytes { RecordScanner.nextExtensionStart($0, from: 1) }, 1)
        XCTAssertEqual([UInt8]().withUnsafeBytes { RecordScanner.nextExtensionStart($0, from: 0) }, 0)
    }
}
