import OspreyCore

// JSON lines: one or more values on a line, API envelopes and collector wrappers unwrapped into records.
extension ParseEngine {
    /// Envelope members whose array elements are the records (`{"type":"MTA","data":[…]}`,
    /// `{"meta":…,"data":[…],"fail":[]}`, held-release `heldReleaseLogs`, collector `events`).
    static let envelopeKeys: Set<String> = ["data", "heldReleaseLogs", "events"]

    static let envelopeKeyHashes = envelopeKeys.map(FNV.hash)

    /// Whether a JSON line's scanned keys may show records inside it: an envelope's array (`data`,
    /// `heldReleaseLogs`, `events`), a collector wrapper (the only member is a string holding JSON,
    /// `{"message":"{…}"}`), or an ECS document's `event.original` holding JSON. Only a filter: such a line
    /// goes to the envelope pass (`collect`), which decides; it must never answer false where `collect`
    /// would unwrap. Top-level keys hash as their own name, nested ones as their dotted path; every entry
    /// is looked at (not the last of each key), so a repeated key cannot hide an envelope.
    static func mayHoldRecords(_ view: RecordView) -> Bool {
        func holdsJSON(_ e: RawEntry) -> Bool {
            e.value.kind == .string && e.value.end > e.value.start && view.buffer(e)[e.value.start] == 0x7B
        }
        if view.entries.count == 1, holdsJSON(view.entries[0]) { return true }
        for e in view.entries {
            if e.value.kind == .array, envelopeKeyHashes.contains(e.hash) { return true }
            if e.hash == eventOriginalHash, holdsJSON(e) { return true }
        }
        return false
    }

    func parseJSONLine(_ line: UnsafeRawBufferPointer, _ emit: (ParseResult) -> Void,
                               _ onRecord: (UnsafeRawBufferPointer) -> Void) {
        let scanner = JSONScanner(line)
        var records: [JSONValueRange] = []
        var decoded: [[UInt8]] = []
        var scalars: [String] = []
        var sawEnvelope = false
        do {
            var p = scanner.skipSpace(0)
            while p < line.count {
                let (v, after) = try scanner.value(at: p)
                try collect(v, in: scanner, records: &records, decoded: &decoded, scalars: &scalars, sawEnvelope: &sawEnvelope)
                p = scanner.skipSpace(after)
                if p < line.count, line[p] == 0x2C { p = scanner.skipSpace(p + 1) } // `},{` on one line
                else if p < line.count, line[p] != 0x7B, line[p] != 0x5B {
                    throw JSONError(offset: p, reason: "unexpected text after JSON value")
                }
            }
        } catch let e as JSONError {
            emit(.reject(Reject(reason: .malformedJSON, detail: e.description))); return
        } catch {
            emit(.reject(Reject(reason: .malformedJSON, detail: "\(error)"))); return
        }
        if records.isEmpty && decoded.isEmpty && scalars.isEmpty {
            if sawEnvelope { emit(.emptyPage) } else { emit(.reject(Reject(reason: .noParser, detail: "JSON with no record"))) }
            return
        }
        for r in records { onRecord(UnsafeRawBufferPointer(rebasing: line[r.start..<r.end])) }
        for d in decoded { d.withUnsafeBytes { parseJSONLine($0, emit, onRecord) } }
        for s in scalars { emit(.reject(Reject(reason: .notARecord, detail: s))) }
    }

    private func collect(_ v: JSONValueRange, in scanner: JSONScanner, records: inout [JSONValueRange],
                         decoded: inout [[UInt8]], scalars: inout [String], sawEnvelope: inout Bool) throws {
        switch v.kind {
        case .array:
            sawEnvelope = true
            for e in try scanner.elements(of: v) { try collect(e, in: scanner, records: &records, decoded: &decoded, scalars: &scalars, sawEnvelope: &sawEnvelope) }
        case .object:
            // An envelope has an array member named data/heldReleaseLogs/events; a collector wrapper is an
            // object whose only member is a string holding JSON (`{"message":"{…}"}`).
            var envelopeArrays: [JSONValueRange] = []
            var members = 0
            var onlyString: JSONValueRange?
            _ = try scanner.members(ofObjectAt: v.start, flattenDepth: 1) { _, k, val in
                members += 1
                if val.kind == .array {
                    let key = UnsafeRawBufferPointer(rebasing: scanner.buf[k])
                    for name in ParseEngine.envelopeKeys where key.elementsEqual(name.utf8) { envelopeArrays.append(val) }
                }
                if val.kind == .string { onlyString = val }
            }
            if !envelopeArrays.isEmpty {
                sawEnvelope = true
                for a in envelopeArrays {
                    for e in try scanner.elements(of: a) { try collect(e, in: scanner, records: &records, decoded: &decoded, scalars: &scalars, sawEnvelope: &sawEnvelope) }
                }
            } else if members == 1, let s = onlyString, s.end > s.start, scanner.buf[s.start] == 0x7B {
                decoded.append(Array(scanner.string(s).utf8))
            } else if let original = try ecsOriginal(v, in: scanner) {
                // An Elastic (ECS) document keeps the raw Mimecast record in `event.original`.
                decoded.append(Array(scanner.string(original).utf8))
            } else {
                records.append(v)
            }
        case .string where v.end > v.start && scanner.buf[v.start] == 0x7B:
            decoded.append(Array(scanner.string(v).utf8))
        default:
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: scanner.buf[(v.kind == .string ? v.start - 1 : v.start)..<min(scanner.buf.count, v.end + (v.kind == .string ? 1 : 0))].prefix(64)), as: UTF8.self)
            scalars.append("\(v.kind) \(text) where a record belongs")
        }
    }

    static let eventOriginalHash = FNV.hash("event.original")
    nonisolated(unsafe) static let ecsMarker = UnsafeRawBufferPointer(StaticBytes.make("\"original\""))

    /// `event.original` of an ECS document when it is a string holding a JSON object.
    private func ecsOriginal(_ v: JSONValueRange, in scanner: JSONScanner) throws -> JSONValueRange? {
        guard Bytes.find(ParseEngine.ecsMarker, in: UnsafeRawBufferPointer(rebasing: scanner.buf[v.start..<v.end])) != nil else { return nil }
        var found: JSONValueRange?
        _ = try scanner.members(ofObjectAt: v.start, flattenDepth: 2) { h, _, val in
            if h == ParseEngine.eventOriginalHash, val.kind == .string, val.end > val.start, scanner.buf[val.start] == 0x7B { found = val }
        }
        return found
    }
}
