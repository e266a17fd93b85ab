import OspreyCore

/// A compiled expression: a closure over the evaluation context. Built once at load time.
public typealias Eval = (EvalContext) -> EV

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
    public internal(set) var event: Event
    /// The engine clock (monotonic; equals the event time unless the event came late).
    public internal(set) var clock: Int64 = 0
    var session: Session?
    /// Matches recorded while evaluating one rule's condition.
    public internal(set) var matches: [EvidenceMatch] = []
    /// Memo of model lookups for this event (model index → items), cleared per event.
    var modelMemo: [Int: [ModelItem]] = [:]

    init(state: AnalyticsState) {
        self.state = state
        self.event = Event(parser: "", activityType: .appActivity, timeMillis: 0)
    }

    @inline(__always) func record(_ m: EvidenceMatch) { matches.append(m) }
}
