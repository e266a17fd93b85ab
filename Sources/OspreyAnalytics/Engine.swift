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
    /// A rule scores at most this many triggers in one session (0: no cap); later ones are emitted worth 0
    /// (docs/analytics.md, "Session cap"). Off by default: a burst of one anomaly is itself an attack signal
    /// (a mass mail to many new domains); content `session_cap` and tuning.conf set it.
    public var ruleSessionCap = 0
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
    /// Triggers of rules the tuning disables (not emitted).
    public var suppressedByTuning = 0
    /// Triggers whose value a tuning allowlist names (emitted with score 0).
    public var allowlisted = 0
    /// Triggers emitted worth 0 because their rule already scored its session cap.
    public var cappedBySession = 0
    public var sessionsClosed = 0
    public var sessionsEmitted = 0
    public var notableSessions = 0
    /// Sessions that crossed the notable threshold while open (one `notable` output each).
    public var liveNotable = 0
    public var trainings = 0
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
    /// The organization's tuning; replace it at any time (a context reload), it applies from the next event.
    public var tuning = Tuning()
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
        ctx.nextGeneration()
        if ctx.generation == 1 { st.resetMemos() }

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
        // Travel speed: the content's travel_fix decides whether this event places the person.
        if let fix = content.travelFix { ctx.recordTravelFix(fix) }
        // Last activity follows the person's own actions only (logins, sends, app activity, clicks):
        // mail merely received for an account does not keep it alive (docs/analytics.md, "Activity").
        if let ua = content.userAction {
            let mark = ctx.matches.count
            let own = ua(ctx).truthy
            if ctx.matches.count > mark { ctx.matches.removeSubrange(mark...) }
            if own { st.lastSeen[uid] = t }
        } else {
            st.lastSeen[uid] = t
        }
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
            ctx.nextGeneration()
            if ctx.generation == 1 { st.resetMemos() }
            for m in content.sessionEndModels {
                let def = content.models[m]
                if let tw = def.trainWhen, !tw(ctx).truthy { continue }
                for item in st.items(m, ctx) { st.train(m, item, session: s) }
            }
            ctx.matches.removeAll(keepingCapacity: true)
        }
        // Watched people's sessions are always listed, with or without rules.
        let watch = tuning.isEmpty ? nil
            : tuning.watchlist(user: s.user, peerGroup: st.provider.attribute("peer_group", of: s.user, at: s.last))
        guard !s.rules.isEmpty || watch != nil else { return }
        let notable = s.score >= st.options.notableScore
        st.stats.sessionsEmitted += 1
        if notable { st.stats.notableSessions += 1 }
        out.append(.session(SessionSummary(user: s.user, session: s.id, startMillis: s.start, endMillis: s.last,
                                           score: s.score, notable: notable,
                                           rules: s.rules.map { content.rules[$0].id }, events: s.events,
                                           watchlist: watch)))
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
                if rule.requireConverged && !st.converged(m, item.hist) { continue }
                var fires = false
                var mass: Double? = nil
                let count = st.count(m, item)
                if rule.kind == .first {
                    // The common case: no histogram copy.
                    if count == 0 {
                        let d = rule.dedup?(ctx).text ?? st.valueText(m, item)
                        out.append(Candidate(rule: r, dedup: d, item: item, mass: nil, matches: ctx.matches))
                    }
                    continue
                }
                if rule.kind == .abnormal && count == 0 { continue }
                let h = st.hist(m, item.hist)
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
                    let d = rule.dedup?(ctx).text ?? st.valueText(m, item)
                    out.append(Candidate(rule: r, dedup: d, item: item, mass: mass, matches: ctx.matches))
                }
            }
        }
        return out
    }

    func emit(_ all: [Candidate], session: Session, ctx: EvalContext, into out: inout [AnalyticsOutput]) {
        let st = state
        // Rules the organization's tuning disables leave before the family choice, so that another member
        // of their family can still report the event.
        var candidates = all
        if !tuning.isEmpty {
            candidates.removeAll { c in
                guard case .disabled = tuning.decide(rule: content.rules[c.rule], event: ctx.event) else { return false }
                st.stats.suppressedByTuning += 1
                return true
            }
        }
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
        let before = session.score
        defer {
            // Live notable: the event whose triggers carry the session across the threshold emits it once.
            let threshold = st.options.notableScore
            if before < threshold && session.score >= threshold {
                st.stats.liveNotable += 1
                out.append(.session(SessionSummary(user: session.user, session: session.id, startMillis: session.start,
                                                   endMillis: ctx.event.timeMillis, score: session.score, notable: true,
                                                   rules: session.rules.map { content.rules[$0].id }, events: session.events,
                                                   live: true, threshold: threshold)))
            }
        }
        for (i, c) in candidates.enumerated() where keep[i] {
            let rule = content.rules[c.rule]
            // The organization's tuning (context tuning.conf): disabled rules are only counted; allowlisted
            // values still show as a trigger worth 0 with the allowlist entry in its evidence.
            var score = rule.score
            var tuned: JSONValue? = nil
            if !tuning.isEmpty {
                switch tuning.decide(rule: rule, event: ctx.event) {
                case .disabled:
                    continue   // removed above
                case .allowed(let a, let matched):
                    score = 0
                    tuned = Tuning.evidence(allowed: a, matched: matched)
                case .keep(let s) where s != rule.score:
                    score = s
                    tuned = .object([("action", .string("score_override")), ("content_score", .int(Int64(rule.score)))])
                case .keep:
                    break
                }
            }
            let key = UInt64(rule.familyIndex) << 32 | UInt64(st.interner.intern(c.dedup))
            guard session.dedup.insert(key) else { st.stats.suppressedByDedup += 1; continue }
            if tuned != nil, score == 0 { st.stats.allowlisted += 1 }
            // Session cap (docs/analytics.md): a rule that fires once per recipient, domain or file cannot stack
            // its score without bound in one session; its later triggers still show, worth 0.
            var capped: JSONValue? = nil
            if score > 0 {
                let cap = tuning.sessionCap(rule: rule.id) ?? rule.sessionCap ?? tuning.ruleSessionCap ?? st.options.ruleSessionCap
                if cap > 0 {
                    let n = session.scoredFires[c.rule] ?? 0
                    if n >= cap {
                        capped = .object([("action", .string("session_cap")), ("cap", .int(Int64(cap))), ("withheld", .int(Int64(score)))])
                        score = 0
                        st.stats.cappedBySession += 1
                    } else {
                        session.scoredFires[c.rule] = n + 1
                    }
                }
            }
            let (sum, overflow) = session.score.addingReportingOverflow(score)
            session.score = overflow ? Int.max : sum
            if score > 0, !session.rules.contains(c.rule) { session.rules.append(c.rule) }
            st.stats.ruleTriggers += 1
            ctx.matches = c.matches
            var evidence = buildEvidence(rule, c, ctx)
            let also = alsoFired[i].sorted()
            if !also.isEmpty { evidence.append(("also_matched", .array(also.map(JSONValue.string)))) }
            if let tuned { evidence.append(("tuning", tuned)) }
            if let capped { evidence.append(("session_cap", capped)) }
            let ev = JSONValue.object(evidence)
            out.append(.rule(RuleTrigger(rule: rule.id, name: rule.name, score: score, user: session.user,
                                         session: session.id, timeMillis: ctx.event.timeMillis, mitre: rule.mitre,
                                         useCases: rule.useCases, reason: render(rule.reason, ev, ctx), evidence: ev,
                                         event: eventSummary(ctx.event))))
        }
    }

    // MARK: evidence and reasons

    static let eventSummaryFields = RuleTrigger.eventFields.map(Field.named)

    /// The triggering event's activity type and pivot fields (long texts cut at 256 characters).
    func eventSummary(_ e: Event) -> JSONValue {
        var out: [(String, JSONValue)] = [("activity_type", .string(e.activityType.rawValue))]
        for (name, f) in zip(RuleTrigger.eventFields, AnalyticsEngine.eventSummaryFields) {
            guard let v = e[f] else { continue }
            switch v {
            case .list(let l): out.append((name, .array(l.prefix(20).map { .string(String($0.prefix(256))) })))
            default:
                let t = v.text
                if !t.isEmpty { out.append((name, .string(String(t.prefix(256))))) }
            }
        }
        return .object(out)
    }

    func modelEvidence(_ m: Int, _ item: ModelItem, kind: RuleKind?) -> [(String, JSONValue)] {
        let st = state
        let def = content.models[m]
        let h = st.hist(m, item.hist)
        let total = Int(h?.total ?? 0)
        let distinct = h?.distinct ?? 0
        let count = st.count(m, item)
        var ev: [(String, JSONValue)] = [
            ("model", .string(def.id)),
            ("scope", .string(def.scopeText)),
            ("key", .string(st.scopeText(m, item))),
        ]
        switch def.kind {
        case .categorical:
            ev.append(("value", .string(st.valueText(m, item))))
        case .numeric:
            ev.append(("value", .double(item.number ?? 0)))
        case .timeOfWeek:
            ev.append(("value", .string(st.valueText(m, item))))
            ev.append(("hour", .int(Int64(item.valueId ?? 0))))
        }
        ev.append(("count", .int(Int64(count))))
        ev.append(("observations", .int(Int64(total))))
        ev.append(("distinct", .int(Int64(distinct))))
        ev.append(("confidence", .double(total > 0 ? 1 - Double(distinct) / Double(total) : 0)))
        ev.append(("converged", .bool(st.converged(m, item.hist))))
        guard let h, total > 0 else { return ev + [("top", .array([]))] }
        switch def.kind {
        case .categorical:
            let top = ModelMath.top(h, 5) { st.interner.string($0) }
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
            let top = ModelMath.top(h, 5) { TextHelpers.hourOfWeekLabel(Int($0)) }
            ev.append(("top", .array(top.map { .object([("value", .string($0.0)), ("count", .int(Int64($0.1))), ("share", .double(Double($0.1) / Double(total)))]) })))
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
        if rule.usesTravel, let leg = ctx.travelLeg() { ev.append(("travel", leg.evidence)) }
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
                // A missing optional field renders empty (`{kw_job_match}` when the list matched instead).
                let v = e(ctx)
                switch v {
                case .list(let l): s += l.joined(separator: ", ")
                default: s += v.text ?? ""
                }
            case .evidence(let key):
                s += AnalyticsEngine.renderEvidence(key, ev)
            }
        }
        return s
    }

    /// Numbers in reasons: integers from 100 up, else at most two decimals (`1.09`, `65536`).
    static func human(_ d: Double) -> String {
        if abs(d) >= 100 { return EV.format(d.rounded()) }
        return OutputJSONWriter.format((d * 100).rounded() / 100)
    }

    static func renderEvidence(_ key: String, _ ev: JSONValue) -> String {
        let firstMatch = ev["matches"]?.arrayValue?.first
        switch key {
        case "entry": return firstMatch?["entry"]?.stringValue ?? "?"
        case "list", "pattern": return firstMatch?["name"]?.stringValue ?? "?"
        case "input": return firstMatch?["input"]?.stringValue ?? "?"
        case "matches":
            return ev["matches"]?.arrayValue?.compactMap { $0["entry"]?.stringValue }.joined(separator: ", ") ?? "?"
        case _ where key.hasPrefix("matches:"):
            // Entries matched from one list only; empty when that list did not match.
            let name = String(key.dropFirst("matches:".count))
            return ev["matches"]?.arrayValue?.filter { $0["name"]?.stringValue == name }
                .compactMap { $0["entry"]?.stringValue }.joined(separator: ", ") ?? ""
        case "aggregate":
            return ev["matches"]?.arrayValue?.first { $0["kind"]?.stringValue == "aggregate" }?["entry"]?.stringValue ?? "?"
        case "top":
            let src = ev["top"] ?? ev["model_evidence"]?["top"]
            guard let top = src?.arrayValue, !top.isEmpty else { return "none" }
            return top.map { t in
                (t["value"]?.stringValue ?? "?") + " " + OutputJSONWriter.format(((t["share"]?.doubleValue ?? 0) * 100).rounded()) + "%"
            }.joined(separator: ", ")
        default:
            guard let v = ev[key] ?? ev["model_evidence"]?[key] else { return "?" }
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return AnalyticsEngine.human(d)
            case .bool(let b): return b ? "yes" : "no"
            default: return v.serialized()
            }
        }
    }
}

/// Quantiles and time-of-week smoothing over histograms.
enum ModelMath {
    /// The `k` most frequent values, ties broken by text (deterministic), without sorting every value.
    static func top(_ h: Histogram, _ k: Int, _ name: (UInt32) -> String) -> [(String, UInt32)] {
        var best: [(String, UInt32)] = []
        for (value, c) in h.entries() {
            if best.count < k || c >= best[best.count - 1].1 {
                let s = name(value)
                if best.count < k || c > best[best.count - 1].1 || s < best[best.count - 1].0 {
                    var j = best.count
                    while j > 0, best[j - 1].1 < c || (best[j - 1].1 == c && best[j - 1].0 > s) { j -= 1 }
                    best.insert((s, c), at: j)
                    if best.count > k { best.removeLast() }
                }
            }
        }
        return best
    }

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

/// Approximate heap bytes of an engine's state, by part.
public struct MemoryReport: Sendable {
    public var histograms = 0
    public var values = 0
    public var histogramBytes = 0
    public var strings = 0
    public var internerBytes = 0
    public var userBytes = 0
    public var sessionBytes = 0
    /// Per model: (id, histograms, values, bytes), largest first.
    public var byModel: [(model: String, histograms: Int, values: Int, bytes: Int)] = []
    public var totalBytes: Int { histogramBytes + internerBytes + userBytes + sessionBytes }
}

extension AnalyticsEngine {
    public func memoryReport() -> MemoryReport {
        var r = MemoryReport()
        for (m, store) in state.stores.enumerated() {
            var bytes = store.index.approximateBytes + store.scopes.capacity * 4 + store.free.capacity * 4
                + (store.hists.capacity - store.hists.count) * MemoryLayout<Histogram>.stride
            var values = 0
            for h in store.hists {
                values += h.distinct
                bytes += h.approximateBytes
            }
            r.histograms += store.live
            r.values += values
            r.histogramBytes += bytes
            r.byModel.append((content.models[m].id, store.live, values, bytes))
        }
        r.byModel.sort { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.model < $1.model }
        r.strings = state.interner.count
        r.internerBytes = state.interner.approximateBytes
        r.userBytes = state.lastSeen.capacity * 12 * 4 / 3
        r.sessionBytes = state.sessions.values.reduce(0) { $0 + $1.approximateBytes } + state.heap.count * 40
        return r
    }
}
