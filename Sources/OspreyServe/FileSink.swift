import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OspreyAnalytics

/// `type = jsonl` (the alert lines as written) and `type = ecs` (Elastic Common Schema documents, one a
/// line): appended to a file.
final class FileSink: AlertSink {
    enum Format { case line, ecs }
    let format: Format
    private let handle: FileHandle

    init(name: String, path: String, format: Format) throws {
        self.format = format
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw SinkError("output \(name): \(path): cannot open for writing: \(String(cString: strerror(errno))) (check the directory exists and is writable)")
        }
        h.seekToEndOfFile()
        handle = h
    }

    func send(_ items: [SinkItem]) -> Bool {
        var d = Data()
        for i in items {
            switch format {
            case .line: d.append(contentsOf: Array(i.line.utf8))
            case .ecs: d.append(contentsOf: Array(AlertFormat.ecs(AlertView(i.alert)).utf8))
            }
            d.append(0x0A)
        }
        do { try handle.write(contentsOf: d) } catch { return false }
        return true
    }

    func close() { try? handle.synchronize() }
}
