import OspreyCore

/// Durable form of the analytics engine's state (models, open sessions, user history, clock, counters):
/// a versioned little-endian binary image. `restore` into an engine built from the same content and
/// options gives an engine whose future outputs equal those of the engine the snapshot was taken from —
/// including the rarity caches of large histograms, which depend on history.
/// The analytics image's errors are the state images' errors (OspreyCore/StateImage.swift).
public typealias AnalyticsSnapshotError = StateImageError

extension AnalyticsEngine {
    static let snapshotMagic: UInt32 = 0x4F53_4153   // "OSAS"
    /// 2: the travel memory (each person's last geolocated activity) follows the expiry heap. 1 is still read.
    static let snapshotVersion: UInt32 = 2

    /// Content identity checked on restore: the models and rules, in order.
    var contentSignature: String {
        content.models.map(\.id).joined(separator: ",") + "|" + content.rules.map(\.id).joined(separator: ",")
    }

    /// The whole mutable state as bytes (see `restore(snapshot:)`).
    public func snapshot() -> [UInt8] {
        var w = SnapshotWriter()
        writeImage(&w)
        return w.bytes
    }

    /// The same image handed to `sink` in pieces of about 1 MiB, in order (their concatenation is
    /// `snapshot()`), so that it is never held whole.
    public func snapshot(streamingTo sink: @escaping ([UInt8]) -> Void) {
        var w = SnapshotWriter(sink: sink)
        writeImage(&w)
        w.end()
    }

    private func writeImage(_ w: inout SnapshotWriter) {
        let st = state
        w.u32(AnalyticsEngine.snapshotMagic)
        w.u32(AnalyticsEngine.snapshotVersion)
        w.str(contentSignature)
        // Interner: ids are positions, so re-interning in order restores every id.
        w.u32(UInt32(st.interner.count))
        for s in st.interner.strings { w.str(s); w.spill() }
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
            for (k, v) in pairs { w.u32(k); w.u32(UInt32(bitPattern: v)); w.spill() }
            w.u32s(store.scopes); w.spill()
            w.u32s(store.free.map { UInt32(bitPattern: $0) }); w.spill()
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
                w.spill()
            }
        }
        // User history.
        let seen = st.lastSeen.sorted { $0.key < $1.key }
        w.u32(UInt32(seen.count))
        for (k, v) in seen { w.u32(k); w.i64(v); w.spill() }
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
            w.spill()
        }
        // Expiry heap, in array order (pushing in that order rebuilds the same array).
        w.u32(UInt32(st.heap.items.count))
        for e in st.heap.items { w.i64(e.expiry); w.str(e.user); w.u32(e.uid); w.spill() }
        // Travel memory: the place is the country's, looked up again on restore.
        let fixes = st.ctx.travel.last.sorted { $0.key < $1.key }
        w.u32(UInt32(fixes.count))
        for (uid, f) in fixes { w.u32(uid); w.i64(f.millis); w.str(f.country); w.spill() }
        w.int(st.ctx.travel.updates)
    }

    private func writeSet(_ w: inout SnapshotWriter, _ s: U64Set) {
        var keys = s.table.filter { $0 != 0 }
        keys.sort()
        w.bool(s.hasZero)
        w.u32(UInt32(keys.count))
        for k in keys { w.u64(k) }
    }

    private func readSet(_ r: inout SnapshotReader, _ what: String) throws -> U64Set {
        var s = U64Set()
        if try r.bool() { _ = s.insert(0) }
        let n = try r.count(what, each: 8)
        for _ in 0..<n {
            let k = try r.u64()
            guard k != 0 else { throw r.corrupt("\(what): zero key in the table") }
            _ = s.insert(k)
        }
        return s
    }

    /// Replaces this engine's state with a snapshot taken from an engine with the same content.
    /// Must be called before any event is processed. Every count, length, index and id is checked
    /// against the image and the content: a corrupt image throws `AnalyticsSnapshotError` naming what
    /// is wrong (and where), never traps; the engine must then be discarded.
    public func restore(snapshot bytes: [UInt8]) throws {
        let st = state
        var r = SnapshotReader(bytes)
        guard try r.u32() == AnalyticsEngine.snapshotMagic else { throw AnalyticsSnapshotError.badMagic }
        let version = try r.u32()
        guard version == 1 || version == AnalyticsEngine.snapshotVersion else { throw AnalyticsSnapshotError.badVersion(version, expected: AnalyticsEngine.snapshotVersion) }
        let sig = try r.str()
        guard sig == contentSignature else { throw AnalyticsSnapshotError.contentMismatch("models/rules differ") }
        precondition(st.interner.count == 0 && st.sessions.isEmpty, "restore into a fresh engine")
        let nStrings = try r.count("interned strings", each: 4)
        for i in 0..<nStrings {
            let id = st.interner.intern(try r.str())
            guard id == UInt32(i) else { throw r.corrupt("interned string \(i) is a duplicate of \(id)") }
        }
        let known = UInt32(nStrings)
        st.clock = try r.i64()
        let hasOrg = try r.bool(); let org = try r.i64()
        st.orgStart = hasOrg ? org : nil
        var s = AnalyticsStats()
        s.events = try r.counter("events"); s.eventsWithoutUser = try r.counter("events without user")
        s.lateEvents = try r.counter("late events"); s.ruleTriggers = try r.counter("rule triggers")
        s.suppressedByFamily = try r.counter("suppressed by family"); s.suppressedByDedup = try r.counter("suppressed by dedup")
        s.sessionsClosed = try r.counter("sessions closed"); s.sessionsEmitted = try r.counter("sessions emitted")
        s.notableSessions = try r.counter("notable sessions"); s.trainings = try r.counter("trainings")
        st.stats = s
        let nStores = Int(try r.u32())
        guard nStores == st.stores.count else { throw AnalyticsSnapshotError.contentMismatch("model count") }
        for m in 0..<nStores {
            let store = st.stores[m]
            let def = content.models[m]
            store.index = U32Map(); store.hists = []; store.scopes = []; store.free = []
            let nPairs = try r.count("model \(def.id): histogram index", each: 8)
            var pairs: [(UInt32, Int32)] = []
            pairs.reserveCapacity(nPairs)
            for _ in 0..<nPairs {
                let k = try r.u32(); let v = Int32(bitPattern: try r.u32())
                guard k < known else { throw r.corrupt("model \(def.id): scope id \(k) beyond the \(known) interned strings") }
                pairs.append((k, v))
            }
            store.scopes = try r.u32s()
            store.free = try r.u32s().map { Int32(bitPattern: $0) }
            let nHists = try r.count("model \(def.id): histograms", each: 13)
            guard store.scopes.count == nHists else {
                throw r.corrupt("model \(def.id): \(store.scopes.count) scope entries for \(nHists) histograms")
            }
            for (k, v) in pairs {
                guard v >= 0, Int(v) < nHists else { throw r.corrupt("model \(def.id): slot \(v) beyond the \(nHists) histograms") }
                guard store.scopes[Int(v)] == k else { throw r.corrupt("model \(def.id): slot \(v) belongs to another scope") }
                guard store.index.get(k) == nil else { throw r.corrupt("model \(def.id): scope id \(k) listed twice") }
                store.index.set(k, v)
            }
            for f in store.free where f < 0 || Int(f) >= nHists {
                throw r.corrupt("model \(def.id): free slot \(f) beyond the \(nHists) histograms")
            }
            store.hists.reserveCapacity(nHists)
            for _ in 0..<nHists {
                var h = Histogram(narrow: store.narrow)
                h.epoch = Int32(bitPattern: try r.u32()); h.total = try r.u32(); h.data = try r.u32s()
                guard h.data.count % h.stride == 0 else {
                    throw r.corrupt("model \(def.id): histogram of \(h.data.count) words is not whole entries of \(h.stride)")
                }
                var i = 0
                while i < h.data.count {
                    let v = h.data[i]
                    switch def.kind {
                    case .categorical: guard v < known else { throw r.corrupt("model \(def.id): value id \(v) beyond the interned strings") }
                    case .timeOfWeek: guard v < 168 else { throw r.corrupt("model \(def.id): hour of week \(v)") }
                    case .numeric: guard v <= 1001 else { throw r.corrupt("model \(def.id): numeric bin \(v)") }
                    }
                    i += h.stride
                }
                if try r.bool() {
                    h.rebuildIndex()
                    let b = h.big!
                    b.rareValid = try r.bool(); b.rareCount = try r.u32(); b.rareMass = try r.f64()
                    b.rareTotal = try r.u32(); b.rareEpoch = Int32(bitPattern: try r.u32()); b.rareThreshold = try r.f64()
                }
                store.hists.append(h)
            }
        }
        let nSeen = try r.count("last-seen entries", each: 12)
        for _ in 0..<nSeen {
            let k = try r.u32()
            guard k < known else { throw r.corrupt("last-seen user id \(k) beyond the interned strings") }
            st.lastSeen[k] = try r.i64()
        }
        let nSessions = try r.count("open sessions", each: 40)
        for _ in 0..<nSessions {
            let uid = try r.u32(); let user = try r.str(); let start = try r.i64(); let last = try r.i64()
            guard uid < known, st.interner.string(uid) == user else { throw r.corrupt("open session of '\(user)': user id \(uid) does not name it") }
            guard st.sessions[uid] == nil else { throw r.corrupt("two open sessions for '\(user)'") }
            let hasPrev = try r.bool(); let prev = try r.i64()
            let se = Session(userId: uid, user: user, start: start, previousActivity: hasPrev ? prev : nil)
            se.last = last
            se.events = try r.counter("session events"); se.score = try r.int()
            let nRules = try r.count("session rules", each: 8)
            for _ in 0..<nRules {
                let rule = try r.int()
                guard rule >= 0, rule < content.rules.count else { throw r.corrupt("open session of '\(user)': rule index \(rule)") }
                se.rules.append(rule)
            }
            se.dedup = try readSet(&r, "session dedup set"); se.trained = try readSet(&r, "session training set")
            let nAggs = try r.count("session aggregates", each: 1)
            guard nAggs <= content.aggregates.count else {
                throw r.corrupt("open session of '\(user)': \(nAggs) aggregates, content defines \(content.aggregates.count)")
            }
            for _ in 0..<nAggs {
                switch try r.u8() {
                case 0: se.aggs.append(nil)
                case 1: se.aggs.append(.count(try r.counter("count aggregate")))
                case 2: se.aggs.append(.sum(try r.f64()))
                case 3:
                    let n = try r.count("distinct aggregate", each: 4); var l: [String] = []
                    for _ in 0..<n { l.append(try r.str()) }
                    se.aggs.append(.distinct(l))
                case 4:
                    let n = try r.count("count_by aggregate", each: 12); var m: [String: Int] = [:]
                    for _ in 0..<n { let k = try r.str(); m[k] = try r.counter("count_by aggregate") }
                    se.aggs.append(.countBy(m))
                case 5: se.aggs.append(.max(try r.f64()))
                case let k: throw r.corrupt("open session of '\(user)': aggregate kind \(k)")
                }
            }
            st.sessions[uid] = se
        }
        let nHeap = try r.count("session expiry heap", each: 16)
        for _ in 0..<nHeap {
            let e = try r.i64(); let u = try r.str(); let uid = try r.u32()
            guard uid < known else { throw r.corrupt("expiry of '\(u)': user id \(uid) beyond the interned strings") }
            st.heap.push(.init(expiry: e, user: u, uid: uid))
        }
        if version >= 2 {
            let nFixes = try r.count("travel fixes", each: 16)
            for _ in 0..<nFixes {
                let uid = try r.u32(), t = try r.i64(), cc = try r.str()
                guard uid < known else { throw r.corrupt("travel fix: user id \(uid) beyond the interned strings") }
                // A country the content no longer places is forgotten (as a fix never made).
                if let place = content.geo?[cc] { st.ctx.travel.last[uid] = TravelMemory.Fix(millis: t, country: cc, place: place) }
            }
            st.ctx.travel.updates = try r.counter("travel updates")
        }
        guard r.atEnd else { throw r.corrupt("\(bytes.count - r.offset) bytes after the end of the image") }
    }

    /// Open sessions right now (user, start, last event, score, rule ids), for APIs.
    public var openSessions: [(user: String, session: String, startMillis: Int64, lastMillis: Int64, score: Int, events: Int, rules: [String])] {
        state.sessions.values.sorted { $0.user < $1.user }.map {
            ($0.user, $0.id, $0.start, $0.last, $0.score, $0.events, $0.rules.map { content.rules[$0].id })
        }
    }
}
