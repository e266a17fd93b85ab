import Foundation

/// File access for content loading (start-up only; Foundation is fine here).
public enum ContentDirectory {
    public static func files(in directory: String, suffix: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ContentError(file: directory, line: 0, reason: "content directory not found")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }

    public static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ContentError(file: path, line: 0, reason: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ContentError(file: path, line: 0, reason: "file is not valid UTF-8")
        }
        return text
    }

    /// The file's text, or nil when there is no file at `path`.
    public static func readIfPresent(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try read(path)
    }
}
