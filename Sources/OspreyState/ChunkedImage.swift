import Foundation
import GRDB
import OspreyCore

/// The analytics image stored in content-defined chunks, so that a checkpoint writes what changed.
///
/// The image (AnalyticsEngine.snapshot) streams through a gear rolling hash that cuts it where the top 11
/// bits of the hash (which depend on the last 64 bytes) are zero (512 B … 32 KiB, about 2.5 KiB on average;
/// the low bits would see only the last few bytes, too little in an image full of small integers): a change inside the image
/// alters only the chunks around it, and bytes inserted or removed shift later boundaries with them, so the
/// unchanged parts give the same chunks again. Each chunk is keyed by two 64-bit hashes of its bytes; a
/// checkpoint inserts the chunks the previous one did not have, deletes those no longer used, and saves the
/// manifest (chunk ids in order, the image's length and hash) in the checkpoint row — all in the
/// checkpoint's transaction. Table `analytics_chunks(id, h1, h2, bytes)`.
struct ImageChunker {
    static let minChunk = 512
    static let maxChunk = 1 << 15
    static let cutShift: UInt64 = 64 - 11
    static let gear: [UInt64] = {
        var r = SplitMix64(state: 0x6F73_7072_6579_6763)   // "ospreygc"
        return (0..<256).map { _ in r.next() }
    }()

    private var partial: [UInt8] = []
    private var h: UInt64 = 0

    /// Feeds the next piece of the image; `emit` gets each complete chunk.
    mutating func feed(_ bytes: [UInt8], _ emit: ([UInt8]) throws -> Void) rethrows {
        var start = 0
        var i = 0
        let n = bytes.count
        let gear = ImageChunker.gear
        while i < n {
            h = (h << 1) &+ gear[Int(bytes[i])]
            i += 1
            let len = partial.count + (i - start)
            if len >= ImageChunker.minChunk && (h >> ImageChunker.cutShift == 0 || len >= ImageChunker.maxChunk) {
                partial.append(contentsOf: bytes[start..<i])
                try emit(partial)
                partial.removeAll(keepingCapacity: true)
                start = i
                h = 0
            }
        }
        partial.append(contentsOf: bytes[start..<n])
    }

    mutating func finish(_ emit: ([UInt8]) throws -> Void) rethrows {
        if !partial.isEmpty { try emit(partial) }
        partial.removeAll()
        h = 0
    }

    /// Two independent 64-bit hashes (FNV-1a and a multiply-xorshift), the chunk's content key.
    static func key(_ b: [UInt8]) -> ChunkKey {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325
        var c: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        for x in b {
            a = (a ^ UInt64(x)) &* 0x100_0000_01B3
            c = (c &+ UInt64(x)) &* 0xBF58_476D_1CE4_E5B9
            c ^= c >> 29
        }
        return ChunkKey(h1: Int64(bitPattern: a), h2: Int64(bitPattern: c))
    }
}

struct ChunkKey: Hashable { var h1: Int64; var h2: Int64 }

/// FNV-1a 64 over a stream of pieces: the whole image's check in the manifest.
struct StreamHash {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    private(set) var length = 0
    mutating func add(_ b: [UInt8]) {
        var v = value
        for x in b { v = (v ^ UInt64(x)) &* 0x100_0000_01B3 }
        value = v
        length += b.count
    }
}

/// The manifest: magic, chunk count, image length, image hash, then the chunk ids (8 bytes each, LE).
struct ImageManifest {
    static let magic: UInt32 = 0x4F53_434D   // "OSCM"
    var ids: [Int64] = []
    var length = 0
    var hash: UInt64 = 0

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24 + ids.count * 8)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(ImageManifest.magic); put(UInt32(truncatingIfNeeded: ids.count)); put(UInt64(length)); put(hash)
        for id in ids { put(id) }
        return out
    }

    /// nil when the bytes are not a whole manifest.
    init?(_ b: [UInt8]) {
        func get(_ at: Int, _ n: Int) -> UInt64? {
            guard at >= 0, n <= 8, at + n <= b.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[at + k]) << (8 * UInt64(k)) }
            return v
        }
        guard let m = get(0, 4), UInt32(m) == ImageManifest.magic, let n = get(4, 4), let len = get(8, 8), let h = get(16, 8),
              b.count == 24 + Int(n) * 8, len <= UInt64(Int.max) else { return nil }
        length = Int(len); hash = h
        ids.reserveCapacity(Int(n))
        for k in 0..<Int(n) {
            guard let v = get(24 + k * 8, 8) else { return nil }
            ids.append(Int64(bitPattern: v))
        }
    }

    init() {}
}

extension StateStore {
    static let chunkTableSQL = "CREATE TABLE IF NOT EXISTS analytics_chunks(id INTEGER PRIMARY KEY, h1 INTEGER NOT NULL, h2 INTEGER NOT NULL, bytes BLOB NOT NULL)"

    /// Every stored chunk: content key → id (read when the store does not know them: first save, or after a
    /// failed transaction).
    func loadChunkIndex(_ db: Database) throws -> [ChunkKey: Int64] {
        var out: [ChunkKey: Int64] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT id, h1, h2 FROM analytics_chunks") {
            guard case .int64(let id) = (r[0] as DatabaseValue).storage, case .int64(let a) = (r[1] as DatabaseValue).storage,
                  case .int64(let b) = (r[2] as DatabaseValue).storage else {
                throw StateError(directory: directory, problem: "analytics_chunks row is not (integer, integer, integer, blob)")
            }
            out[ChunkKey(h1: a, h2: b)] = id
        }
        return out
    }

    /// Writes the image streamed by `image` as chunks (inside the caller's transaction): inserts the new
    /// ones, deletes the ones no longer used; returns the manifest and the new index, and what was written.
    func writeChunks(_ db: Database, index old: [ChunkKey: Int64], head: [UInt8] = [],
                     image: (@escaping ([UInt8]) -> Void) -> Void) throws -> (ImageManifest, [ChunkKey: Int64], written: Int, bytes: Int) {
        var index = old
        var used = Set<Int64>()
        var manifest = ImageManifest()
        var hash = StreamHash()
        var nextId = (index.values.max() ?? 0) + 1
        var written = 0, writtenBytes = 0
        var failure: Error?
        var chunker = ImageChunker()
        func put(_ chunk: [UInt8]) throws {
            let key = ImageChunker.key(chunk)
            let id: Int64
            if let known = index[key] {
                id = known
            } else {
                id = nextId; nextId += 1
                try db.execute(sql: "INSERT INTO analytics_chunks VALUES (?, ?, ?, ?)", arguments: [id, key.h1, key.h2, Data(chunk)])
                index[key] = id
                written += 1; writtenBytes += chunk.count
            }
            used.insert(id)
            manifest.ids.append(id)
        }
        let feed: ([UInt8]) -> Void = { piece in
            guard failure == nil else { return }
            hash.add(piece)
            do { try chunker.feed(piece, put) } catch { failure = error }
        }
        if !head.isEmpty { feed(head) }
        image(feed)
        if let failure { throw failure }
        try chunker.finish(put)
        for (key, id) in index where !used.contains(id) {
            try db.execute(sql: "DELETE FROM analytics_chunks WHERE id = ?", arguments: [id])
            index[key] = nil
        }
        manifest.length = hash.length
        manifest.hash = hash.value
        return (manifest, index, written, writtenBytes)
    }

    /// The image a manifest names, checked chunk by chunk and whole.
    func readChunks(_ db: Database, manifest: ImageManifest) throws -> [UInt8] {
        var chunks: [Int64: [UInt8]] = [:]
        let wanted = Set(manifest.ids)
        for r in try Row.fetchAll(db, sql: "SELECT id, h1, h2, bytes FROM analytics_chunks") {
            guard case .int64(let id) = (r[0] as DatabaseValue).storage, wanted.contains(id) else { continue }
            let bv: DatabaseValue = r[3]
            guard case .blob(let d) = bv.storage, case .int64(let a) = (r[1] as DatabaseValue).storage,
                  case .int64(let b) = (r[2] as DatabaseValue).storage else {
                throw StateError(directory: directory, problem: "analytics_chunks row \(id) is not (integer, integer, integer, blob)")
            }
            let bytes = [UInt8](d)
            guard ImageChunker.key(bytes) == ChunkKey(h1: a, h2: b) else {
                throw StateError(directory: directory, problem: "analytics_chunks row \(id): its bytes do not match their hash")
            }
            chunks[id] = bytes
        }
        var image: [UInt8] = []
        image.reserveCapacity(manifest.length)
        for (k, id) in manifest.ids.enumerated() {
            guard let c = chunks[id] else {
                throw StateError(directory: directory, problem: "analytics image chunk \(k) (analytics_chunks id \(id)) is missing")
            }
            image.append(contentsOf: c)
        }
        var h = StreamHash()
        h.add(image)
        guard h.length == manifest.length, h.value == manifest.hash else {
            throw StateError(directory: directory, problem: "analytics image assembled from chunks is \(h.length) bytes with another hash than its manifest says (\(manifest.length) bytes)")
        }
        return image
    }
}
