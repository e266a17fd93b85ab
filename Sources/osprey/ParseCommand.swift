import ArgumentParser
import Foundation
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing

struct Parse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse log lines into normalized events (JSON lines on stdout, summary on stderr).")

    @Argument(help: "Input files (plain or .gz); '-' or none reads stdin.")
    var files: [String] = []

    @Option(help: "Write every rejected line with its reason to this file (JSON lines).")
    var rejects: String?

    @Option(help: "Maximum bytes in one line; longer lines are rejected as too long.")
    var maxLineBytes: Int = 4 << 20

    @Flag(help: "Print only the summary, no events.")
    var quiet = false

    @Flag(help: "Instead of events, explain each record (meant for one line): every parser tried, in order, and why it did not take it.")
    var explain = false

    @OptionGroup var contentOptions: ContentOptions

    func run() throws {
        let dir = contentOptions.content ?? OspreyContent.directory.path
        let engine: ParseEngine
        do { engine = try ParseEngine(contentDirectory: dir) } catch let e as ContentError {
            throw CLIError("content error: \(e)")
        }
        engine.maxLineBytes = maxLineBytes
        let out = OutputWriter(fd: 1)
        let rejectOut = try rejects.map { try OutputWriter(path: $0) }
        var stats = ParseStats()
        var writer = JSONWriter(capacity: 4096)
        let started = Date()
        var inputErrors: [InputError] = []
        for path in files.isEmpty ? ["-"] : files {
            let reader = try LineReader(path: path, maxLineBytes: maxLineBytes)
            var lineNo = 0
            do { try reader.forEach { record in
                let firstLine = lineNo + 1
                switch record {
                case .tooLong(let bytes, let lines):
                    lineNo += lines
                    stats.lines += lines
                    stats.records += 1
                    let r = ParseResult.reject(Reject(reason: .tooLong, detail: "\(bytes) bytes > \(maxLineBytes)"))
                    stats.count(r)
                    if let rejectOut { writeReject(rejectOut, path: path, line: firstLine, reject: r, text: nil) }
                case .line(let bytes, let lines):
                    lineNo += lines
                    stats.lines += lines
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { stats.blankLines += lines; return }
                    stats.records += 1
                    if explain {
                        out.write("\(path):\(firstLine): " + engine.explain(line: bytes))
                    }
                    engine.parse(line: bytes) { result in
                        stats.count(result)
                        switch result {
                        case .event(let e):
                            if !quiet && !explain {
                                writer.bytes.removeAll(keepingCapacity: true)
                                writer.event(e)
                                writer.bytes.append(0x0A)
                                out.write(writer.bytes)
                            }
                        case .reject:
                            if let rejectOut { writeReject(rejectOut, path: path, line: firstLine, reject: result, text: bytes) }
                        case .emptyPage: break
                        }
                    }
                }
            } } catch let e as InputError {
                // A truncated gzip: the records before the cut were counted; the file is reported, exit non-zero.
                inputErrors.append(e)
                FileHandle.standardError.write(Data("osprey parse: error: \(e)\n".utf8))
            }
        }
        out.flush()
        rejectOut?.flush()
        FileHandle.standardError.write(Data(stats.summary(seconds: Date().timeIntervalSince(started)).utf8))
        if !inputErrors.isEmpty {
            FileHandle.standardError.write(Data("osprey parse: \(inputErrors.count) input error(s): \(inputErrors.map(\.description).joined(separator: "; "))\n".utf8))
            throw ExitCode(1)
        }
    }

    private func writeReject(_ out: OutputWriter, path: String, line: Int, reject: ParseResult, text: UnsafeRawBufferPointer?) {
        guard case .reject(let r) = reject else { return }
        var w = JSONWriter()
        w.raw("{\"file\":"); w.string(path)
        w.raw(",\"line\":"); w.int(Int64(line))
        w.raw(",\"reason\":"); w.string(r.reason.rawValue)
        w.raw(",\"detail\":"); w.string(r.detail)
        if let text {
            // Invalid bytes are replaced so the reject file stays valid UTF-8 JSON.
            w.raw(",\"text\":"); w.string(String(decoding: text.prefix(65536), as: UTF8.self))
        }
        w.raw("}\n")
        out.write(w.bytes)
    }
}
