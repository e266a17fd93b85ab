import OspreyCore

/// Bounds of the assembly stage. The window is event time, never wall-clock time, so replay is reproducible.
public struct AssemblyConfig: Sendable, Equatable {
    public static let defaultWindowMillis: Int64 = 15 * 60 * 1000

    /// How long after its first part (in event time) a message stays open for more parts.
    public var windowMillis: Int64
    /// Open messages at most; past it the oldest open message is closed early.
    public var maxOpenMessages: Int
    /// Parts held in open messages plus events waiting for release, at most; past it the oldest open message
    /// is closed early. This is the memory bound (events are ~1–2 KB each).
    public var maxBufferedEvents: Int
    /// Strip the `_<10 digits>` suffix SIEM v2 sometimes appends to `aggregateId` (the same message is seen
    /// with and without it, and with two different suffixes), so all its records join.
    public var normalizeJoinKeys: Bool

    public init(windowMillis: Int64 = AssemblyConfig.defaultWindowMillis, maxOpenMessages: Int = 50_000,
                maxBufferedEvents: Int = 200_000, normalizeJoinKeys: Bool = true) {
        self.windowMillis = max(0, windowMillis)
        self.maxOpenMessages = max(1, maxOpenMessages)
        self.maxBufferedEvents = max(1, maxBufferedEvents)
        self.normalizeJoinKeys = normalizeJoinKeys
    }
}

/// Counters of the assembly stage. `eventsIn == partsIn + passThrough`; after `finish`,
/// `eventsOut == passThrough + emailEvents` and no part is left behind.
public struct AssemblyStats: Sendable, Equatable, CustomStringConvertible {
    public var eventsIn = 0
    /// Events with a join key (message parts) and without (passed through unchanged).
    public var partsIn = 0
    public var passThrough = 0
    /// Parts that arrived when the watermark was already past their own time plus the window.
    public var lateParts = 0
    public var messagesOpened = 0
    public var messagesClosed = 0
    public var closedByWindow = 0
    /// Closed early because `maxOpenMessages` or `maxBufferedEvents` was reached (only these change the
    /// result compared with unbounded buffers).
    public var closedByOpenLimit = 0
    public var closedByBufferLimit = 0
    public var closedByFinish = 0
    /// Assembled email events emitted (one per message and recipient), and how many of them are partial.
    public var emailEvents = 0
    public var partialEvents = 0
    /// Parts of messages that never had a receipt line (process or delivery whose receipt was not seen).
    public var orphanParts = 0
    public var orphanMessages = 0
    /// Messages where no part named a recipient (one event without `dest_email_address`).
    public var messagesWithoutRecipient = 0
    public var eventsOut = 0
    public var openMessages = 0
    public var bufferedEvents = 0
    public var peakOpenMessages = 0
    public var peakBufferedEvents = 0

    public init() {}

    public var description: String {
        "assembly: \(eventsIn) in (\(partsIn) parts, \(passThrough) pass-through), \(eventsOut) out "
            + "(\(emailEvents) email events, \(partialEvents) partial); \(messagesClosed) messages closed "
            + "(window \(closedByWindow), open limit \(closedByOpenLimit), buffer limit \(closedByBufferLimit), "
            + "finish \(closedByFinish)); orphan parts \(orphanParts) in \(orphanMessages) messages; late parts "
            + "\(lateParts); no recipient \(messagesWithoutRecipient); peak open \(peakOpenMessages), "
            + "peak buffered \(peakBufferedEvents)"
    }
}

/// Fields the assembly stage adds to the events it builds.
public enum AssemblyField {
    /// `.list` of the record types the event was built from (`receipt`, `process`, `delivery`, …).
    public static let parts = Field.named("parts")
    /// `.bool(true)` on every assembled event.
    public static let assembled = Field.named("assembled")
    /// `.bool`: the message lacks a part its outcome implies (see docs/assembly.md).
    public static let partial = Field.named("partial")
    /// delivered | rejected | failed | held | accepted | unknown
    public static let mailOutcome = Field.named("mail_outcome")
    /// Bytes sent to this recipient (delivery `Snt`) by the attempt that decided the outcome.
    public static let bytesSent = Field.named("bytes_sent")
    /// Delivery lines seen for this recipient.
    public static let deliveryAttempts = Field.named("delivery_attempts")

    /// Every field the assembly stage writes on the events it builds: its own, and the parse fields the merge
    /// decides itself (checked against the field catalog when the pipeline starts). The other fields of an
    /// assembled event are copied from its lines as the parsers wrote them.
    public static let writes: [Field] = [parts, assembled, partial, mailOutcome, bytesSent, deliveryAttempts,
        Fields.destEmailAddress, Fields.destDomain, Fields.emailRecipients, Fields.emailAttachments, Fields.emailAttachment, Fields.fileExt,
        Fields.direction, Fields.senderDomain, Fields.user, Fields.emailDomain, Fields.outcome, Fields.recordType, Fields.joinKey]
}

/// What happened to one message for one recipient.
public enum MailOutcome: String, Sendable, CaseIterable {
    case delivered, rejected, failed, held, accepted, unknown
    public var isFailure: Bool { self == .rejected || self == .failed || self == .held }
}

/// The assemble stage (docs/architecture.md#pipeline): joins the lines of one message — receipt, process, delivery, journal and
/// protection records sharing `join_key` — into one email event per (message, recipient). Events without a
/// join key pass through unchanged. Used by replay and serve, not by `osprey parse`.
///
/// Output order (docs/assembly.md): every input event gets a sequence number; a pass-through event is keyed
/// (its time, its sequence), a message's events are keyed (time and sequence of the part that opened it,
/// recipient index). Events are released in key order as soon as no open message has a smaller key, so with
/// time-ordered input the output is time-ordered, and the output is a function of the input sequence and the
/// configuration only — not of how the input is batched or when `push` is called.
///
/// One assembler per tenant, used from one thread.
public struct Assembler: Sendable {
    public let config: AssemblyConfig
    public private(set) var stats = AssemblyStats()
    /// The largest event time pushed (or passed to `advance`); messages whose first part is more than the
    /// window behind it are closed.
    public private(set) var watermark: Int64 = .min

    private var nextSeq: UInt64 = 0
    private var slots: [OpenMessage] = []
    private var freeSlots: [Int32] = []
    private var byKey: [String: Int32] = [:]
    private var open = MinHeap<OpenEntry>()
    private var ready = MinHeap<ReadyEntry>()
    /// Events waiting for release, by slot (the heap holds only keys, so sifting moves 32 bytes).
    private var readyEvents: [Event] = []
    private var readyFree: [Int32] = []
    private static let placeholder = Event(parser: "", activityType: .appActivity, timeMillis: 0)
    private var openParts = 0
    private var merger = Merger()
    private var scratch: [Event] = []

    public init(config: AssemblyConfig = AssemblyConfig()) {
        self.config = config
    }

    // MARK: Public API

    /// Feeds one parsed event; appends to `out` every event that became final.
    public mutating func push(_ event: Event, into out: inout [Event]) {
        let seq = nextSeq
        nextSeq &+= 1
        stats.eventsIn += 1
        if event.timeMillis > watermark { watermark = event.timeMillis }
        closeExpired()
        if let raw = Assembler.joinKey(of: event) {
            let key = config.normalizeJoinKeys ? Assembler.normalizeJoinKey(raw) : raw
            stats.partsIn += 1
            if expired(event.timeMillis) { stats.lateParts += 1 }
            addPart(event, key: key, seq: seq)
            closeExpired() // a late part that opened a message of its own closes at once
            while open.count > config.maxOpenMessages { closeTop(.openLimit) }
        } else {
            stats.passThrough += 1
            if open.isEmpty && ready.isEmpty {
                out.append(event)
                stats.eventsOut += 1
                noteLevels()
                return
            }
            pushReady(event, time: event.timeMillis, seq: seq, sub: 0)
        }
        release(into: &out)
        while openParts + ready.count > config.maxBufferedEvents, !open.isEmpty {
            closeTop(.bufferLimit)
            release(into: &out)
        }
        noteLevels()
    }

    /// Feeds events in order; the same as pushing them one by one.
    public mutating func push<S: Sequence>(contentsOf events: S, into out: inout [Event]) where S.Element == Event {
        for e in events { push(e, into: &out) }
    }

    /// Advances event time without an event (serve: call it with the wall clock when input is idle, so open
    /// messages still close). Replay must not call it: it makes the output depend on timing.
    public mutating func advance(toMillis t: Int64, into out: inout [Event]) {
        if t > watermark { watermark = t }
        closeExpired()
        release(into: &out)
        noteLevels()
    }

    /// End of input: closes every open message (partial where incomplete) and releases everything.
    public mutating func finish(into out: inout [Event]) {
        while !open.isEmpty { closeTop(.finish) }
        release(into: &out)
        noteLevels()
    }

    /// Assembles a whole finite input.
    public static func assemble<S: Sequence>(_ events: S, config: AssemblyConfig = AssemblyConfig())
        -> (events: [Event], stats: AssemblyStats) where S.Element == Event {
        var a = Assembler(config: config)
        var out: [Event] = []
        a.push(contentsOf: events, into: &out)
        a.finish(into: &out)
        return (out, a.stats)
    }

    /// The event's `join_key`, if it has a non-empty one.
    public static func joinKey(of e: Event) -> String? {
        guard let v = e[Fields.joinKey] else { return nil }
        let s: String
        switch v {
        case .string(let t): s = t
        case .list(let l): guard let f = l.first else { return nil }; s = f
        default: s = v.text
        }
        return s.isEmpty ? nil : s
    }

    /// `ycS8ZuP_MPunTsp6ErzBSA_1731499054` → `ycS8ZuP_MPunTsp6ErzBSA`: strips `_` and exactly 10 digits at the end.
    public static func normalizeJoinKey(_ key: String) -> String {
        let cut: Int? = MergeText.bytes(key) { b in
            let n = b.count
            guard n > 11, b[n - 11] == 0x5F else { return nil }
            for i in (n - 10)..<n where !(b[i] >= 0x30 && b[i] <= 0x39) { return nil }
            return n - 11
        }
        guard let cut else { return key }
        return MergeText.bytes(key) { b in String(decoding: UnsafeBufferPointer(rebasing: b[0..<cut]), as: UTF8.self) }
    }

    // MARK: Checkpoints

    /// Every counter, in the order a checkpoint writes them.
    nonisolated(unsafe) private static let counters: [WritableKeyPath<AssemblyStats, Int>] = [
        \.eventsIn, \.partsIn, \.passThrough, \.lateParts, \.messagesOpened, \.messagesClosed, \.closedByWindow,
        \.closedByOpenLimit, \.closedByBufferLimit, \.closedByFinish, \.emailEvents, \.partialEvents, \.orphanParts,
        \.orphanMessages, \.messagesWithoutRecipient, \.eventsOut, \.openMessages, \.bufferedEvents,
        \.peakOpenMessages, \.peakBufferedEvents]

    /// The open messages (their parts, in arrival order, with their sequence numbers) and the events waiting
    /// for release, for a checkpoint. Both heaps are written in array order, so `init(reading:)` rebuilds
    /// them as they were and the assembler goes on exactly as this one would have.
    public func write(to w: inout SnapshotWriter) {
        for k in Assembler.counters { w.int(stats[keyPath: k]) }
        w.i64(watermark); w.u64(nextSeq)
        w.u32(UInt32(open.items.count))
        for o in open.items {
            let msg = slots[Int(o.slot)]
            w.str(msg.key); w.i64(msg.anchorTime); w.u64(msg.anchorSeq)
            w.u32(UInt32(msg.parts.count))
            for p in msg.parts { w.u64(p.seq); w.event(p.event); w.spill() }
        }
        w.u32(UInt32(ready.items.count))
        for r in ready.items {
            w.i64(r.time); w.u64(r.seq); w.u32(UInt32(bitPattern: r.sub)); w.event(readyEvents[Int(r.slot)]); w.spill()
        }
    }

    public init(reading r: inout SnapshotReader, config: AssemblyConfig) throws {
        self.init(config: config)
        for k in Assembler.counters { stats[keyPath: k] = try r.counter("assembly counter") }
        watermark = try r.i64(); nextSeq = try r.u64()
        let nOpen = try r.count("open messages", each: 24)
        guard nOpen < Int(Int32.max) else { throw r.corrupt("\(nOpen) open messages") }
        for i in 0..<nOpen {
            let key = try r.str(), anchorTime = try r.i64(), anchorSeq = try r.u64()
            guard byKey[key] == nil else { throw r.corrupt("open message '\(key)' written twice") }
            var msg = OpenMessage(key: key, anchorTime: anchorTime, anchorSeq: anchorSeq)
            let nParts = try r.count("message parts", each: 28)
            guard nParts > 0 else { throw r.corrupt("open message '\(key)' has no part") }
            for _ in 0..<nParts {
                let seq = try r.u64()
                msg.add(try r.event(), seq: seq)
            }
            openParts += nParts
            slots.append(msg)
            byKey[key] = Int32(i)
            open.append(OpenEntry(time: anchorTime, seq: anchorSeq, slot: Int32(i)))
        }
        guard open.isHeap else { throw r.corrupt("open messages out of heap order") }
        let nReady = try r.count("events waiting for release", each: 40)
        guard nReady < Int(Int32.max) else { throw r.corrupt("\(nReady) events waiting") }
        for i in 0..<nReady {
            let time = try r.i64(), seq = try r.u64(), sub = Int32(bitPattern: try r.u32())
            readyEvents.append(try r.event())
            ready.append(ReadyEntry(time: time, seq: seq, sub: sub, slot: Int32(i)))
        }
        guard ready.isHeap else { throw r.corrupt("waiting events out of heap order") }
        noteLevels()
    }

    // MARK: Internals

    private enum CloseReason { case window, openLimit, bufferLimit, finish }

    @inline(__always) private func expired(_ anchor: Int64) -> Bool {
        let (deadline, overflow) = anchor.addingReportingOverflow(config.windowMillis)
        return !overflow && watermark > deadline
    }

    private mutating func closeExpired() {
        while let top = open.top, expired(top.time) { closeTop(.window) }
    }

    private mutating func addPart(_ event: Event, key: String, seq: UInt64) {
        if let s = byKey[key] {
            openParts += 1
            // Swap the message out so its arrays are uniquely referenced and grow in place.
            var msg = OpenMessage.empty
            swap(&msg, &slots[Int(s)])
            msg.add(event, seq: seq)
            swap(&msg, &slots[Int(s)])
            return
        }
        var msg = OpenMessage(key: key, anchorTime: event.timeMillis, anchorSeq: seq)
        msg.add(event, seq: seq)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = msg
        } else {
            slot = Int32(slots.count)
            slots.append(msg)
        }
        byKey[key] = slot
        open.push(OpenEntry(time: event.timeMillis, seq: seq, slot: slot))
        openParts += 1
        stats.messagesOpened += 1
    }

    private mutating func closeTop(_ reason: CloseReason) {
        guard let top = open.pop() else { return }
        var msg = OpenMessage.empty   // swapped out, not copied: a copy retained each of its arrays
        swap(&msg, &slots[Int(top.slot)])
        freeSlots.append(top.slot)
        byKey.removeValue(forKey: msg.key)
        openParts -= msg.parts.count
        stats.messagesClosed += 1
        switch reason {
        case .window: stats.closedByWindow += 1
        case .openLimit: stats.closedByOpenLimit += 1
        case .bufferLimit: stats.closedByBufferLimit += 1
        case .finish: stats.closedByFinish += 1
        }
        var built = scratch
        scratch = []
        built.removeAll(keepingCapacity: true)
        merger.build(&msg, stats: &stats, into: &built)
        for i in built.indices {
            pushReady(built[i], time: top.time, seq: top.seq, sub: Int32(i))
        }
        built.removeAll(keepingCapacity: true)
        scratch = built
    }

    private mutating func pushReady(_ e: Event, time: Int64, seq: UInt64, sub: Int32) {
        let slot: Int32
        if let free = readyFree.popLast() {
            slot = free
            readyEvents[Int(slot)] = e
        } else {
            slot = Int32(readyEvents.count)
            readyEvents.append(e)
        }
        ready.push(ReadyEntry(time: time, seq: seq, sub: sub, slot: slot))
    }

    private mutating func release(into out: inout [Event]) {
        while let r = ready.top {
            if let o = open.top, !(r.time < o.time || (r.time == o.time && r.seq < o.seq)) { break }
            ready.pop()
            var e = Assembler.placeholder
            swap(&e, &readyEvents[Int(r.slot)])
            readyFree.append(r.slot)
            out.append(e)
            stats.eventsOut += 1
        }
    }

    @inline(__always) private mutating func noteLevels() {
        stats.openMessages = open.count
        stats.bufferedEvents = openParts + ready.count
        if stats.openMessages > stats.peakOpenMessages { stats.peakOpenMessages = stats.openMessages }
        if stats.bufferedEvents > stats.peakBufferedEvents { stats.peakBufferedEvents = stats.bufferedEvents }
    }
}

struct OpenEntry: Comparable, Sendable {
    var time: Int64
    var seq: UInt64
    var slot: Int32
    static func < (a: OpenEntry, b: OpenEntry) -> Bool { a.time < b.time || (a.time == b.time && a.seq < b.seq) }
    static func == (a: OpenEntry, b: OpenEntry) -> Bool { a.time == b.time && a.seq == b.seq }
}

struct ReadyEntry: Comparable, Sendable {
    var time: Int64
    var seq: UInt64
    var sub: Int32
    var slot: Int32
    static func < (a: ReadyEntry, b: ReadyEntry) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.seq != b.seq { return a.seq < b.seq }
        return a.sub < b.sub
    }
    static func == (a: ReadyEntry, b: ReadyEntry) -> Bool { a.time == b.time && a.seq == b.seq && a.sub == b.sub }
}
