import OspreyCore

public enum ModelKind: String, Sendable, CaseIterable {
    case categorical
    case numeric
    case timeOfWeek = "time-of-week"
}

public enum TrainAt: String, Sendable {
    /// After each event is scored (the default).
    case event
    /// When the session closes, with the session's aggregates (per-session sums).
    case sessionEnd = "session_end"
}

public enum RuleKind: String, Sendable, CaseIterable {
    case first, abnormal, rare, numeric, time, fact, session
    var usesModel: Bool { self != .fact && self != .session }
}

public struct MitreTechnique: Sendable, Equatable {
    public var id: String
    /// The name of the ATT&CK release in Content/attack (for a sub-technique "Parent: Sub").
    public var name: String
    /// The name as the rule wrote it (the seed's text for the seed rules; may be an older ATT&CK name).
    public var writtenName: String
    /// The parent technique's id for a sub-technique (`T1098` for `T1098.002`).
    public var parentID: String? { id.contains(".") ? String(id.prefix { $0 != "." }) : nil }
    /// `T1078 Valid Accounts`
    public var text: String { id + " " + name }
    /// The technique as the rule wrote it.
    public var writtenText: String { id + " " + writtenName }

    public init(id: String, name: String, writtenName: String? = nil) {
        self.id = id; self.name = name; self.writtenName = writtenName ?? name
    }
}

/// A model as loaded from content.
public final class ModelDefinition {
    public let id: String
    public let name: String
    public let description: String
    public let activityTypes: [ActivityType]
    public let useCases: [String]
    public let kind: ModelKind
    public let scopeText: String
    public let featureText: String
    public let trainWhenText: String?
    public let trainAt: TrainAt
    public let minObservations: Int
    public let minConfidence: Double
    public let agingDays: Double
    public let smoothingHours: Int
    public let source: SourceLocation
    /// Rules whose `model` names this model, sorted by id (filled after rules load).
    public internal(set) var rules: [String] = []

    let typeMask: UInt8
    let scope: Eval
    let feature: Eval
    let trainWhen: Eval?
    let bucketMillis: Int64
    let scopeSlot: Int
    let featureSlot: Int

    init(id: String, name: String, description: String, activityTypes: [ActivityType], useCases: [String],
         kind: ModelKind, scopeText: String, featureText: String, trainWhenText: String?, trainAt: TrainAt,
         minObservations: Int, minConfidence: Double, agingDays: Double, smoothingHours: Int,
         source: SourceLocation, scope: @escaping Eval, feature: @escaping Eval, trainWhen: Eval?,
         scopeSlot: Int, featureSlot: Int) {
        self.scopeSlot = scopeSlot; self.featureSlot = featureSlot
        self.id = id; self.name = name; self.description = description; self.activityTypes = activityTypes
        self.useCases = useCases; self.kind = kind; self.scopeText = scopeText; self.featureText = featureText
        self.trainWhenText = trainWhenText; self.trainAt = trainAt; self.minObservations = minObservations
        self.minConfidence = minConfidence; self.agingDays = agingDays; self.smoothingHours = smoothingHours
        self.source = source; self.scope = scope; self.feature = feature; self.trainWhen = trainWhen
        self.typeMask = ActivityType.mask(activityTypes)
        self.bucketMillis = max(1, Int64(agingDays * 86_400_000 / Double(Histogram.slots)))
    }
}

/// A piece of a reason template: literal text, an evidence key, or an expression.
enum TemplatePart {
    case text(String)
    case evidence(String)
    case expression(Eval)
}

/// A rule as loaded from content.
public final class RuleDefinition {
    public let id: String
    public let name: String
    public let description: String
    public let activityTypes: [ActivityType]
    public let mitre: [MitreTechnique]
    public let useCases: [String]
    public let kind: RuleKind
    /// The model the catalog links the rule to (nil for rules on the event and its context).
    public let model: String?
    public let conditionText: String?
    public let score: Int
    public let reasonTemplate: String
    public let dedupText: String?
    public let family: String
    public let warmup: Bool
    public let requireConverged: Bool
    public let threshold: Double
    public let percentile: Double
    public let factor: Double
    public let evidenceFields: [String]
    public let source: SourceLocation
    public let order: Int

    let typeMask: UInt8
    let modelIndex: Int?
    let condition: Eval?
    let dedup: Eval?
    let reason: [TemplatePart]
    let evidenceFieldIDs: [Field]
    var familyIndex: Int = 0
    /// The condition reads the travel leg: the trigger's evidence carries it.
    public internal(set) var usesTravel = false
    /// Scored triggers of this rule per session (content `session_cap`; nil: the engine's default, 0: none).
    public internal(set) var sessionCap: Int? = nil

    init(id: String, name: String, description: String, activityTypes: [ActivityType], mitre: [MitreTechnique],
         useCases: [String], kind: RuleKind, model: String?, modelIndex: Int?, conditionText: String?,
         condition: Eval?, score: Int, reasonTemplate: String, reason: [TemplatePart], dedupText: String?,
         dedup: Eval?, family: String, warmup: Bool, requireConverged: Bool, threshold: Double,
         percentile: Double, factor: Double, evidenceFields: [String], source: SourceLocation, order: Int) {
        self.id = id; self.name = name; self.description = description; self.activityTypes = activityTypes
        self.mitre = mitre; self.useCases = useCases; self.kind = kind; self.model = model
        self.modelIndex = modelIndex; self.conditionText = conditionText; self.condition = condition
        self.score = score; self.reasonTemplate = reasonTemplate; self.reason = reason
        self.dedupText = dedupText; self.dedup = dedup; self.family = family; self.warmup = warmup
        self.requireConverged = requireConverged; self.threshold = threshold; self.percentile = percentile
        self.factor = factor; self.evidenceFields = evidenceFields
        self.evidenceFieldIDs = evidenceFields.map(Field.named)
        self.source = source; self.order = order
        self.typeMask = ActivityType.mask(activityTypes)
    }
}
