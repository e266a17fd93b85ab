import OspreyCore

/// A transform applied to a mapped value, in the order written: `map MsgId = message_id | strip_angle`.
public enum ValueTransform: Sendable, Equatable {
    case noneIf([String])      // drop the field when the value is one of these (case-insensitive)
    case stripAngle            // `<id@host>` → `id@host`
    case lower
    case list                  // JSON array, `"a", "b"` quoted names, or comma list → list value
    case first                 // first element of a list
    case int                   // integer; dropped if not a number
    case trimBackslashes
    case const(String)         // replace the value by a constant (e.g. the presence of `Delivered` → record_type)
    case whenKey(UInt64)       // keep only when the record also has this key
    case unlessKey(UInt64)     // keep only when the record lacks this key
    case before(UInt8)         // the text before the first occurrence of a one-byte ASCII separator (`ip:port` → ip)
    case hash(Int)             // keep only a hex string of exactly this many digits (32 md5, 40 sha1, 64 sha256)
    case notHash([Int])        // keep only a value that is not a hex string of one of these lengths
    case slug                  // lowercase, runs of spaces / underscores → one `-` (`attachment protect` → `attachment-protect`)

    static func parse(_ text: String) -> ValueTransform? {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        switch parts.first ?? "" {
        case "none_if": return parts.count == 2 ? .noneIf(splitList(parts[1]).map { $0.lowercased() }) : nil
        case "strip_angle": return .stripAngle
        case "lower": return .lower
        case "list": return .list
        case "first": return .first
        case "int": return .int
        case "trim_backslashes": return .trimBackslashes
        case "const": return parts.count == 2 ? .const(parts[1]) : nil
        case "when_key": return parts.count == 2 ? .whenKey(FNV.hash(parts[1])) : nil
        case "unless_key": return parts.count == 2 ? .unlessKey(FNV.hash(parts[1])) : nil
        case "before":
            // One printable ASCII byte (`before :`); anything else is refused at its line.
            guard parts.count == 2, parts[1].utf8.count == 1, let c = parts[1].utf8.first, c > 0x20, c < 0x7F else { return nil }
            return .before(c)
        case "hash":
            guard parts.count == 2, let n = Int(parts[1]), n > 0 else { return nil }
            return .hash(n)
        case "not_hash":
            guard parts.count == 2 else { return nil }
            let ns = splitList(parts[1]).compactMap { Int($0) }
            return ns.isEmpty || ns.count != splitList(parts[1]).count ? nil : .notHash(ns)
        case "slug": return .slug
        default: return nil
        }
    }
}

/// Classes, not structs: the engine walks these per record, and walking an array of structs that hold
/// arrays and strings copies each element: a retain and a release per member (with the activity rule
/// passed by value, retain and release were 14% of connector parsing).
public final class FieldMapping: Sendable {
    public let key: String          // record key (JSON member, dotted path, CEF extension or KV key)
    public let keyHash: UInt64
    public let field: Field
    public let transforms: [ValueTransform]
    public init(key: String, keyHash: UInt64, field: Field, transforms: [ValueTransform]) {
        self.key = key; self.keyHash = keyHash; self.field = field; self.transforms = transforms
    }
}

public final class Extraction: @unchecked Sendable {
    /// nil = the whole record; otherwise an already-extracted field.
    public let source: Field?
    public let regex: PCRE2Regex
    public let fields: [(name: String, field: Field)]
    public init(source: Field?, regex: PCRE2Regex, fields: [(name: String, field: Field)]) {
        self.source = source; self.regex = regex; self.fields = fields
    }
}

/// One parser, loaded from a `[parser NAME]` section of a file under Content/parsers. A class: the engine
/// reads it per line and must not copy its arrays.
/// What a parser does with a record that has none of its time keys.
public enum TimeMissing: String, Sendable {
    /// Reject it (`missing required field`), the default.
    case reject
    /// Take the time of the previous event of the same line (an API page: envelope or collector file) and
    /// mark the event `time_source = page`; reject when the line has no earlier event.
    case page
}

public final class ParserDefinition: @unchecked Sendable {
    public let name: String
    public var timeMissing: TimeMissing = .reject
    public let vendor: String
    public let product: String
    public let format: RecordFormat
    public let activity: String
    public let activityTypes: [ActivityType]
    public let conditions: [[UInt8]]
    public let absent: [[UInt8]]
    /// Conditions on the record's keys and their values (checked before the substring conditions).
    public var keyTests: [KeyTest] = []
    public let timeKeys: [(String, UInt64)]
    /// The accepted time forms as bits (`TimeForm.bit`), read per record without hashing.
    let timeFormBits: UInt8
    public let mappings: [FieldMapping]
    public let extractions: [Extraction]
    public let copies: [(from: Field, to: Field)]
    public let constants: [(Field, String)]
    public let required: [Field]
    public let file: String
    public let line: Int
    public let description: String
    public let order: Int

    public init(name: String, vendor: String, product: String, format: RecordFormat, activity: String, activityTypes: [ActivityType], conditions: [[UInt8]], absent: [[UInt8]], timeKeys: [(String, UInt64)], timeFormats: Set<TimeForm>, mappings: [FieldMapping], extractions: [Extraction], copies: [(from: Field, to: Field)], constants: [(Field, String)], required: [Field], file: String, line: Int, description: String, order: Int) {
        self.name = name
        self.vendor = vendor
        self.product = product
        self.format = format
        self.activity = activity
        self.activityTypes = activityTypes
        self.conditions = conditions
        self.absent = absent
        self.timeKeys = timeKeys
        self.timeFormBits = timeFormats.reduce(0) { $0 | $1.bit }
        self.mappings = mappings
        self.extractions = extractions
        self.copies = copies
        self.constants = constants
        self.required = required
        self.file = file
        self.line = line
        self.description = description
        self.order = order
    }

    /// Every field this parser may write: mapping targets, named captures, copy and `set` targets.
    public var writes: [Field] {
        var out: [Field] = mappings.map(\.field)
        for x in extractions { out += x.fields.map(\.1) }
        out += copies.map(\.to) + constants.map(\.0)
        var seen = Set<Field>()
        return out.filter { seen.insert($0).inserted }
    }
}

/// The time forms a parser accepts; `auto` accepts all.
public enum TimeForm: String, Sendable, CaseIterable {
    case iso8601, epochMillis = "epoch_ms", epochSeconds = "epoch_s", auto

    var bit: UInt8 {
        switch self { case .iso8601: 1; case .epochMillis: 2; case .epochSeconds: 4; case .auto: 8 }
    }
}

/// Loads every `*.parser` file of a directory (sorted by name; order inside a file is kept).
public enum ParserLoader {
    static let allowedKeys: Set<String> = ["vendor", "product", "format", "activity", "activity_types", "condition",
                                           "absent", "key", "no_key", "time", "time_format", "time_missing", "require", "description", "order"]
    static let allowedPrefixes: Set<String> = ["map", "extract", "copy", "set", "value", "no_value"]

    /// `catalog`: the field catalog every written field must be in (an error at the line that writes it);
    /// nil only for tools that read parser files on their own.
    public static func load(directory: String, catalog: FieldCatalog?) throws -> [ParserDefinition] {
        let files = try ContentDirectory.files(in: directory, suffix: ".parser")
        var out: [ParserDefinition] = []
        var seen: [String: String] = [:]
        for path in files {
            let text = try ContentDirectory.read(path)
            for p in try parse(text, file: path, catalog: catalog) {
                if let other = seen[p.name] {
                    throw ContentError(file: path, line: p.line, reason: "parser '\(p.name)' already defined in \(other)")
                }
                seen[p.name] = "\(path):\(p.line)"
                out.append(p)
            }
        }
        return out.enumerated().sorted { a, b in
            (a.element.order, a.offset) < (b.element.order, b.offset)
        }.map(\.element)
    }

    public static func parse(_ text: String, file: String, catalog: FieldCatalog? = nil) throws -> [ParserDefinition] {
        var out: [ParserDefinition] = []
        for s in try ContentFile.parse(text, file: file) {
            func written(_ name: String, _ e: ContentEntry) throws {
                if let c = catalog, let p = c.problem(writing: name, at: .parse, by: "parser '\(s.name)'") {
                    throw s.error(at: e.line, column: e.valueColumn, p)
                }
            }
            guard s.kind == "parser" else { throw s.error(at: s.line, "unknown section kind '\(s.kind)' in a parser file (expected [parser NAME])") }
            try s.checkKeys(allowed: allowedKeys, prefixes: allowedPrefixes)
            let formatEntry = try s.required("format")
            guard let format = RecordFormat(rawValue: formatEntry.value) else {
                throw s.error(at: formatEntry.line, "unknown format '\(formatEntry.value)' (json, cef, kv, text)")
            }
            let activity = try s.required("activity").value
            var types: [ActivityType] = []
            if let t = try s.optional("activity_types") {
                for name in splitList(t.value) {
                    guard let at = ActivityType(rawValue: name) else { throw s.error(at: t.line, "unknown activity type '\(name)'") }
                    types.append(at)
                }
            } else { throw s.error(at: s.line, "[parser \(s.name)] has no 'activity_types'") }
            let conditions = s.all("condition").map { Array($0.value.utf8) }
            if let empty = s.all("condition").first(where: { $0.value.isEmpty }) { throw s.error(at: empty.line, "empty condition") }
            let absent = s.all("absent").map { Array($0.value.utf8) }
            if let empty = s.all("absent").first(where: { $0.value.isEmpty }) { throw s.error(at: empty.line, "empty absent") }
            // Key tests in the order written, so --explain names the first that fails (`checkKeys` above has
            // refused `key X = …` and a bare `value = …`).
            var keyTests: [KeyTest] = []
            for e in s.entries {
                let head = e.key.split(separator: " ", maxSplits: 1)
                guard let first = head.first, let kind = KeyTest.Kind(rawValue: String(first)) else { continue }
                let arg = head.count == 2 ? String(head[1]) : nil
                switch KeyTest.parse(kind: kind, arg: arg, value: e.value) {
                case .success(let t): keyTests.append(t)
                case .failure(let bad): throw s.error(at: e.line, column: e.valueColumn, bad.reason)
                }
            }
            let timeEntry = try s.required("time")
            let timeKeys = splitList(timeEntry.value).map { ($0, FNV.hash($0)) }
            var forms: Set<TimeForm> = [.auto]
            if let tf = try s.optional("time_format") {
                forms = []
                for f in splitList(tf.value) {
                    guard let form = TimeForm(rawValue: f) else { throw s.error(at: tf.line, "unknown time_format '\(f)' (iso8601, epoch_ms, epoch_s, auto)") }
                    forms.insert(form)
                }
            }
            var mappings: [FieldMapping] = []
            for (key, e) in s.prefixed("map") {
                let parts = e.value.split(separator: "|").map { $0.trimmingSpaces }
                guard let fieldName = parts.first, isFieldName(fieldName) else {
                    throw s.error(at: e.line, column: e.valueColumn, "map \(key): expected a field name, got '\(e.value)'")
                }
                var transforms: [ValueTransform] = []
                for t in parts.dropFirst() {
                    guard let tr = ValueTransform.parse(t) else { throw s.error(at: e.line, "map \(key): unknown transform '\(t)'") }
                    transforms.append(tr)
                }
                try written(fieldName, e)
                mappings.append(FieldMapping(key: key, keyHash: FNV.hash(key), field: Field.named(fieldName), transforms: transforms))
            }
            var extractions: [Extraction] = []
            for (source, e) in s.prefixed("extract") {
                let regex: PCRE2Regex
                do { regex = try PCRE2Regex(e.value) } catch let err as PCRE2Regex.CompileError {
                    throw s.error(at: e.line, column: e.valueColumn + err.offset, "regex error: \(err.message)")
                }
                guard !regex.groups.isEmpty else { throw s.error(at: e.line, "extract \(source): the regex has no named capture") }
                for g in regex.groups where !isFieldName(g.name) {
                    throw s.error(at: e.line, "extract \(source): capture name '\(g.name)' is not a field name")
                }
                for g in regex.groups { try written(g.name, e) }
                extractions.append(Extraction(source: source == "line" ? nil : Field.named(source), regex: regex,
                                              fields: regex.groups.map { ($0.name, Field.named($0.name)) }))
            }
            var copies: [(Field, Field)] = []
            for (from, e) in s.prefixed("copy") {
                for to in splitList(e.value) { try written(to, e); copies.append((Field.named(from), Field.named(to))) }
            }
            for (name, e) in s.prefixed("set") { try written(name, e) }
            let constants = s.prefixed("set").map { (Field.named($0.arg), $0.entry.value) }
            let required = splitList(try s.optional("require")?.value ?? "").map(Field.named)
            var order = 500
            if let o = try s.optional("order") {
                guard let n = Int(o.value) else { throw s.error(at: o.line, "order must be an integer") }
                order = n
            }
            var timeMissing = TimeMissing.reject
            if let tm = try s.optional("time_missing") {
                guard let v = TimeMissing(rawValue: tm.value) else { throw s.error(at: tm.line, "unknown time_missing '\(tm.value)' (reject, page)") }
                timeMissing = v
            }
            let def = ParserDefinition(
                name: s.name, vendor: try s.required("vendor").value, product: try s.required("product").value,
                format: format, activity: activity, activityTypes: types, conditions: conditions, absent: absent,
                timeKeys: timeKeys, timeFormats: forms, mappings: mappings, extractions: extractions, copies: copies,
                constants: constants, required: required, file: file, line: s.line,
                description: try s.optional("description")?.value ?? "", order: order)
            def.timeMissing = timeMissing
            def.keyTests = keyTests
            out.append(def)
        }
        return out
    }

    static func isFieldName(_ s: String) -> Bool { FieldCatalog.isFieldName(s) }
}
