/// Appends JSON text to a byte buffer: the per-event output path (no Foundation encoders).
public struct JSONWriter {
    public var bytes: [UInt8] = []
    /// Field names as UTF-8, by id: a snapshot of the registry refreshed when a newer field shows up.
    private var names: [[UInt8]] = []
    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func fieldName(_ f: Field) {
        if Int(f.id) >= names.count { names = FieldRegistry.shared.allNames().map { Array($0.utf8) } }
        bytes.append(0x22); bytes.append(contentsOf: names[Int(f.id)]); bytes.append(0x22)
    }

    @inline(__always) public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { b in
            var start = 0
            for i in 0..<b.count {
                let c = b[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                if i > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i])) }
                switch c {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
                case 0x0D: bytes.append(0x5C); bytes.append(0x72)
                case 0x09: bytes.append(0x5C); bytes.append(0x74)
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
                start = i + 1
            }
            if start < b.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<b.count])) }
        }
        bytes.append(0x22)
    }

    public mutating func int(_ v: Int64) {
        if v == 0 { bytes.append(0x30); return }
        var v = v
        if v < 0 { bytes.append(0x2D); if v == .min { bytes.append(contentsOf: Array("9223372036854775808".utf8)); return }; v = -v }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            while v > 0 { t[n] = UInt8(0x30 + v % 10); v /= 10; n += 1 }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(t[i]) }
        }
    }

    public mutating func double(_ d: Double) {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { int(Int64(d)); return }
        if !d.isFinite { raw("null"); return }
        bytes.append(contentsOf: Array(String(d).utf8))
    }

    public mutating func bool(_ b: Bool) { if b { raw("true") } else { raw("false") } }

    public mutating func time(_ ms: Int64) {
        bytes.append(0x22)
        let at = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 24))
        UTCTime.write(ms, into: &bytes, at: at)
        bytes.append(0x22)
    }

    public mutating func value(_ v: Value) {
        switch v {
        case .string(let s): string(s)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .bool(let b): bool(b)
        case .list(let l):
            bytes.append(0x5B)
            for (i, s) in l.enumerated() { if i > 0 { bytes.append(0x2C) }; string(s) }
            bytes.append(0x5D)
        }
    }

    /// `{"parser":…,"activity_type":…,"time":…,"fields":{…}}` (docs/architecture.md#outputs), fields in the order the
    /// parser set them.
    public mutating func event(_ e: Event) {
        raw("{\"parser\":"); string(e.parser)
        raw(",\"activity_type\":"); string(e.activityType.rawValue)
        raw(",\"time\":"); time(e.timeMillis)
        raw(",\"fields\":{")
        var first = true
        for i in 0..<e.fieldCount {
            let (k, v) = e.field(at: i)
            if !first { bytes.append(0x2C) }
            first = false
            fieldName(k); bytes.append(0x3A); value(v)
        }
        raw("}}")
    }
}
