import OspreyCore

/// What one model holds for one scope key (a baseline), for APIs and the web page.
public struct BaselineView: Sendable {
    public var model: String
    public var modelName: String
    public var kind: String
    public var scope: String
    public var observations: Int
    public var distinct: Int
    public var converged: Bool
    /// Values (categorical text, numeric bin range, hour-of-week label) with their counts in the window,
    /// most frequent first (ties by label).
    public var values: [(label: String, count: Int)]
}

extension AnalyticsEngine {
    /// Every model's histogram whose scope key is `scope` (e.g. a user's address), without aging it.
    /// `limit` caps the values listed per histogram.
    public func baselines(scope: String, limit: Int = 50) -> [BaselineView] {
        let st = state
        guard let sid = st.interner.lookup(scope) else { return [] }
        var out: [BaselineView] = []
        for (m, def) in content.models.enumerated() {
            guard let slot = st.stores[m].index.get(sid) else { continue }
            let h = st.stores[m].hists[Int(slot)]
            guard h.total > 0 else { continue }
            var values: [(String, Int)] = h.entries().map { e in
                let label: String
                switch def.kind {
                case .categorical: label = st.interner.string(e.value)
                case .numeric: label = "\(ExprValue.format(NumericBins.lower(e.value)))–\(ExprValue.format(NumericBins.upper(e.value)))"
                case .timeOfWeek: label = TextHelpers.hourOfWeekLabel(Int(e.value))
                }
                return (label, Int(e.count))
            }
            values.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            out.append(BaselineView(model: def.id, modelName: def.name, kind: def.kind.rawValue, scope: scope,
                                    observations: Int(h.total), distinct: h.distinct, converged: st.converged(m, slot),
                                    values: Array(values.prefix(limit))))
        }
        return out
    }
}

extension AnalyticsEngine {
    /// The engine clock (newest event time processed), 0 before the first event.
    public var clockMillis: Int64 { state.clock == Int64.min ? 0 : state.clock }
}
