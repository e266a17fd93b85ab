import Foundation
import OspreyCore

/// Plain list files: one entry a line; `#` starts a comment at the start of a line or after a space;
/// blank lines are skipped. Every entry keeps its line for errors.
public enum ListFile {
    public struct Entry: Sendable { public var text: String; public var line: Int }

    public static func parse(_ text: String) -> [Entry] {
        var out: [Entry] = []
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let hash = commentStart(line) { line = line[..<hash] }
            let t = line.trimmingSpaces
            if t.isEmpty { continue }
            out.append(Entry(text: t, line: lineNo))
        }
        return out
    }

    static func commentStart(_ line: Substring) -> Substring.Index? {
        var prev: Character = " "
        for i in line.indices {
            let c = line[i]
            if c == "#", prev == " " || prev == "\t" { return i }
            prev = c
        }
        return nil
    }

    public static func read(_ path: String) throws -> [Entry] { parse(try ContentDirectory.read(path)) }

    public static func exists(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
