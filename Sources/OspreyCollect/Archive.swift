import Foundation
import OspreyCore

/// Raw records as daily files: `DIR/mimecast-YYYY-MM-DD.jsonl` (by the record's event time; the fetch day
/// when it has none), one compact JSON record per line, for archive or `osprey replay DIR`.
///
/// With a state directory the file sizes are committed with each checkpoint (`sizes()`), and a restart
/// first cuts every file back to its committed size (`truncate(to:)`), so a record reaches the archive
/// exactly once even across kill -9.
public final class DailyArchive: @unchecked Sendable {
    public let directory: String
    private var files: [String: (fd: Int32, size: Int, buffer: [UInt8])] = [:]
    private let lock = NSLock()

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { _ = sizes(); for f in files.values { close(f.fd) } }

    public static func name(forMillis ms: Int64) -> String { "mimecast-" + String(UTCTime.format(ms).prefix(10)) + ".jsonl" }

    public func write(_ record: [UInt8], timeMillis: Int64) throws {
        let name = DailyArchive.name(forMillis: timeMillis)
        lock.lock(); defer { lock.unlock() }
        if files[name] == nil {
            let path = directory + "/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard fd >= 0 else { throw CollectError.response(path: path, detail: "cannot open (\(String(cString: strerror(errno))))") }
            let size = Int(lseek(fd, 0, SEEK_END))
            files[name] = (fd, max(0, size), [])
        }
        files[name]!.buffer.append(contentsOf: record)
        files[name]!.buffer.append(0x0A)
        files[name]!.size += record.count + 1
        if files[name]!.buffer.count >= 1 << 16 { try flush(name) }
    }

    private func flush(_ name: String) throws {
        guard let f = files[name], !f.buffer.isEmpty else { return }
        var off = 0
        try f.buffer.withUnsafeBytes { b in
            while off < b.count {
                let n = Glibc.write(f.fd, b.baseAddress! + off, b.count - off)
                if n < 0 { if errno == EINTR { continue }; throw CollectError.response(path: name, detail: "write failed (\(String(cString: strerror(errno))))") }
                off += n
            }
        }
        files[name]!.buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, syncs, and returns every file's size (file name → bytes).
    public func sizes() -> [String: Int] {
        lock.lock(); defer { lock.unlock() }
        var out: [String: Int] = [:]
        for name in files.keys {
            try? flush(name)
            fsync(files[name]!.fd)
            out[name] = files[name]!.size
        }
        return out
    }

    /// Cuts the archive back to the committed sizes; files the commit does not know are emptied.
    public func truncate(to committed: [String: Int]) throws {
        lock.lock(); defer { lock.unlock() }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for n in names where n.hasPrefix("mimecast-") && n.hasSuffix(".jsonl") {
            let size = committed[n] ?? 0
            let path = directory + "/" + n
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
                  let cur = (attrs[.size] as? NSNumber)?.intValue, cur > size else { continue }
            guard Glibc.truncate(path, off_t(size)) == 0 else {
                throw CollectError.response(path: path, detail: "cannot truncate (\(String(cString: strerror(errno))))")
            }
        }
    }
}
