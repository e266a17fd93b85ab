import OspreyCore

/// Syntax tree of a condition expression. Positions are character offsets into the source text, turned
/// into file:line:column by the compiler.
public final class ExprNode: CustomStringConvertible {
    public indirect enum Kind {
        case literal(ExprValue)
        case identifier(String)
        case list([ExprNode])
        case unary(String, ExprNode)
        case binary(String, ExprNode, ExprNode)
        case call(String, [ExprNode])
    }
    public let kind: Kind
    public let pos: Int
    init(_ kind: Kind, _ pos: Int) { self.kind = kind; self.pos = pos }

    public var description: String {
        switch kind {
        case .literal(let v):
            if case .str(let s) = v { return "\"\(s)\"" }
            return v.text ?? "null"
        case .identifier(let n): return n
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .unary(let op, let a): return "(\(op) \(a))"
        case .binary(let op, let a, let b): return "(\(a) \(op) \(b))"
        case .call(let f, let args): return "\(f)(" + args.map(\.description).joined(separator: ", ") + ")"
        }
    }

    /// The literal string, if this node is one (regexes, list names and model ids must be literals).
    public var stringLiteral: String? {
        if case .literal(.str(let s)) = kind { return s }
        return nil
    }
}

public struct ExprSyntaxError: Error, Sendable {
    public var pos: Int
    public var message: String
}

enum Token: Equatable {
    case ident(String)
    case number(Double)
    case string(String)
    case punct(String)
    case end
}

struct Lexer {
    let chars: [Character]
    var i = 0
    init(_ text: String) { chars = Array(text) }

    mutating func all() throws -> [(Token, Int)] {
        var out: [(Token, Int)] = []
        while true {
            let t = try next()
            out.append(t)
            if t.0 == .end { return out }
        }
    }

    static let units: [String: Double] = [
        "B": 1, "KB": 1024, "MB": 1024 * 1024, "GB": 1024 * 1024 * 1024,
        "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
    ]

    mutating func next() throws -> (Token, Int) {
        while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
        guard i < chars.count else { return (.end, i) }
        let start = i
        let c = chars[i]
        if c.isLetter || c == "_" {
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
            return (.ident(String(chars[start..<i])), start)
        }
        if c.isNumber {
            while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "_" { i += 1 }
            let digits = String(chars[start..<i]).replacingUnderscores
            guard var value = Double(digits) else { throw ExprSyntaxError(pos: start, message: "bad number '\(digits)'") }
            // Optional unit suffix: 5MB, 10KB, 30d, 6h.
            var j = i
            while j < chars.count, chars[j].isLetter { j += 1 }
            if j > i {
                let unit = String(chars[i..<j])
                guard let scale = Lexer.units[unit] else {
                    throw ExprSyntaxError(pos: i, message: "unknown unit '\(unit)' (known: B, KB, MB, GB, s, m, h, d)")
                }
                value *= scale
                i = j
            }
            return (.number(value), start)
        }
        if c == "\"" || c == "'" {
            i += 1
            var s = ""
            while i < chars.count, chars[i] != c {
                if chars[i] == "\\", i + 1 < chars.count, chars[i + 1] == c || chars[i + 1] == "\\" {
                    s.append(chars[i + 1]); i += 2; continue
                }
                s.append(chars[i]); i += 1
            }
            guard i < chars.count else { throw ExprSyntaxError(pos: start, message: "unterminated string") }
            i += 1
            return (.string(s), start)
        }
        let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
        if ["==", "!=", "<=", ">=", "=~", "!~", "&&", "||"].contains(two) {
            i += 2
            return (.punct(two == "&&" ? "and" : two == "||" ? "or" : two), start)
        }
        if "()[],<>+-*/!".contains(c) {
            i += 1
            return (.punct(c == "!" ? "not" : String(c)), start)
        }
        throw ExprSyntaxError(pos: start, message: "unexpected character '\(c)'")
    }
}

extension String {
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
}

/// Recursive-descent parser. Precedence, loosest first: or, and, not, comparison (== != < <= > >= =~ !~
/// in, not in, contains, startsWith, endsWith, matches), + -, * /, unary minus, primary.
struct ExprParser {
    var tokens: [(Token, Int)]
    var p = 0
    let length: Int

    init(_ text: String) throws {
        var lexer = Lexer(text)
        tokens = try lexer.all()
        length = text.count
    }

    static func parse(_ text: String) throws -> ExprNode {
        var parser = try ExprParser(text)
        if parser.peek == .end { throw ExprSyntaxError(pos: 0, message: "empty expression") }
        let node = try parser.orExpr()
        guard parser.peek == .end else {
            throw ExprSyntaxError(pos: parser.pos, message: "unexpected \(parser.describe(parser.peek)) after a complete expression")
        }
        return node
    }

    var peek: Token { tokens[p].0 }
    var pos: Int { tokens[p].1 }

    func describe(_ t: Token) -> String {
        switch t {
        case .ident(let s): return "'\(s)'"
        case .number(let d): return "number \(ExprValue.format(d))"
        case .string(let s): return "string \"\(s)\""
        case .punct(let s): return "'\(s)'"
        case .end: return "end of expression"
        }
    }

    mutating func advance() -> (Token, Int) { let t = tokens[p]; if p < tokens.count - 1 { p += 1 }; return t }

    func isKeyword(_ k: String) -> Bool { if case .ident(let s) = peek, s == k { return true }; return false }
    func isPunct(_ k: String) -> Bool { if case .punct(let s) = peek, s == k { return true }; return false }

    mutating func expectPunct(_ k: String) throws {
        guard isPunct(k) else { throw ExprSyntaxError(pos: pos, message: "expected '\(k)', found \(describe(peek))") }
        _ = advance()
    }

    mutating func orExpr() throws -> ExprNode {
        var left = try andExpr()
        while isKeyword("or") || isPunct("or") {
            let at = advance().1
            left = ExprNode(.binary("or", left, try andExpr()), at)
        }
        return left
    }

    mutating func andExpr() throws -> ExprNode {
        var left = try notExpr()
        while isKeyword("and") || isPunct("and") {
            let at = advance().1
            left = ExprNode(.binary("and", left, try notExpr()), at)
        }
        return left
    }

    mutating func notExpr() throws -> ExprNode {
        if isKeyword("not") || isPunct("not") {
            let at = advance().1
            return ExprNode(.unary("not", try notExpr()), at)
        }
        return try comparison()
    }

    static let comparisonWords: Set<String> = ["in", "contains", "startsWith", "endsWith", "matches"]

    mutating func comparison() throws -> ExprNode {
        let left = try additive()
        if case .punct(let op) = peek, ["==", "!=", "<", "<=", ">", ">=", "=~", "!~"].contains(op) {
            let at = advance().1
            return ExprNode(.binary(op, left, try additive()), at)
        }
        if case .ident(let word) = peek {
            if ExprParser.comparisonWords.contains(word) {
                let at = advance().1
                return ExprNode(.binary(word, left, try additive()), at)
            }
            if word == "not", p + 1 < tokens.count, case .ident(let w2) = tokens[p + 1].0, ExprParser.comparisonWords.contains(w2) {
                let at = advance().1
                _ = advance()
                return ExprNode(.unary("not", ExprNode(.binary(w2, left, try additive()), at)), at)
            }
        }
        return left
    }

    mutating func additive() throws -> ExprNode {
        var left = try multiplicative()
        while case .punct(let op) = peek, op == "+" || op == "-" {
            let at = advance().1
            left = ExprNode(.binary(op, left, try multiplicative()), at)
        }
        return left
    }

    mutating func multiplicative() throws -> ExprNode {
        var left = try unary()
        while case .punct(let op) = peek, op == "*" || op == "/" {
            let at = advance().1
            left = ExprNode(.binary(op, left, try unary()), at)
        }
        return left
    }

    mutating func unary() throws -> ExprNode {
        if isPunct("-") {
            let at = advance().1
            return ExprNode(.unary("-", try unary()), at)
        }
        return try primary()
    }

    mutating func primary() throws -> ExprNode {
        let (tok, at) = advance()
        switch tok {
        case .number(let d): return ExprNode(.literal(.num(d)), at)
        case .string(let s): return ExprNode(.literal(.str(s)), at)
        case .ident(let name):
            switch name {
            case "true": return ExprNode(.literal(.bool(true)), at)
            case "false": return ExprNode(.literal(.bool(false)), at)
            case "null", "missing": return ExprNode(.literal(.missing), at)
            case "and", "or", "in", "contains", "startsWith", "endsWith", "matches":
                throw ExprSyntaxError(pos: at, message: "expected a value, found keyword '\(name)'")
            default: break
            }
            if isPunct("(") {
                _ = advance()
                var args: [ExprNode] = []
                if !isPunct(")") {
                    args.append(try orExpr())
                    while isPunct(",") { _ = advance(); args.append(try orExpr()) }
                }
                try expectPunct(")")
                return ExprNode(.call(name, args), at)
            }
            return ExprNode(.identifier(name), at)
        case .punct("("):
            let inner = try orExpr()
            try expectPunct(")")
            return inner
        case .punct("["):
            var items: [ExprNode] = []
            if !isPunct("]") {
                items.append(try orExpr())
                while isPunct(",") { _ = advance(); items.append(try orExpr()) }
            }
            try expectPunct("]")
            return ExprNode(.list(items), at)
        default:
            throw ExprSyntaxError(pos: at, message: "expected a value, found \(describe(tok))")
        }
    }
}
