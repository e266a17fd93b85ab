import OspreyCore

/// The compiled analytics content: models, rules, lists, macros. Immutable after load; engines share it.
public final class AnalyticsContent {
    public let models: [ModelDefinition]
    public let rules: [RuleDefinition]
    public let lists: [String: MatchList]
    /// The ATT&CK technique table the rules' techniques were resolved against (empty without Content/attack).
    public let attack: AttackTable
    /// Every field name rules may read: the field catalog's plus those of `[fields]` sections.
    public let knownFields: Set<String>
    /// The field catalog the rules were compiled against.
    public let fields: FieldCatalog
    /// Names `[fields]` sections declare beyond the catalog (fields no shipped stage writes).
    public let declaredFields: Set<String>
    let aggregates: [AggregateSpec]
    let families: [String]
    /// Indexed by activity type position in `ActivityType.allCases`.
    let rulesByType: [[Int]]
    let modelsByType: [[Int]]
    let sessionEndModels: [Int]
    let aggregatesByType: [[Int]]
    let modelIndex: [String: Int]
    let slotCount: Int
    /// `user_action()` when the content defines it: whether an event is the user's own action.
    let userAction: Eval?
    /// `[geo countries]` (country positions) and `travel_fix()`: which events place a person (travel speed).
    public let geo: GeoTable?
    let travelFix: Eval?

    public func model(_ id: String) -> ModelDefinition? { modelIndex[id].map { models[$0] } }
    public func rule(_ id: String) -> RuleDefinition? { rules.first { $0.id == id } }

    /// Loads `<root>/fields/fields.conf` (the field catalog), `<root>/attack/*.conf` (the ATT&CK technique
    /// table), `<root>/models/*.models` and `<root>/rules/*.rules` (any of the section kinds may appear in any
    /// of them; files load in name order).
    public static func load(directory root: String) throws -> AnalyticsContent {
        let fields = try FieldCatalog.load(contentDirectory: root)
        var sections: [ContentSection] = []
        for (sub, suffix) in [("attack", ".conf"), ("models", ".models"), ("rules", ".rules")] {
            for path in try ContentDirectory.files(in: root + "/" + sub, suffix: suffix) {
                let text = try ContentDirectory.read(path)
                sections += try ContentFile.parse(text, file: path)
            }
        }
        return try AnalyticsContent(sections: sections, fields: fields)
    }

    public static func load(texts: [(file: String, text: String)], fields: FieldCatalog) throws -> AnalyticsContent {
        var sections: [ContentSection] = []
        for (file, text) in texts { sections += try ContentFile.parse(text, file: file) }
        return try AnalyticsContent(sections: sections, fields: fields)
    }

    static let modelKeys: Set<String> = [
        "name", "description", "activity_types", "use_cases", "kind", "scope", "feature", "train_when", "train_at",
        "min_observations", "min_confidence", "aging_days", "smoothing_hours", "rationale",
    ]
    static let ruleKeys: Set<String> = [
        "name", "description", "activity_types", "mitre", "use_cases", "kind", "model", "condition", "score",
        "reason", "dedup", "family", "warmup", "require_converged", "threshold", "percentile", "factor",
        "evidence", "rationale", "session_cap",
    ]
    static let evidenceKeys: Set<String> = [
        "model", "scope", "key", "value", "count", "observations", "distinct", "confidence", "converged", "top",
        "mass", "threshold", "median", "p99", "max", "ratio", "hour", "probability", "entry", "list", "input",
        "pattern", "matches", "aggregate",
    ]

    public init(sections: [ContentSection], fields: FieldCatalog) throws {
        let env = CompileEnvironment(catalog: fields)
        var declared = Set<String>()

        // 1. Fields, lists and macros, so expressions can refer to them.
        for s in sections {
            switch s.kind {
            case "fields":
                try s.checkKeys(allowed: ["names", "description"])
                for e in s.all("names") {
                    for n in splitList(e.value) {
                        guard FieldCatalog.isFieldName(n) else { throw s.error(at: e.line, "'\(n)' is not a field name") }
                        env.knownFields.insert(n)
                        if !fields.contains(n) { declared.insert(n) }
                    }
                }
            case "list":
                try s.checkKeys(allowed: ["match", "entries", "description", "rationale"])
                guard env.contentLists[s.name] == nil else { throw s.error(at: s.line, "list '\(s.name)' defined twice") }
                let modeText = try s.optional("match")?.value ?? "exact"
                guard let mode = ListMatchMode(rawValue: modeText) else {
                    throw s.error(at: try s.optional("match")!.line, "unknown match mode '\(modeText)' (exact, domain, keyword, cidr)")
                }
                var entries: [String] = []
                for e in s.all("entries") {
                    for d in splitList(e.value) {
                        if mode == .domain, let problem = DomainSet.problem(with: d) { throw s.error(at: e.line, "list '\(s.name)': \(problem)") }
                        entries.append(d)
                    }
                }
                env.contentLists[s.name] = MatchList(name: s.name, mode: mode, entries: entries)
            case "macro":
                try s.checkKeys(allowed: ["expr", "description"])
                let e = try s.required("expr")
                let loc = SourceLocation(file: s.file, line: e.line, column: e.valueColumn)
                do {
                    let node = try ExprParser.parse(e.value)
                    guard env.macros[s.name] == nil else { throw s.error(at: s.line, "macro '\(s.name)' defined twice") }
                    env.macros[s.name] = (node, e.value, loc)
                } catch let err as ExprSyntaxError {
                    throw ContentError(file: s.file, line: e.line, column: e.valueColumn + err.pos, reason: err.message)
                }
            case "technique", "attack":
                try env.attack.add(s)
            case "geo":
                guard env.geo == nil else { throw s.error(at: s.line, "[geo countries] defined twice") }
                env.geo = try GeoTable.parse(s)
            case "model", "rule":
                break
            default:
                throw s.error(at: s.line, "unknown section kind '[\(s.kind) …]' (analytics content has model, rule, list, macro, fields, technique, attack, geo)")
            }
        }

        // 2. Model ids first (expressions may name any model), then compile models.
        let modelSections = sections.filter { $0.kind == "model" }
        for (i, s) in modelSections.enumerated() {
            guard env.modelIndex[s.name] == nil else { throw s.error(at: s.line, "model '\(s.name)' defined twice") }
            env.modelIndex[s.name] = i
            let kindText = try s.optional("kind")?.value ?? "categorical"
            guard let k = ModelKind(rawValue: kindText) else {
                throw s.error(at: try s.optional("kind")!.line, "unknown model kind '\(kindText)' (categorical, numeric, time-of-week)")
            }
            env.modelKinds[s.name] = k
        }
        var models: [ModelDefinition] = []
        for s in modelSections { models.append(try AnalyticsContent.compileModel(s, env)) }

        // 3. Rules.
        var rules: [RuleDefinition] = []
        var seen: Set<String> = []
        for s in sections where s.kind == "rule" {
            guard seen.insert(s.name).inserted else { throw s.error(at: s.line, "rule '\(s.name)' defined twice") }
            rules.append(try AnalyticsContent.compileRule(s, env, order: rules.count, models: models))
        }

        // Families.
        var families: [String] = []
        var familyIndex: [String: Int] = [:]
        for r in rules {
            if let i = familyIndex[r.family] { r.familyIndex = i } else {
                familyIndex[r.family] = families.count; r.familyIndex = families.count; families.append(r.family)
            }
        }
        // Model → rules links.
        for m in models { m.rules = rules.filter { $0.model == m.id }.map(\.id).sorted() }

        // The person's own actions (docs/analytics.md, "Activity"): the content's `user_action` macro decides
        // which events move a user's last-activity time (dormancy, new users); without it, every event does.
        if let m = env.macros["user_action"] {
            var c = ExpressionCompiler(env: env, location: m.location, typeMask: ActivityType.mask(ActivityType.allCases))
            self.userAction = try c.compile("user_action()")
        } else {
            self.userAction = nil
        }
        // Travel speed (docs/analytics.md, "Travel speed"): `travel_fix` decides which events place a person.
        if let m = env.macros["travel_fix"], env.geo != nil {
            var c = ExpressionCompiler(env: env, location: m.location, typeMask: ActivityType.mask(ActivityType.allCases))
            self.travelFix = try c.compile("travel_fix()")
        } else {
            self.travelFix = nil
        }
        self.geo = env.geo
        let types = ActivityType.allCases
        self.models = models
        self.rules = rules
        self.lists = env.contentLists
        self.attack = env.attack
        self.knownFields = env.knownFields
        self.fields = fields
        self.declaredFields = declared
        self.aggregates = env.aggregates
        self.families = families
        self.modelIndex = env.modelIndex
        self.slotCount = env.slotCount
        self.rulesByType = types.map { t in rules.indices.filter { rules[$0].typeMask & t.bit != 0 } }
        self.modelsByType = types.map { t in models.indices.filter { models[$0].typeMask & t.bit != 0 && models[$0].trainAt == .event } }
        self.sessionEndModels = models.indices.filter { models[$0].trainAt == .sessionEnd }
        self.aggregatesByType = types.map { t in env.aggregates.indices.filter { env.aggregates[$0].typeMask & t.bit != 0 } }
    }

    // MARK: helpers

    static func activityTypes(_ s: ContentSection) throws -> [ActivityType] {
        let e = try s.required("activity_types")
        var out: [ActivityType] = []
        for name in splitList(e.value) {
            guard let t = ActivityType(rawValue: name) else {
                throw s.error(at: e.line, column: e.valueColumn, "unknown activity type '\(name)' (one of: \(ActivityType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            out.append(t)
        }
        guard !out.isEmpty else { throw s.error(at: e.line, "activity_types is empty") }
        return out
    }

    static func number(_ s: ContentSection, _ key: String, default d: Double, range: ClosedRange<Double>) throws -> Double {
        guard let e = try s.optional(key) else { return d }
        guard let v = Double(e.value), range.contains(v) else {
            throw s.error(at: e.line, column: e.valueColumn, "\(key) must be a number in \(range.lowerBound)…\(range.upperBound), got '\(e.value)'")
        }
        return v
    }

    static func bool(_ s: ContentSection, _ key: String) throws -> Bool? {
        guard let e = try s.optional(key) else { return nil }
        switch e.value {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw s.error(at: e.line, column: e.valueColumn, "\(key) must be true or false, got '\(e.value)'")
        }
    }

    static func location(_ s: ContentSection, _ e: ContentEntry) -> SourceLocation {
        SourceLocation(file: s.file, line: e.line, column: e.valueColumn)
    }

    static func compileModel(_ s: ContentSection, _ env: CompileEnvironment) throws -> ModelDefinition {
        try s.checkKeys(allowed: modelKeys)
        let types = try activityTypes(s)
        let mask = ActivityType.mask(types)
        let kind = env.modelKinds[s.name]!
        let scopeEntry = try s.required("scope")
        var scopeCompiler = ExpressionCompiler(env: env, location: location(s, scopeEntry), typeMask: mask)
        var scope = try scopeCompiler.compile(scopeEntry.value)
        // Memo slots are keyed by text; expressions reading session aggregates also by their owner's types.
        let scopeSlot = env.slot(expression: scopeEntry.value + (scopeCompiler.usesAggregates ? "@\(mask)" : ""))
        scope = memoized(scopeSlot, scope)
        let trainAtText = try s.optional("train_at")?.value ?? "event"
        guard let trainAt = TrainAt(rawValue: trainAtText) else {
            throw s.error(at: try s.optional("train_at")!.line, "train_at must be event or session_end")
        }
        var featureText = "hour_of_week()"
        var feature: Eval = { ctx in .num(Double(UTCTime.hourOfWeek(ctx.event.timeMillis))) }
        var featureSlot = env.slot(expression: "hour_of_week()")
        if let fe = try s.optional("feature") {
            var c = ExpressionCompiler(env: env, location: location(s, fe), typeMask: mask)
            feature = try c.compile(fe.value)
            featureText = fe.value
            featureSlot = env.slot(expression: fe.value + (c.usesAggregates ? "@\(mask)" : ""))
            feature = memoized(featureSlot, feature)
        } else if kind != .timeOfWeek {
            throw s.error(at: s.line, "[model \(s.name)] has no 'feature'")
        }
        var trainWhen: Eval? = nil
        var trainWhenText: String? = nil
        if let tw = try s.optional("train_when") {
            var c = ExpressionCompiler(env: env, location: location(s, tw), typeMask: mask)
            trainWhen = try c.compile(tw.value)
            trainWhenText = tw.value
        }
        // Convergence defaults per model kind and scope (docs/analytics.md, "Convergence"): a per-user
        // model trains once per (value, session), and an ordinary person has about one session per active
        // day, so observations ≈ active days. Eight active days in the window make a usable per-user
        // categorical or numeric baseline (up to half of its observations may be distinct values); the
        // window is 40 days so that eight days of a person active twice a week stay inside it. Shared
        // scopes (peer group, organization, application…) collect many people's sessions: 10 / 0.8 / 32 days;
        // the 0.8 confidence bar (at most one distinct value in five) keeps one person's habits from defining
        // the group, and ten observations let an application only one or two administrators open converge.
        // Time-of-week models keep 20 / 0.6: 168 hourly bins need more than eight days to say "unusual hour".
        let perUser = scopeEntry.value == "user"
        let defaults: (Double, Double, Double)
        switch kind {
        case .timeOfWeek: defaults = (20, 0.6, perUser ? 40 : 32)
        case .categorical, .numeric: defaults = perUser ? (8, 0.5, 40) : (10, 0.8, 32)
        }
        return ModelDefinition(
            id: s.name, name: try s.required("name").value, description: try s.optional("description")?.value ?? "",
            activityTypes: types, useCases: splitList(try s.required("use_cases").value), kind: kind,
            scopeText: scopeEntry.value, featureText: featureText, trainWhenText: trainWhenText, trainAt: trainAt,
            minObservations: Int(try number(s, "min_observations", default: defaults.0, range: 1...1_000_000)),
            minConfidence: try number(s, "min_confidence", default: defaults.1, range: 0...1),
            agingDays: try number(s, "aging_days", default: defaults.2, range: 1...3650),
            smoothingHours: Int(try number(s, "smoothing_hours", default: 1, range: 0...12)),
            source: SourceLocation(file: s.file, line: s.line, column: 1),
            scope: scope, feature: feature, trainWhen: trainWhen, scopeSlot: scopeSlot, featureSlot: featureSlot)
    }

    static func parseMitre(_ s: ContentSection) throws -> [MitreTechnique] {
        let e = try s.required("mitre")
        var out: [MitreTechnique] = []
        for part in e.value.split(separator: ";") {
            let t = part.trimmingSpaces
            guard let sp = t.firstIndex(of: " ") else {
                throw s.error(at: e.line, column: e.valueColumn, "MITRE entry '\(t)' must be 'T#### Name'")
            }
            let id = String(t[..<sp])
            guard MitreTechnique.isValidID(id) else { throw s.error(at: e.line, column: e.valueColumn, "bad ATT&CK technique id '\(id)'") }
            let name = t[t.index(after: sp)...].trimmingSpaces
            out.append(MitreTechnique(id: id, name: name, writtenName: name))
        }
        guard !out.isEmpty else { throw s.error(at: e.line, "mitre is empty") }
        return out
    }

    static func compileRule(_ s: ContentSection, _ env: CompileEnvironment, order: Int, models: [ModelDefinition]) throws -> RuleDefinition {
        try s.checkKeys(allowed: ruleKeys)
        let types = try activityTypes(s)
        let mask = ActivityType.mask(types)
        let kindEntry = try s.required("kind")
        guard let kind = RuleKind(rawValue: kindEntry.value) else {
            throw s.error(at: kindEntry.line, column: kindEntry.valueColumn, "unknown rule kind '\(kindEntry.value)' (\(RuleKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var modelIdx: Int? = nil
        let modelEntry = try s.optional("model")
        if let me = modelEntry {
            guard let i = env.modelIndex[me.value] else {
                throw s.error(at: me.line, column: me.valueColumn, "unknown model '\(me.value)'")
            }
            modelIdx = i
        }
        if kind.usesModel {
            guard let i = modelIdx else { throw s.error(at: kindEntry.line, "a \(kind.rawValue) rule needs 'model'") }
            let mk = models[i].kind
            let ok: Bool
            switch kind {
            case .numeric: ok = mk == .numeric
            case .time: ok = mk == .timeOfWeek
            default: ok = mk == .categorical
            }
            guard ok else {
                throw s.error(at: kindEntry.line, column: kindEntry.valueColumn, "a \(kind.rawValue) rule cannot judge \(mk.rawValue) model \(models[i].id)")
            }
        }
        var usesModels = false
        var usesTravel = false
        var condition: Eval? = nil
        var conditionText: String? = nil
        if let ce = try s.optional("condition") {
            var c = ExpressionCompiler(env: env, location: location(s, ce), typeMask: mask)
            condition = try c.compile(ce.value)
            conditionText = ce.value
            usesModels = usesModels || c.usesModels
            usesTravel = c.usesTravel
        } else if !kind.usesModel {
            throw s.error(at: s.line, "a \(kind.rawValue) rule needs a 'condition'")
        }
        var dedup: Eval? = nil
        var dedupText: String? = nil
        if let de = try s.optional("dedup") {
            var c = ExpressionCompiler(env: env, location: location(s, de), typeMask: mask)
            dedup = try c.compile(de.value)
            dedupText = de.value
            usesModels = usesModels || c.usesModels
        }
        let scoreEntry = try s.required("score")
        guard let score = Int(scoreEntry.value), score >= 0, score <= 1000 else {
            throw s.error(at: scoreEntry.line, column: scoreEntry.valueColumn, "score must be an integer 0…1000")
        }
        let reasonEntry = try s.required("reason")
        let reason = try compileTemplate(reasonEntry, s, env, mask)
        let evidenceFields = try s.optional("evidence").map { e -> [String] in
            let names = splitList(e.value)
            for n in names where !env.knownFields.contains(n) {
                throw s.error(at: e.line, column: e.valueColumn, "unknown field '\(n)' in evidence")
            }
            return names
        } ?? []
        let sessionCap = try s.optional("session_cap").map { e -> Int in
            guard let v = Int(e.value), (0...1000).contains(v) else {
                throw s.error(at: e.line, column: e.valueColumn, "session_cap must be an integer 0…1000 (0: no cap), got '\(e.value)'")
            }
            return v
        }
        let defaultFamily = kind == .first || kind == .abnormal || kind == .rare ? (modelEntry?.value ?? s.name) : s.name
        let rule = RuleDefinition(
            id: s.name, name: try s.required("name").value, description: try s.optional("description")?.value ?? "",
            activityTypes: types, mitre: try env.attack.resolve(try parseMitre(s), in: s), useCases: splitList(try s.required("use_cases").value),
            kind: kind, model: modelEntry?.value, modelIndex: modelIdx, conditionText: conditionText,
            condition: condition, score: score, reasonTemplate: reasonEntry.value, reason: reason,
            dedupText: dedupText, dedup: dedup, family: try s.optional("family")?.value ?? defaultFamily,
            warmup: try bool(s, "warmup") ?? (kind.usesModel || usesModels),
            requireConverged: try bool(s, "require_converged") ?? kind.usesModel,
            threshold: try number(s, "threshold", default: kind == .time ? 0.05 : 0.1, range: 0...1),
            percentile: try number(s, "percentile", default: 0.99, range: 0.5...1),
            factor: try number(s, "factor", default: 3, range: 1...1000),
            evidenceFields: evidenceFields, source: SourceLocation(file: s.file, line: s.line, column: 1), order: order)
        rule.usesTravel = usesTravel
        rule.sessionCap = sessionCap
        return rule
    }

    /// `First activity from {value} for {key}` — `{name}` is an evidence key or an expression.
    static func compileTemplate(_ e: ContentEntry, _ s: ContentSection, _ env: CompileEnvironment, _ mask: UInt8) throws -> [TemplatePart] {
        var parts: [TemplatePart] = []
        let chars = Array(e.value)
        var i = 0
        var text = ""
        while i < chars.count {
            if chars[i] == "{" {
                guard let close = chars[i...].firstIndex(of: "}") else {
                    throw s.error(at: e.line, column: e.valueColumn + i, "unclosed '{' in reason")
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                let inner = String(chars[(i + 1)..<close]).trimmingSpaces
                if evidenceKeys.contains(inner) || inner.hasPrefix("matches:") {
                    parts.append(.evidence(inner))
                } else {
                    var c = ExpressionCompiler(env: env, location: SourceLocation(file: s.file, line: e.line, column: e.valueColumn + i + 1), typeMask: mask)
                    parts.append(.expression(try c.compile(inner)))
                }
                i = close + 1
            } else {
                text.append(chars[i]); i += 1
            }
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }
}
