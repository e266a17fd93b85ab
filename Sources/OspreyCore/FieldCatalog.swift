import Foundation

/// The field catalog (`Content/fields/fields.conf`): every event field by name, with its value type, the
/// stage that first writes it and one line of documentation. It is the contract between the stages: the
/// parser loader rejects a mapping to a field it lacks, the pipeline refuses to start when assembly or
/// enrichment declare a field it lacks, the rule compiler knows exactly its fields, and docs/fields.md
/// carries the table generated from it.
///
///     [field dest_reg_domain]
///     type = string
///     stage = enrichment
///     doc = registrable domain of the destination by the Public Suffix List (mail.example.co.uk → example.co.uk)
public struct FieldCatalog: Sendable {
    /// Pipeline stages in the order they run: a field's stage is the first one that writes it (later
    /// stages may write it too, e.g. dest_domain when the parser left it empty).
    public enum Stage: String, Sendable, CaseIterable, Comparable {
        case parse, assembly, enrichment
        public static func < (a: Stage, b: Stage) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The kinds of `Value`.
    public enum Kind: String, Sendable, CaseIterable {
        case string, int, double, bool, list
        public init(of value: Value) {
            switch value {
            case .string: self = .string
            case .int: self = .int
            case .double: self = .double
            case .bool: self = .bool
            case .list: self = .list
            }
        }
    }

    public struct Entry: Sendable {
        public var name: String
        /// The kinds a value of this field may have (one, except for fields a parser writes as a string from
        /// one format and a list from another, e.g. dest_email_address).
        public var kinds: [Kind]
        public var stage: Stage
        public var doc: String
        public var file: String
        public var line: Int
        public var field: Field { Field.named(name) }
    }

    /// Entries in file order.
    public let entries: [Entry]
    private let index: [String: Int]
    /// Where the catalog was read from, for error messages.
    public let file: String

    /// The catalog's path inside a content directory.
    public static let relativePath = "fields/fields.conf"

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }
    public func contains(_ name: String) -> Bool { index[name] != nil }
    public var names: [String] { entries.map(\.name) }

    /// `<content>/fields/fields.conf`.
    public static func load(contentDirectory: String) throws -> FieldCatalog {
        let path = contentDirectory + "/" + relativePath
        return try parse(try ContentDirectory.read(path), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> FieldCatalog {
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        for s in try ContentFile.parse(text, file: file) {
            guard s.kind == "field" else {
                throw s.error(at: s.line, "unknown section kind '\(s.kind)' in the field catalog (expected [field NAME])")
            }
            try s.checkKeys(allowed: ["type", "stage", "doc"])
            guard isFieldName(s.name) else {
                throw s.error(at: s.line, "field name '\(s.name)' must be lowercase letters, digits and '_'")
            }
            if let other = index[s.name] {
                throw s.error(at: s.line, "field '\(s.name)' already defined at line \(entries[other].line)")
            }
            let t = try s.required("type")
            var kinds: [Kind] = []
            for word in splitList(t.value) {
                guard let k = Kind(rawValue: word) else {
                    throw s.error(at: t.line, column: t.valueColumn, "unknown type '\(word)' (string, int, double, bool, list)")
                }
                if !kinds.contains(k) { kinds.append(k) }
            }
            guard !kinds.isEmpty else { throw s.error(at: t.line, "empty type (string, int, double, bool, list)") }
            let st = try s.required("stage")
            guard let stage = Stage(rawValue: st.value) else {
                throw s.error(at: st.line, column: st.valueColumn, "unknown stage '\(st.value)' (parse, assembly, enrichment)")
            }
            let doc = try s.required("doc")
            guard !doc.value.isEmpty else { throw s.error(at: doc.line, "empty doc for field '\(s.name)'") }
            index[s.name] = entries.count
            entries.append(Entry(name: s.name, kinds: kinds, stage: stage, doc: doc.value, file: file, line: s.line))
            _ = Field.named(s.name)
        }
        guard !entries.isEmpty else { throw ContentError(file: file, line: 0, reason: "the field catalog lists no field") }
        return FieldCatalog(entries: entries, index: index, file: file)
    }

    private init(entries: [Entry], index: [String: Int], file: String) {
        self.entries = entries; self.index = index; self.file = file
    }

    public static func isFieldName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// Why `name`, written by `producer` at `stage`, breaks the catalog, or nil: the catalog must list it,
    /// at this stage or an earlier one.
    public func problem(writing name: String, at stage: Stage, by producer: String) -> String? {
        guard let e = entry(name) else {
            return "\(producer) writes field '\(name)', which the field catalog \(file) does not list"
        }
        if stage < e.stage {
            return "\(producer) writes field '\(name)' at the \(stage.rawValue) stage, but \(e.file):\(e.line) says the \(e.stage.rawValue) stage first writes it"
        }
        return nil
    }

    /// Throws the first problem of `problem(writing:at:by:)` over `names` (start-up checks of the stages'
    /// declared writes).
    public func check(writes names: [String], at stage: Stage, by producer: String) throws {
        for n in names {
            if let p = problem(writing: n, at: stage, by: producer) { throw ContentError(file: file, line: 0, reason: p) }
        }
    }

    /// Why a value of `kind` in field `name` breaks the catalog, or nil.
    public func problem(value kind: Kind, in name: String) -> String? {
        guard let e = entry(name) else { return "field '\(name)' is not in the field catalog \(file)" }
        if e.kinds.contains(kind) { return nil }
        return "field '\(name)' holds a \(kind.rawValue), but \(e.file):\(e.line) types it \(e.kinds.map(\.rawValue).joined(separator: ", "))"
    }

    /// The Markdown table docs/fields.md carries between its catalog markers.
    public func markdownTable() -> String {
        var out = "| Field | Type | Stage | Meaning |\n|---|---|---|---|\n"
        for e in entries {
            let doc = e.doc.replacingPipes
            out += "| `\(e.name)` | \(e.kinds.map(\.rawValue).joined(separator: " or ")) | \(e.stage.rawValue) | \(doc) |\n"
        }
        return out
    }

    public static let docBegin = "<!-- field catalog: generated from Content/fields/fields.conf; do not edit by hand -->"
    public static let docEnd = "<!-- end of field catalog -->"

    /// `markdown` with the text between the catalog markers replaced by `markdownTable()`; nil when the
    /// markers are missing.
    public func updatingDocument(_ markdown: String) -> String? {
        guard let b = markdown.range(of: FieldCatalog.docBegin), let e = markdown.range(of: FieldCatalog.docEnd),
              b.upperBound <= e.lowerBound else { return nil }
        return String(markdown[..<b.upperBound]) + "\n" + markdownTable() + String(markdown[e.lowerBound...])
    }
}

extension String {
    fileprivate var replacingPipes: String {
        var out = ""
        for c in self { if c == "|" { out += "\\|" } else { out.append(c) } }
        return out
    }
}
