import OspreyCore

/// What `osprey content rules|models [--json]` and `osprey content mitre` print.
public enum ContentListing {
    /// Rules: a JSON array (`json`), or an aligned text table.
    public static func rules(_ content: AnalyticsContent, json: Bool) -> String {
        if json {
            let arr = JSONValue.array(content.rules.map { r in
                .object([
                    ("id", .string(r.id)),
                    ("name", .string(r.name)),
                    ("activity_types", .array(r.activityTypes.map { .string($0.rawValue) })),
                    ("mitre", .array(r.mitre.map { .object([("id", .string($0.id)), ("name", .string($0.name))]) })),
                    ("use_cases", .array(r.useCases.map(JSONValue.string))),
                    ("kind", .string(r.kind.rawValue)),
                    ("model", r.model.map(JSONValue.string) ?? .null),
                    ("score", .int(Int64(r.score))),
                    ("family", .string(r.family)),
                    ("condition", r.conditionText.map(JSONValue.string) ?? .null),
                    ("dedup", r.dedupText.map(JSONValue.string) ?? .null),
                    ("reason", .string(r.reasonTemplate)),
                    ("source", .string(r.source.file.split(separator: "/").suffix(2).joined(separator: "/") + ":\(r.source.line)")),
                ])
            })
            return arr.serialized() + "\n"
        }
        let rows = content.rules.map { r in
            [r.id, r.kind.rawValue, String(r.score), r.model ?? "-", r.activityTypes.map(\.rawValue).joined(separator: ","),
             r.mitre.map(\.id).joined(separator: ","), r.name]
        }
        return table(["ID", "KIND", "SCORE", "MODEL", "ACTIVITY TYPES", "MITRE", "NAME"], rows)
            + "\(content.rules.count) rules\n"
    }

    /// Models: a JSON array, or a text table.
    public static func models(_ content: AnalyticsContent, json: Bool) -> String {
        if json {
            let arr = JSONValue.array(content.models.map { m in
                .object([
                    ("id", .string(m.id)),
                    ("name", .string(m.name)),
                    ("activity_types", .array(m.activityTypes.map { .string($0.rawValue) })),
                    ("use_cases", .array(m.useCases.map(JSONValue.string))),
                    ("kind", .string(m.kind.rawValue)),
                    ("scope", .string(m.scopeText)),
                    ("feature", .string(m.featureText)),
                    ("train_when", m.trainWhenText.map(JSONValue.string) ?? .null),
                    ("train_at", .string(m.trainAt.rawValue)),
                    ("min_observations", .int(Int64(m.minObservations))),
                    ("min_confidence", .double(m.minConfidence)),
                    ("aging_days", .double(m.agingDays)),
                    ("rules", .array(m.rules.map(JSONValue.string))),
                ])
            })
            return arr.serialized() + "\n"
        }
        let rows = content.models.map { m in
            [m.id, m.kind.rawValue, m.scopeText, m.featureText, m.rules.joined(separator: ","), m.name]
        }
        return table(["ID", "KIND", "SCOPE", "FEATURE", "RULES", "NAME"], rows) + "\(content.models.count) models\n"
    }

    /// An ATT&CK Navigator layer (format 4.5) of the techniques the rules cover, scored by rule count,
    /// with the rule ids in each technique's comment and metadata. A sub-technique's parent is listed too
    /// (scored by the rules of the parent and all its sub-techniques) and shown expanded, so the layer reads
    /// the same in the matrix view as in the list.
    public static func mitreLayer(_ content: AnalyticsContent) -> String {
        var byTechnique: [String: (name: String, rules: Set<String>, direct: Bool)] = [:]
        for r in content.rules {
            for t in r.mitre {
                byTechnique[t.id, default: (t.name, [], true)].rules.insert(r.id)
                byTechnique[t.id]?.direct = true
                if let parent = t.parentID {
                    let parentName = content.attack.fullName(parent) ?? String(t.name.prefix { $0 != ":" })
                    byTechnique[parent, default: (parentName, [], false)].rules.insert(r.id)
                }
            }
        }
        let ids = byTechnique.keys.sorted()
        let maxCount = byTechnique.values.map(\.rules.count).max() ?? 1
        let techniques = JSONValue.array(ids.compactMap { id in
            guard let entry = byTechnique[id] else { return nil }
            let rules = entry.rules.sorted()
            let hasSubs = ids.contains { $0.hasPrefix(id + ".") }
            let how = entry.direct ? "" : " (through its sub-techniques)"
            return .object([
                ("techniqueID", .string(id)),
                ("score", .int(Int64(rules.count))),
                ("color", .string("")),
                ("comment", .string("\(entry.name): \(rules.count) Osprey rule\(rules.count == 1 ? "" : "s")\(how): " + rules.joined(separator: ", "))),
                ("enabled", .bool(true)),
                ("metadata", .array(rules.map { .object([("name", .string("rule")), ("value", .string($0))]) })),
                ("showSubtechniques", .bool(hasSubs)),
            ])
        })
        let layer = JSONValue.object([
            ("name", .string("Osprey content coverage")),
            ("versions", .object([("attack", .string(content.attack.version ?? "17")), ("navigator", .string("5.1.0")), ("layer", .string("4.5"))])),
            ("domain", .string("enterprise-attack")),
            ("description", .string("Techniques covered by Osprey's \(content.rules.count) rules (score = number of rules).")),
            ("sorting", .int(3)),
            ("layout", .object([("layout", .string("side")), ("showID", .bool(true)), ("showName", .bool(true)),
                                ("expandedSubtechniques", .string("annotated"))])),
            ("hideDisabled", .bool(false)),
            ("techniques", techniques),
            ("gradient", .object([
                ("colors", .array([.string("#ffe766"), .string("#ff6666")])),
                ("minValue", .int(1)),
                ("maxValue", .int(Int64(maxCount))),
            ])),
            ("legendItems", .array([])),
            ("showTacticRowBackground", .bool(false)),
            ("selectTechniquesAcrossTactics", .bool(true)),
            ("selectSubtechniquesWithParent", .bool(false)),
        ])
        return layer.serialized() + "\n"
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count - 1 { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c + String(repeating: " ", count: max(0, widths[i] - c.count))
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

extension AnalyticsContent {
    /// `osprey content rules [--json]`
    public func contentRulesListing(json: Bool) -> String { ContentListing.rules(self, json: json) }
    /// `osprey content models [--json]`
    public func contentModelsListing(json: Bool) -> String { ContentListing.models(self, json: json) }
    /// `osprey content mitre`
    public func mitreNavigatorLayer() -> String { ContentListing.mitreLayer(self) }
}
