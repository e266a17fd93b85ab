import OspreyCore
import OspreyParsing
#if canImport(Glibc)
import Glibc
#endif

/// The rule language's functions (docs/rules.md): arity and argument checks at load, then one closure per call.
extension ExpressionCompiler {
    // MARK: functions

    func arity(_ name: String, _ args: [ExprNode], _ pos: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(args.count) else {
            let want = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)"
            throw error(pos, "\(name)() takes \(want) argument\(range.upperBound == 1 ? "" : "s"), got \(args.count)")
        }
    }

    func literalArg(_ name: String, _ args: [ExprNode], _ i: Int, what: String) throws -> String {
        guard let s = args[i].stringLiteral else { throw error(args[i].pos, "\(name)(): the \(what) must be a string literal") }
        return s
    }

    func model(_ name: String, _ args: [ExprNode], _ pos: Int) throws -> Int {
        let id = try literalArg(name, args, 0, what: "model id")
        guard let idx = env.modelIndex[id] else { throw error(args[0].pos, "\(name)(): unknown model '\(id)'") }
        return idx
    }

    /// Element-wise string function: lists map element by element, missing stays missing.
    func mapText(_ x: @escaping Eval, _ f: @escaping (String) -> String?) -> Eval {
        return { ctx in
            switch x(ctx) {
            case .missing: return .missing
            case .list(let l):
                let out = l.compactMap(f)
                return out.isEmpty ? .missing : .list(out)
            case let v:
                guard let t = v.text, let r = f(t) else { return .missing }
                return .str(r)
            }
        }
    }

    /// Pure text functions whose result depends only on the event: evaluated once per event and call text.
    static let memoizable: Set<String> = [
        "lower", "upper", "domain", "localpart", "tld", "tld_country", "ext", "subject_key", "ua_family",
        "name_match", "extract", "coalesce", "concat",
    ]

    mutating func call(_ name: String, _ args: [ExprNode], _ pos: Int) throws -> Eval {
        if ExpressionCompiler.memoizable.contains(name) {
            let before = (usesAggregates, usesModels)
            usesAggregates = false; usesModels = false
            let e = try callUncached(name, args, pos)
            let pure = !usesAggregates
            usesAggregates = usesAggregates || before.0
            usesModels = usesModels || before.1
            guard pure else { return e }
            let text = name + "(" + args.map(\.description).joined(separator: ", ") + ")"
            return memoized(env.slot(expression: "call:" + text), e)
        }
        return try callUncached(name, args, pos)
    }

    mutating func callUncached(_ name: String, _ args: [ExprNode], _ pos: Int) throws -> Eval {
        switch name {
        // --- text and domain helpers
        case "lower", "upper":
            try arity(name, args, pos, 1...1)
            let up = name == "upper"
            return mapText(try compile(args[0])) { up ? $0.uppercased() : $0.asciiLowercased }
        case "domain":
            try arity(name, args, pos, 1...1)
            return mapText(try compile(args[0]), TextHelpers.domain)
        case "localpart":
            try arity(name, args, pos, 1...1)
            return mapText(try compile(args[0]), TextHelpers.localPart)
        case "tld":
            try arity(name, args, pos, 1...1)
            return mapText(try compile(args[0])) { TextHelpers.tld($0) }
        case "tld_country":
            try arity(name, args, pos, 1...1)
            // Countries.country(ofDomain:) with the organization's generic ccTLDs: the rule of dest_country.
            let x = try compile(args[0])
            return { ctx in
                let generic = ctx.state.provider.genericCcTLDs
                func country(_ s: String) -> String? {
                    TextHelpers.domain(s).flatMap { Countries.country(ofDomain: $0, generic: generic) }
                }
                switch x(ctx) {
                case .missing: return .missing
                case .list(let l):
                    let out = l.compactMap(country)
                    return out.isEmpty ? .missing : .list(out)
                case let v:
                    guard let t = v.text, let r = country(t) else { return .missing }
                    return .str(r)
                }
            }
        case "ext":
            try arity(name, args, pos, 1...1)
            return mapText(try compile(args[0]), FileNames.fileExtension)
        case "subject_key":
            try arity(name, args, pos, 1...1)
            return mapText(try compile(args[0])) { let k = TextHelpers.subjectKey($0); return k.isEmpty ? nil : k }
        case "is_reply_or_forward":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            return { ctx in .bool(x(ctx).anyElement(TextHelpers.hasReplyPrefix)) }
        case "ua_family":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            // User agents repeat: cache the family per string (per engine, bounded).
            return { ctx in
                switch x(ctx) {
                case .str(let s) where !s.isEmpty:
                    if let f = ctx.uaFamilies[s] { return .str(f) }
                    let f = TextHelpers.uaFamily(s)
                    if ctx.uaFamilies.count >= 20_000 { ctx.uaFamilies.removeAll(keepingCapacity: true) }
                    ctx.uaFamilies[s] = f
                    return .str(f)
                case .list(let l):
                    let out = l.filter { !$0.isEmpty }.map(TextHelpers.uaFamily)
                    return out.isEmpty ? .missing : .list(out)
                default:
                    return .missing
                }
            }
        case "name_match":
            try arity(name, args, pos, 2...2)
            let x = try compile(args[0]), y = try compile(args[1])
            return { ctx in
                let l = x(ctx).elements, r = y(ctx).elements
                return .bool(l.contains { a in r.contains { b in PersonNames.sameName(a, b) } })
            }
        case "len":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            return { ctx in
                switch x(ctx) {
                case .missing: return .num(0)
                case .list(let l): return .num(Double(l.count))
                case let v: return .num(Double(v.text?.count ?? 0))
                }
            }
        case "count":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            return { ctx in .num(Double(x(ctx).elementCount)) }
        case "exists":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            return { ctx in .bool(x(ctx).hasElements) }
        case "first":
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            return { ctx in x(ctx).elements.first.map(ExprValue.str) ?? .missing }
        case "coalesce":
            guard !args.isEmpty else { throw error(pos, "coalesce() needs at least one argument") }
            let xs = try args.map { try compile($0) }
            return { ctx in
                for x in xs {
                    let v = x(ctx)
                    if v.hasElements { return v }
                }
                return .missing
            }
        case "concat":
            guard !args.isEmpty else { throw error(pos, "concat() needs at least one argument") }
            let xs = try args.map { try compile($0) }
            return { ctx in
                var s = ""
                var any = false
                for x in xs { if let t = x(ctx).text { s += t; any = true } }
                return any ? .str(s) : .missing
            }
        case "min", "max":
            try arity(name, args, pos, 2...8)
            let xs = try args.map { try compile($0) }
            let isMin = name == "min"
            return { ctx in
                let ns = xs.compactMap { $0(ctx).number }
                guard let r = isMin ? ns.min() : ns.max() else { return .missing }
                return .num(r)
            }
        case "round", "floor":
            try arity(name, args, pos, 1...2)
            let x = try compile(args[0])
            var digits = 0.0
            if args.count == 2 {
                guard case .literal(.num(let d)) = args[1].kind, d >= 0, d <= 6 else { throw error(args[1].pos, "\(name)(): digits must be a number literal 0…6") }
                digits = d
            }
            let scale = pow(10, digits)
            let down = name == "floor"
            return { ctx in
                guard let v = x(ctx).number else { return .missing }
                return .num(down ? (v * scale).rounded(.down) / scale : (v * scale).rounded() / scale)
            }
        case "extract":
            try arity(name, args, pos, 2...2)
            let pattern = try literalArg(name, args, 1, what: "regex")
            let x = try compile(args[0])
            let m = try regexMatcher(pattern, args[1].pos)
            return { ctx in
                for s in x(ctx).elements { if let r = m(s), !r.isEmpty { return .str(r) } }
                return .missing
            }
        case "matches_any":
            // matches_any("regex", a, b, …): the first of the values the pattern matches, recorded.
            try arity(name, args, pos, 2...16)
            let pattern = try literalArg(name, args, 0, what: "regex")
            let m = try regexMatcher(pattern, args[0].pos)
            let xs = try args.dropFirst().map { try compile($0) }
            let labels = args.dropFirst().map(\.description)
            return { ctx in
                for (i, x) in xs.enumerated() {
                    for s in x(ctx).elements {
                        if let t = m(s) {
                            ctx.record(EvidenceMatch(kind: "pattern", name: pattern, entry: t, input: labels[i]))
                            return .bool(true)
                        }
                    }
                }
                return .bool(false)
            }
        case "event_matches":
            // event_matches("regex"): any text field of the event, in field order.
            try arity(name, args, pos, 1...1)
            let pattern = try literalArg(name, args, 0, what: "regex")
            let m = try regexMatcher(pattern, args[0].pos)
            return { ctx in
                let e = ctx.event
                for i in 0..<e.fieldCount {
                    let (f, v) = e.field(at: i)
                    switch v {
                    case .string(let s):
                        if let t = m(s) { ctx.record(EvidenceMatch(kind: "pattern", name: pattern, entry: t, input: f.name)); return .bool(true) }
                    case .list(let l):
                        for s in l { if let t = m(s) { ctx.record(EvidenceMatch(kind: "pattern", name: pattern, entry: t, input: f.name)); return .bool(true) } }
                    default: break
                    }
                }
                return .bool(false)
            }
        case "hour_of_week":
            try arity(name, args, pos, 0...0)
            return { ctx in .num(Double(UTCTime.hourOfWeek(ctx.event.timeMillis))) }

        // --- lists and context
        case "in_list", "has_keyword":
            try arity(name, args, pos, 2...2)
            let list = try literalArg(name, args, 0, what: "list name")
            guard env.listKnown(list) else {
                throw error(args[0].pos, "\(name)(): unknown list '\(list)' (define it with [list \(list)] or use a provider list: \(CompileEnvironment.providerLists.sorted().joined(separator: ", ")))")
            }
            let content = env.contentLists[list]
            let x = try compile(args[1])
            let label = args[1].description
            let kind = content?.mode == .keyword || name == "has_keyword" ? "keyword" : "list"
            return { ctx in
                let provider = ctx.state.provider
                let useProvider = provider.hasList(list)
                let found = x(ctx).anyElement { s in
                    let hit = useProvider ? provider.match(list: list, value: s) : content?.match(s)
                    guard let entry = hit else { return false }
                    ctx.record(EvidenceMatch(kind: kind, name: list, entry: entry, input: label))
                    return true
                }
                return .bool(found)
            }
        case "attr":
            try arity(name, args, pos, 2...2)
            let attribute = try literalArg(name, args, 0, what: "attribute name")
            let x = try compile(args[1])
            return { ctx in
                guard let entity = x(ctx).text, !entity.isEmpty,
                      let v = ctx.state.provider.attribute(attribute, of: entity, at: ctx.event.timeMillis) else { return .missing }
                ctx.record(EvidenceMatch(kind: "attribute", name: attribute, entry: v, input: entity))
                return .str(v)
            }
        case "external_count":
            // Addresses whose domain is not a company domain (provider list company_domains; without one,
            // not the user's own email_domain).
            try arity(name, args, pos, 1...1)
            let x = try compile(args[0])
            let emailDomain = Field.named("email_domain")
            return { ctx in
                let provider = ctx.state.provider
                let useList = provider.hasList("company_domains")
                let own = ctx.event.string(emailDomain)?.asciiLowercased
                var n = 0
                for a in x(ctx).elements {
                    guard let d = TextHelpers.domain(a) else { continue }
                    let company = useList ? provider.match(list: "company_domains", value: d) != nil : d == own
                    if !company { n += 1 }
                }
                return .num(Double(n))
            }

        // --- models (read the model's histogram for this event's scope key and value)
        case "converged", "observations", "distinct":
            try arity(name, args, pos, 1...1)
            usesModels = true
            let m = try model(name, args, pos)
            let which = name
            return { ctx in
                let st = ctx.state.scopeStats(model: m, ctx)
                switch which {
                case "converged": return .bool(st.converged)
                case "observations": return .num(Double(st.observations))
                default: return .num(Double(st.distinct))
                }
            }
        case "model_count":
            try arity(name, args, pos, 1...1)
            usesModels = true
            let m = try model(name, args, pos)
            return { ctx in .num(Double(ctx.state.valueCount(model: m, ctx))) }

        // --- user history and session
        case "is_new_user":
            try arity(name, args, pos, 0...0)
            return { ctx in .bool(ctx.session?.previousActivity == nil) }
        case "dormant_days":
            try arity(name, args, pos, 0...0)
            return { ctx in
                guard let s = ctx.session, let prev = s.previousActivity else { return .missing }
                return .num(Double(s.start - prev) / 86_400_000)
            }
        case "travel_kmh", "travel_km", "travel_minutes", "travel_from":
            // The move from the person's previous geolocated activity (docs/analytics.md, "Travel speed").
            try arity(name, args, pos, 0...0)
            guard env.geo != nil, env.macros["travel_fix"] != nil else {
                throw error(pos, "\(name)() needs a [geo countries] table and a travel_fix macro (which events place a person)")
            }
            usesTravel = true
            let which = name
            return { ctx in
                guard let leg = ctx.travelLeg() else { return .missing }
                switch which {
                case "travel_kmh": return .num(leg.kmh)
                case "travel_km": return .num(leg.km)
                case "travel_minutes": return .num(leg.minutes)
                default: return .str(leg.fromCountry)
                }
            }
        case "session_events":
            try arity(name, args, pos, 0...0)
            return { ctx in .num(Double(ctx.session?.events ?? 0)) }
        case "session_count", "session_sum", "session_distinct", "session_count_by", "session_max":
            return try aggregate(name, args, pos)

        default:
            if let macro = env.macros[name] {
                try arity(name, args, pos, 0...0)
                guard !macroStack.contains(name) else { throw error(pos, "macro \(name)() refers to itself") }
                var inner = ExpressionCompiler(env: env, location: macro.location, typeMask: typeMask)
                inner.macroStack = macroStack + [name]
                let e = try inner.compile(macro.node)
                usesModels = usesModels || inner.usesModels
                usesAggregates = usesAggregates || inner.usesAggregates
                usesTravel = usesTravel || inner.usesTravel
                // Pure per event unless it reads session aggregates (whose slots depend on the owner).
                return inner.usesAggregates ? e : memoized(env.slot(macro: name), e)
            }
            throw error(pos, "unknown function '\(name)()'")
        }
    }

    mutating func aggregate(_ name: String, _ args: [ExprNode], _ pos: Int) throws -> Eval {
        usesAggregates = true
        let kind: AggregateSpec.Kind
        var arg: Eval? = nil
        var filter: Eval? = nil
        switch name {
        case "session_count":
            try arity(name, args, pos, 0...1)
            kind = .count
            if args.count == 1 { filter = try compile(args[0]) }
        default:
            try arity(name, args, pos, 1...2)
            kind = name == "session_sum" ? .sum : name == "session_distinct" ? .distinct : name == "session_max" ? .max : .countBy
            arg = try compile(args[0])
            if args.count == 2 { filter = try compile(args[1]) }
        }
        let canonical = "\(typeMask):\(name)(" + args.map(\.description).joined(separator: ",") + ")"
        let slot: Int
        if let s = env.aggregateSlots[canonical] {
            slot = s
        } else {
            slot = env.aggregates.count
            env.aggregates.append(AggregateSpec(kind: kind, arg: arg, filter: filter, typeMask: typeMask, canonical: canonical, slot: slot))
            env.aggregateSlots[canonical] = slot
        }
        let label = name + "(" + args.map(\.description).joined(separator: ", ") + ")"
        switch kind {
        case .countBy:
            let key = arg!
            return { ctx in
                guard let s = ctx.session, case .countBy(let m)? = s.aggregate(slot) else { return .num(0) }
                guard let k = key(ctx).text else { return .num(0) }
                let n = m[k] ?? 0
                ctx.record(EvidenceMatch(kind: "aggregate", name: label, entry: String(n), input: k))
                return .num(Double(n))
            }
        default:
            return { ctx in
                guard let s = ctx.session, let a = s.aggregate(slot) else { return .num(0) }
                ctx.record(EvidenceMatch(kind: "aggregate", name: label, entry: a.evidenceText, input: "session"))
                return .num(a.value)
            }
        }
    }
}
