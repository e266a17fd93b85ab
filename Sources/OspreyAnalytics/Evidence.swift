import OspreyCore

/// How a rule trigger explains itself: the evidence of each model it read and the reason text.
extension AnalyticsEngine {
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
        if abs(d) >= 100 { return ExprValue.format(d.rounded()) }
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
