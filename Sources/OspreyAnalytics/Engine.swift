import OspreyCore

public struct AnalyticsOptions: Sendable {
    /// A session ends after this much inactivity.
    public var sessionGapMillis: Int64 = 6 * 3_600_000
    /// … or when it is this long.
    public var sessionMaxMillis: Int64 = 24 * 3_600_000
    /// Sessions at or above this score are notable.
    public var notableScore = 90
    /// No model-based rule fires until the organization has this much data.
    public var warmupDays: Double = 14
    public init() {}
}

/// Counters the CLI can print.
public struct AnalyticsStats: Sendable {
    public var events = 0
    public var eventsWithoutUser = 0
    /// Events older than the engine clock when they arrived (processed at the clock's time).
    public var lateEvents = 0
    public var ruleTriggers = 0
    public var suppressedByFamily = 0
    public var suppressedByDedup = 0
    public var sessionsClosed = 0
    public var sessionsEmitted = 0
    public var notableSessions = 0
    public var trainings = 0
}

/// One (scope key, value) pair a model sees in an event.
struct ModelItem {
    var scope: String
    var value: String
    var number: Double?
    /// Interned id (categorical) or bin (numeric, time-of-week); nil when the value was never seen.
    var valueId: UInt32?
}

struct ScopeStats {
    var observations: Int
    var distinct: Int
    var converged: Bool
}

/// Everything that changes while events are processed: model histograms, sessions, user history.
final class AnalyticsState {
    let content: AnalyticsContent
    let provider: AnalyticsContextProvider
    let options: AnalyticsOptions
    let interner = Interner()
    var stores: [[UInt32: Histogram]]
    var sessions: [UInt32: Session] = [:]
    var lastSeen: [UInt32: Int64] = [:]
    var heap = ExpiryHeap()
    var clock: Int64 = Int64.min
    var orgStart: Int64? = nil
    var stats = AnalyticsStats()
    var ctx: EvalContext! = nil

    // Per-event memo of model lookups: generation-stamped, so nothing is cleared per event.
    var generation: UInt32 = 0
    var itemGen: [UInt32]
    var itemMemo: [[ModelItem]]
    var scopeGen: [UInt32]
    var scopeMemo: [[String]]

    init(content: AnalyticsContent, provider: AnalyticsContextProvider, options: AnalyticsOptions) {
        self.content = content
        self.provider = provider
        self.options = options
        stores = Array(repeating: [:], count: content.models.count)
        itemGen = Array(repeating: 0, count: content.models.count)
        itemMemo = Array(repeating: [], count: content.models.count)
        scopeGen = Array(repeating: 0, count: content.models.count)
        scopeMemo = Array(repeating: [], count: content.models.count)
        ctx = EvalContext(state: self)
    }

    // MARK: model access

    @inline(__always) func bucket(_ m: Int) -> Int32 {
        let b = content.models[m].bucketMillis
        let c = clock
        return Int32(truncatingIfNeeded: c >= 0 ? c / b : (c - b + 1) / b)
    }

    /// The histogram for a scope key, aged to the current clock.
    func histogram(_ m: Int, _ scope: UInt32) -> Histogram? {
        let b = bucket(m)
        guard let h = stores[m][scope] else { return nil }
        if h.epoch < b {
            stores[m][scope]!.advance(to: b)
            if stores[m][scope]!.isEmpty { stores[m][scope] = nil; return nil }
            return stores[m][scope]
        }
        return h
    }

    func converged(_ h: Histogram?, _ def: ModelDefinition) -> Bool {
        guard let h, h.total > 0 else { return false }
        let obs = Double(h.total)
        return Int(h.total) >= def.minObservations && 1 - Double(h.distinct) / obs >= def.minConfidence
    }

    func scopeKeys(_ m: Int, _ ctx: EvalContext) -> [String] {
        if scopeGen[m] == generation { return scopeMemo[m] }
        let keys = content.models[m].scope(ctx).elements
        scopeGen[m] = generation
        scopeMemo[m] = keys
        return keys
    }

    /// The (scope, value) pairs of model `m` in the current event.
    func items(_ m: Int, _ ctx: EvalContext) -> [ModelItem] {
        if itemGen[m] == generation { return itemMemo[m] }
        let def = content.models[m]
        let scopes = scopeKeys(m, ctx)
        var out: [ModelItem] = []
        if !scopes.isEmpty {
            switch def.kind {
            case .categorical:
                let values = def.feature(ctx).elements
                for s in scopes { for v in values { out.append(ModelItem(scope: s, value: v, number: nil, valueId: interner.lookup(v))) } }
            case .numeric:
                if let n = def.feature(ctx).number {
                    let bin = NumericBins.bin(n)
                    for s in scopes { out.append(ModelItem(scope: s, value: EV.format(n), number: n, valueId: bin)) }
                }
            case .timeOfWeek:
                if let h = def.feature(ctx).number, h >= 0, h < 168 {
                    let bin = UInt32(h)
                    for s in scopes { out.append(ModelItem(scope: s, value: TextHelpers.hourOfWeekLabel(Int(bin)), number: h, valueId: bin)) }
                }
            }
        }
        itemGen[m] = generation
        itemMemo[m] = out
        return out
    }

    func scopeStats(model m: Int, _ ctx: EvalContext) -> ScopeStats {
        guard let s = scopeKeys(m, ctx).first, let sid = interner.lookup(s), let h = histogram(m, sid) else {
            return ScopeStats(observations: 0, distinct: 0, converged: false)
        }
        return ScopeStats(observations: Int(h.total), distinct: h.distinct, converged: converged(h, content.models[m]))
    }

    func valueCount(model m: Int, _ ctx: EvalContext) -> UInt32 {
        var best: UInt32 = 0
        for item in items(m, ctx) {
            guard let v = item.valueId, let sid = interner.lookup(item.scope), let h = histogram(m, sid) else { continue }
            best = max(best, h.count(v))
        }
        return best
    }

    func train(_ m: Int, _ item: ModelItem, session: Session) {
        let sid = interner.intern(item.scope)
        let vid = item.valueId ?? interner.intern(item.value)
        let key = TrainKey(model: UInt16(m), scope: sid, value: vid)
        guard session.trained.insert(key).inserted else { return }
        let b = bucket(m)
        stores[m][sid, default: Histogram()].add(vid, bucket: b)
        stats.trainings += 1
    }
}

/// The analytics engine of one organization: feed events in time order, get rule triggers and closed
/// sessions. Not thread-safe (one engine per tenant, one thread at a time); output is a pure function of
/// the content, options and event sequence.
public final class AnalyticsEngine {
    public let content: AnalyticsContent
    let state: AnalyticsState

    public convenience init(contentDirectory: String, context: AnalyticsContextProvider = EmptyContextProvider(),
                            options: AnalyticsOptions = AnalyticsOptions()) throws {
        self.init(content: try AnalyticsContent.load(directory: contentDirectory), context: context, options: options)
    }

    public init(content: AnalyticsContent, context: AnalyticsContextProvider = EmptyContextProvider(),
                options: AnalyticsOptions = AnalyticsOptions()) {
        self.content = content
        self.state = AnalyticsState(content: content, provider: context, options: options)
    }

    public var stats: AnalyticsStats { state.stats }
    public var options: AnalyticsOptions { state.options }

    /// Scores one event (then trains on it); returns the rules it triggered, preceded by any sessions that
    /// closed before it.
    public func process(_ event: Event) -> [AnalyticsOutput] {
        var out: [AnalyticsOutput] = []
        process(event, into: &out)
        return out
    }

    public func process(_ event: Event, into out: inout [AnalyticsOutput]) {
        let st = state
        st.stats.events += 1
        var t = event.timeMillis
        if t < st.clock { st.stats.lateEvents += 1; t = st.clock }
        st.clock = t
        closeExpired(upTo: t, into: &out)
        guard let user = event.user, !user.isEmpty else { st.stats.eventsWithoutUser += 1; return }
        if st.orgStart == nil { st.orgStart = t }
        let warm = Double(t - st.orgStart!) >= st.options.warmupDays * 86_400_000

        let uid = st.interner.intern(user)
        var session: Session
        if let s = st.sessions[uid] {
            session = s
        } else {
            session = Session(userId: uid, user: user, start: t, previousActivity: st.lastSeen[uid])
            st.sessions[uid] = session
            st.heap.push(.init(expiry: session.expiry(gap: st.options.sessionGapMillis, maxLength: st.options.sessionMaxMillis),
                               user: user, uid: uid))
        }
        session.last = t
        session.events += 1

        let ctx = st.ctx!
        ctx.event = event
        ctx.clock = t
        ctx.session = session
        st.generation &+= 1
        if st.generation == 0 { st.generation = 1; for i in st.itemGen.indices { st.itemGen[i] = 0; st.scopeGen[i] = 0 } }

        let typeIndex = event.activityType.index
        for a in content.aggregatesByType[typeIndex] { session.update(content.aggregates[a], ctx) }

        let candidates = evaluateRules(typeIndex: typeIndex, warm: warm, ctx: ctx)
        if !candidates.isEmpty { emit(candidates, session: session, ctx: ctx, into: &out) }

        // Train: after scoring, once per session per (model, scope key, value).
        for m in content.modelsByType[typeIndex] {
            let def = content.models[m]
            if let tw = def.trainWhen {
                let mark = ctx.matches.count
                let ok = tw(ctx).truthy
                if ctx.matches.count > mark { ctx.matches.removeSubrange(mark...) }
                if !ok { continue }
            }
            for item in st.items(m, ctx) { st.train(m, item, session: session) }
        }
        st.lastSeen[uid] = t
    }

    /// Closes every open session (end of input) and returns them.
    public func finish() -> [AnalyticsOutput] {
        var out: [AnalyticsOutput] = []
        closeExpired(upTo: Int64.max, into: &out)
        return out
    }

    // MARK: sessions

    func closeExpired(upTo t: Int64, into out: inout [AnalyticsOutput]) {
        let st = state
        let gap = st.options.sessionGapMillis, maxLen = st.options.sessionMaxMillis
        while let top = st.heap.top, top.expiry <= t {
            _ = st.heap.pop()
            guard let s = st.sessions[top.uid] else { continue }
            let e = s.expiry(gap: gap, maxLength: maxLen)
            if e > top.expiry { st.heap.push(.init(expiry: e, user: top.user, uid: top.uid)); continue }
            close(s, into: &out)
        }
    }

    func close(_ s: Session, into out: inout [AnalyticsOutput]) {
        let st = state
        st.sessions[s.userId] = nil
        st.stats.sessionsClosed += 1
        // Models trained on the whole session (per-session sums).
        if !content.sessionEndModels.isEmpty {
            let ctx = st.ctx!
            var e = Event(parser: "session", activityType: .emailOut, timeMillis: s.last)
            e[F.user] = .string(s.user)
            ctx.event = e
            ctx.session = s
            st.generation &+= 1
            for m in content.sessionEndModels {
                let def = content.models[m]
                if let tw = def.trainWhen, !tw(ctx).truthy { continue }
                for item in st.items(m, ctx) { st.train(m, item, session: s) }
            }
            ctx.matches.removeAll(keepingCapacity: true)
        }
        guard !s.rules.isEmpty else { return }
        let notable = s.score >= st.options.notableScore
        st.stats.sessionsEmitted += 1
        if notable { st.stats.notableSessions += 1 }
        out.append(.session(SessionSummary(user: s.user, session: s.id, startMillis: s.start, endMillis: s.last,
                                           score: s.score, notable: notable,
                                           rules: s.rules.map { content.rules[$0].id }, events: s.events)))
    }

    // MARK: rules

    struct Candidate {
        var rule: Int
        var dedup: String
        var item: ModelItem?
        var mass: Double?
        var matches: [EvidenceMatch]
    }

    func evaluateRules(typeIndex: Int, warm: Bool, ctx: EvalContext) -> [Candidate] {
        let st = state
        var out: [Candidate] = []
        for r in content.rulesByType[typeIndex] {
            let rule = content.rules[r]
            if rule.warmup && !warm { continue }
            ctx.matches.removeAll(keepingCapacity: true)
            if let c = rule.condition, !c(ctx).truthy { continue }
            guard let m = rule.modelIndex, rule.kind.usesModel else {
                let d = rule.dedup?(ctx).text ?? ""
                out.append(Candidate(rule: r, dedup: d, item: nil, mass: nil, matches: ctx.matches))
                continue
            }
            let def = content.models[m]
            for item in st.items(m, ctx) {
                let h = st.interner.lookup(item.scope).flatMap { st.histogram(m, $0) }
                if rule.requireConverged && !st.converged(h, def) { continue }
                var fires = false
                var mass: Double? = nil
                let count = item.valueId.flatMap { v in h?.count(v) } ?? 0
                switch rule.kind {
                case .first:
                    fires = count == 0
                case .abnormal, .rare:
                    if count == 0 { fires = rule.kind == .rare && h != nil }
                    else if let h { let r = h.isRare(count, threshold: rule.threshold); fires = r.rare; mass = r.mass }
                case .numeric:
                    if let h, let v = item.number, h.total > 0 {
                        let p = ModelMath.quantile(h, rule.percentile)
                        let med = ModelMath.median(h)
                        fires = v > p && v >= rule.factor * med
                    }
                case .time:
                    if let h, let bin = item.valueId, h.total > 0 {
                        let (_, tail) = ModelMath.timeTail(h, bin: Int(bin), smoothing: def.smoothingHours)
                        fires = tail <= rule.threshold
                        mass = tail
                    }
                case .fact, .session:
                    break
                }
                if fires {
                    let d = rule.dedup?(ctx).text ?? item.value
                    out.append(Candidate(rule: r, dedup: d, item: item, mass: mass, matches: ctx.matches))
                }
            }
        }
        return out
    }

    func emit(_ candidates: [Candidate], session: Session, ctx: EvalContext, into out: inout [AnalyticsOutput]) {
        let st = state
        // Family: per (family, dedup value) keep the highest score, then the earliest rule.
        var keep = [Bool](repeating: true, count: candidates.count)
        var alsoFired = [[String]](repeating: [], count: candidates.count)
        for i in candidates.indices {
            let ri = content.rules[candidates[i].rule]
            for j in candidates.indices where j != i && keep[j] {
                let rj = content.rules[candidates[j].rule]
                guard ri.familyIndex == rj.familyIndex, candidates[i].dedup == candidates[j].dedup, ri.id != rj.id else { continue }
                if rj.score > ri.score || (rj.score == ri.score && rj.order < ri.order) {
                    keep[i] = false
                    alsoFired[j].append(ri.id)
                    st.stats.suppressedByFamily += 1
                    break
                }
            }
        }
        for (i, c) in candidates.enumerated() where keep[i] {
            let rule = content.rules[c.rule]
            let key = DedupKey(family: Int32(rule.familyIndex), value: c.dedup)
            guard session.dedup.insert(key).inserted else { st.stats.suppressedByDedup += 1; continue }
            session.score += rule.score
            if !session.rules.contains(c.rule) { session.rules.append(c.rule) }
            st.stats.ruleTriggers += 1
            ctx.matches = c.matches
            var evidence = buildEvidence(rule, c, ctx)
            let also = alsoFired[i].sorted()
            if !also.isEmpty { evidence.append(("also_matched", .array(also.map(JSONValue.string)))) }
            let ev = JSONValue.object(evidence)
            out.append(.rule(RuleTrigger(rule: rule.id, name: rule.name, score: rule.score, user: session.user,
                                         session: session.id, timeMillis: ctx.event.timeMillis, mitre: rule.mitre,
                                         useCases: rule.useCases, reason: render(rule.reason, ev, ctx), evidence: ev)))
        }
    }

    // MARK: evidence and reasons

    func modelEvidence(_ m: Int, _ item: ModelItem, kind: RuleKind?) -> [(String, JSONValue)] {
        let st = state
        let def = content.models[m]
        let h = st.interner.lookup(item.scope).flatMap { st.histogram(m, $0) }
        let total = Int(h?.total ?? 0)
        let distinct = h?.distinct ?? 0
        let count = item.valueId.flatMap { v in h?.count(v) } ?? 0
        var ev: [(String, JSONValue)] = [
            ("model", .string(def.id)),
            ("scope", .string(def.scopeText)),
            ("key", .string(item.scope)),
        ]
        switch def.kind {
        case .categorical:
            ev.append(("value", .string(item.value)))
        case .numeric:
            ev.append(("value", .double(item.number ?? 0)))
        case .timeOfWeek:
            ev.append(("value", .string(item.value)))
            ev.append(("hour", .int(Int64(item.valueId ?? 0))))
        }
        ev.append(("count", .int(Int64(count))))
        ev.append(("observations", .int(Int64(total))))
        ev.append(("distinct", .int(Int64(distinct))))
        ev.append(("confidence", .double(total > 0 ? 1 - Double(distinct) / Double(total) : 0)))
        ev.append(("converged", .bool(st.converged(h, def))))
        guard let h, total > 0 else { return ev + [("top", .array([]))] }
        switch def.kind {
        case .categorical:
            let top = h.entries().map { (st.interner.string($0.value), $0.count) }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(5)
            ev.append(("top", .array(top.map { .object([("value", .string($0.0)), ("count", .int(Int64($0.1))), ("share", .double(Double($0.1) / Double(total)))]) })))
        case .numeric:
            ev.append(("median", .double(ModelMath.median(h))))
            ev.append(("p99", .double(ModelMath.quantile(h, 0.99))))
            ev.append(("max", .double(ModelMath.quantile(h, 1))))
            let med = ModelMath.median(h)
            if let v = item.number, med > 0 { ev.append(("ratio", .double(v / med))) }
        case .timeOfWeek:
            let (prob, _) = ModelMath.timeTail(h, bin: Int(item.valueId ?? 0), smoothing: def.smoothingHours)
            ev.append(("probability", .double(prob)))
            let top = h.entries().sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }.prefix(5)
            ev.append(("top", .array(top.map { .object([("value", .string(TextHelpers.hourOfWeekLabel(Int($0.value)))), ("count", .int(Int64($0.count))), ("share", .double(Double($0.count) / Double(total)))]) })))
        }
        _ = kind
        return ev
    }

    func buildEvidence(_ rule: RuleDefinition, _ c: Candidate, _ ctx: EvalContext) -> [(String, JSONValue)] {
        var ev: [(String, JSONValue)] = []
        if let item = c.item, let m = rule.modelIndex {
            ev = modelEvidence(m, item, kind: rule.kind)
            if let mass = c.mass {
                ev.append(("mass", .double(mass)))
                ev.append(("threshold", .double(rule.threshold)))
            }
            if rule.kind == .numeric {
                ev.append(("percentile", .double(rule.percentile)))
                ev.append(("factor", .double(rule.factor)))
            }
        } else if let m = rule.modelIndex, let item = state.items(m, ctx).first {
            // Fact and session rules linked to a model show the model's view of this event.
            ev.append(("model_evidence", .object(modelEvidence(m, item, kind: nil))))
        }
        if !c.matches.isEmpty {
            ev.append(("matches", .array(c.matches.map { m in
                .object([("kind", .string(m.kind)), ("name", .string(m.name)), ("entry", .string(m.entry)), ("input", .string(m.input))])
            })))
        }
        for (name, f) in zip(rule.evidenceFields, rule.evidenceFieldIDs) {
            if let v = ctx.event[f] { ev.append((name, AnalyticsEngine.json(v))) }
        }
        if rule.dedupText != nil || !rule.kind.usesModel { ev.append(("dedup", .string(c.dedup))) }
        return ev
    }

    static func json(_ v: Value) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .list(let l): return .array(l.map(JSONValue.string))
        }
    }

    func render(_ parts: [TemplatePart], _ ev: JSONValue, _ ctx: EvalContext) -> String {
        var s = ""
        for p in parts {
            switch p {
            case .text(let t): s += t
            case .expression(let e):
                let v = e(ctx)
                switch v {
                case .list(let l): s += l.joined(separator: ", ")
                default: s += v.text ?? "?"
                }
            case .evidence(let key):
                s += AnalyticsEngine.renderEvidence(key, ev)
            }
        }
        return s
    }

    static func renderEvidence(_ key: String, _ ev: JSONValue) -> String {
        let firstMatch = ev["matches"]?.arrayValue?.first
        switch key {
        case "entry": return firstMatch?["entry"]?.stringValue ?? "?"
        case "list", "pattern": return firstMatch?["name"]?.stringValue ?? "?"
        case "input": return firstMatch?["input"]?.stringValue ?? "?"
        case "matches":
            return ev["matches"]?.arrayValue?.compactMap { $0["entry"]?.stringValue }.joined(separator: ", ") ?? "?"
        case "aggregate":
            return ev["matches"]?.arrayValue?.first { $0["kind"]?.stringValue == "aggregate" }?["entry"]?.stringValue ?? "?"
        case "top":
            let src = ev["top"] ?? ev["model_evidence"]?["top"]
            guard let top = src?.arrayValue, !top.isEmpty else { return "none" }
            return top.map { t in
                (t["value"]?.stringValue ?? "?") + " " + JSONWriter.format(((t["share"]?.doubleValue ?? 0) * 100).rounded()) + "%"
            }.joined(separator: ", ")
        default:
            guard let v = ev[key] ?? ev["model_evidence"]?[key] else { return "?" }
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return JSONWriter.format(d)
            case .bool(let b): return b ? "yes" : "no"
            default: return v.serialized()
            }
        }
    }
}

/// Quantiles and time-of-week smoothing over histograms.
enum ModelMath {
    /// Upper edge of the bin where the cumulative share reaches q (numeric models).
    static func quantile(_ h: Histogram, _ q: Double) -> Double {
        let bins = h.entries().sorted { $0.value < $1.value }
        let target = q * Double(h.total)
        var cum = 0.0
        for b in bins {
            cum += Double(b.count)
            if cum >= target - 1e-9 { return NumericBins.upper(b.value) }
        }
        return NumericBins.upper(bins.last?.value ?? 0)
    }

    /// Middle of the median bin.
    static func median(_ h: Histogram) -> Double {
        let bins = h.entries().sorted { $0.value < $1.value }
        let target = 0.5 * Double(h.total)
        var cum = 0.0
        for b in bins {
            cum += Double(b.count)
            if cum >= target - 1e-9 { return NumericBins.middle(b.value) }
        }
        return 0
    }

    /// Smoothed probability of an hour-of-week bin (triangular kernel of ±`smoothing` hours, cyclic over
    /// the week) and the low-tail mass: the total probability of bins no more likely than it.
    static func timeTail(_ h: Histogram, bin: Int, smoothing: Int) -> (probability: Double, tail: Double) {
        var raw = [Double](repeating: 0, count: 168)
        for e in h.entries() where e.value < 168 { raw[Int(e.value)] = Double(e.count) }
        var weights: [Double] = []
        for d in -smoothing...smoothing { weights.append(Double(smoothing + 1 - abs(d))) }
        let wsum = weights.reduce(0, +)
        var sm = [Double](repeating: 0, count: 168)
        let total = Double(h.total)
        for b in 0..<168 {
            var v = 0.0
            for (k, d) in (-smoothing...smoothing).enumerated() { v += weights[k] * raw[((b + d) % 168 + 168) % 168] }
            sm[b] = v / wsum / total
        }
        let p = sm[bin]
        var tail = 0.0
        for x in sm where x <= p + 1e-12 { tail += x }
        return (p, tail)
    }
}
