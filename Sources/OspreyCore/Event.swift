/// One normalized event: which parser read it, its activity type, a UTC instant in milliseconds and its fields.
/// Fields are a short array of (field id, value) pairs in insertion order: events carry 10–40 fields, and a
/// linear scan over 16-bit ids beats hashing at that size.
public struct Event: Sendable {
    public var parser: String
    public var activityType: ActivityType
    public var timeMillis: Int64
    public private(set) var keys: [Field] = []
    public private(set) var values: [Value] = []

    public init(parser: String, activityType: ActivityType, timeMillis: Int64) {
        self.parser = parser
        self.activityType = activityType
        self.timeMillis = timeMillis
        keys.reserveCapacity(24)
        values.reserveCapacity(24)
    }

    @inline(__always) public func index(of field: Field) -> Int? {
        for i in keys.indices where keys[i] == field { return i }
        return nil
    }

    public subscript(field: Field) -> Value? {
        get { index(of: field).map { values[$0] } }
        set {
            if let i = index(of: field) {
                if let v = newValue { values[i] = v } else { keys.remove(at: i); values.remove(at: i) }
            } else if let v = newValue {
                keys.append(field); values.append(v)
            }
        }
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

    public var outcome: Outcome { activityType.isFailure ? .failure : .success }
    public var user: String? { string(F.user) }
}
