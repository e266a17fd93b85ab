import OspreyCore

/// A value during expression evaluation. `missing` is what an absent field or a failed lookup gives: every
/// comparison with it is false (so `not (x == "a")` is true when x is absent, but `x != "a"` is false).
public enum ExprValue: Sendable, Equatable {
    case missing
    case bool(Bool)
    case num(Double)
    case str(String)
    case list([String])

    @inline(__always) public init(_ v: Value) {
        switch v {
        case .string(let s): self = .str(s)
        case .int(let i): self = .num(Double(i))
        case .double(let d): self = .num(d)
        case .bool(let b): self = .bool(b)
        case .list(let l): self = .list(l)
        }
    }

    public var truthy: Bool {
        switch self {
        case .missing: return false
        case .bool(let b): return b
        case .num(let d): return d != 0 && !d.isNaN
        case .str(let s): return !s.isEmpty && s != "false" && s != "0"
        case .list(let l): return !l.isEmpty
        }
    }

    public var isMissing: Bool { if case .missing = self { return true }; return false }

    /// A number if the value is one (or text that reads as one).
    public var number: Double? {
        switch self {
        case .num(let d): return d
        case .str(let s): return Double(s)
        case .bool(let b): return b ? 1 : 0
        case .list(let l): return l.count == 1 ? Double(l[0]) : nil
        case .missing: return nil
        }
    }

    /// Text of a scalar (numbers without a trailing `.0` when integral).
    public var text: String? {
        switch self {
        case .str(let s): return s
        case .num(let d): return ExprValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        case .list(let l): return l.first
        case .missing: return nil
        }
    }

    /// Every element: a list's elements, a scalar as one element, nothing for missing or empty text.
    public var elements: [String] {
        switch self {
        case .list(let l): return l
        case .missing: return []
        case .str(let s): return s.isEmpty ? [] : [s]
        default: return text.map { [$0] } ?? []
        }
    }

    /// Whether the value has at least one non-empty element (no allocation).
    @inline(__always) public var hasElements: Bool {
        switch self {
        case .missing: return false
        case .str(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        default: return true
        }
    }

    /// Whether any element satisfies `f` (no allocation for scalars).
    @inline(__always) public func anyElement(_ f: (String) -> Bool) -> Bool {
        switch self {
        case .missing: return false
        case .str(let s): return !s.isEmpty && f(s)
        case .list(let l): return l.contains(where: f)
        default: return text.map(f) ?? false
        }
    }

    /// Number of elements (no allocation).
    @inline(__always) public var elementCount: Int {
        switch self {
        case .missing: return 0
        case .str(let s): return s.isEmpty ? 0 : 1
        case .list(let l): return l.count
        default: return 1
        }
    }

    public static func format(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { return String(Int64(d)) }
        return String(d)
    }
}
