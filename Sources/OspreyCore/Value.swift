/// A typed field value. Parsers produce strings and integers; enrichment adds booleans and lists.
public enum Value: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case list([String])

    /// The value as text, for outputs, dedup keys and string comparisons.
    public var text: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .list(let l): return l.joined(separator: ",")
        }
    }

    public var asInt: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d.rounded()) ?? nil
        case .string(let s): return Int64(s)
        case .bool(let b): return b ? 1 : 0
        case .list(let l): return Int64(l.count)
        }
    }

    public var asDouble: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        case .bool(let b): return b ? 1 : 0
        case .list(let l): return Double(l.count)
        }
    }

    public var asBool: Bool {
        switch self {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty && s != "false" && s != "0"
        case .list(let l): return !l.isEmpty
        }
    }

    /// Every element for lists, the single value otherwise.
    public var elements: [String] {
        if case .list(let l) = self { return l }
        return [text]
    }
}
