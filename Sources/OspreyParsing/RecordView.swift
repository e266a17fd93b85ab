import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

/// The shape a record was read in; a parser declares which one it reads.
public enum RecordFormat: String, Sendable, CaseIterable {
    case json   // raw Mimecast API JSON (SIEM v1/v2, audit, TTP, DLP, release, rejection…)
    case cef    // the connector wrapper: syslog + CEF extensions, raw JSON in cs6
    case kv     // pipe key=value: legacy SIEM lines, audit `mcType=auditLog` lines
    case text   // anything else: only `extract line = …` regexes apply

    /// Position in `allCases`, for per-format tables indexed without hashing.
    @inline(__always) var ordinal: Int {
        switch self { case .json: 0; case .cef: 1; case .kv: 2; case .text: 3 }
    }
}

/// One key/value of a record, as byte ranges into the record buffers (no copies until a parser maps it).
public struct RawEntry: Sendable {
    public var hash: UInt64
    public var key: Range<Int>
    public var value: JSONValueRange
    /// 0 = the record bytes, 1 = the inner JSON buffer (CEF `cs6` after unescaping).
    public var source: UInt8
}

/// A record seen as keys and values: JSON members (nested objects flattened to `a.b`), CEF extensions plus
/// the members of the embedded JSON, or pipe key=value pairs.
public struct RecordView {
    public let bytes: UnsafeRawBufferPointer
    public var inner: UnsafeRawBufferPointer
    public var format: RecordFormat
    public var entries: [RawEntry]
    /// Why the JSON in a CEF `cs6` did not scan (its members are then absent): added to the reject's detail
    /// when no parser takes the record.
    public var innerJSONError: String?
    /// Open-addressing table over `entries` (the engine's scratch, valid until its next record): slot
    /// `hash & mask` onwards holds the index of the last entry with that hash, -1 ends a probe. Nil until
    /// `index(into:)`, or when the record has too many keys for the table (then lookups scan).
    private var table: UnsafeMutablePointer<Int16>?

    init(bytes: UnsafeRawBufferPointer, format: RecordFormat, entries: [RawEntry] = [], reserve: Bool = true) {
        self.bytes = bytes
        self.inner = UnsafeRawBufferPointer(start: nil, count: 0)
        self.format = format
        self.entries = entries
        if reserve { self.entries.reserveCapacity(32) }
    }

    /// No record: what `scan(_:into:)` starts from.
    static var empty: RecordView { RecordView(bytes: UnsafeRawBufferPointer(start: nil, count: 0), format: .text, entries: [], reserve: false) }

    static let tableSlots = 256
    /// Entries past this leave the table unbuilt (kept at most half full, so probes stay short).
    static let tableMaxEntries = 128

    /// Indexes the entries by key hash; called once the scan is complete (entries do not change after).
    mutating func index(into slots: UnsafeMutablePointer<Int16>) {
        guard entries.count <= RecordView.tableMaxEntries else { table = nil; return }
        let mask = RecordView.tableSlots - 1
        slots.update(repeating: -1, count: RecordView.tableSlots)
        for (i, e) in entries.enumerated() {
            var s = Int(truncatingIfNeeded: e.hash) & mask
            while slots[s] >= 0, entries[Int(slots[s])].hash != e.hash { s = (s + 1) & mask }
            slots[s] = Int16(truncatingIfNeeded: i)   // a later key with the same hash replaces the earlier one
        }
        table = slots
    }

    @inline(__always) public func buffer(_ e: RawEntry) -> UnsafeRawBufferPointer { e.source == 0 ? bytes : inner }

    /// The last entry with this key hash (later keys win, as in JSON parsers).
    @inline(__always) public func entry(_ hash: UInt64) -> RawEntry? {
        if let table {
            let mask = RecordView.tableSlots - 1
            var s = Int(truncatingIfNeeded: hash) & mask
            while table[s] >= 0 {
                let e = entries[Int(table[s])]
                if e.hash == hash { return e }
                s = (s + 1) & mask
            }
            return nil
        }
        var i = entries.count - 1
        while i >= 0 {
            if entries[i].hash == hash { return entries[i] }
            i -= 1
        }
        return nil
    }

    public func string(_ e: RawEntry) -> String { JSONScanner(buffer(e)).string(e.value) }

    public func keyName(_ e: RawEntry) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer(e)[e.key]), as: UTF8.self)
    }
}

enum RecordScanError: Error { case json(JSONError) }

/// Builds RecordViews from record bytes.
enum RecordScanner {
    static let syslogTimeHash = FNV.hash("syslog_time")
    static let syslogHostHash = FNV.hash("syslog_host")
    static let cefSignatureHash = FNV.hash("cef_signature")
    static let cefNameHash = FNV.hash("cef_name")

    static func detect(_ b: UnsafeRawBufferPointer) -> RecordFormat {
        var p = 0
        while p < b.count, b[p] == 0x20 || b[p] == 0x09 { p += 1 }
        if p < b.count, b[p] == 0x7B || b[p] == 0x5B { return .json }
        if Bytes.find(cefMarker, in: b) != nil { return .cef }
        if Bytes.find(pipe, in: b) != nil, Bytes.find(equals, in: b) != nil { return .kv }
        return .text
    }

    nonisolated(unsafe) static let cefMarker = UnsafeRawBufferPointer(StaticBytes.make("CEF:"))
    nonisolated(unsafe) static let pipe = UnsafeRawBufferPointer(StaticBytes.make("|"))
    nonisolated(unsafe) static let equals = UnsafeRawBufferPointer(StaticBytes.make("="))
    nonisolated(unsafe) static let quote = UnsafeRawBufferPointer(StaticBytes.make("\""))

    static func scanJSON(_ view: inout RecordView, flattenDepth: Int) throws {
        let b = view.bytes
        let scanner = JSONScanner(b)
        var entries = view.entries
        view.entries = []   // one owner while appending, so the array is not copied
        defer { view.entries = entries }   // also when the scan throws: callers trim what it added
        do {
            let end = try scanner.members(ofObjectAt: scanner.skipSpace(0), flattenDepth: flattenDepth) { h, k, v in
                entries.append(RawEntry(hash: h, key: k, value: v, source: 0))
            }
            // Text after the object is not silently dropped: the line is malformed, as it is when it also
            // holds an envelope key and is read by the envelope pass.
            let rest = scanner.skipSpace(end)
            if rest < b.count { throw JSONError(offset: rest, reason: "unexpected text after JSON value") }
        } catch let e as JSONError { throw RecordScanError.json(e) }
    }

    /// `k1=v1|k2=\free text\|k3="quoted"|…`. A value wrapped in backslashes or quotes may hold `|`.
    static func scanKV(_ view: inout RecordView) {
        let b = view.bytes
        var p = 0
        let n = b.count
        while p < n {
            while p < n, b[p] == 0x7C || b[p] == 0x20 { p += 1 }
            let keyStart = p
            var h = FNV.offset
            while p < n, b[p] != 0x3D, b[p] != 0x7C { h = FNV.add(h, b[p]); p += 1 }
            guard p < n, b[p] == 0x3D else { continue }
            let keyEnd = p
            p += 1
            var vStart = p, vEnd = p
            if p < n, b[p] == 0x5C || b[p] == 0x22 { // \free text\ or "quoted"
                let q = b[p]
                vStart = p + 1
                var i = vStart
                var found = false
                while i < n {
                    if b[i] == q, i + 1 == n || b[i + 1] == 0x7C { found = true; break }
                    i += 1
                }
                if found {
                    vEnd = i; p = i + 1
                    // `"a.docx", "b.xlsx"` is a list of quoted names, not one quoted value: keep the quotes.
                    if q == 0x22, Bytes.find(quote, in: UnsafeRawBufferPointer(rebasing: b[vStart..<vEnd])) != nil {
                        vStart -= 1; vEnd += 1
                    }
                } else {
                    // Unclosed (collectors write `eventInfo="…` without the closing quote): the value ends
                    // where the next `|key=` begins, or at the end of the line.
                    vEnd = nextKVKey(b, from: vStart) ?? n
                    p = vEnd
                }
            } else {
                while p < n, b[p] != 0x7C { p += 1 }
                vEnd = p
            }
            // KV values are literal text: no unescaping.
            view.entries.append(RawEntry(hash: h, key: keyStart..<keyEnd,
                                         value: JSONValueRange(kind: .string, start: vStart, end: vEnd, escaped: false), source: 0))
        }
    }

    static func nextKVKey(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i < b.count {
            if b[i] == 0x7C {
                var k = i + 1
                while k < b.count, isKeyByte(b[k]) { k += 1 }
                if k > i + 1, k < b.count, b[k] == 0x3D { return i }
            }
            i += 1
        }
        return nil
    }

    /// Syslog header, CEF header and extensions; `cs6` (placed last by the connector) runs to the end of
    /// the line, and when it holds JSON its members become entries too.
    static func scanCEF(_ view: inout RecordView, scratch: Scratch, flattenDepth: Int) throws {
        let b = view.bytes
        let n = b.count
        guard let cef = Bytes.find(cefMarker, in: b) else { return }
        // Syslog header: `<PRI>1 TIMESTAMP HOST …` (RFC 5424) — take the timestamp and host tokens.
        var p = 0
        if p < n, b[p] == 0x3C {
            while p < cef, b[p] != 0x3E { p += 1 }
            p += 1
            while p < cef, b[p] != 0x20 { p += 1 } // version
            p += 1
            let ts = p
            while p < cef, b[p] != 0x20 { p += 1 }
            if p > ts {
                view.entries.append(RawEntry(hash: syslogTimeHash, key: ts..<ts, value: JSONValueRange(kind: .string, start: ts, end: p, escaped: false), source: 0))
            }
            p += 1
            let hs = p
            while p < cef, b[p] != 0x20 { p += 1 }
            if p > hs {
                view.entries.append(RawEntry(hash: syslogHostHash, key: hs..<hs, value: JSONValueRange(kind: .string, start: hs, end: p, escaped: false), source: 0))
            }
        }
        // CEF header: CEF:0|vendor|product|version|signature|name|severity|
        p = cef
        var bars = 0
        var fieldStart = p
        while p < n, bars < 7 {
            if b[p] == 0x5C { p += 2; continue }
            if b[p] == 0x7C {
                bars += 1
                if bars == 5 { view.entries.append(RawEntry(hash: cefSignatureHash, key: fieldStart..<fieldStart, value: JSONValueRange(kind: .string, start: fieldStart, end: p, escaped: false), source: 0)) }
                if bars == 6 { view.entries.append(RawEntry(hash: cefNameHash, key: fieldStart..<fieldStart, value: JSONValueRange(kind: .string, start: fieldStart, end: p, escaped: false), source: 0)) }
                fieldStart = p + 1
            }
            p += 1
        }
        // Extensions: key=value, a value ends where the next ` word=` begins. `key =value` (space before =)
        // is accepted, as the connector writes `destinationServiceName =Mimecast Email Security`.
        while p < n {
            while p < n, b[p] == 0x20 { p += 1 }
            let keyStart = p
            var h = FNV.offset
            while p < n, isKeyByte(b[p]) { h = FNV.add(h, b[p]); p += 1 }
            let keyEnd = p
            var q = p
            while q < n, b[q] == 0x20 { q += 1 }
            guard keyEnd > keyStart, q < n, b[q] == 0x3D else {
                // Not a key: skip to the next space and try again.
                while p < n, b[p] != 0x20 { p += 1 }
                continue
            }
            let vStart = q + 1
            let isCS6 = keyEnd - keyStart == 3 && b[keyStart] == 0x63 && b[keyStart + 1] == 0x73 && b[keyStart + 2] == 0x36
            var vEnd = n
            if !isCS6 { vEnd = nextExtensionStart(b, from: vStart) }
            var e = vEnd
            while e > vStart, b[e - 1] == 0x20 { e -= 1 }
            view.entries.append(RawEntry(hash: h, key: keyStart..<keyEnd,
                                         value: JSONValueRange(kind: .string, start: vStart, end: e, escaped: false), source: 0))
            p = vEnd
            if isCS6 {
                // A cs6 that is not JSON (e.g. another product's python-dict text) leaves the extensions usable.
                let before = view.entries.count
                do { try scanEmbeddedJSON(&view, from: vStart, to: e, scratch: scratch, flattenDepth: flattenDepth) }
                catch {
                    view.entries.removeSubrange(before...); view.inner = UnsafeRawBufferPointer(start: nil, count: 0)
                    if case RecordScanError.json(let j) = error { view.innerJSONError = "cs6: \(j.description)" }
                }
            }
        }
    }

    @inline(__always) static func isKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2E || c == 0x2D
    }

    /// Offset of the space that starts the next ` key=` (or ` key =`) after `from`, or the end.
    /// Found from the `=` signs (memchr), walking back over the key: values are mostly words separated by
    /// spaces, so testing every space for a following key cost 8% of connector parsing. Each `=` belongs to
    /// at most one candidate space and they come in the same order, so the first `=` that passes gives the
    /// same space a forward walk over the spaces would (RecordScannerTests holds the two side by side).
    static func nextExtensionStart(_ b: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = b.count
        guard let base = b.baseAddress, from < n else { return n }
        var at = from
        while at < n {
            guard let hit = memchr(base + at, 0x3D, n - at) else { return n }
            let q = base.distance(to: UnsafeRawPointer(hit))
            at = q + 1
            var k = q
            let spaced = k > from && b[k - 1] == 0x20
            if spaced { k -= 1 }
            var s = k
            while s > from, isKeyByte(b[s - 1]) { s -= 1 }
            guard s < k, s - 1 >= from, b[s - 1] == 0x20 else { continue }
            if !spaced || isConnectorSpacedKey(b, s, k) { return s - 1 }
        }
        return n
    }

    /// Only a few known keys are written with a space before `=`; elsewhere ` word =` is value text.
    static func isConnectorSpacedKey(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Bool {
        let want = connectorSpacedKey
        guard e - s == want.count, let base = b.baseAddress else { return false }
        return want.withUnsafeBytes { memcmp(base + s, $0.baseAddress!, want.count) == 0 }
    }
    static let connectorSpacedKey = Array("destinationServiceName".utf8)

    /// The JSON in `cs6` may be literal (`{"a":1}`), escaped once (`{\"a\":1}`), or CSV-doubled
    /// (`{""a"":1}`); it is normalised into `innerStorage` when it is not literal.
    static func scanEmbeddedJSON(_ view: inout RecordView, from: Int, to: Int, scratch: Scratch, flattenDepth: Int) throws {
        let b = view.bytes
        var s = from
        while s < to, b[s] == 0x20 { s += 1 }
        guard s < to, b[s] == 0x7B else { return }
        let raw = UnsafeRawBufferPointer(rebasing: b[s..<to])
        let escapedQuote = raw.count > 2 && raw[1] == 0x5C && raw[2] == 0x22
        let doubledQuote = raw.count > 2 && raw[1] == 0x22 && raw[2] == 0x22
        if !escapedQuote && !doubledQuote {
            let scanner = JSONScanner(b)
            var entries = view.entries
            view.entries = []   // one owner while appending, so the array is not copied
            defer { view.entries = entries }   // also when the scan throws: callers trim what it added
            do {
                _ = try scanner.members(ofObjectAt: s, flattenDepth: flattenDepth) { h, k, v in
                    entries.append(RawEntry(hash: h, key: k, value: v, source: 0))
                }
            } catch let e as JSONError { throw RecordScanError.json(e) }
            return
        }
        let out = scratch.reserve(raw.count)
        var i = 0, o = 0
        while i < raw.count {
            let c = raw[i]
            if escapedQuote, c == 0x5C, i + 1 < raw.count, raw[i + 1] == 0x22 || raw[i + 1] == 0x5C { out[o] = raw[i + 1]; o += 1; i += 2; continue }
            if doubledQuote, c == 0x22, i + 1 < raw.count, raw[i + 1] == 0x22 { out[o] = 0x22; o += 1; i += 2; continue }
            out[o] = c; o += 1; i += 1
        }
        let innerBuf = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<o])
        view.inner = innerBuf
        let scanner = JSONScanner(innerBuf)
        var entries = view.entries
        view.entries = []   // one owner while appending, so the array is not copied
        defer { view.entries = entries }   // also when the scan throws: callers trim what it added
        do {
            _ = try scanner.members(ofObjectAt: 0, flattenDepth: flattenDepth) { h, k, v in
                entries.append(RawEntry(hash: h, key: k, value: v, source: 1))
            }
        } catch let e as JSONError { throw RecordScanError.json(e) }
    }
}

/// Static byte strings that live for the whole process.
enum StaticBytes {
    static func make(_ s: String) -> UnsafeMutableRawBufferPointer {
        let bytes = Array(s.utf8)
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        p.copyBytes(from: bytes)
        return p
    }
}

/// Reusable buffers owned by one engine; views into them stay valid until the next record: the raw buffer
/// (`reserve`), the entries array and the key table of the record view.
public final class Scratch {
    private var storage: UnsafeMutableRawBufferPointer
    @exclusivity(unchecked) private var entries: [RawEntry] = []   // taken and recycled once per record
    let keyTable = UnsafeMutablePointer<Int16>.allocate(capacity: RecordView.tableSlots)
    public init(capacity: Int = 4096) { storage = .allocate(byteCount: capacity, alignment: 8) }
    deinit { storage.deallocate(); keyTable.deallocate() }

    /// The entries array of the last record, emptied with its capacity kept (the last view is gone by then,
    /// so the array is not copied).
    func takeEntries() -> [RawEntry] {
        var e = entries
        entries = []
        e.removeAll(keepingCapacity: true)
        return e
    }

    func recycle(_ e: [RawEntry]) { entries = e }

    public func reserve(_ n: Int) -> UnsafeMutableRawBufferPointer {
        if storage.count < n {
            storage.deallocate()
            storage = .allocate(byteCount: max(n, storage.count * 2), alignment: 8)
        }
        return storage
    }
}
