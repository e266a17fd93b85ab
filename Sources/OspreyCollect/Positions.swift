import Foundation

/// Where one stream is: enough to resume exactly after the last record handed on.
///
/// - paged POST sources and the SIEM stream: the page in progress is fetched again with `pageToken`
///   (nil = the window's first page) and its first `skip` records are passed over;
/// - SIEM batch: the file list page in progress (`pageToken`), the file in progress (`file`, `skip` lines
///   done), and the files finished (kept in the stream's state, bounded).
public struct Cursor: Codable, Equatable, Sendable {
    /// The window in progress (milliseconds); nil = none: the next poll opens one at `nextStart`.
    public var windowStart: Int64?
    public var windowEnd: Int64?
    public var pageToken: String?
    public var file: String?
    public var skip = 0
    public var nextStart: Int64?
    /// The latest event time handed on (lag metric).
    public var lastEventMillis: Int64 = 0
    public init() {}
}

/// A set that keeps only the most recent `limit` members (FIFO eviction).
public struct BoundedSet<T: Hashable>: Sendable where T: Sendable {
    public private(set) var order: [T] = []
    private var head = 0
    private var members: Set<T> = []
    public var limit: Int
    public init(limit: Int) { self.limit = max(0, limit) }
    public func contains(_ x: T) -> Bool { members.contains(x) }
    public var count: Int { members.count }
    public mutating func insert(_ x: T) {
        guard limit > 0, !members.contains(x) else { return }
        members.insert(x)
        order.append(x)
        if members.count > limit {
            members.remove(order[head])
            head += 1
            if head > 4096 && head * 2 > order.count { order.removeFirst(head); head = 0 }
        }
    }
    /// Members oldest first.
    public var ordered: ArraySlice<T> { order[head...] }
}

/// The durable part of one stream: cursor, identities of recent records (duplicate check across overlapping
/// windows and re-sent pages), batch files finished.
public struct StreamState: Sendable {
    public var cursor = Cursor()
    public var seen: BoundedSet<UInt64>
    public var files: BoundedSet<String>
    public init(limit: Int) {
        seen = BoundedSet(limit: limit)
        files = BoundedSet(limit: max(limit, 1000))
    }

    /// Binary image: "OSC1", cursor JSON, seen identities, finished files.
    public func encode() -> [UInt8] {
        var out: [UInt8] = Array("OSC1".utf8)
        func u32(_ v: Int) { var x = UInt32(truncatingIfNeeded: v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
        let cj = (try? JSONEncoder().encode(cursor)).map { [UInt8]($0) } ?? Array("{}".utf8)
        u32(cj.count); out += cj
        u32(seen.count)
        for id in seen.ordered { var x = id.littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
        u32(files.count)
        for f in files.ordered { let b = Array(f.utf8); u32(b.count); out += b }
        return out
    }

    public static func decode(_ b: [UInt8], limit: Int) -> StreamState? {
        var s = StreamState(limit: limit)
        var p = 4
        guard b.count >= 4, Array(b[0..<4]) == Array("OSC1".utf8) else { return nil }
        func u32() -> Int? {
            guard p + 4 <= b.count else { return nil }
            let v = Int(b[p]) | Int(b[p + 1]) << 8 | Int(b[p + 2]) << 16 | Int(b[p + 3]) << 24
            p += 4
            return v
        }
        guard let cn = u32(), cn <= b.count - p,
              let c = try? JSONDecoder().decode(Cursor.self, from: Data(b[p..<(p + cn)])) else { return nil }
        s.cursor = c; p += cn
        guard let sn = u32(), sn <= (b.count - p) / 8 else { return nil }
        for _ in 0..<sn {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[p + k]) << (8 * UInt64(k)) }
            s.seen.insert(v); p += 8
        }
        guard let fn = u32(), fn <= b.count - p else { return nil }
        for _ in 0..<fn {
            guard let n = u32(), n <= b.count - p else { return nil }
            s.files.insert(String(decoding: b[p..<(p + n)], as: UTF8.self)); p += n
        }
        return s
    }
}

/// One thing the collector hands on: a record (or nothing, a position only) and the stream's cursor just
/// after it. Whoever consumes steps applies them to a CollectPositions in the order they come, in the same
/// place where records enter the pipeline, so a checkpoint always saves the position of exactly the records
/// the analytics state already holds.
public struct Step: Sendable {
    public var stream: String
    public var cursor: Cursor
    public var record: [UInt8]?
    public var identity: UInt64?
    public var fileDone: String?
    /// The record's own event time, when it has one.
    public var timeMillis: Int64? = nil
}

/// The committed side of every stream's position (what the state store saves at a checkpoint).
public final class CollectPositions: @unchecked Sendable {
    private let lock = NSLock()
    private var streams: [String: StreamState] = [:]
    private var dirty: Set<String> = []
    public let limit: Int

    public init(limit: Int, loaded: [String: [UInt8]] = [:]) {
        self.limit = limit
        for (k, v) in loaded { if let s = StreamState.decode(v, limit: limit) { streams[k] = s } }
    }

    public func state(_ stream: String) -> StreamState {
        lock.lock(); defer { lock.unlock() }
        return streams[stream] ?? StreamState(limit: limit)
    }

    public func apply(_ step: Step) {
        lock.lock(); defer { lock.unlock() }
        var s = streams[step.stream] ?? StreamState(limit: limit)
        s.cursor = step.cursor
        if let id = step.identity { s.seen.insert(id) }
        if let f = step.fileDone { s.files.insert(f) }
        streams[step.stream] = s
        dirty.insert(step.stream)
    }

    /// Every stream this process changed (written at each checkpoint, so a failed transaction loses nothing).
    public func changedRows() -> [(String, [UInt8])] {
        lock.lock(); defer { lock.unlock() }
        return dirty.sorted().compactMap { k in streams[k].map { (k, $0.encode()) } }
    }

    public var all: [String: StreamState] { lock.lock(); defer { lock.unlock() }; return streams }
}
