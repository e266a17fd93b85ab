import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

/// `osprey parse --explain`: why each candidate parser took or refused a record.
extension ParseEngine {
    /// Why a line parses as it does: the framing (envelope, records), then for each record every parser of
    /// its format in order, with the reason each one did not take it (a condition absent, an excluding text
    /// present, the time unreadable or missing, a required field missing) until one does.
    public func explain(line text: String) -> String {
        var t = text
        return t.withUTF8 { explain(line: UnsafeRawBufferPointer($0)) }
    }

    public func explain(line: UnsafeRawBufferPointer) -> String {
        var out = ""
        func run() {
            guard line.count <= maxLineBytes else { out += "line too long: \(line.count) bytes > \(maxLineBytes)\n"; return }
            if let problem = byteProblem(line) { out += "invalid bytes: \(problem)\n"; return }
            pageTime = nil
            let format = RecordScanner.detect(line)
            out += "line: \(line.count) bytes, format \(format.rawValue)\n"
            var n = 0
            if format == .json {
                parseJSONLine(line, { r in
                    switch r {
                    case .reject(let j): out += "reject: \(j.reason.rawValue): \(j.detail)\n"
                    case .emptyPage: out += "an empty API page (no records): counted, neither event nor reject\n"
                    case .event: break
                    }
                }, { rec in
                    n += 1
                    out += "record \(n) (\(rec.count) bytes):\n"
                    explainRecord(rec, into: &out)
                })
            } else {
                out += "record 1:\n"
                explainRecord(line, into: &out)
            }
        }
        run()
        return out
    }

    private func explainRecord(_ record: UnsafeRawBufferPointer, into out: inout String) {
        var view = RecordView.empty
        if let r = scan(record, into: &view) { out += "  malformed JSON: \(r.detail)\n  → reject: malformed JSON\n"; return }
        let format = view.format
        let candidates = byFormat[format.ordinal]
        out += "  format \(format.rawValue): \(view.entries.count) keys; \(candidates.count) parsers read this format (\(parsers.count - candidates.count) others are not tried)\n"
        for k in conditionMemo.indices { conditionMemo[k] = 0 }
        var firstMiss: Reject?
        for i in candidates {
            let p = parsers[i]
            let where_ = "\(p.file.split(separator: "/").last ?? ""):\(p.line)"
            if let t = p.keyTests.first(where: { !$0.holds(view) }) {
                out += "  - \(p.name) (\(where_)): `\(t.text)` does not hold\n"
                continue
            }
            if let c = conditionIndex[i].first(where: { !present($0, record) }) {
                out += "  - \(p.name) (\(where_)): condition `\(String(decoding: conditionTexts[c], as: UTF8.self))` absent\n"
                continue
            }
            if let c = absentIndex[i].first(where: { present($0, record) }) {
                out += "  - \(p.name) (\(where_)): excluded, `\(String(decoding: conditionTexts[c], as: UTF8.self))` present\n"
                continue
            }
            switch build(i, view) {
            case .success(let e):
                pageTime = e.timeMillis
                out += "  - \(p.name) (\(where_)): TAKES the record → \(e.activityType.rawValue) at \(UTCTime.format(e.timeMillis)), user \(e.string(Fields.user) ?? "(none)"), record_type \(e.string(Fields.recordType) ?? "(none)")\n"
                return
            case .failure(let r):
                if firstMiss == nil { firstMiss = r }
                let why: String
                switch r.reason {
                case .badTime: why = "time unreadable"
                case .missingField: why = "required field missing"
                default: why = r.reason.rawValue
                }
                out += "  - \(p.name) (\(where_)): conditions hold, but \(why): \(r.detail)\n"
            }
        }
        let r = firstMiss ?? ParseEngine.noParser(view)
        out += "  → reject: \(r.reason.rawValue): \(r.detail)\n"
    }
}
