import Foundation
import OspreyCore

/// Plain list files: one entry a line; `#` starts a comment at the start of a line or after a space;
/// blank lines are skipped. Every entry keeps its line for errors.
public enum ListFile {
    public struct Entry: Sendable { public var text: String; public var line: Int }

    public static func parse(_ text: String) -> [Entry] {
        var out: [Entry] = []
        TextLines.forEach(in: text) { lineNo, b in
            // A comment starts at '#' at the start of the line or after a space or tab.
            var stop = b.count
            var prev: UInt8 = 0x20
            for i in 0..<b.count {
                if b[i] == 0x23, prev == 0x20 || prev == 0x09 { stop = i; break }
                prev = b[i]
            }
            var s = 0, e = stop
            while s < e, b[s] == 0x20 || b[s] == 0x09 || b[s] == 0x0D { s += 1 }
            while e > s, b[e - 1] == 0x20 || b[e - 1] == 0x09 || b[e - 1] == 0x0D { e -= 1 }
            if s < e { out.append(Entry(text: String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self), line: lineNo)) }
        }
        return out
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
