import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

public enum RejectReason: String, Sendable, CaseIterable {
    case noParser = "no parser matched"
    case missingField = "missing required field"
    case badTime = "bad time"
    case tooLong = "line too long"
    case invalidBytes = "invalid bytes"
    case malformedJSON = "malformed JSON"
    /// A scalar where a record belongs: `5` or `"junk"` inside an envelope's array, `[1,2,3]`.
    case notARecord = "not a record"
    /// Quarantined by the pipeline's time sanity check (more than the allowed skew ahead).
    case futureTime = "time in the future"
}

public struct Reject: Error, Sendable {
    public var reason: RejectReason
    public var detail: String
    public init(reason: RejectReason, detail: String) { self.reason = reason; self.detail = detail }
}

/// What one line became: events, rejects, or an empty API page (`"data":[]`), which is neither.
public enum ParseResult {
    case event(Event)
    case reject(Reject)
    case emptyPage
}

/// Turns lines into normalized events with the loaded parser definitions. One engine per thread: it owns
/// scratch buffers and regex match data.
public final class ParseEngine {
    public let parsers: [ParserDefinition]
    public let activityMap: ActivityMap
    @exclusivity(unchecked) public var maxLineBytes: Int
    /// Room for fields later stages add (enrichment), reserved when an event is built so that adding them
    /// does not reallocate its field arrays; 0 for `osprey parse`, which adds none.
    @exclusivity(unchecked) public var spareFieldCapacity = 0
    /// Per parser: the most fields its events get here (its own writes and the event builder's).
    let fieldCapacity: [Int]
    let byFormat: [[Int]]   // per RecordFormat.ordinal: the parsers of that format, in order
    /// Per parser: its key tests, held by the engine (immutable, so walking them needs no exclusivity check
    /// on the definition's properties).
    let keyTestsOf: [[KeyTest]]
    let scratch = Scratch()
    /// Per parser: its activity rule (every parser has one, or the engine is refused).
    let rules: [ActivityRule]
    /// Distinct condition strings over all parsers; each is searched at most once per record.
    let conditionTexts: [[UInt8]]
    let conditionIndex: [[Int]]   // per parser: indices into conditionTexts
    let absentIndex: [[Int]]
    /// Per parser: whether it has substring conditions at all (few do since key tests; testing this flat
    /// flag first saves retaining two empty lists per parser tried).
    let hasSubstringTests: [Bool]
    /// Per record: 0 unknown, 1 present, 2 absent. This and `pageTime` are the engine's own per-record
    /// state (an engine parses on one thread, and no access to them overlaps another): unchecked, as the
    /// dynamic exclusivity checks were 2% of connector parsing.
    @exclusivity(unchecked) var conditionMemo: [UInt8]
    /// The time of the last event of the current line (an API page): what `time_missing = page` parsers use.
    @exclusivity(unchecked) var pageTime: Int64?

    static let timeSource = Field.named("time_source")

    public init(parsers: [ParserDefinition], activityMap: ActivityMap, maxLineBytes: Int = 4 << 20) throws {
        self.parsers = parsers
        self.activityMap = activityMap
        self.maxLineBytes = maxLineBytes
        var idx = [[Int]](repeating: [], count: RecordFormat.allCases.count)
        for (i, p) in parsers.enumerated() { idx[p.format.ordinal].append(i) }
        byFormat = idx
        keyTestsOf = parsers.map(\.keyTests)
        var rules: [ActivityRule] = []
        for p in parsers {
            guard let r = activityMap.rules[p.activity] else {
                throw ContentError(file: p.file, line: p.line, reason: "parser '\(p.name)' names activity '\(p.activity)', which Content/mappings/activity.conf does not define")
            }
            rules.append(r)
        }
        self.rules = rules
        fieldCapacity = parsers.map { $0.writes.count + ParseEngine.writes.count }
        var texts: [[UInt8]] = []
        var ids: [[UInt8]: Int] = [:]
        func id(_ c: [UInt8]) -> Int {
            if let i = ids[c] { return i }
            texts.append(c); ids[c] = texts.count - 1
            return texts.count - 1
        }
        conditionIndex = parsers.map { $0.conditions.map(id) }
        absentIndex = parsers.map { $0.absent.map(id) }
        hasSubstringTests = parsers.map { !$0.conditions.isEmpty || !$0.absent.isEmpty }
        conditionTexts = texts
        conditionMemo = [UInt8](repeating: 0, count: texts.count)
    }

    /// Loads parsers and the activity table from a content directory (with parsers/, mappings/ and the
    /// field catalog fields/fields.conf, which every field a parser or the event builder writes must be in).
    public convenience init(contentDirectory dir: String) throws {
        let catalog = try FieldCatalog.load(contentDirectory: dir)
        try self.init(parsers: try ParserLoader.load(directory: dir + "/parsers", catalog: catalog),
                      activityMap: try ActivityMap.load(file: dir + "/mappings/activity.conf"))
        try catalog.check(writes: ParseEngine.writes.map(\.name), at: .parse, by: "the event builder")
    }

    /// What the engine writes beside the parsers' own fields: the event builder's derived fields and
    /// time_source.
    public static var writes: [Field] { EventBuilder.writes + [timeSource] }

    public func parse(line text: String, _ emit: (ParseResult) -> Void) {
        var t = text
        t.withUTF8 { parse(line: UnsafeRawBufferPointer($0), emit) }
    }

    public func parse(line: UnsafeRawBufferPointer, _ emit: (ParseResult) -> Void) {
        guard line.count <= maxLineBytes else {
            emit(.reject(Reject(reason: .tooLong, detail: "\(line.count) bytes > \(maxLineBytes)"))); return
        }
        if let problem = byteProblem(line) { emit(.reject(Reject(reason: .invalidBytes, detail: problem))); return }
        pageTime = nil
        let format = RecordScanner.detect(line)
        parseRecord(line, emit, format: format, wholeJSONLine: format == .json)
    }

    func byteProblem(_ b: UnsafeRawBufferPointer) -> String? {
        guard let base = b.baseAddress else { return nil }
        if memchr(base, 0, b.count) != nil { return "NUL byte" }
        // Thirty-two bytes per step (two 16-byte vectors OR-ed): any high bit means non-ASCII, which then gets
        // a full UTF-8 check.
        var i = 0
        var wide = SIMD16<UInt8>(repeating: 0), wide2 = SIMD16<UInt8>(repeating: 0)
        while i + 32 <= b.count {
            wide |= b.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            wide2 |= b.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<UInt8>.self)
            i += 32
        }
        var high = (wide | wide2).max()
        while i < b.count { high |= b[i]; i += 1 }
        if high & 0x80 != 0, !Bytes.isValidUTF8(b) { return "invalid UTF-8" }
        return nil
    }

    // MARK: One record

    /// The record's format and its keys and values (parse and --explain read records the same way), or the
    /// reject of a malformed JSON record. The view is filled in place (no Result to copy it through).
    /// `format`: the record's format when the caller already detected it (a whole line).
    func scan(_ record: UnsafeRawBufferPointer, format: RecordFormat? = nil, into view: inout RecordView) -> Reject? {
        view = RecordView(bytes: record, format: format ?? RecordScanner.detect(record), entries: scratch.takeEntries())
        do {
            switch view.format {
            case .json: try RecordScanner.scanJSON(&view, flattenDepth: 2)
            case .cef: try RecordScanner.scanCEF(&view, scratch: scratch, flattenDepth: 2)
            case .kv: RecordScanner.scanKV(&view)
            case .text: break
            }
        } catch RecordScanError.json(let e) {
            return Reject(reason: .malformedJSON, detail: e.description)
        } catch {
            return Reject(reason: .malformedJSON, detail: "\(error)")
        }
        view.index(into: scratch.keyTable)
        return nil
    }

    /// One record: scanned once, then the first parser of its format whose tests hold and that builds an
    /// event, or the reject. `wholeJSONLine`: the record is a whole JSON line, mostly one plain record; a line
    /// that does not scan as one object (several objects, an array, malformed) or whose keys show records
    /// inside it goes through the envelope pass instead, which reads the line value by value.
    private func parseRecord(_ record: UnsafeRawBufferPointer, _ emit: (ParseResult) -> Void,
                             format known: RecordFormat? = nil, wholeJSONLine: Bool = false) {
        var view = RecordView.empty
        let bad = scan(record, format: known, into: &view)
        if wholeJSONLine, bad != nil || ParseEngine.mayHoldRecords(view) {
            scratch.recycle(view.entries)
            parseJSONLine(record, emit) { parseRecord($0, emit) }
            return
        }
        defer { scratch.recycle(view.entries) }
        if let r = bad { emit(.reject(r)); return }
        let format = view.format
        var firstMiss: Reject?
        for k in conditionMemo.indices { conditionMemo[k] = 0 }
        for i in byFormat[format.ordinal] {
            guard keyTestsHold(i, view), conditionsHold(i, record) else { continue }
            switch build(i, view) {
            case .success(let event): pageTime = event.timeMillis; emit(.event(event)); return
            case .failure(let r): if firstMiss == nil { firstMiss = r }
            }
        }
        emit(.reject(firstMiss ?? ParseEngine.noParser(view)))
    }

    /// The reject of a record no parser's tests accept, naming why its `cs6` JSON did not scan when it did
    /// not (a truncated connector record): its keys are then missing, which is why no parser took it. The
    /// reason stays "no parser matched": another product's `cs6` need not be JSON at all.
    static func noParser(_ view: RecordView) -> Reject {
        var detail = "format \(view.format.rawValue)"
        if let bad = view.innerJSONError { detail += "; \(bad)" }
        return Reject(reason: .noParser, detail: detail)
    }

    @inline(__always) func present(_ c: Int, _ record: UnsafeRawBufferPointer) -> Bool {
        let m = conditionMemo[c]
        if m != 0 { return m == 1 }
        let hit = conditionTexts[c].withUnsafeBytes { Bytes.find($0, in: record) != nil }
        conditionMemo[c] = hit ? 1 : 2
        return hit
    }

    /// Key tests are one hash probe each (a value test adds a compare), so they are not memoized across
    /// parsers as substring conditions are: a per-record memo measured no faster.
    @inline(__always) private func keyTestsHold(_ i: Int, _ view: RecordView) -> Bool {
        // Most records fail several parsers' first test: borrowed, not retained, as the engine owns them
        // (retain and release per parser tried were 2.6% of connector parsing).
        keyTestsOf[i].withUnsafeBufferPointer { tests in
            for k in tests.indices {
                unowned(unsafe) let t = tests[k]
                if !t.holds(view) { return false }
            }
            return true
        }
    }

    @inline(__always) private func conditionsHold(_ i: Int, _ record: UnsafeRawBufferPointer) -> Bool {
        guard hasSubstringTests[i] else { return true }
        for c in conditionIndex[i] where !present(c, record) { return false }
        for c in absentIndex[i] where present(c, record) { return false }
        return true
    }

    func build(_ i: Int, _ view: RecordView) -> Result<Event, Reject> {
        let p = parsers[i], rule = rules[i]
        // Time first: a record without a usable time cannot be placed in history.
        var time: Int64?
        var timeText: String?
        for (_, h) in p.timeKeys {
            guard let e = view.entry(h), e.value.kind != .null else { continue }
            let buf = view.buffer(e)
            let raw = UnsafeRawBufferPointer(rebasing: buf[e.value.start..<e.value.end])
            if let t = UTCTime.parse(raw), formAllowed(p.timeFormBits, raw) { time = t; break }
            timeText = String(decoding: raw, as: UTF8.self)
        }
        var fromPage = false
        if time == nil, timeText == nil, p.timeMissing == .page, let t = pageTime { time = t; fromPage = true }
        guard let time else {
            if let bad = timeText { return .failure(Reject(reason: .badTime, detail: "\(p.name): '\(bad.prefix(64))'")) }
            return .failure(Reject(reason: .missingField, detail: "\(p.name): time (\(p.timeKeys.map(\.0).joined(separator: ", ")))"))
        }
        var event = Event(parser: p.name, activityType: .appActivity, timeMillis: time, capacity: fieldCapacity[i] + spareFieldCapacity)
        if fromPage { event[ParseEngine.timeSource] = .string("page") }
        for m in p.mappings {
            guard !event.has(m.field), let e = view.entry(m.keyHash), e.value.kind != .null else { continue }
            guard let v = value(of: e, in: view, transforms: m.transforms) else { continue }
            event.appendNew(m.field, v)
        }
        for (f, v) in p.constants where !event.has(f) { event.appendNew(f, .string(v)) }
        for x in p.extractions {
            if let src = x.source {
                guard let v = event[src] else { continue }
                var text = v.text
                text.withUTF8 { b in
                    let raw = UnsafeRawBufferPointer(b)
                    x.regex.match(raw) { name, r in
                        if let f = x.fields.first(where: { $0.name == name })?.field, !event.has(f) {
                            event[f] = .string(String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self))
                        }
                    }
                }
            } else {
                let raw = view.bytes
                x.regex.match(raw) { name, r in
                    if let f = x.fields.first(where: { $0.name == name })?.field, !event.has(f) {
                        event[f] = .string(String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self))
                    }
                }
            }
        }
        for (from, to) in p.copies where !event.has(to) {
            if let v = event[from] { event.appendNew(to, v) }
        }
        for f in p.required where !event.has(f) {
            return .failure(Reject(reason: .missingField, detail: "\(p.name): \(f.name)"))
        }
        EventBuilder.finish(&event, rule: rule)
        if !event.has(Fields.user), p.required.contains(Fields.user) {
            return .failure(Reject(reason: .missingField, detail: "\(p.name): user"))
        }
        return .success(event)
    }

    /// A JSON integer literal (`-?[0-9]+`) as Int64 with checked arithmetic: nil for anything else,
    /// including values beyond Int64 (`9223372036854775808`), which then stay text.
    static func integer(_ raw: UnsafeRawBufferPointer) -> Int64? {
        var k = 0
        let neg = raw.count > 0 && raw[0] == 0x2D
        if neg { k = 1 }
        guard raw.count > k else { return nil }
        var n: Int64 = 0
        while k < raw.count {
            let c = raw[k]
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            // Accumulate negatively so Int64.min is representable.
            let (a, o2) = m.subtractingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 { return nil }
            n = a
            k += 1
        }
        if neg { return n }
        return n == .min ? nil : -n
    }

    /// The text before the first byte of `sep` (an ASCII separator), or nil when it does not occur:
    /// `1.2.3.4:25` → `1.2.3.4`. With `:`, a value holding several colons (an IPv6 address) is left whole.
    /// Read as bytes, not Characters: the separator is one ASCII byte and the grapheme walk was 3% of parsing.
    static func textBefore(_ sep: UInt8, in s: String) -> String? {
        var t = s
        return t.withUTF8 { b -> String? in
            guard let i = b.firstIndex(of: sep) else { return nil }
            if sep == 0x3A, b[(i + 1)...].contains(0x3A) { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: b[..<i]), as: UTF8.self)
        }
    }

    static func isHex(_ s: String, length: Int) -> Bool {
        s.utf8.count == length && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    /// `Attachment Protect` / `attachment_protect` → `attachment-protect`.
    static func slug(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var pendingDash = false
        for c in s.utf8 {
            if c == 0x20 || c == 0x5F || c == 0x2D || c == 0x09 { pendingDash = !out.isEmpty; continue }
            if pendingDash { out.append(0x2D); pendingDash = false }
            out.append(c >= 0x41 && c <= 0x5A ? c + 32 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func formAllowed(_ forms: UInt8, _ raw: UnsafeRawBufferPointer) -> Bool {
        if forms & TimeForm.auto.bit != 0 { return true }
        var digits = 0
        for c in raw where c >= 0x30 && c <= 0x39 { digits += 1 }
        let allDigits = digits == raw.count
        let form: TimeForm = allDigits ? (raw.count >= 12 ? .epochMillis : .epochSeconds) : .iso8601
        return forms & form.bit != 0
    }

    private func value(of e: RawEntry, in view: RecordView, transforms: [ValueTransform]) -> Value? {
        let buf = view.buffer(e)
        var v: Value
        switch e.value.kind {
        case .number:
            let raw = UnsafeRawBufferPointer(rebasing: buf[e.value.start..<e.value.end])
            v = ParseEngine.integer(raw).map(Value.int) ?? .string(String(decoding: raw, as: UTF8.self))
        case .bool:
            v = .bool(buf[e.value.start] == 0x74)
        case .array:
            let scanner = JSONScanner(buf)
            let items = (try? scanner.elements(of: e.value)) ?? []
            v = .list(items.map { scanner.string($0) })
        default:
            v = .string(view.string(e))
        }
        for t in transforms {
            switch t {
            case .noneIf(let values):
                if values.contains(where: { ASCII.equalsIgnoringCase(v.text, lowered: $0) }) { return nil }
            case .stripAngle:
                if case .string(let s) = v { v = .string(EventBuilder.stripAngle(s)) }
                else if case .list(let l) = v { v = .list(l.map(EventBuilder.stripAngle)) }
            case .lower:
                if case .string(let s) = v { v = .string(ASCII.lowercased(s)) }
                else if case .list(let l) = v { v = .list(l.map(ASCII.lowercased)) }
            case .list:
                if case .string(let s) = v { v = .list(EventBuilder.splitNames(s)) }
            case .first:
                if case .list(let l) = v { guard let f = l.first else { return nil }; v = .string(f) }
            case .int:
                guard let i = v.asInt else { return nil }
                v = .int(i)
            case .trimBackslashes:
                if case .string(let s) = v { v = .string(s.trimmingCharacters(in: "\\")) }
            case .const(let c):
                v = .string(c)
            case .whenKey(let h):
                if view.entry(h) == nil { return nil }
            case .unlessKey(let h):
                if view.entry(h) != nil { return nil }
            case .hash(let n):
                guard case .string(let s) = v, ParseEngine.isHex(s, length: n) else { return nil }
            case .notHash(let ns):
                if case .string(let s) = v, ns.contains(where: { ParseEngine.isHex(s, length: $0) }) { return nil }
            case .slug:
                if case .string(let s) = v { v = .string(ParseEngine.slug(s)) }
                else if case .list(let l) = v { v = .list(l.map(ParseEngine.slug)) }
            case .before(let sep):
                if case .string(let s) = v, let head = ParseEngine.textBefore(sep, in: s) { v = .string(head) }
            }
        }
        if case .string(let s) = v, s.isEmpty { return nil }
        if case .list(let l) = v, l.isEmpty { return nil }
        return v
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
