import OspreyCore
import OspreyParsing
#if canImport(Glibc)
import Glibc
#endif

/// Where an expression came from, to point errors at file:line:column.
public struct SourceLocation: Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) { self.file = file; self.line = line; self.column = column }
}

/// A session aggregate (`session_sum`, `session_distinct`, …) found in an expression. Each gets a slot in
/// every session; the engine updates all aggregates of an event's activity type before rules run, so the
/// value a condition reads already includes the current event and is not affected by short-circuiting.
final class AggregateSpec {
    enum Kind: String { case count, sum, distinct, countBy = "count_by", max }
    let kind: Kind
    let arg: Eval?
    let filter: Eval?
    let typeMask: UInt8
    let canonical: String
    let slot: Int
    init(kind: Kind, arg: Eval?, filter: Eval?, typeMask: UInt8, canonical: String, slot: Int) {
        self.kind = kind; self.arg = arg; self.filter = filter; self.typeMask = typeMask
        self.canonical = canonical; self.slot = slot
    }
}

/// Definitions an expression may refer to, shared by all compilations of one content set.
final class CompileEnvironment {
    var modelIndex: [String: Int] = [:]
    var modelKinds: [String: ModelKind] = [:]
    var macros: [String: (node: ExprNode, text: String, location: SourceLocation)] = [:]
    var contentLists: [String: MatchList] = [:]
    /// `[geo countries]`: country positions for travel speed.
    var geo: GeoTable? = nil
    var attack = AttackTable()
    /// Names of lists a context provider is expected to supply (documented in content-format.md): the
    /// lists the organization's context serves.
    static var providerLists: Set<String> { ContextLists.nameSet }
    /// The field catalog's names plus those of `[fields]` sections.
    var knownFields: Set<String>
    let catalog: FieldCatalog
    var aggregates: [AggregateSpec] = []
    var aggregateSlots: [String: Int] = [:]
    var regexCache: [String: PCRE2Regex] = [:]
    /// Per-event memo slots: one per macro, one per distinct model scope/feature text.
    var slotCount = 0
    var macroSlots: [String: Int] = [:]
    var exprSlots: [String: Int] = [:]

    func slot(macro name: String) -> Int {
        if let s = macroSlots[name] { return s }
        slotCount += 1
        macroSlots[name] = slotCount - 1
        return slotCount - 1
    }

    func slot(expression text: String) -> Int {
        if let s = exprSlots[text] { return s }
        slotCount += 1
        exprSlots[text] = slotCount - 1
        return slotCount - 1
    }

    init(catalog: FieldCatalog) {
        self.catalog = catalog
        knownFields = Set(catalog.names)
    }

    func listKnown(_ name: String) -> Bool {
        contentLists[name] != nil || CompileEnvironment.providerLists.contains(name)
    }
}

/// Compiles one expression to a closure. Errors carry file, line and column.
struct ExpressionCompiler {
    let env: CompileEnvironment
    let location: SourceLocation
    /// Activity types of the rule or model that owns the expression (for session aggregates).
    let typeMask: UInt8
    /// Set when the expression reads a model (converged, observations, model_count…).
    var usesModels = false
    var usesAggregates = false
    /// The expression reads the travel leg (travel_kmh() …): its rule's evidence shows the leg.
    var usesTravel = false
    var macroStack: [String] = []

    init(env: CompileEnvironment, location: SourceLocation, typeMask: UInt8) {
        self.env = env; self.location = location; self.typeMask = typeMask
    }

    func error(_ pos: Int, _ message: String) -> ContentError {
        ContentError(file: location.file, line: location.line, column: location.column + pos, reason: message)
    }

    mutating func compile(_ text: String) throws -> Eval {
        let node: ExprNode
        do { node = try ExprParser.parse(text) } catch let e as ExprSyntaxError { throw error(e.pos, e.message) }
        return try compile(node)
    }

    // MARK: nodes

    mutating func compile(_ n: ExprNode) throws -> Eval {
        switch n.kind {
        case .literal(let v):
            return { _ in v }
        case .identifier(let name):
            return try identifier(name, n.pos)
        case .list(let items):
            var literal: [String] = []
            var allLiteral = true
            for i in items {
                if case .literal(let v) = i.kind, let t = v.text { literal.append(t) } else { allLiteral = false }
            }
            if allLiteral { let l = ExprValue.list(literal); return { _ in l } }
            let evals = try items.map { try compile($0) }
            return { ctx in .list(evals.flatMap { $0(ctx).elements }) }
        case .unary(let op, let a):
            let x = try compile(a)
            if op == "not" {
                return { ctx in
                    let mark = ctx.matches.count
                    let r = x(ctx).truthy
                    if ctx.matches.count > mark { ctx.matches.removeSubrange(mark...) }
                    return .bool(!r)
                }
            }
            return { ctx in x(ctx).number.map { .num(-$0) } ?? .missing }
        case .binary(let op, let a, let b):
            return try binary(op, a, b, n.pos)
        case .call(let name, let args):
            return try call(name, args, n.pos)
        }
    }

    static let activityTypeField = "activity_type"

    mutating func identifier(_ name: String, _ pos: Int) throws -> Eval {
        switch name {
        case "activity_type":
            return { ctx in .str(ctx.event.activityType.rawValue) }
        case "parser":
            return { ctx in .str(ctx.event.parser) }
        case "time":
            return { ctx in .num(Double(ctx.event.timeMillis)) }
        case "org", "organization":
            return { _ in .str("organization") }
        default:
            guard env.knownFields.contains(name) else {
                throw error(pos, "unknown field '\(name)' (\(env.catalog.file) lists the field names; declare others with [fields NAME] names = …)")
            }
            let f = Field.named(name)
            return { ctx in
                guard let v = ctx.event[f] else { return .missing }
                return ExprValue(v)
            }
        }
    }

    // MARK: operators

    mutating func binary(_ op: String, _ a: ExprNode, _ b: ExprNode, _ pos: Int) throws -> Eval {
        switch op {
        case "and":
            let x = try compile(a), y = try compile(b)
            return { ctx in .bool(x(ctx).truthy && y(ctx).truthy) }
        case "or":
            let x = try compile(a), y = try compile(b)
            return { ctx in .bool(x(ctx).truthy || y(ctx).truthy) }
        case "==", "!=":
            let x = try compile(a), y = try compile(b)
            let negate = op == "!="
            if case .literal(let lit) = b.kind, let t = lit.text, lit.number == nil {
                let lower = t.asciiLowercased
                return { ctx in
                    let v = x(ctx)
                    if v.isMissing { return .bool(false) }
                    let any = v.anyElement { ASCII.equalsIgnoringCase($0, lowered: lower) }
                    return .bool(negate ? !any : any)
                }
            }
            return { ctx in
                let l = x(ctx), r = y(ctx)
                if l.isMissing || r.isMissing { return .bool(false) }
                let eq = ExpressionCompiler.equal(l, r)
                return .bool(negate ? !eq : eq)
            }
        case "<", "<=", ">", ">=":
            let x = try compile(a), y = try compile(b)
            let cmp: (Double, Double) -> Bool
            switch op {
            case "<": cmp = (<)
            case "<=": cmp = (<=)
            case ">": cmp = (>)
            default: cmp = (>=)
            }
            return { ctx in
                guard let l = x(ctx).number, let r = y(ctx).number else { return .bool(false) }
                return .bool(cmp(l, r))
            }
        case "in":
            let x = try compile(a)
            if case .list(let items) = b.kind, items.allSatisfy({ if case .literal = $0.kind { return true }; return false }) {
                let set = Set(items.compactMap { node -> String? in
                    if case .literal(let v) = node.kind { return v.text?.asciiLowercased }
                    return nil
                })
                return { ctx in .bool(x(ctx).anyElement { set.contains($0.asciiLowercased) }) }
            }
            let y = try compile(b)
            return { ctx in
                let r = Set(y(ctx).elements.map(\.asciiLowercased))
                return .bool(x(ctx).anyElement { r.contains($0.asciiLowercased) })
            }
        case "contains", "startsWith", "endsWith":
            let x = try compile(a), y = try compile(b)
            let test: (String, String) -> Bool
            switch op {
            case "contains": test = { ASCII.containsIgnoringCase($0, lowered: $1.asciiLowercased) }
            case "startsWith": test = ASCII.hasPrefixIgnoringCase
            default: test = ASCII.hasSuffixIgnoringCase
            }
            return { ctx in
                let needles = y(ctx).elements
                if needles.isEmpty { return .bool(false) }
                return .bool(x(ctx).anyElement { hay in needles.contains { test(hay, $0) } })
            }
        case "=~", "!~", "matches":
            guard let pattern = b.stringLiteral else { throw error(b.pos, "a regex must be a string literal") }
            let x = try compile(a)
            let m = try regexMatcher(pattern, b.pos)
            let negate = op == "!~"
            let label = a.description
            return { ctx in
                var hit = false
                for s in x(ctx).elements {
                    if let text = m(s) {
                        if !negate { ctx.record(EvidenceMatch(kind: "pattern", name: pattern, entry: text, input: label)) }
                        hit = true
                        break
                    }
                }
                return .bool(negate ? !hit : hit)
            }
        case "+":
            let x = try compile(a), y = try compile(b)
            return { ctx in
                let l = x(ctx), r = y(ctx)
                if l.isMissing || r.isMissing { return .missing }
                if case .num(let p) = l, case .num(let q) = r { return .num(p + q) }
                return .str((l.text ?? "") + (r.text ?? ""))
            }
        case "-", "*", "/":
            let x = try compile(a), y = try compile(b)
            let f: (Double, Double) -> Double? = op == "-" ? { $0 - $1 } : op == "*" ? { $0 * $1 } : { $1 == 0 ? nil : $0 / $1 }
            return { ctx in
                guard let l = x(ctx).number, let r = y(ctx).number, let v = f(l, r) else { return .missing }
                return .num(v)
            }
        default:
            throw error(pos, "unknown operator '\(op)'")
        }
    }

    static func equal(_ l: ExprValue, _ r: ExprValue) -> Bool {
        if let p = l.number, let q = r.number, !(l.isText && r.isText) { return p == q }
        let rs = Set(r.elements.map(\.asciiLowercased))
        return l.elements.contains { rs.contains($0.asciiLowercased) }
    }

    /// A compiled PCRE2 matcher returning the matched text (group `v` when the pattern names one).
    func regexMatcher(_ pattern: String, _ pos: Int) throws -> (String) -> String? {
        let regex: PCRE2Regex
        if let r = env.regexCache[pattern] {
            regex = r
        } else {
            do { regex = try PCRE2Regex("(?<__m>" + pattern + ")") } catch let e as PCRE2Regex.CompileError {
                throw error(pos, "bad regex: \(e.message) (at offset \(max(0, e.offset - 6)) of the pattern)")
            }
            env.regexCache[pattern] = regex
        }
        return { s in
            var text = s
            return text.withUTF8 { buf -> String? in
                let raw = UnsafeRawBufferPointer(buf)
                var whole: Range<Int>? = nil
                var named: Range<Int>? = nil
                let ok = regex.match(raw) { name, r in
                    if name == "__m" { whole = r } else if name == "v", named == nil { named = r }
                }
                guard ok else { return nil }
                guard let r = named ?? whole else { return "" }
                return String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self)
            }
        }
    }

}

extension ExprValue {
    var isText: Bool { if case .str = self { return true }; return false }
}

extension ActivityType {
    var bit: UInt8 { UInt8(1) << UInt8(index) }
    var index: Int {
        switch self {
        case .appLogin: return 0
        case .failedAppLogin: return 1
        case .appActivity: return 2
        case .emailOut: return 3
        case .emailOutFailed: return 4
        case .emailIn: return 5
        case .emailInFailed: return 6
        }
    }
    static func mask(_ types: [ActivityType]) -> UInt8 { types.reduce(0) { $0 | $1.bit } }
}
