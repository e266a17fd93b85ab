import OspreyCore

/// Durable form of the analytics engine's state (models, open sessions, user history, clock, counters):
/// a versioned little-endian binary image. `restore` into an engine built from the same content and
/// options gives an engine whose future outputs equal those of the engine the snapshot was taken from —
/// including the rarity caches of large histograms, which depend on history.
public enum AnalyticsSnapshotError: Error, CustomStringConvertible {
    case badMagic, badVersion(UInt32), truncated, contentMismatch(String)
    public var description: String {
        switch self {
        case .badMagic: return "not an analytics snapshot"
        case .badVersion(let v): return "unsupported analytics snapshot version \(v)"
        case .truncated: return "truncated analytics snapshot"
        case .contentMismatch(let s): return "snapshot was taken with other content: \(s)"
        }
    }
}

public struct SnapshotWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func int(_ v: Int) { i64(Int64(v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    public mutating func str(_ s: String) { let u = Array(s.utf8); u32(UInt32(u.count)); bytes.append(contentsOf: u) }
    public mutating func u32s(_ a: [UInt32]) {
        u32(UInt32(a.count)); bytes.reserveCapacity(bytes.count + a.count * 4)
        for v in a { u32(v) }
    }
}

public struct SnapshotReader {
    let bytes: [UInt8]
    var pos = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var atEnd: Bool { pos == bytes.count }
    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, pos + n <= bytes.count else { throw AnalyticsSnapshotError.truncated }
        defer { pos += n }
        return bytes[pos..<pos + n]
    }
    public mutating func u8() throws -> UInt8 { try take(1).first! }
    public mutating func u32() throws -> UInt32 {
        let s = try take(4); var v: UInt32 = 0
        for (k, b) in s.enumerated() { v |= UInt32(b) << (8 * UInt32(k)) }
        return v
    }
    public mutating func u64() throws -> UInt64 {
        let s = try take(8); var v: UInt64 = 0
        for (k, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
        return v
    }
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func int() throws -> Int { Int(try i64()) }
    public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    public mutating func bool() throws -> Bool { try u8() != 0 }
    public mutating func str() throws -> String { String(decoding: try take(Int(try u32())), as: UTF8.self) }
    public mutating func u32s() throws -> [UInt32] {
        let n = Int(try u32())
        guard n * 4 <= bytes.count - pos else { throw AnalyticsSnapshotError.truncated }
        var a = [UInt32](); a.reserveCapacity(n)
        for _ in 0..<n { a.append(try u32()) }
        return a
    }
}

extension AnalyticsEngine {
    static let snapshotMagic: UInt32 = 0x4F53_4153   // "OSAS"
    static let snapshotVersion: UInt32 = 1

    /// Content identity checked on restore: the models and rules, in order.
    var contentSignature: String {
        content.models.map(\.id).joined(separator: ",") + "|" + content.rules.map(\.id).joined(separator: ",")
    }

    /// The whole mutable state as bytes (see `restore(snapshot:)`).
    public func snapshot() -> [UInt8] {
        let st = state
        var w = SnapshotWriter()
        w.u32(AnalyticsEngine.snapshotMagic)
        w.u32(AnalyticsEngine.snapshotVersion)
        w.str(contentSignature)
        // Interner: ids are positions, so re-interning in order restores every id.
        w.u32(UInt32(st.interner.count))
        for s in st.interner.strings { w.str(s) }
        w.i64(st.clock)
        w.bool(st.orgStart != nil); w.i64(st.orgStart ?? 0)
        let s = st.stats
        for v in [s.events, s.eventsWithoutUser, s.lateEvents, s.ruleTriggers, s.suppressedByFamily, s.suppressedByDedup,
                  s.sessionsClosed, s.sessionsEmitted, s.notableSessions, s.trainings] { w.int(v) }
        // Models.
        w.u32(UInt32(st.stores.count))
        for store in st.stores {
            var pairs: [(UInt32, Int32)] = []
            for (k, v) in zip(store.index.keys, store.index.values) where k != UInt32.max { pairs.append((k, v)) }
            pairs.sort { $0.0 < $1.0 }
            w.u32(UInt32(pairs.count))
            for (k, v) in pairs { w.u32(k); w.u32(UInt32(bitPattern: v)) }
            w.u32s(store.scopes)
            w.u32s(store.free.map { UInt32(bitPattern: $0) })
            w.u32(UInt32(store.hists.count))
            for h in store.hists {
                w.u32(UInt32(bitPattern: h.epoch)); w.u32(h.total); w.u32s(h.data)
                if let b = h.big {
                    w.bool(true)
                    w.bool(b.rareValid); w.u32(b.rareCount); w.f64(b.rareMass); w.u32(b.rareTotal)
                    w.u32(UInt32(bitPattern: b.rareEpoch)); w.f64(b.rareThreshold)
                } else {
                    w.bool(false)
                }
            }
        }
        // User history.
        let seen = st.lastSeen.sorted { $0.key < $1.key }
        w.u32(UInt32(seen.count))
        for (k, v) in seen { w.u32(k); w.i64(v) }
        // Open sessions.
        let sessions = st.sessions.values.sorted { $0.userId < $1.userId }
        w.u32(UInt32(sessions.count))
        for se in sessions {
            w.u32(se.userId); w.str(se.user); w.i64(se.start); w.i64(se.last)
            w.bool(se.previousActivity != nil); w.i64(se.previousActivity ?? 0)
            w.int(se.events); w.int(se.score)
            w.u32(UInt32(se.rules.count)); for r in se.rules { w.int(r) }
            writeSet(&w, se.dedup); writeSet(&w, se.trained)
            w.u32(UInt32(se.aggs.count))
            for a in se.aggs {
                switch a {
                case nil: w.u8(0)
                case .count(let n)?: w.u8(1); w.int(n)
                case .sum(let d)?: w.u8(2); w.f64(d)
                case .distinct(let l)?: w.u8(3); w.u32(UInt32(l.count)); for x in l { w.str(x) }
                case .countBy(let m)?:
                    w.u8(4); w.u32(UInt32(m.count))
                    for (k, v) in m.sorted(by: { $0.key < $1.key }) { w.str(k); w.int(v) }
                case .max(let d)?: w.u8(5); w.f64(d)
                }
            }
        }
        // Expiry heap, in array order (pushing in that order rebuilds the same array).
        w.u32(UInt32(st.heap.items.count))
        for e in st.heap.items { w.i64(e.expiry); w.str(e.user); w.u32(e.uid) }
        return w.bytes
    }

    private func writeSet(_ w: inout SnapshotWriter, _ s: U64Set) {
        var keys = s.table.filter { $0 != 0 }
        keys.sort()
        w.bool(s.hasZero)
        w.u32(UInt32(keys.count))
        for k in keys { w.u64(k) }
    }

    private func readSet(_ r: inout SnapshotReader) throws -> U64Set {
        var s = U64Set()
        if try r.bool() { _ = s.insert(0) }
        let n = Int(try r.u32())
        for _ in 0..<n { _ = s.insert(try r.u64()) }
        return s
    }

    /// Replaces this engine's state with a snapshot taken from an engine with the same content.
    /// Must be called before any event is processed.
    public func restore(snapshot bytes: [UInt8]) throws {
        let st = state
        var r = SnapshotReader(bytes)
        guard try r.u32() == AnalyticsEngine.snapshotMagic else { throw AnalyticsSnapshotError.badMagic }
        let version = try r.u32()
        guard version == AnalyticsEngine.snapshotVersion else { throw AnalyticsSnapshotError.badVersion(version) }
        let sig = try r.str()
        guard sig == contentSignature else { throw AnalyticsSnapshotError.contentMismatch("models/rules differ") }
        precondition(st.interner.count == 0 && st.sessions.isEmpty, "restore into a fresh engine")
        let nStrings = Int(try r.u32())
        for i in 0..<nStrings {
            let id = st.interner.intern(try r.str())
            guard id == UInt32(i) else { throw AnalyticsSnapshotError.contentMismatch("interner ids") }
        }
        st.clock = try r.i64()
        let hasOrg = try r.bool(); let org = try r.i64()
        st.orgStart = hasOrg ? org : nil
        var s = AnalyticsStats()
        s.events = try r.int(); s.eventsWithoutUser = try r.int(); s.lateEvents = try r.int()
        s.ruleTriggers = try r.int(); s.suppressedByFamily = try r.int(); s.suppressedByDedup = try r.int()
        s.sessionsClosed = try r.int(); s.sessionsEmitted = try r.int(); s.notableSessions = try r.int()
        s.trainings = try r.int()
        st.stats = s
        let nStores = Int(try r.u32())
        guard nStores == st.stores.count else { throw AnalyticsSnapshotError.contentMismatch("model count") }
        for m in 0..<nStores {
            let store = st.stores[m]
            store.index = U32Map(); store.hists = []; store.scopes = []; store.free = []
            let nPairs = Int(try r.u32())
            for _ in 0..<nPairs { let k = try r.u32(); let v = Int32(bitPattern: try r.u32()); store.index.set(k, v) }
            store.scopes = try r.u32s()
            store.free = try r.u32s().map { Int32(bitPattern: $0) }
            let nHists = Int(try r.u32())
            store.hists.reserveCapacity(nHists)
            for _ in 0..<nHists {
                var h = Histogram(narrow: store.narrow)
                h.epoch = Int32(bitPattern: try r.u32()); h.total = try r.u32(); h.data = try r.u32s()
                if try r.bool() {
                    h.rebuildIndex()
                    let b = h.big!
                    b.rareValid = try r.bool(); b.rareCount = try r.u32(); b.rareMass = try r.f64()
                    b.rareTotal = try r.u32(); b.rareEpoch = Int32(bitPattern: try r.u32()); b.rareThreshold = try r.f64()
                }
                store.hists.append(h)
            }
        }
        let nSeen = Int(try r.u32())
        for _ in 0..<nSeen { let k = try r.u32(); st.lastSeen[k] = try r.i64() }
        let nSessions = Int(try r.u32())
        for _ in 0..<nSessions {
            let uid = try r.u32(); let user = try r.str(); let start = try r.i64(); let last = try r.i64()
            let hasPrev = try r.bool(); let prev = try r.i64()
            let se = Session(userId: uid, user: user, start: start, previousActivity: hasPrev ? prev : nil)
            se.last = last
            se.events = try r.int(); se.score = try r.int()
            let nRules = Int(try r.u32())
            for _ in 0..<nRules { se.rules.append(try r.int()) }
            se.dedup = try readSet(&r); se.trained = try readSet(&r)
            let nAggs = Int(try r.u32())
            for _ in 0..<nAggs {
                switch try r.u8() {
                case 0: se.aggs.append(nil)
                case 1: se.aggs.append(.count(try r.int()))
                case 2: se.aggs.append(.sum(try r.f64()))
                case 3:
                    let n = Int(try r.u32()); var l: [String] = []
                    for _ in 0..<n { l.append(try r.str()) }
                    se.aggs.append(.distinct(l))
                case 4:
                    let n = Int(try r.u32()); var m: [String: Int] = [:]
                    for _ in 0..<n { let k = try r.str(); m[k] = try r.int() }
                    se.aggs.append(.countBy(m))
                case 5: se.aggs.append(.max(try r.f64()))
                default: throw AnalyticsSnapshotError.truncated
                }
            }
            st.sessions[uid] = se
        }
        let nHeap = Int(try r.u32())
        for _ in 0..<nHeap {
            let e = try r.i64(); let u = try r.str(); let uid = try r.u32()
            st.heap.push(.init(expiry: e, user: u, uid: uid))
        }
        guard r.atEnd else { throw AnalyticsSnapshotError.truncated }
    }

    /// Open sessions right now (user, start, last event, score, rule ids), for APIs.
    public var openSessions: [(user: String, session: String, startMillis: Int64, lastMillis: Int64, score: Int, events: Int, rules: [String])] {
        state.sessions.values.sorted { $0.user < $1.user }.map {
            ($0.user, $0.id, $0.start, $0.last, $0.score, $0.events, $0.rules.map { content.rules[$0].id })
        }
    }
}
