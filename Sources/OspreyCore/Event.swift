/// One normalized event: which parser read it, its activity type, a UTC instant in milliseconds and its fields.
/// Fields are a short array of (field id, value) pairs in insertion order: events carry 10–40 fields, and a
/// linear scan over 16-bit ids beats hashing at that size. A 256-bit presence mask (inline, no allocation)
/// answers "absent" without the scan: most lookups on the hot path (`if e[f] == nil { … }`) are for fields
/// an event does not have. Ids past 255 (names registered after the catalog) always scan.
public struct Event: Sendable {
    public var parser: String
    public var activityType: ActivityType
    public var timeMillis: Int64
    public private(set) var keys: [Field] = []
    public private(set) var values: [Value] = []
    private var present: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Fields enrichment typically adds to an event (geo, user, destination classes, flags): parse (in a
    /// pipeline) and assembly reserve this much beyond their own fields, so adding them does not reallocate.
    public static let enrichmentHeadroom = 16

    /// `capacity`: the fields the event is expected to hold, so appending them never reallocates.
    public init(parser: String, activityType: ActivityType, timeMillis: Int64, capacity: Int = 24) {
        self.parser = parser
        self.activityType = activityType
        self.timeMillis = timeMillis
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    @inline(__always) private func maybePresent(_ id: UInt16) -> Bool {
        let bit = UInt64(1) << UInt64(id & 63)
        switch id >> 6 {
        case 0: return present.0 & bit != 0
        case 1: return present.1 & bit != 0
        case 2: return present.2 & bit != 0
        case 3: return present.3 & bit != 0
        default: return true
        }
    }

    @inline(__always) private mutating func mark(_ id: UInt16, _ on: Bool) {
        let bit = UInt64(1) << UInt64(id & 63)
        switch id >> 6 {
        case 0: present.0 = on ? present.0 | bit : present.0 & ~bit
        case 1: present.1 = on ? present.1 | bit : present.1 & ~bit
        case 2: present.2 = on ? present.2 | bit : present.2 & ~bit
        case 3: present.3 = on ? present.3 | bit : present.3 & ~bit
        default: break
        }
    }

    @inline(__always) public func index(of field: Field) -> Int? {
        guard maybePresent(field.id) else { return nil }
        // Eight ids per step (SIMD, inlined; a call into C cost more than it saved on short events):
        // replay's enriched events carry 40-60 fields, and a present one is found after half of them.
        return keys.withUnsafeBufferPointer { b -> Int? in
            guard let base = b.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            let want = SIMD8<UInt16>(repeating: field.id)
            var i = 0
            while i + 8 <= b.count {
                let hit = raw.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt16>.self) .== want
                if any(hit) { for k in 0..<8 where hit[k] { return i + k } }
                i += 8
            }
            while i < b.count { if b[i] == field { return i }; i += 1 }
            return nil
        }
    }

    /// Whether the event has this field (no copy of the value).
    @inline(__always) public func has(_ field: Field) -> Bool { index(of: field) != nil }

    public subscript(field: Field) -> Value? {
        get { index(of: field).map { values[$0] } }
        set {
            if let i = index(of: field) {
                if let v = newValue { values[i] = v } else { keys.remove(at: i); values.remove(at: i); mark(field.id, false) }
            } else if let v = newValue {
                keys.append(field); values.append(v); mark(field.id, true)
            }
        }
    }

    /// Adds a field the caller has just found absent (`has` was false): skips the second lookup a subscript
    /// set would make. Builders test every field before writing it, so this halves their lookups.
    @inline(__always) public mutating func appendNew(_ field: Field, _ value: Value) {
        assert(index(of: field) == nil, "appendNew: \(field.name) is already present")
        keys.append(field); values.append(value); mark(field.id, true)
    }

    public mutating func reserveFields(_ n: Int) {
        keys.reserveCapacity(n); values.reserveCapacity(n)
    }

    public subscript(name: String) -> Value? {
        get { Field.existing(name).flatMap { self[$0] } }
        set { self[Field.named(name)] = newValue }
    }

    public func string(_ field: Field) -> String? {
        guard let v = self[field] else { return nil }
        if case .list(let l) = v { return l.first }
        return v.text
    }

    public func int(_ field: Field) -> Int64? { self[field]?.asInt }

    public var fieldCount: Int { keys.count }
    public func field(at i: Int) -> (Field, Value) { (keys[i], values[i]) }
    /// The i-th field's name alone: a walk that skips most fields need not copy (retain) their values.
    @inline(__always) public func key(at i: Int) -> Field { keys[i] }
    @inline(__always) public func value(at i: Int) -> Value { values[i] }

    public var outcome: Outcome { activityType.isFailure ? .failure : .success }
    public var user: String? { string(Fields.user) }
}
