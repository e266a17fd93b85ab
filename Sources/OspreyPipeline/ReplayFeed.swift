import Foundation
import OspreyIO
import OspreyParsing

/// Feeds one input's records to the stateful step of the pipeline, each with its parse results, in input
/// order, on the calling thread. With two threads a parse thread reads and parses (the stateless step,
/// `Pipeline.parse`) in batches, at most `inFlight` batches ahead of the caller, so memory stays bounded;
/// with one, every record is read and parsed inline. Both give the caller the same records with the same
/// results in the same order, so the outputs are byte-identical.
public enum ReplayFeed {
    /// `body` gets every record `reader` frames, in order: a `.line` with its parse results, or with nil
    /// when it is blank (`Pipeline.isBlank`) or among the first `skip` records (given unparsed: a resumed
    /// run skips them); a `.tooLong` with nil. A reader error (a truncated gzip stream) is thrown after the
    /// records before it were given, as `LineReader.forEach` does; an error thrown by `body` stops the
    /// parse thread and is rethrown. `reader` and `parser` belong to the feed until it returns: neither is
    /// used by anything else meanwhile.
    public static func forEach(reader: LineReader, parser: ParseEngine, threads: Int, skip: Int = 0,
                               batchRecords: Int = 4096, inFlight: Int = 3,
                               _ body: (LineReader.Record, ParsedLine?) throws -> Void) throws {
        if threads <= 1 {
            try inline(reader: reader, parser: parser, skip: skip, body)
        } else {
            try twoStage(ParseJob(reader: reader, parser: parser, skip: skip, batchRecords: max(1, batchRecords)),
                         queue: BatchQueue(capacity: max(1, inFlight)), body)
        }
    }

    private static func inline(reader: LineReader, parser: ParseEngine, skip: Int,
                               _ body: (LineReader.Record, ParsedLine?) throws -> Void) throws {
        var results: [ParseResult] = []
        var index = 0
        try reader.forEach { record in
            index += 1
            guard index > skip, case .line(let b, _) = record, !Pipeline.isBlank(b) else { try body(record, nil); return }
            results.removeAll(keepingCapacity: true)
            let tie = Pipeline.parse(line: b, with: parser, into: &results)
            try body(record, ParsedLine(results: results[...], tie: tie))
        }
    }

    private static func twoStage(_ job: ParseJob, queue: BatchQueue, _ body: (LineReader.Record, ParsedLine?) throws -> Void) throws {
        let thread = Thread { produce(job, queue) }
        thread.name = "osprey-parse"
        thread.stackSize = 8 << 20   // as much as the main thread's: parsing recurses into nested JSON
        thread.start()
        // However this ends, the parse thread stops and is done with the reader and parser before we return.
        defer { queue.cancel(); queue.waitForProducer() }
        while let batch = queue.take() {
            try batch.deliver(body)
            if let error = batch.error { throw error }
            if batch.last { return }
            batch.reset()
            queue.recycle(batch)
        }
    }

    /// The parse thread: reads and parses into batches until the end of input, an error, or cancellation.
    private static func produce(_ job: ParseJob, _ queue: BatchQueue) {
        defer { queue.producerFinished() }
        var batch = queue.reusable()
        var index = 0
        do {
            try job.reader.forEach { record in
                index += 1
                batch.append(record, parser: index > job.skip ? job.parser : nil)
                if batch.count >= job.batchRecords {
                    guard queue.put(batch) else { throw Cancelled() }
                    batch = queue.reusable()
                }
            }
        } catch is Cancelled {
            return
        } catch {
            batch.error = error
        }
        batch.last = true
        _ = queue.put(batch)
    }

    private struct Cancelled: Error {}
}

/// What the parse thread owns while it runs: handed over by `ReplayFeed.forEach`, whose caller does not
/// touch either until the thread has finished.
private struct ParseJob: @unchecked Sendable {
    let reader: LineReader
    let parser: ParseEngine
    let skip: Int
    let batchRecords: Int
}

/// Records and their parse results, back to back. Owned by one thread at a time: filled by the parse
/// thread, handed through the queue to the calling thread, which reads it and hands it back for reuse.
private final class ParsedBatch: @unchecked Sendable {
    private enum Kind { case parsed, unparsed, tooLong }
    private struct Entry {
        var kind: Kind
        var lines: Int
        var tooLongBytes: Int
        var tie: UInt64
        /// Where the record's bytes and results end in `text` and `results` (each starts where the one
        /// before ended).
        var textEnd: Int
        var resultsEnd: Int
    }
    private var text: [UInt8] = []
    private var results: [ParseResult] = []
    private var entries: [Entry] = []
    /// The reader's error, thrown after this batch's records.
    var error: (any Error)?
    /// The end of the input.
    var last = false

    var count: Int { entries.count }

    /// Adds one record, parsed with `parser` unless it is blank, too long or `parser` is nil.
    func append(_ record: LineReader.Record, parser: ParseEngine?) {
        switch record {
        case .tooLong(let bytes, let lines):
            entries.append(Entry(kind: .tooLong, lines: lines, tooLongBytes: bytes, tie: 0, textEnd: text.count, resultsEnd: results.count))
        case .line(let b, let lines):
            b.withMemoryRebound(to: UInt8.self) { text.append(contentsOf: $0) }
            var kind = Kind.unparsed, tie: UInt64 = 0
            if let parser, !Pipeline.isBlank(b) {
                tie = Pipeline.parse(line: b, with: parser, into: &results)
                kind = .parsed
            }
            entries.append(Entry(kind: kind, lines: lines, tooLongBytes: 0, tie: tie, textEnd: text.count, resultsEnd: results.count))
        }
    }

    /// Gives every record to `body`, in order, as `ReplayFeed.forEach` promises.
    func deliver(_ body: (LineReader.Record, ParsedLine?) throws -> Void) throws {
        try text.withUnsafeBytes { all in
            var textStart = 0, resultsStart = 0
            for e in entries {
                let line = UnsafeRawBufferPointer(rebasing: all[textStart..<e.textEnd])
                switch e.kind {
                case .tooLong: try body(.tooLong(bytes: e.tooLongBytes, lines: e.lines), nil)
                case .unparsed: try body(.line(line, lines: e.lines), nil)
                case .parsed: try body(.line(line, lines: e.lines), ParsedLine(results: results[resultsStart..<e.resultsEnd], tie: e.tie))
                }
                textStart = e.textEnd
                resultsStart = e.resultsEnd
            }
        }
    }

    func reset() {
        text.removeAll(keepingCapacity: true)
        results.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        error = nil
        last = false
    }
}

/// Full batches from the parse thread to the calling thread (at most `capacity` waiting), and emptied
/// ones back. Every field is read and written under `condition`.
private final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var full: [ParsedBatch] = []
    private var free: [ParsedBatch] = []
    private var cancelled = false
    private var producerDone = false

    init(capacity: Int) { self.capacity = capacity }

    /// Parse thread: waits for room; false when the caller stopped taking.
    func put(_ batch: ParsedBatch) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while full.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        full.append(batch)
        condition.broadcast()
        return true
    }

    /// Calling thread: the next batch in input order; nil only when the parse thread ended without one.
    func take() -> ParsedBatch? {
        condition.lock(); defer { condition.unlock() }
        while full.isEmpty && !producerDone { condition.wait() }
        guard !full.isEmpty else { return nil }
        condition.broadcast()
        return full.removeFirst()
    }

    /// Calling thread: an emptied batch, for the parse thread to fill again.
    func recycle(_ batch: ParsedBatch) {
        condition.lock(); defer { condition.unlock() }
        free.append(batch)
    }

    /// Parse thread: an emptied batch, or a new one.
    func reusable() -> ParsedBatch {
        condition.lock(); defer { condition.unlock() }
        return free.popLast() ?? ParsedBatch()
    }

    /// Calling thread: stop the parse thread (it ends at its next batch).
    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }

    func producerFinished() {
        condition.lock(); defer { condition.unlock() }
        producerDone = true
        condition.broadcast()
    }

    /// Calling thread: returns once the parse thread has finished with the reader and the parser.
    func waitForProducer() {
        condition.lock(); defer { condition.unlock() }
        while !producerDone { condition.wait() }
    }
}
