#if canImport(Glibc)
import Glibc
#endif

/// Strings interned to small integers: model values, scope keys and dedup values are stored once and
/// referred to by a 32-bit id everywhere else (histograms, session sets). Owned by one engine, so it needs no
/// lock. Ids are assigned in first-use order, which is deterministic for a given input order; nothing
/// observable depends on them (outputs sort by text).
///
/// The UTF-8 bytes of every string sit end to end in one arena, so a string costs its bytes and an end
/// offset, not a heap object of its own (most values are addresses and domains, longer than the 15 bytes a
/// Swift string holds inline). An open-addressing table keyed by a 64-bit hash of the bytes finds them
/// (cheaper than `Dictionary`'s seeded SipHash on the per-event path, and free of per-process hash seeds).
public final class Interner {
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var ends: [Int] = []        // string id → end offset in `bytes`
    @exclusivity(unchecked) private var hashes: [UInt64] = []
    @exclusivity(unchecked) private var table: [UInt32]        // 0 = empty, else id + 1
    @exclusivity(unchecked) private var mask: Int

    public init() {
        table = [UInt32](repeating: 0, count: 1024)
        mask = 1023
        ends.reserveCapacity(512)
        hashes.reserveCapacity(512)
    }

    @inline(__always)
    static func hash(_ buf: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(buf.count)
        var i = 0
        let n = buf.count
        let raw = UnsafeRawBufferPointer(buf)
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(buf[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    @inline(__always) private func start(_ id: Int) -> Int { id == 0 ? 0 : ends[id - 1] }

    @inline(__always)
    private func find(_ s: UnsafeBufferPointer<UInt8>, _ h: UInt64) -> (slot: Int, id: UInt32?) {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let v = table[i]
            if v == 0 { return (i, nil) }
            let id = Int(v - 1)
            if hashes[id] == h {
                let a = start(id), z = ends[id]
                if z - a == s.count && bytes.withUnsafeBufferPointer({ b in
                    guard s.count > 0, let p = b.baseAddress, let q = s.baseAddress else { return s.count == 0 }
                    return memcmp(p + a, q, s.count) == 0
                }) { return (i, UInt32(id)) }
            }
            i = (i + 1) & mask
        }
    }

    /// Runs `body` over the string's UTF-8 bytes (a native string's own storage; a copy otherwise).
    @inline(__always)
    private static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var s = s
        return s.withUTF8(body)
    }

    @inline(__always)
    public func intern(_ s: String) -> UInt32 {
        Interner.withBytes(s) { b in
            let h = Interner.hash(b)
            let (slot, found) = find(b, h)
            if let id = found { return id }
            let id = UInt32(ends.count)
            // The arena grows by a quarter, not double: it holds every string for the life of the engine.
            if bytes.count + b.count > bytes.capacity { bytes.reserveCapacity(bytes.count + b.count + bytes.count / 4 + 256) }
            bytes.append(contentsOf: b)
            ends.append(bytes.count)
            hashes.append(h)
            table[slot] = id + 1
            if ends.count * 4 > table.count * 3 { grow() }
            return id
        }
    }

    /// The id if the string was ever interned (scoring looks up without growing the table).
    @inline(__always)
    public func lookup(_ s: String) -> UInt32? {
        Interner.withBytes(s) { b in find(b, Interner.hash(b)).id }
    }

    /// The string of an id (made from the arena's bytes: outputs, evidence and the state image call this,
    /// not the per-event path).
    public func string(_ id: UInt32) -> String {
        let i = Int(id)
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start(i)..<ends[i]]), as: UTF8.self) }
    }

    /// Every string in id order.
    public var strings: [String] { (0..<ends.count).map { string(UInt32($0)) } }

    public var count: Int { ends.count }

    private func grow() {
        let n = table.count * 2
        table = [UInt32](repeating: 0, count: n)
        mask = n - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(id + 1)
        }
    }

    /// Keeps only the strings marked in `keep` (one flag per id), in their order, and shrinks the table to
    /// fit them. Returns old id → new id (`UInt32.max` for a dropped string). The map preserves order
    /// (a < b ⇒ new(a) < new(b)), so every comparison of ids the engine makes is unchanged.
    func compact(keep: [Bool]) -> [UInt32] {
        precondition(keep.count == ends.count)
        var remap = [UInt32](repeating: UInt32.max, count: ends.count)
        var kept = 0, keptBytes = 0
        for i in keep.indices where keep[i] { kept += 1; keptBytes += ends[i] - start(i) }
        var nb: [UInt8] = [], ne: [Int] = [], nh: [UInt64] = []
        nb.reserveCapacity(keptBytes); ne.reserveCapacity(max(512, kept)); nh.reserveCapacity(max(512, kept))
        for i in ends.indices where keep[i] {
            remap[i] = UInt32(ne.count)
            nb.append(contentsOf: bytes[start(i)..<ends[i]])
            ne.append(nb.count); nh.append(hashes[i])
        }
        bytes = nb
        ends = ne
        hashes = nh
        var n = 1024
        while ends.count * 4 > n * 3 { n *= 2 }
        table = [UInt32](repeating: 0, count: n)
        mask = n - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(id + 1)
        }
        return remap
    }

    /// Approximate heap bytes: the arena, the end offsets, the hashes and the table.
    public var approximateBytes: Int {
        bytes.capacity + ends.capacity * 8 + hashes.capacity * 8 + table.count * 4
    }
}

/// A set of 64-bit keys (open addressing, linear probing): the per-session "already trained" and dedup
/// sets, without hashing structs through `Hasher`.
struct U64Set {
    private(set) var table: [UInt64] = []
    private(set) var hasZero = false
    private(set) var count = 0

    /// Inserts `k`; true when it was not there.
    @inline(__always)
    mutating func insert(_ k: UInt64) -> Bool {
        if k == 0 {
            if hasZero { return false }
            hasZero = true; count += 1; return true
        }
        if table.isEmpty { table = [UInt64](repeating: 0, count: 16) }
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let v = table[i]
            if v == k { return false }
            if v == 0 { break }
            i = (i + 1) & mask
        }
        table[i] = k
        count += 1
        if count * 4 > table.count * 3 { grow() }
        return true
    }

    private mutating func grow() {
        let old = table
        table = [UInt64](repeating: 0, count: old.count * 2)
        let mask = table.count - 1
        for k in old where k != 0 {
            var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = k
        }
    }

    var approximateBytes: Int { table.count * 8 }

    /// Every key (in no particular order).
    var keys: [UInt64] {
        var out = table.filter { $0 != 0 }
        if hasZero { out.append(0) }
        return out
    }
}

/// UInt32 → Int32 map (open addressing): scope key id → histogram slot.
struct U32Map {
    private(set) var keys: [UInt32] = []
    private(set) var values: [Int32] = []
    private(set) var count = 0
    private static let empty = UInt32.max

    @inline(__always) private static func start(_ k: UInt32, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(k) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    @inline(__always) func get(_ k: UInt32) -> Int32? {
        if keys.isEmpty { return nil }
        let mask = keys.count - 1
        var i = U32Map.start(k, mask)
        while true {
            let v = keys[i]
            if v == k { return values[i] }
            if v == U32Map.empty { return nil }
            i = (i + 1) & mask
        }
    }

    mutating func set(_ k: UInt32, _ value: Int32) {
        precondition(k != U32Map.empty)
        if keys.isEmpty { keys = [UInt32](repeating: U32Map.empty, count: 16); values = [Int32](repeating: 0, count: 16) }
        let mask = keys.count - 1
        var i = U32Map.start(k, mask)
        while true {
            let v = keys[i]
            if v == k { values[i] = value; return }
            if v == U32Map.empty { break }
            i = (i + 1) & mask
        }
        keys[i] = k
        values[i] = value
        count += 1
        if count * 4 > keys.count * 3 { rehash(keys.count * 2) }
    }

    /// Removes `k` (backward-shift deletion keeps probe chains intact).
    mutating func remove(_ k: UInt32) {
        if keys.isEmpty { return }
        let mask = keys.count - 1
        var i = U32Map.start(k, mask)
        while true {
            let v = keys[i]
            if v == U32Map.empty { return }
            if v == k { break }
            i = (i + 1) & mask
        }
        var hole = i
        var j = (i + 1) & mask
        while keys[j] != U32Map.empty {
            let home = U32Map.start(keys[j], mask)
            // Move keys[j] into the hole when its home is not in (hole, j] cyclically.
            let inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !inRange { keys[hole] = keys[j]; values[hole] = values[j]; hole = j }
            j = (j + 1) & mask
        }
        keys[hole] = U32Map.empty
        count -= 1
    }

    private mutating func rehash(_ n: Int) {
        let oldK = keys, oldV = values
        keys = [UInt32](repeating: U32Map.empty, count: n)
        values = [Int32](repeating: 0, count: n)
        count = 0
        for (k, v) in zip(oldK, oldV) where k != U32Map.empty { set(k, v) }
    }

    var capacity: Int { keys.count }
    var approximateBytes: Int { keys.count * 8 }
}
