import OspreyCore

/// Record types by precedence: for a field several parts carry, the part of the lower rank wins.
enum PartRank {
    static let receipt: UInt8 = 0, process: UInt8 = 1, delivery: UInt8 = 2, journal: UInt8 = 3, other: UInt8 = 4

    static func of(_ recordType: String) -> UInt8 {
        switch recordType {
        case "receipt": return receipt
        case "process": return process
        case "delivery": return delivery
        case "journal": return journal
        default: return other
        }
    }
}

/// One line of a message.
struct Part: Sendable {
    var event: Event
    var seq: UInt64
    var rank: UInt8
    var failed: Bool
    var recordType: String
    /// Indices into the message's recipients; empty for message-level parts (process lines).
    var recipients: [Int32]
    /// Journal parts: the recipient values, resolved when the message closes (`resolveJournalRecipients`).
    var deferred: [Value] = []
}

/// A message being assembled: its parts in arrival order and its recipients in order of first appearance.
struct OpenMessage: Sendable {
    var key: String
    var anchorTime: Int64
    var anchorSeq: UInt64
    var minTime: Int64
    var parts: [Part] = []
    var recipientKeys: [String] = []    // lowercased, for matching
    var recipientNames: [String] = []   // as first seen
    var recipientIndex: [String: Int32] = [:] // filled once a message has many recipients
    var journalParts: [Int] = []             // parts whose recipients wait for the close

    static let empty = OpenMessage(key: "", anchorTime: 0, anchorSeq: 0)

    init(key: String, anchorTime: Int64, anchorSeq: UInt64) {
        self.key = key
        self.anchorTime = anchorTime
        self.anchorSeq = anchorSeq
        self.minTime = anchorTime
    }

    mutating func add(_ event: Event, seq: UInt64) {
        var type = ""
        if let v = event[Fields.recordType] { type = ASCII.lowercased(v.text) }
        var part = Part(event: event, seq: seq, rank: PartRank.of(type), failed: event.activityType.isFailure,
                        recordType: type, recipients: [])
        if part.rank == PartRank.journal {
            // A journal copy names the journal's recipients (often the whole distribution, or the journal
            // mailbox): they count only when no other part names recipients.
            if let v = event[Fields.emailRecipients] { part.deferred.append(v) }
            if let v = event[Fields.destEmailAddress] { part.deferred.append(v) }
            journalParts.append(parts.count)
        } else {
            if let v = event[Fields.emailRecipients] { collectRecipients(v, into: &part.recipients) }
            if let v = event[Fields.destEmailAddress] { collectRecipients(v, into: &part.recipients) }
        }
        if event.timeMillis < minTime { minTime = event.timeMillis }
        parts.append(part)
    }

    /// Journal parts get their recipients at close: all of them when no other part named one, else only the
    /// ones other parts named (a journal part then adds none).
    mutating func resolveJournalRecipients() {
        guard !journalParts.isEmpty else { return }
        let onlyKnown = !recipientKeys.isEmpty
        for pi in journalParts {
            var list: [Int32] = []
            for v in parts[pi].deferred { collectRecipients(v, into: &list, onlyKnown: onlyKnown) }
            parts[pi].recipients = list
            parts[pi].deferred = []
        }
        journalParts = []
    }

    private mutating func collectRecipients(_ v: Value, into list: inout [Int32], onlyKnown: Bool = false) {
        switch v {
        case .string(let s):
            MergeText.split(s) { name in
                guard let i = index(ofRecipient: name, add: !onlyKnown) else { return }
                if !list.contains(i) { list.append(i) }
            }
        case .list(let l):
            for element in l {
                MergeText.split(element) { name in
                    guard let i = index(ofRecipient: name, add: !onlyKnown) else { return }
                    if !list.contains(i) { list.append(i) }
                }
            }
        default:
            break
        }
    }

    private mutating func index(ofRecipient name: String, add: Bool) -> Int32? {
        let key = ASCII.lowercased(name)
        if recipientKeys.count < 16 {
            for (i, k) in recipientKeys.enumerated() where k == key { return Int32(i) }
        } else {
            if recipientIndex.isEmpty {
                for (i, k) in recipientKeys.enumerated() { recipientIndex[k] = Int32(i) }
            }
            if let i = recipientIndex[key] { return i }
        }
        guard add else { return nil }
        let i = Int32(recipientKeys.count)
        recipientKeys.append(key)
        recipientNames.append(name)
        if !recipientIndex.isEmpty { recipientIndex[key] = i }
        return i
    }
}

/// Address and name helpers on UTF-8 bytes (String's Character APIs cost 10–100x more on this hot path).
enum MergeText {
    /// Runs `body` on the string's UTF-8 bytes (native strings are contiguous; others are copied once).
    @inline(__always) static func bytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = s
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable(body)!
    }

    @inline(__always) static func hasAt(_ s: String) -> Bool { bytes(s) { $0.contains(0x40) } }

    @inline(__always) private static func isTrim(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x3C || c == 0x3E || c == 0x22 // space tab < > "
    }

    /// Calls `body` with each address in `text` (one address, or a `,`/`;` separated list), trimmed of
    /// spaces, quotes and angle brackets.
    static func split(_ text: String, _ body: (String) -> Void) {
        // (start, end) byte ranges of the pieces; most values are one clean address
        var clean = false
        var ranges: [(Int, Int)] = []
        bytes(text) { b in
            guard !b.isEmpty else { return }
            var separator = false
            for c in b where c == 0x2C || c == 0x3B { separator = true; break }
            if !separator, !isTrim(b[0]), !isTrim(b[b.count - 1]) { clean = true; return }
            var start = 0
            for i in 0...b.count where i == b.count || b[i] == 0x2C || b[i] == 0x3B {
                var lo = start, hi = i
                while lo < hi, isTrim(b[lo]) { lo += 1 }
                while hi > lo, isTrim(b[hi - 1]) { hi -= 1 }
                if lo < hi { ranges.append((lo, hi)) }
                start = i + 1
            }
        }
        if clean { body(text); return }
        for (lo, hi) in ranges {
            body(bytes(text) { b in String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self) })
        }
    }
}

struct SortKey: Comparable, Sendable {
    var rank: UInt8
    var time: Int64
    var seq: UInt64
    var index: Int32
    static func < (a: SortKey, b: SortKey) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        if a.time != b.time { return a.time < b.time }
        return a.seq < b.seq
    }
    static func == (a: SortKey, b: SortKey) -> Bool { a.rank == b.rank && a.time == b.time && a.seq == b.seq }
}

/// Builds the email events of a closed message. Holds scratch buffers reused across messages.
struct Merger: Sendable {
    static let success = Value.string("success"), failure = Value.string("failure")
    static let recordTypeMessage = Value.string("message")
    static let yes = Value.bool(true), no = Value.bool(false)
    static let coreNames = ["receipt", "process", "delivery", "journal"]
    static func partNames(_ mask: Int) -> [String] { coreNames.indices.filter { mask & (1 << $0) != 0 }.map { coreNames[$0] } }
    /// `parts` values for every combination of the four core record types, built once.
    static let partLists: [Value] = (0..<16).map { .list(partNames($0)) }
    static let outcomeValues: [MailOutcome: Value] = Dictionary(uniqueKeysWithValues: MailOutcome.allCases.map { ($0, .string($0.rawValue)) })

    /// Fields a part for another recipient may still give this recipient's event: they describe the message.
    static let messageFields: [Field] = [Fields.sender, Fields.senderDomain, Fields.emailSubject, Fields.messageID, Fields.direction, Fields.srcIP]
    /// Fields that describe how the message ended for this recipient: taken only from the part that decided
    /// the outcome (when one did), so a delivered message carries no failure reason from an earlier attempt.
    static let outcomeFields: Set<Field> = [Fields.action, Fields.result, Fields.failureReason, Fields.destIP, Fields.additionalInfo,
                                            Field.named("delivered")]
    /// Fields the merge sets itself.
    static let explicitFields: [Field] = [
        Fields.user, Fields.emailDomain, Fields.outcome, Fields.destEmailAddress, Fields.destDomain, Fields.emailRecipients, Fields.recordType,
        Fields.joinKey, Fields.emailAttachments, AssemblyField.parts, AssemblyField.assembled, AssemblyField.partial,
        AssemblyField.mailOutcome, AssemblyField.bytesSent, AssemblyField.deliveryAttempts,
    ]

    private var explicit: [Bool] = []
    private var outcomeOnly: [Bool] = []
    private var seen: [UInt32] = []
    private var generation: UInt32 = 0
    private var sortKeys: [SortKey] = []
    private var order: [Int] = []
    private var own: [[Int]] = []
    private var common: [Int] = []
    private var contributors: [Int] = []
    private var messageLevel: [(Field, Value)] = []

    init() {
        for f in Merger.explicitFields { mark(&explicit, f) }
        for f in Merger.outcomeFields { mark(&outcomeOnly, f) }
    }

    private func mark(_ table: inout [Bool], _ f: Field) {
        let i = Int(f.id)
        if i >= table.count { table += Array(repeating: false, count: i + 1 - table.count) }
        table[i] = true
    }

    /// `msg` is the closing message, taken over (its journal recipients are resolved in place).
    mutating func build(_ msg: inout OpenMessage, stats: inout AssemblyStats, into out: inout [Event]) {
        msg.resolveJournalRecipients()
        let parts = msg.parts
        sortKeys.removeAll(keepingCapacity: true)
        var hasReceipt = false
        for i in parts.indices {
            let rank = parts[i].rank
            if rank == PartRank.receipt { hasReceipt = true }
            sortKeys.append(SortKey(rank: rank, time: parts[i].event.timeMillis, seq: parts[i].seq, index: Int32(i)))
        }
        sortKeys.sort()
        order.removeAll(keepingCapacity: true)
        for k in sortKeys { order.append(Int(k.index)) }

        if !hasReceipt {
            stats.orphanParts += parts.count
            stats.orphanMessages += 1
        }
        // Per recipient, the positions (in `order`) of its own parts; `common`: parts naming no recipient.
        let n = msg.recipientKeys.count
        if own.count < n { own += Array(repeating: [], count: n - own.count) }
        for r in 0..<n { own[r].removeAll(keepingCapacity: true) }
        common.removeAll(keepingCapacity: true)
        for (pos, i) in order.enumerated() {
            if parts[i].recipients.isEmpty { common.append(pos) } else { for r in parts[i].recipients { own[Int(r)].append(pos) } }
        }
        // The first value of each message-level field among parts that name recipients, in part order.
        messageLevel.removeAll(keepingCapacity: true)
        for f in Merger.messageFields {
            for i in order where !parts[i].recipients.isEmpty {
                if let v = parts[i].event[f] { messageLevel.append((f, v)); break }
            }
        }
        if n == 0 {
            stats.messagesWithoutRecipient += 1
            contributors.removeAll(keepingCapacity: true)
            for pos in common { contributors.append(order[pos]) }
            out.append(event(msg, recipient: nil, stats: &stats))
            return
        }
        for r in 0..<n {
            // own ∪ common, both ascending positions: merge, keeping (rank, time, seq) order
            contributors.removeAll(keepingCapacity: true)
            var a = 0, b = 0
            let o = own[r]
            while a < o.count || b < common.count {
                if b == common.count || (a < o.count && o[a] < common[b]) {
                    contributors.append(order[o[a]]); a += 1
                } else {
                    contributors.append(order[common[b]]); b += 1
                }
            }
            out.append(event(msg, recipient: r, stats: &stats))
        }
    }

    /// The event for one recipient from `contributors` (its own parts and the message-level parts).
    private mutating func event(_ msg: OpenMessage, recipient r: Int?, stats: inout AssemblyStats) -> Event {
        let parts = msg.parts

        // 1. Outcome for this recipient.
        var lastOK = -1, lastFailedDelivery = -1, rejectedReceipt = -1, heldProcess = -1, otherFailure = -1
        var deliveries = 0
        var accepted = false, hasReceipt = false, hasProcess = false
        for i in contributors {
            let failed = parts[i].failed
            switch parts[i].rank {
            case PartRank.receipt:
                hasReceipt = true
                if failed { if rejectedReceipt < 0 { rejectedReceipt = i } } else { accepted = true }
            case PartRank.process:
                hasProcess = true
                if failed { if heldProcess < 0 { heldProcess = i } } else { accepted = true }
            case PartRank.delivery:
                deliveries += 1
                if failed { lastFailedDelivery = i } else { lastOK = i }
            default:
                if failed, otherFailure < 0 { otherFailure = i }
            }
        }
        let outcome: MailOutcome
        var deciding = -1
        if lastOK >= 0 { outcome = .delivered; deciding = lastOK }
        else if rejectedReceipt >= 0 { outcome = .rejected; deciding = rejectedReceipt }
        else if lastFailedDelivery >= 0 { outcome = .failed; deciding = lastFailedDelivery }
        else if heldProcess >= 0 { outcome = .held; deciding = heldProcess }
        else if otherFailure >= 0 {
            deciding = otherFailure
            let action = parts[otherFailure].event.string(Fields.action).map(ASCII.lowercased) ?? ""
            outcome = ASCII.containsIgnoringCase(action, lowered: "hold") || ASCII.containsIgnoringCase(action, lowered: "held") || action == "hld" ? .held : .failed
        }
        else if accepted { outcome = .accepted }
        else { outcome = .unknown }
        let hasDelivery = deliveries > 0
        let complete = hasReceipt && (outcome == .rejected || (hasProcess && (outcome == .held || hasDelivery)))

        // 2. The deciding part goes first among the parts of its record type.
        if deciding >= 0, let at = contributors.firstIndex(of: deciding) {
            let rank = parts[deciding].rank
            var start = at
            while start > 0, parts[contributors[start - 1]].rank == rank { start -= 1 }
            if start < at {
                contributors.remove(at: at)
                contributors.insert(deciding, at: start)
            }
        }

        let primary = contributors.first ?? 0
        var e = Event(parser: parts[primary].event.parser, activityType: .emailIn, timeMillis: msg.minTime)

        // 3. Union of the fields: the first contributor that has a field gives it.
        generation &+= 1
        if generation == 0 { for i in seen.indices { seen[i] = 0 }; generation = 1 }
        var attachments: [String] = []
        var most = 16 + Event.enrichmentHeadroom   // what step 4 adds, then enrichment
        for i in contributors { most += parts[i].event.fieldCount }
        e.reserveFields(most)   // one allocation, not one per doubling
        for i in contributors {
            let pe = parts[i].event
            for k in 0..<pe.fieldCount {
                // The name first: most fields of later parts are skipped, and skipping needs no value copy.
                let f = pe.key(at: k)
                let id = Int(f.id)
                if id < explicit.count, explicit[id] {
                    if f == Fields.emailAttachments { for a in pe.value(at: k).elements where !attachments.contains(a) { attachments.append(a) } }
                    continue
                }
                if f == Fields.emailAttachment, case .string(let a) = pe.value(at: k), !attachments.contains(a) { attachments.append(a) }
                if deciding >= 0, i != deciding, id < outcomeOnly.count, outcomeOnly[id] { continue }
                if id >= seen.count { seen += Array(repeating: 0, count: id + 1 - seen.count) }
                if seen[id] == generation { continue }
                seen[id] = generation
                e.appendNew(f, pe.value(at: k))   // the first contributor with this field: `seen` says it is new
            }
        }
        // Message-level fields from parts for other recipients (a receipt line names one recipient).
        if r != nil {
            for (f, v) in messageLevel where !e.has(f) { e.appendNew(f, v) }
        }

        // 4. What the merge decides itself.
        let recipient = r.map { msg.recipientNames[$0] }
        var domains = Addresses.DomainMemo()
        if let recipient {
            e[Fields.destEmailAddress] = .string(recipient)
            if let d = domains.domain(of: recipient) { e[Fields.destDomain] = .string(d) }
            e[Fields.emailRecipients] = .list(msg.recipientNames)
        }
        if !attachments.isEmpty {
            e[Fields.emailAttachments] = .list(attachments)
            if !e.has(Fields.emailAttachment) { e[Fields.emailAttachment] = .string(attachments[0]) }
        }
        if !e.has(Fields.fileExt), let name = e.string(Fields.emailAttachment), let ext = FileNames.fileExtension(name) {
            e[Fields.fileExt] = .string(ext)
        }
        var direction = e.string(Fields.direction).map(ASCII.lowercased)
        if let d = direction, d != "inbound", d != "outbound", d != "internal" { direction = nil }
        if let d = direction { e[Fields.direction] = .string(d) }
        let out: Bool
        if let d = direction {
            out = d != "inbound"
        } else if let t = contributors.lazy.map({ parts[$0].event.activityType }).first(where: { $0.isEmail }) {
            out = t == .emailOut || t == .emailOutFailed
        } else {
            out = false
        }
        let failed = outcome.isFailure
        e.activityType = out ? (failed ? .emailOutFailed : .emailOut) : (failed ? .emailInFailed : .emailIn)
        let sender = e.string(Fields.sender)
        if !e.has(Fields.senderDomain), let s = sender, let d = domains.domain(of: s) { e[Fields.senderDomain] = .string(d) }
        var user: String?
        if let u = out ? sender : recipient, MergeText.hasAt(u) { user = u }
        if user == nil {
            for i in contributors {
                if let u = parts[i].event.string(Fields.user), !u.isEmpty { user = u; break }
            }
        }
        if let u = user {
            let lower = ASCII.lowercased(u)
            e[Fields.user] = .string(lower)
            if let d = domains.domain(of: lower) { e[Fields.emailDomain] = .string(d) }
        }
        e[Fields.outcome] = failed ? Merger.failure : Merger.success
        e[AssemblyField.mailOutcome] = Merger.outcomeValues[outcome]!
        if deciding >= 0, parts[deciding].rank == PartRank.delivery, let b = parts[deciding].event[Fields.bytes] {
            e[AssemblyField.bytesSent] = b
        }
        if deliveries > 0 { e[AssemblyField.deliveryAttempts] = .int(Int64(deliveries)) }
        e[Fields.recordType] = Merger.recordTypeMessage
        e[Fields.joinKey] = .string(msg.key)
        var known: Int = 0
        var others: [String] = []
        for i in contributors {
            let rank = parts[i].rank
            if rank < PartRank.other { known |= 1 << Int(rank); continue }
            let name = parts[i].recordType.isEmpty ? "unknown" : parts[i].recordType
            if !others.contains(name) { others.append(name) }
        }
        if others.isEmpty {
            e[AssemblyField.parts] = Merger.partLists[known]
        } else {
            others.sort()
            e[AssemblyField.parts] = .list(Merger.partNames(known) + others)
        }
        e[AssemblyField.assembled] = Merger.yes
        e[AssemblyField.partial] = complete ? Merger.no : Merger.yes
        stats.emailEvents += 1
        if !complete { stats.partialEvents += 1 }
        return e
    }
}
