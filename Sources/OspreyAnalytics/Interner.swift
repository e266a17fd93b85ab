/// Strings interned to small integers: model values, scope keys and dedup values are stored once and
/// referred to by a 32-bit id everywhere else (histograms, session sets). Owned by one engine, so it needs no
/// lock. Ids are assigned in first-use order, which is deterministic for a given input order; nothing
/// observable depends on them (outputs sort by text).
public final class Interner {
    private var ids: [String: UInt32] = [:]
    public private(set) var strings: [String] = []

    public init() {
        ids.reserveCapacity(1024)
        strings.reserveCapacity(1024)
    }

    @inline(__always)
    public func intern(_ s: String) -> UInt32 {
        if let id = ids[s] { return id }
        let id = UInt32(strings.count)
        strings.append(s)
        ids[s] = id
        return id
    }

    /// The id if the string was ever interned (scoring looks up without growing the table).
    @inline(__always)
    public func lookup(_ s: String) -> UInt32? { ids[s] }

    @inline(__always)
    public func string(_ id: UInt32) -> String { strings[Int(id)] }

    public var count: Int { strings.count }

    /// Approximate heap bytes: the UTF-8 payloads (inline for ≤ 15 bytes), the array slot and the
    /// dictionary entry (key, value, hash-table slack at 75% load).
    public var approximateBytes: Int {
        var bytes = 0
        for s in strings {
            let n = s.utf8.count
            bytes += 16 + (n > 15 ? 32 + n : 0)   // array slot + out-of-line storage
            bytes += (16 + 4) * 4 / 3 + 1          // dictionary key + value at 75% load
        }
        return bytes
    }
}
