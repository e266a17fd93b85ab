import OspreyCore

/// A compiled expression: a closure over the evaluation context. Built once at load time.
public typealias Eval = (EvalContext) -> ExprValue

/// Something a condition matched, kept as evidence: a list entry, a keyword, a regex match.
public struct EvidenceMatch: Sendable, Equatable {
    public var kind: String      // "list", "keyword", "pattern", "attribute"
    public var name: String      // the list name, the pattern text, the attribute name
    public var entry: String     // the list entry / keyword / matched text / attribute value
    public var input: String     // the value that was tested
}

/// Per-event evaluation state handed to compiled closures. One instance per engine, reused.
public final class EvalContext {
    unowned let state: AnalyticsState
    @exclusivity(unchecked) public internal(set) var event: Event
    /// The engine clock (monotonic; equals the event time unless the event came late).
    @exclusivity(unchecked) public internal(set) var clock: Int64 = 0
    @exclusivity(unchecked) var session: Session?
    /// Matches recorded while evaluating one rule's condition.
    @exclusivity(unchecked) public internal(set) var matches: [EvidenceMatch] = []
    /// Bumped for every event: memo slots stamped with an older generation are stale.
    @exclusivity(unchecked) var generation: UInt32 = 1
    @exclusivity(unchecked) var slotGen: [UInt32]
    @exclusivity(unchecked) var slotValue: [ExprValue]
    @exclusivity(unchecked) var slotMatches: [[EvidenceMatch]]
    /// user agent → OS/browser family (bounded cache).
    @exclusivity(unchecked) var uaFamilies: [String: String] = [:]
    /// Each person's last geolocated activity (Travel.swift) and this event's leg (memo).
    let travel = TravelMemory()
    @exclusivity(unchecked) var legGeneration: UInt32 = 0
    @exclusivity(unchecked) var legValue: TravelLeg? = nil

    init(state: AnalyticsState, slots: Int) {
        self.state = state
        self.event = Event(parser: "", activityType: .appActivity, timeMillis: 0)
        slotGen = Array(repeating: 0, count: slots)
        slotValue = Array(repeating: .missing, count: slots)
        slotMatches = Array(repeating: [], count: slots)
    }

    @inline(__always) func record(_ m: EvidenceMatch) { matches.append(m) }

    /// Starts a new event: every memo slot becomes stale.
    func nextGeneration() {
        generation &+= 1
        if generation == 0 {
            generation = 1
            for i in slotGen.indices { slotGen[i] = 0 }
            legGeneration = 0
        }
    }
}

/// Wraps an expression so it is evaluated at most once per event (macros, model scopes and features):
/// later uses get the value and replay the evidence matches it recorded.
func memoized(_ slot: Int, _ e: @escaping Eval) -> Eval {
    return { ctx in
        if ctx.slotGen[slot] == ctx.generation {
            let m = ctx.slotMatches[slot]
            if !m.isEmpty { ctx.matches.append(contentsOf: m) }
            return ctx.slotValue[slot]
        }
        let mark = ctx.matches.count
        let v = e(ctx)
        ctx.slotGen[slot] = ctx.generation
        ctx.slotValue[slot] = v
        ctx.slotMatches[slot] = mark < ctx.matches.count ? Array(ctx.matches[mark...]) : []
        return v
    }
}
