/// Osprey's content file format, shared by parsers, mappings, models, rules and lists.
///
///     # a comment
///     [parser mimecast-seg-cef-email-send-receive-rcpt]
///     vendor = Mimecast
///     condition = "Rcpt":
///     map Rcpt = dest_email_address
///
/// A section starts with `[kind name]`; each following non-blank, non-comment line is `key = value`, where
/// the key may have words (`map Rcpt`) and the value runs raw to the end of the line (no quoting, so regexes
/// need no escaping). Keys may repeat. Every entry remembers its line so errors can point at it.
public struct ContentError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int?
    public var reason: String

    public init(file: String, line: Int, column: Int? = nil, reason: String) {
        self.file = file; self.line = line; self.column = column; self.reason = reason
    }

    public var description: String {
        if let c = column { return "\(file):\(line):\(c): \(reason)" }
        return "\(file):\(line): \(reason)"
    }
}

public struct ContentEntry: Sendable {
    public var key: String
    public var value: String
    public var line: Int
    /// 1-based column where the value starts, so expression errors can point inside it.
    public var valueColumn: Int
}

public struct ContentSection: Sendable {
    public var kind: String
    public var name: String
    public var file: String
    public var line: Int
    public var entries: [ContentEntry]

    public func all(_ key: String) -> [ContentEntry] { entries.filter { $0.key == key } }

    /// Entries whose key starts with `prefix ` (e.g. `map Rcpt`), with the rest of the key.
    public func prefixed(_ prefix: String) -> [(arg: String, entry: ContentEntry)] {
        entries.compactMap { e in
            guard e.key.hasPrefix(prefix + " ") else { return nil }
            return (String(e.key.dropFirst(prefix.count + 1)).trimmingSpaces, e)
        }
    }

    public func optional(_ key: String) throws -> ContentEntry? {
        let found = all(key)
        if found.count > 1 { throw error(at: found[1].line, "'\(key)' given more than once in [\(kind) \(name)]") }
        return found.first
    }

    public func required(_ key: String) throws -> ContentEntry {
        guard let e = try optional(key) else { throw error(at: line, "[\(kind) \(name)] has no '\(key)'") }
        return e
    }

    public func error(at line: Int, column: Int? = nil, _ reason: String) -> ContentError {
        ContentError(file: file, line: line, column: column, reason: reason)
    }

    /// Rejects keys this kind of section does not know: a typo must not silently disable content.
    public func checkKeys(allowed: Set<String>, prefixes: Set<String> = []) throws {
        for e in entries {
            if allowed.contains(e.key) { continue }
            if let first = e.key.split(separator: " ").first, prefixes.contains(String(first)), e.key.contains(" ") { continue }
            throw error(at: e.line, "unknown key '\(e.key)' in [\(kind) \(name)]")
        }
    }
}

public enum ContentFile {
    /// `inlineComments`: a `#` preceded by a space or tab ends the line's content (config files such as
    /// the serve config). Content files (parsers, rules, ...) leave it off: their values run raw to the end of
    /// the line, so a regex may hold ` #`.
    public static func parse(_ text: String, file: String, inlineComments: Bool = false) throws -> [ContentSection] {
        var sections: [ContentSection] = []
        try TextLines.forEach(in: text) { lineNo, bytes in
            var line = Substring(String(decoding: bytes, as: UTF8.self))
            if inlineComments { line = stripInlineComment(line) }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else {
                    throw ContentError(file: file, line: lineNo, reason: "section header must end with ']'")
                }
                let inner = trimmed.dropFirst().dropLast().trimmingSpaces
                let parts = inner.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, !parts[1].trimmingSpaces.isEmpty else {
                    throw ContentError(file: file, line: lineNo, reason: "section header must be '[kind name]', got '[\(inner)]'")
                }
                sections.append(ContentSection(kind: String(parts[0]), name: parts[1].trimmingSpaces,
                                               file: file, line: lineNo, entries: []))
                return
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw ContentError(file: file, line: lineNo, reason: "expected 'key = value', found no '='")
            }
            let key = line[..<eq].trimmingSpaces
            guard !key.isEmpty else { throw ContentError(file: file, line: lineNo, column: 1, reason: "empty key before '='") }
            guard !sections.isEmpty else {
                throw ContentError(file: file, line: lineNo, reason: "'\(key)' appears before any [section]")
            }
            var valueStart = line.index(after: eq)
            while valueStart < line.endIndex, line[valueStart] == " " || line[valueStart] == "\t" {
                valueStart = line.index(after: valueStart)
            }
            let value = line[valueStart...].trimmingSpaces
            let column = line.distance(from: line.startIndex, to: valueStart) + 1
            sections[sections.count - 1].entries.append(
                ContentEntry(key: key.split(separator: " ").joined(separator: " "), value: value, line: lineNo, valueColumn: column))
        }
        return sections
    }

    /// The line up to a `#` that follows a space or tab (or starts the line).
    static func stripInlineComment(_ line: Substring) -> Substring {
        var prev: Character = " "
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if c == "#", prev == " " || prev == "\t" { return line[..<i] }
            prev = c
            i = line.index(after: i)
        }
        return line
    }
}

extension StringProtocol {
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Comma-separated lists in content values: `a, b, c`.
public func splitList(_ value: String) -> [String] {
    value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
}
