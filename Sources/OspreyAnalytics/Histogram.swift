/// The counts of one model for one scope key, with aging.
///
/// An observation is added to the age bucket of the current clock; there are eight buckets of
/// `aging_days / 8` (4 days by default) in a ring. When the clock enters a new bucket, the slots that fall
/// out of the window are zeroed and values whose window count reaches zero are removed, so an observation
/// stops counting between `aging × 7/8` and `aging` after it was made.
///
/// Two entry layouts in one flat `[UInt32]`:
/// - wide (24 bytes): `[value id, window sum, 8 × UInt16 slots]` — group, organization and other shared
///   scopes; a slot saturates at 65,535 observations of one value in one bucket;
/// - narrow (12 bytes): `[value id, 8 × UInt8 slots]`, the sum computed — models scoped by user, where
///   one user trains a value at most once per session (a slot saturates at 255 sessions in 4 days).
///
/// Histograms with many values (organization scopes) get a side index and a cached rarity threshold.
struct Histogram {
    static let slots = 8
    static let indexThreshold = 48

    var epoch: Int32 = Int32.min
    /// Window total in the low 31 bits; the top bit marks the narrow layout.
    private var rawTotal: UInt32 = 0
    private var storage: Storage = .plain([])

    /// The entries alone, or (once a histogram holds many values) an object with the entries and their index:
    /// one word either way, so a histogram is 16 bytes. Most are per person and small, tens per person.
    private enum Storage {
        case plain([UInt32])
        case indexed(BigHistogramIndex)
    }

    /// The entries (in the index object when there is one).
    var data: [UInt32] {
        get {
            switch storage {
            case .plain(let a): return a
            case .indexed(let b): return b.data
            }
        }
        _modify {
            switch storage {
            case .indexed(let b):
                yield &b.data
            case .plain(var a):
                storage = .plain([])   // one owner while the caller changes it, so it is not copied
                defer { storage = .plain(a) }
                yield &a
            }
        }
        set {
            switch storage {
            case .plain: storage = .plain(newValue)
            case .indexed(let b): b.data = newValue
            }
        }
    }

    /// The value index and rarity cache of a histogram with many values.
    var big: BigHistogramIndex? {
        if case .indexed(let b) = storage { return b }
        return nil
    }

    init(narrow: Bool = false) { rawTotal = narrow ? 0x8000_0000 : 0 }

    @inline(__always) var narrow: Bool { rawTotal & 0x8000_0000 != 0 }
    @inline(__always) var total: UInt32 {
        get { rawTotal & 0x7FFF_FFFF }
        set { rawTotal = (rawTotal & 0x8000_0000) | (newValue & 0x7FFF_FFFF) }
    }
    @inline(__always) var stride: Int { narrow ? 3 : 6 }
    var distinct: Int { data.count / stride }
    var isEmpty: Bool { data.isEmpty }

    @inline(__always) func slot(_ i: Int, _ s: Int) -> UInt32 {
        if narrow { return (data[i + 1 + s >> 2] >> (UInt32(s & 3) * 8)) & 0xFF }
        return (data[i + 2 + s >> 1] >> (UInt32(s & 1) * 16)) & 0xFFFF
    }

    @inline(__always) mutating func setSlot(_ i: Int, _ s: Int, _ v: UInt32) {
        if narrow {
            let shift = UInt32(s & 3) * 8
            let w = i + 1 + s >> 2
            data[w] = (data[w] & ~(0xFF << shift)) | (v << shift)
        } else {
            let shift = UInt32(s & 1) * 16
            let w = i + 2 + s >> 1
            data[w] = (data[w] & ~(0xFFFF << shift)) | (v << shift)
        }
    }

    /// The window count of the entry at `i`.
    @inline(__always) func sum(_ i: Int) -> UInt32 {
        if narrow {
            // Add the four bytes of each word pairwise (no byte exceeds 255, so 16-bit lanes cannot overflow).
            let a = data[i + 1], b = data[i + 2]
            var x = (a & 0x00FF_00FF) &+ ((a >> 8) & 0x00FF_00FF) &+ (b & 0x00FF_00FF) &+ ((b >> 8) & 0x00FF_00FF)
            x = (x & 0xFFFF) &+ (x >> 16)
            return x
        }
        return data[i + 1]
    }

    /// Moves the ring to `bucket`, forgetting the slots that left the window.
    mutating func advance(to bucket: Int32) {
        if epoch == Int32.min { epoch = bucket; return }
        guard bucket > epoch else { return }
        let steps = Int(bucket) - Int(epoch)
        epoch = bucket
        if steps >= Histogram.slots {
            storage = .plain([]); total = 0
            return
        }
        // Slots for buckets epoch_old+1 … bucket are reused: clear them.
        var write = 0
        var newTotal: UInt32 = 0
        let S = stride
        var i = 0
        while i < data.count {
            for k in 0..<steps { setSlot(i, (Int(bucket) - k) & (Histogram.slots - 1), 0) }
            var sum: UInt32 = 0
            for s in 0..<Histogram.slots { sum &+= slot(i, s) }
            if sum > 0 {
                if write != i { for k in 0..<S { data[write + k] = data[i + k] } }
                if !narrow { data[write + 1] = sum }
                newTotal &+= sum
                write += S
            }
            i += S
        }
        data.removeSubrange(write..<data.count)
        if data.capacity > 2 * max(data.count, 8) { data = Array(data) }   // give memory back
        total = newTotal
        if big != nil { rebuildIndex() }
    }

    @inline(__always)
    func find(_ value: UInt32) -> Int? {
        if let big { return big.index.get(value).map(Int.init) }
        var i = 0
        let S = stride
        while i < data.count {
            if data[i] == value { return i }
            i += S
        }
        return nil
    }

    @inline(__always)
    func count(_ value: UInt32) -> UInt32 {
        guard let i = find(value) else { return 0 }
        return sum(i)
    }

    mutating func add(_ value: UInt32, bucket: Int32) {
        advance(to: bucket)
        let s = Int(bucket) & (Histogram.slots - 1)
        if let i = find(value) {
            let c = slot(i, s)
            guard c < (narrow ? 0xFF : 0xFFFF) else { return }   // saturated bucket
            setSlot(i, s, c + 1)
            if !narrow { data[i + 1] &+= 1 }
        } else {
            let i = data.count
            // Room for this entry and a quarter more instead of doubling: most histograms are per person and
            // stop growing early (many at one value), and doubling left up to half of their memory unused.
            if i + stride > data.capacity { data.reserveCapacity(i + stride + i / 4) }
            data.append(value)
            for _ in 1..<stride { data.append(0) }
            if !narrow { data[i + 1] = 1 }
            setSlot(i, s, 1)
            if let big { big.index.set(value, Int32(i)) }
            else if distinct > Histogram.indexThreshold { rebuildIndex() }
        }
        total &+= 1
    }

    mutating func rebuildIndex() {
        let b: BigHistogramIndex
        switch storage {
        case .indexed(let x): b = x
        case .plain(let a):
            b = BigHistogramIndex()
            storage = .plain([])
            b.data = a
            storage = .indexed(b)
        }
        b.index = U32Map()
        var i = 0
        let S = stride
        while i < b.data.count { b.index.set(b.data[i], Int32(i)); i += S }
        b.rareValid = false
    }

    /// Forgets the given values (an evicted identity in a shared model of users); returns whether any was held.
    @discardableResult
    mutating func removeValues(_ values: Set<UInt32>) -> Bool {
        let S = stride
        var write = 0, i = 0
        var removed: UInt32 = 0
        while i < data.count {
            if values.contains(data[i]) {
                removed &+= sum(i)
            } else {
                if write != i { for k in 0..<S { data[write + k] = data[i + k] } }
                write += S
            }
            i += S
        }
        guard write < data.count else { return false }
        data.removeSubrange(write..<data.count)
        total = total >= removed ? total - removed : 0
        if big != nil { rebuildIndex() }
        return true
    }

    /// Interner compaction: renumbers the value ids (categorical models), keeping the entry order and the
    /// rarity cache (it depends on counts only).
    mutating func renumberValues(_ remap: [UInt32]) {
        var i = 0
        let S = stride
        while i < data.count {
            let v = Int(data[i])
            if v < remap.count, remap[v] != UInt32.max { data[i] = remap[v] }
            i += S
        }
        if let b = big {
            b.index = U32Map()
            i = 0
            while i < data.count { b.index.set(data[i], Int32(i)); i += S }
        }
    }

    /// Value ids and window counts.
    func entries() -> [(value: UInt32, count: UInt32)] {
        var out: [(UInt32, UInt32)] = []
        out.reserveCapacity(distinct)
        var i = 0
        let S = stride
        while i < data.count { out.append((data[i], sum(i))); i += S }
        return out
    }

    /// The share of all observations held by values no more frequent than `count`: the "rarity" mass
    /// the abnormal rules compare with their threshold.
    func massAtOrBelow(_ count: UInt32) -> Double {
        guard total > 0 else { return 0 }
        var mass: UInt64 = 0
        var i = 0
        let S = stride
        while i < data.count {
            let c = sum(i)
            if c <= count { mass += UInt64(c) }
            i += S
        }
        return Double(mass) / Double(total)
    }

    /// Whether a value seen `count` times is in the rare tail (mass ≤ threshold). Small histograms compute
    /// it exactly; large ones use a threshold count cached until the total moves by more than 1%.
    func isRare(_ count: UInt32, threshold: Double) -> (rare: Bool, mass: Double) {
        guard let big else {
            let m = massAtOrBelow(count)
            return (m <= threshold, m)
        }
        if !big.rareValid || big.rareThreshold != threshold || big.rareEpoch != epoch
            || Double(total > big.rareTotal ? total - big.rareTotal : big.rareTotal - total) > Double(total) / 100 {
            var counts = entries().map(\.count)
            counts.sort()
            var cum: UInt64 = 0
            var maxRare: UInt32 = 0
            let limit = threshold * Double(total)
            var k = 0
            while k < counts.count {
                let c = counts[k]
                var j = k
                var group: UInt64 = 0
                while j < counts.count, counts[j] == c { group += UInt64(c); j += 1 }
                if Double(cum + group) <= limit { cum += group; maxRare = c } else { break }
                k = j
            }
            big.rareCount = maxRare
            big.rareMass = Double(cum) / Double(max(total, 1))
            big.rareTotal = total
            big.rareEpoch = epoch
            big.rareThreshold = threshold
            big.rareValid = true
        }
        // Exact mass only when the value is rare (it is then reported as evidence).
        return count <= big.rareCount ? (true, massAtOrBelow(count)) : (false, 0)
    }

    /// Approximate heap bytes: the entry array (with malloc header and slack) and the index.
    var approximateBytes: Int {
        var b = MemoryLayout<Histogram>.stride
        if data.capacity > 0 { b += 32 + data.capacity * 4 }
        if let big { b += 64 + big.index.approximateBytes }
        return b
    }
}

final class BigHistogramIndex {
    @exclusivity(unchecked) var data: [UInt32] = []
    var index = U32Map()
    var rareValid = false
    var rareCount: UInt32 = 0
    var rareMass: Double = 0
    var rareTotal: UInt32 = 0
    var rareEpoch: Int32 = 0
    var rareThreshold: Double = 0
}

/// Log-scale bins for numeric models: bin 0 holds values below 1; bin b ≥ 1 holds [2^((b-1)/4), 2^(b/4)),
/// four bins per doubling (each about 19% wide).
enum NumericBins {
    static let perOctave = 4.0

    static func bin(_ v: Double) -> UInt32 {
        guard v >= 1, v.isFinite else { return 0 }
        return 1 + UInt32(min(1000, (log2(v) * perOctave).rounded(.down)))
    }
    static func lower(_ b: UInt32) -> Double { b == 0 ? 0 : pow(2, Double(b - 1) / perOctave) }
    static func upper(_ b: UInt32) -> Double { b == 0 ? 1 : pow(2, Double(b) / perOctave) }
    static func middle(_ b: UInt32) -> Double { b == 0 ? 0.5 : pow(2, (Double(b) - 0.5) / perOctave) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
