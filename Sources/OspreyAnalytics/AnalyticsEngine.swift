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
            e[Fields.user] = .string(s.user)
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
