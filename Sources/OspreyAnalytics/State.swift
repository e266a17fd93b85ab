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
        case .numeric: return EV.format(item.number ?? 0)
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
    public init() {}
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
        for e in unknown.prefix(unknown.count - cap) {
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
    }
}

extension AnalyticsEngine {
    /// Bounded state (README "Durable state"): frees fully aged histograms and, when `maxUnknownIdentities`
    /// is set, caps the identities not in users.csv. Run on a fixed schedule of events (the pipeline does,
    /// every `Pipeline.maintenanceEvery` events), so a restarted run makes the same choices.
    public func maintain(maxUnknownIdentities: Int? = nil, isKnown: (String) -> Bool = { _ in true }) -> MaintenanceReport {
        var r = MaintenanceReport()
        r.histogramsFreed = state.freeAgedHistograms()
        if let cap = maxUnknownIdentities { state.evictUnknown(cap: cap, isKnown: isKnown, into: &r) }
        return r
    }
}
