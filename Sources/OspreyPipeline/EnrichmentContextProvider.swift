import OspreyAnalytics
import OspreyCore
import OspreyEnrichment

/// Answers the analytics content's `in_list(...)` and `attr(...)` from the enrichment context (the current
/// snapshot of the store, so a reload is seen at once), so rules asking about someone other than the
/// event's user — the target of a mailbox permission — see the same users.csv and lists as enrichment.
public final class EnrichmentContextProvider: AnalyticsContextProvider {
    private let store: ContextStore
    public init(store: ContextStore) { self.store = store }

    public func hasList(_ name: String) -> Bool { Context.listNames.contains(name) }
    public func match(list name: String, value: String) -> String? { store.current.match(list: name, value: value) }
    public func attribute(_ name: String, of entity: String, at timeMillis: Int64) -> String? {
        store.current.attribute(name, of: entity, at: timeMillis)
    }
    public var genericCcTLDs: Set<String> { store.current.config.genericCcTLDs }
}
