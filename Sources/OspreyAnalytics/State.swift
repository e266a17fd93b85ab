import OspreyCore

/// One (scope key, value) pair a model sees in an event. Plain data (no references): the texts live in
/// the per-event memo arrays of the model's scope and feature slots (`AnalyticsState.scopeText/valueText`).
struct ModelItem {
    var scopeIdx: Int32
    /// Index into the feature slot's elements (categorical), -1 otherwise.
    var valueIdx: Int32
    var scopeId: UInt32?
    /// Interned id (categorical) or bin (numeric, time-of-week); nil when the value was never seen.
    var valueId: UInt32?
    var number: Double?
    /// Slot of the scope key's histogram in the model's store, or -1.
    var hist: Int32
}

struct ScopeStats {
    var observations: Int
    var distinct: Int
    var converged: Bool
}

/// The histograms of one model: scope key id → slot, slots reused when a histogram ages out entirely.
final class ModelStore {
    /// Narrow histogram entries (8-bit slots) for models scoped by user.
    let narrow: Bool
    init(narrow: Bool) { self.narrow = narrow }
    @exclusivity(unchecked) var index = U32Map()
    @exclusivity(unchecked) var hists: [Histogram] = []
    @exclusivity(unchecked) var scopes: [UInt32] = []
    @exclusivity(unchecked) var free: [Int32] = []

    var live: Int { index.count }
}

/// Everything that changes while events are processed: model histograms, sessions, user history.
final class AnalyticsState {
    let content: AnalyticsContent
    let provider: AnalyticsContextProvider
    let options: AnalyticsOptions
    let interner = Interner()
    let stores: [ModelStore]
    let bucketMillis: [Int64]
    @exclusivity(unchecked) var sessions: [UInt32: Session] = [:]
    @exclusivity(unchecked) var lastSeen: [UInt32: Int64] = [:]
    @exclusivity(unchecked) var heap = ExpiryHeap()
    @exclusivity(unchecked) var clock: Int64 = Int64.min
    var orgStart: Int64? = nil
    @exclusivity(unchecked) var stats = AnalyticsStats()
    var ctx: EvalContext! = nil

    // Per-event memos, stamped with the context's generation.
    @exclusivity(unchecked) var itemGen: [UInt32]
    @exclusivity(unchecked) var itemMemo: [[ModelItem]]
    @exclusivity(unchecked) var idGen: [UInt32]
    @exclusivity(unchecked) var idStrings: [[String]]
    @exclusivity(unchecked) var idValues: [[UInt32?]]

    init(content: AnalyticsContent, provider: AnalyticsContextProvider, options: AnalyticsOptions) {
        self.content = content
        self.provider = provider
        self.options = options
        stores = content.models.map { ModelStore(narrow: $0.scopeText == "user") }
        bucketMillis = content.models.map(\.bucketMillis)
        itemGen = Array(repeating: 0, count: content.models.count)
        itemMemo = Array(repeating: [], count: content.models.count)
        idGen = Array(repeating: 0, count: content.slotCount)
        idStrings = Array(repeating: [], count: content.slotCount)
        idValues = Array(repeating: [], count: content.slotCount)
        ctx = EvalContext(state: self, slots: content.slotCount)
    }

    func resetMemos() {
        for i in itemGen.indices { itemGen[i] = 0 }
        for i in idGen.indices { idGen[i] = 0 }
    }

    // MARK: histograms

    @inline(__always) func bucket(_ m: Int) -> Int32 {
        let b = bucketMillis[m]
        let c = clock
        return Int32(truncatingIfNeeded: c >= 0 ? c / b : (c - b + 1) / b)
    }

    /// Slot of the scope key's histogram, aged to the current clock; -1 when there is none (or it aged
    /// out entirely, in which case the slot is freed).
    @inline(__always)
    func histSlot(_ m: Int, _ scope: UInt32?) -> Int32 {
        guard let scope else { return -1 }
        let store = stores[m]
        guard let slot = store.index.get(scope) else { return -1 }
        let b = bucket(m)
        let i = Int(slot)
        if store.hists[i].epoch < b {
            store.hists[i].advance(to: b)
            if store.hists[i].isEmpty {
                store.index.remove(scope)
                store.hists[i] = Histogram(narrow: store.narrow)
                store.free.append(slot)
                return -1
            }
        }
        return slot
    }

    func createSlot(_ m: Int, _ scope: UInt32) -> Int32 {
        let slot: Int32
        if let f = stores[m].free.popLast() {
            slot = f
            stores[m].scopes[Int(f)] = scope
        } else {
            slot = Int32(stores[m].hists.count)
            stores[m].hists.append(Histogram(narrow: stores[m].narrow))
            stores[m].scopes.append(scope)
        }
        stores[m].index.set(scope, slot)
        return slot
    }

    @inline(__always) func hist(_ m: Int, _ slot: Int32) -> Histogram? {
        slot >= 0 ? stores[m].hists[Int(slot)] : nil
    }

    @inline(__always) func count(_ m: Int, _ item: ModelItem) -> UInt32 {
        guard item.hist >= 0, let v = item.valueId else { return 0 }
        return stores[m].hists[Int(item.hist)].count(v)
    }

    func converged(_ m: Int, _ slot: Int32) -> Bool {
        guard slot >= 0 else { return false }
        let def = content.models[m]
        let total = stores[m].hists[Int(slot)].total
        guard total > 0 else { return false }
        let distinct = stores[m].hists[Int(slot)].distinct
        return Int(total) >= def.minObservations && 1 - Double(distinct) / Double(total) >= def.minConfidence
    }

    // MARK: per-event lookups

    /// A scope or feature expression's elements with their interned ids (memoized per slot and event).
    @inline(__always)
    func elementIDs(_ slot: Int, _ eval: Eval, _ ctx: EvalContext) -> ([String], [UInt32?]) {
        if idGen[slot] == ctx.generation { return (idStrings[slot], idValues[slot]) }
        let v = eval(ctx)
        idGen[slot] = ctx.generation
        idStrings[slot].removeAll(keepingCapacity: true)
        idValues[slot].removeAll(keepingCapacity: true)
        switch v {
        case .str(let s):
            if !s.isEmpty { idStrings[slot].append(s); idValues[slot].append(interner.lookup(s)) }
        case .missing:
            break
        default:
            for s in v.elements { idStrings[slot].append(s); idValues[slot].append(interner.lookup(s)) }
        }
        return (idStrings[slot], idValues[slot])
    }

    func scopeKeys(_ m: Int, _ ctx: EvalContext) -> ([String], [UInt32?]) {
        let def = content.models[m]
        return elementIDs(def.scopeSlot, def.scope, ctx)
    }

    /// The (scope, value) pairs of model `m` in the current event, with their histogram slots.
    func items(_ m: Int, _ ctx: EvalContext) -> [ModelItem] {
        if itemGen[m] == ctx.generation { return itemMemo[m] }
        let def = content.models[m]
        let (scopes, scopeIds) = scopeKeys(m, ctx)
        var out = itemMemo[m]
        itemMemo[m] = []
        out.removeAll(keepingCapacity: true)
        if !scopes.isEmpty {
            switch def.kind {
            case .categorical:
                let (values, valueIds) = elementIDs(def.featureSlot, def.feature, ctx)
                if !values.isEmpty {
                    for k in 0..<scopes.count {
                        let slot = histSlot(m, scopeIds[k])
                        for j in 0..<values.count {
                            out.append(ModelItem(scopeIdx: Int32(k), valueIdx: Int32(j), scopeId: scopeIds[k], valueId: valueIds[j], number: nil, hist: slot))
                        }
                    }
                }
            case .numeric:
                if let n = def.feature(ctx).number {
                    let bin = NumericBins.bin(n)
                    for k in 0..<scopes.count {
                        out.append(ModelItem(scopeIdx: Int32(k), valueIdx: -1, scopeId: scopeIds[k], valueId: bin, number: n, hist: histSlot(m, scopeIds[k])))
                    }
                }
            case .timeOfWeek:
                if let h = def.feature(ctx).number, h >= 0, h < 168 {
                    for k in 0..<scopes.count {
                        out.append(ModelItem(scopeIdx: Int32(k), valueIdx: -1, scopeId: scopeIds[k], valueId: UInt32(h), number: h, hist: histSlot(m, scopeIds[k])))
                    }
                }
            }
        }
        itemGen[m] = ctx.generation
        itemMemo[m] = out
        return out
    }

    /// The scope key of an item (valid during the event that produced it).
    func scopeText(_ m: Int, _ item: ModelItem) -> String {
        idStrings[content.models[m].scopeSlot][Int(item.scopeIdx)]
    }

    /// The value of an item as text: the categorical value, the number, or the hour-of-week label.
    func valueText(_ m: Int, _ item: ModelItem) -> String {
        let def = content.models[m]
        switch def.kind {
        case .categorical: return idStrings[def.featureSlot][Int(item.valueIdx)]
        case .numeric: return ExprValue.format(item.number ?? 0)
        case .timeOfWeek: return TextHelpers.hourOfWeekLabel(Int(item.valueId ?? 0))
        }
    }

    func scopeStats(model m: Int, _ ctx: EvalContext) -> ScopeStats {
        let slot = histSlot(m, scopeKeys(m, ctx).1.first ?? nil)
        guard slot >= 0 else { return ScopeStats(observations: 0, distinct: 0, converged: false) }
        let h = stores[m].hists[Int(slot)]
        return ScopeStats(observations: Int(h.total), distinct: h.distinct, converged: converged(m, slot))
    }

    func valueCount(model m: Int, _ ctx: EvalContext) -> UInt32 {
        var best: UInt32 = 0
        for item in items(m, ctx) { best = max(best, count(m, item)) }
        return best
    }

    func train(_ m: Int, _ item: ModelItem, session: Session) {
        let sid = item.scopeId ?? interner.intern(scopeText(m, item))
        let vid = item.valueId ?? interner.intern(valueText(m, item))
        // model (10 bits) | scope id (27 bits) | value id (27 bits); ids beyond 2^27 would only alias.
        let key = UInt64(m & 0x3FF) << 54 | UInt64(sid & 0x7FF_FFFF) << 27 | UInt64(vid & 0x7FF_FFFF)
        guard session.trained.insert(key) else { return }
        var slot = item.hist >= 0 ? item.hist : histSlot(m, sid)
        if slot < 0 { slot = createSlot(m, sid) }
        stores[m].hists[Int(slot)].add(vid, bucket: bucket(m))
        stats.trainings += 1
    }
}

// MARK: bounded state

/// What one `AnalyticsEngine.maintain` pass released.
public struct MaintenanceReport: Sendable, Equatable {
    /// Histograms whose whole aging window passed without an observation (their slots are reused).
    public var histogramsFreed = 0
    /// Identities not in users.csv dropped beyond the cap (least recently seen first).
    public var identitiesEvicted = 0
    /// Open sessions dropped with them (without output).
    public var sessionsDropped = 0
    /// Interned strings dropped by compaction (no histogram, session, last-seen record or set refers to
    /// them any more), and the compactions that ran.
    public var stringsCompacted = 0
    public var compactions = 0
    public init() {}

    /// Adds the counts of another pass.
    public mutating func add(_ r: MaintenanceReport) {
        histogramsFreed += r.histogramsFreed; identitiesEvicted += r.identitiesEvicted; sessionsDropped += r.sessionsDropped
        stringsCompacted += r.stringsCompacted; compactions += r.compactions
    }
}

extension AnalyticsState {
    /// Frees every histogram whose aging window lies wholly before the clock (all its slots aged out):
    /// the same histogram `histSlot` would free when next asked, so outputs do not change. Only the
    /// memory of people (and values) inactive longer than the model's window is released earlier.
    func freeAgedHistograms() -> Int {
        var freed = 0
        for m in stores.indices {
            let store = stores[m]
            let b = bucket(m)
            var dead: [UInt32] = []
            for (k, v) in zip(store.index.keys, store.index.values) where k != UInt32.max {
                let h = store.hists[Int(v)]
                if h.epoch == Int32.min || Int(b) - Int(h.epoch) >= Histogram.slots || h.isEmpty { dead.append(k) }
            }
            dead.sort()
            for k in dead {
                guard let slot = store.index.get(k) else { continue }
                store.index.remove(k)
                store.hists[Int(slot)] = Histogram(narrow: store.narrow)
                store.free.append(slot)
                freed += 1
            }
        }
        return freed
    }

    /// Drops the least recently seen identities for which `isKnown` is false (not in users.csv) beyond
    /// `cap`: their open session (no output), last-seen record and user-scoped histograms. Ordered by
    /// (last seen, name), so the choice is a function of the input alone.
    func evictUnknown(cap: Int, isKnown: (String) -> Bool, into r: inout MaintenanceReport) {
        var unknown: [(last: Int64, name: String, uid: UInt32)] = []
        for (uid, last) in lastSeen {
            let name = interner.string(uid)
            if !isKnown(name) { unknown.append((last, name, uid)) }
        }
        guard unknown.count > cap else { return }
        unknown.sort { $0.last != $1.last ? $0.last < $1.last : $0.name < $1.name }
        let userScoped = content.models.indices.filter { content.models[$0].scopeText == "user" }
        // Shared models whose values are users (people per app, per client id, per file…) hold the evicted
        // names too: forgotten there as well, or a flood of names would stay interned through them.
        let usersAsValues = content.models.indices.filter {
            content.models[$0].kind == .categorical && content.models[$0].scopeText != "user" && content.models[$0].featureText == "user"
        }
        var evicted = Set<UInt32>()
        for e in unknown.prefix(unknown.count - cap) {
            evicted.insert(e.uid)
            lastSeen[e.uid] = nil
            if sessions.removeValue(forKey: e.uid) != nil { r.sessionsDropped += 1 }
            for m in userScoped {
                let store = stores[m]
                guard let slot = store.index.get(e.uid) else { continue }
                store.index.remove(e.uid)
                store.hists[Int(slot)] = Histogram(narrow: store.narrow)
                store.free.append(slot)
            }
            r.identitiesEvicted += 1
        }
        for m in usersAsValues {
            let store = stores[m]
            for (k, v) in zip(store.index.keys, store.index.values) where k != UInt32.max {
                store.hists[Int(v)].removeValues(evicted)
            }
        }
    }
}

extension AnalyticsState {
    /// Trained-set keys pack a model index (10 bits) and two 27-bit ids (see `train`).
    static let trainedIdBits: UInt64 = 27
    static let trainedIdMask: UInt64 = 0x7FF_FFFF

    /// Interner compaction: drops every interned string nothing refers to any more — not a live
    /// histogram's scope key or (categorical) value, not a last-seen record, not an open session's user,
    /// trained key or dedup value — and renumbers the ids everywhere in id order, so every comparison of
    /// ids is unchanged and outputs do not change. Runs only when at least `minDead` strings and a quarter
    /// of the interner are dead (the work is proportional to the state, at most once per maintenance).
    /// Returns the strings dropped.
    func compactInterner(minDead: Int) -> Int {
        let n = interner.count
        // Trained keys hold 27-bit ids: beyond 2^27 strings they alias and cannot be renumbered exactly.
        guard n > 0, UInt64(n) <= AnalyticsState.trainedIdMask + 1 else { return 0 }
        var keep = [Bool](repeating: false, count: n)
        var live = 0
        @inline(__always) func mark(_ id: UInt32) {
            let i = Int(id)
            if i < n, !keep[i] { keep[i] = true; live += 1 }
        }
        let categorical = content.models.map { $0.kind == .categorical }
        for (m, store) in stores.enumerated() {
            for (k, v) in zip(store.index.keys, store.index.values) where k != UInt32.max {
                mark(k)
                guard categorical[m] else { continue }
                let h = store.hists[Int(v)]
                var i = 0
                let S = h.stride
                while i < h.data.count { mark(h.data[i]); i += S }
            }
        }
        for k in lastSeen.keys { mark(k) }
        for (k, se) in sessions {
            mark(k)
            for key in se.trained.keys {
                let m = Int(key >> 54)
                mark(UInt32((key >> AnalyticsState.trainedIdBits) & AnalyticsState.trainedIdMask))
                if m < categorical.count, categorical[m] { mark(UInt32(key & AnalyticsState.trainedIdMask)) }
            }
            for key in se.dedup.keys { mark(UInt32(truncatingIfNeeded: key)) }
        }
        let dead = n - live
        guard dead >= max(1, minDead), dead * 4 >= n else { return 0 }

        let remap = interner.compact(keep: keep)
        @inline(__always) func re(_ id: UInt32) -> UInt32 {
            let i = Int(id)
            return i < remap.count && remap[i] != UInt32.max ? remap[i] : 0
        }
        for (m, store) in stores.enumerated() {
            var index = U32Map()
            var liveSlot = [Bool](repeating: false, count: store.hists.count)
            for (k, v) in zip(store.index.keys, store.index.values) where k != UInt32.max {
                index.set(re(k), v)
                liveSlot[Int(v)] = true
            }
            store.index = index
            // Scope entries of free slots are stale (overwritten when the slot is reused).
            for i in store.scopes.indices { store.scopes[i] = liveSlot[i] ? re(store.scopes[i]) : 0 }
            if categorical[m] {
                for i in store.hists.indices where liveSlot[i] { store.hists[i].renumberValues(remap) }
            }
        }
        var seen: [UInt32: Int64] = [:]
        seen.reserveCapacity(lastSeen.count)
        for (k, t) in lastSeen { seen[re(k)] = t }
        lastSeen = seen
        var open: [UInt32: Session] = [:]
        open.reserveCapacity(sessions.count)
        for (k, se) in sessions {
            se.userId = re(k)
            var trained = U64Set()
            for key in se.trained.keys {
                let m = key >> 54
                var sid = (key >> AnalyticsState.trainedIdBits) & AnalyticsState.trainedIdMask
                var vid = key & AnalyticsState.trainedIdMask
                sid = UInt64(re(UInt32(sid)))
                if Int(m) < categorical.count, categorical[Int(m)] { vid = UInt64(re(UInt32(vid))) }
                _ = trained.insert(m << 54 | sid << AnalyticsState.trainedIdBits | vid)
            }
            se.trained = trained
            var dedup = U64Set()
            for key in se.dedup.keys { _ = dedup.insert(key & 0xFFFF_FFFF_0000_0000 | UInt64(re(UInt32(truncatingIfNeeded: key)))) }
            se.dedup = dedup
            open[se.userId] = se
        }
        sessions = open
        heap.renumber(remap)
        var fixes: [UInt32: TravelMemory.Fix] = [:]
        for (k, f) in ctx.travel.last where Int(k) < remap.count && remap[Int(k)] != UInt32.max { fixes[remap[Int(k)]] = f }
        ctx.travel.last = fixes
        resetMemos()
        return dead
    }
}

extension AnalyticsEngine {
    /// Strings interned now (model values, scope keys, user names, dedup values).
    public var internedStrings: Int { state.interner.count }
    /// Identities with a last-seen record (the people the state tracks).
    public var trackedIdentities: Int { state.lastSeen.count }

    /// Interner compaction runs when at least this many strings are dead (and a quarter of the interner).
    public static let compactionMinDead = 4096

    /// Bounded state (README "Durable state"): frees fully aged histograms and, when `maxUnknownIdentities`
    /// is set, caps the identities not in users.csv. Run on a fixed schedule of events (the pipeline does,
    /// every `Pipeline.maintenanceEvery` events), so a restarted run makes the same choices.
    /// Then compacts the interner when enough of it is dead (`compactInterner`; `compactionMinDead` overrides
    /// the threshold, for tests).
    public func maintain(maxUnknownIdentities: Int? = nil, compactInterner: Bool = true, compactionMinDead: Int? = nil,
                         isKnown: (String) -> Bool = { _ in true }) -> MaintenanceReport {
        var r = MaintenanceReport()
        r.histogramsFreed = state.freeAgedHistograms()
        if let cap = maxUnknownIdentities { state.evictUnknown(cap: cap, isKnown: isKnown, into: &r) }
        if compactInterner {
            r.stringsCompacted = state.compactInterner(minDead: compactionMinDead ?? AnalyticsEngine.compactionMinDead)
            if r.stringsCompacted > 0 { r.compactions = 1 }
        }
        return r
    }
}
