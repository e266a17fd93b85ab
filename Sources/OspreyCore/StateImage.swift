/// The byte format of Osprey's durable images (the analytics state, the pipeline's in-flight events):
/// little-endian integers, length-prefixed UTF-8 strings. Readers check every length against what is left,
/// so a corrupt image throws `StateImageError` naming what is wrong and where, never traps.
public enum StateImageError: Error, CustomStringConvertible {
    case badMagic, badVersion(UInt32, expected: UInt32), truncated, contentMismatch(String)
    /// A structurally invalid image: what is wrong, and at which byte offset it was found.
    case corrupt(String, offset: Int)
    public var description: String {
        switch self {
        case .badMagic: return "not a state image (bad magic number)"
        case .badVersion(let v, let expected): return "unsupported state image version \(v) (this build reads version \(expected))"
        case .truncated: return "truncated state image"
        case .contentMismatch(let s): return "state image was taken with other content: \(s)"
        case .corrupt(let s, let offset): return "corrupt state image at byte \(offset): \(s)"
        }
    }
}

public struct SnapshotWriter {
    public private(set) var bytes: [UInt8] = []
    /// When set, `spill()` hands the bytes written so far to it once they reach `spillBytes` (and starts
    /// afresh), so a large image never sits whole in memory (the state store chunks it as it streams).
    public var sink: (([UInt8]) -> Void)?
    static let spillBytes = 1 << 20
    public init() {}
    public init(sink: @escaping ([UInt8]) -> Void) { self.sink = sink; bytes.reserveCapacity(SnapshotWriter.spillBytes + 4096) }
    @inline(__always) public mutating func spill() {
        if bytes.count >= SnapshotWriter.spillBytes, let sink { sink(bytes); bytes.removeAll(keepingCapacity: true) }
    }
    /// The rest to the sink (end of the image).
    public mutating func end() { if let sink, !bytes.isEmpty { sink(bytes); bytes.removeAll() } }
    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func int(_ v: Int) { i64(Int64(v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
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
    public var offset: Int { pos }
    public var remaining: Int { bytes.count - pos }

    /// A count of items that take at least `each` bytes apiece: rejected when the rest of the image
    /// cannot hold that many, so a flipped length never makes a huge allocation or a long loop.
    public mutating func count(_ what: String, each: Int) throws -> Int {
        let at = pos
        let n = Int(try u32())
        guard n <= remaining / max(1, each) else {
            throw StateImageError.corrupt("\(what): count \(n) cannot fit in the \(remaining) bytes left", offset: at)
        }
        return n
    }

    public func corrupt(_ what: String) -> StateImageError { .corrupt(what, offset: pos) }
    public mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, pos + n <= bytes.count else { throw StateImageError.truncated }
        defer { pos += n }
        return bytes[pos..<pos + n]
    }
    public mutating func u8() throws -> UInt8 { let s = try take(1); return s[s.startIndex] }
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
    /// A counter: 0 through 2^62, so that adding to it after a restore cannot overflow.
    public mutating func counter(_ what: String) throws -> Int {
        let at = pos
        let v = try int()
        guard v >= 0, v <= 1 << 62 else { throw StateImageError.corrupt("\(what) = \(v) is not a counter", offset: at) }
        return v
    }
    public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    public mutating func bool() throws -> Bool { try u8() != 0 }
    public mutating func str() throws -> String { String(decoding: try take(Int(try u32())), as: UTF8.self) }
    public mutating func u32s() throws -> [UInt32] {
        let n = Int(try u32())
        guard n <= remaining / 4 else { throw StateImageError.truncated }
        var a = [UInt32](); a.reserveCapacity(n)
        for _ in 0..<n { a.append(try u32()) }
        return a
    }
}

/// Events in a state image (the in-flight events a checkpoint keeps): fields by catalog name, values typed.
/// Field ids are never persisted (they follow registration order), names are.
extension SnapshotWriter {
    public mutating func event(_ e: Event) {
        str(e.parser); str(e.activityType.rawValue); i64(e.timeMillis)
        u32(UInt32(e.fieldCount))
        for i in 0..<e.fieldCount {
            let (f, v) = e.field(at: i)
            str(f.name)
            switch v {
            case .string(let s): u8(0); str(s)
            case .int(let n): u8(1); i64(n)
            case .double(let d): u8(2); f64(d)
            case .bool(let b): u8(3); bool(b)
            case .list(let l): u8(4); u32(UInt32(l.count)); for x in l { str(x) }
            }
        }
    }
}

extension SnapshotReader {
    /// An event written by `SnapshotWriter.event`. A field name this build has not registered, an unknown
    /// activity type or value tag is corrupt.
    public mutating func event() throws -> Event {
        let parser = try str()
        let typeName = try str()
        guard let type = ActivityType(rawValue: typeName) else { throw corrupt("unknown activity type '\(typeName)'") }
        var e = Event(parser: parser, activityType: type, timeMillis: try i64())
        let n = try count("event fields", each: 6)
        e.reserveFields(n)
        for _ in 0..<n {
            let name = try str()
            guard let f = Field.existing(name) else { throw corrupt("unknown field '\(name)'") }
            let v: Value
            switch try u8() {
            case 0: v = .string(try str())
            case 1: v = .int(try i64())
            case 2: v = .double(try f64())
            case 3: v = .bool(try bool())
            case 4:
                let m = try count("list elements", each: 4)
                var l: [String] = []; l.reserveCapacity(m)
                for _ in 0..<m { l.append(try str()) }
                v = .list(l)
            case let t: throw corrupt("unknown value tag \(t)")
            }
            e[f] = v
        }
        return e
    }
}
