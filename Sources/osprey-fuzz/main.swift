// osprey-fuzz: a seeded mutator over every parser family (JSON, envelopes, CEF connector, key=value, SIEM v2)
// and over the line framing (LF / CR / CRLF, multi-line documents, gzip). Usage:
//   osprey-fuzz [--count N] [--seed N] [--corpus DIR] [--content DIR]
// Seeds: every line of the files under --corpus (default ../shared/corpus when present) plus lines built in
// FuzzMutator. The run is deterministic for a seed: a Swift trap kills the process (non-zero exit) after the
// last progress line, and the same --seed and --count reproduce it. An input without any result fails the run.
import CZlib
import Foundation
import OspreyContent
import OspreyCore
import OspreyIO
import OspreyParsing

var count = 1_000_000
var seed: UInt64 = 1
var corpus: String? = nil
var content = OspreyContent.directory.path
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    func value() -> String {
        guard !args.isEmpty else { FileHandle.standardError.write(Data("osprey-fuzz: \(a) needs a value\n".utf8)); exit(2) }
        return args.removeFirst()
    }
    switch a {
    case "--count": count = Int(value()) ?? count
    case "--seed": seed = UInt64(value()) ?? seed
    case "--corpus": corpus = value()
    case "--content": content = value()
    default: FileHandle.standardError.write(Data("osprey-fuzz: unknown argument \(a)\n".utf8)); exit(2)
    }
}
if corpus == nil, FileManager.default.fileExists(atPath: "../shared/corpus") { corpus = "../shared/corpus" }

var seeds: [[UInt8]] = FuzzMutator.builtSeeds.map { Array($0.utf8) }
if let corpus, let e = FileManager.default.enumerator(atPath: corpus) {
    for case let f as String in e {
        guard let data = FileManager.default.contents(atPath: corpus + "/" + f), data.count < 8 << 20 else { continue }
        for line in data.split(separator: 0x0A) where !line.isEmpty && line.count < 1 << 16 { seeds.append(Array(line)) }
    }
}
let engine = try ParseEngine(contentDirectory: content)
let started = Date()
print("osprey-fuzz: \(seeds.count) seed lines, \(count) inputs, seed \(seed)")

// Lines: in chunks, saving each chunk's first input so a trap can be reproduced (--seed and the chunk).
var total = FuzzReport()
let chunk = 100_000
var done = 0
var chunkSeed = seed
while done < count {
    let n = min(chunk, count - done)
    let r = ParseFuzzer.run(engine: engine, seeds: seeds, count: n, seed: chunkSeed)
    total.inputs += r.inputs; total.events += r.events; total.rejects += r.rejects; total.emptyPages += r.emptyPages
    total.silent += r.silent
    for (k, v) in r.rejectsByReason { total.rejectsByReason[k, default: 0] += v }
    done += n
    chunkSeed &+= 1
    if done % 1_000_000 == 0 || done == count {
        let s = Date().timeIntervalSince(started)
        print("  \(done) inputs, \(Int(Double(done) / max(s, 0.001))) /s: \(total)")
    }
}

// Framing: files of mutated lines joined by LF, CR or CRLF, plain and gzip (whole and truncated).
var m = FuzzMutator(seed: seed ^ 0xF00D)
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-fuzz-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
let files = max(1, count / 10_000)
var framed = 0, framingErrors = 0
for k in 0..<files {
    var bytes: [UInt8] = []
    for _ in 0..<(1 + m.below(200)) {
        bytes += m.mutate(seeds[m.below(seeds.count)], splice: seeds[m.below(seeds.count)])
        bytes += [[0x0A], [0x0D], [0x0D, 0x0A]][m.below(3)]
    }
    let path = dir.appendingPathComponent("f\(k)").path
    if k % 3 == 0 {
        // gzip, sometimes cut short
        guard let gz = gzopen(path, "wb") else { continue }
        _ = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        gzclose(gz)
        if k % 2 == 0, let d = FileManager.default.contents(atPath: path), d.count > 20 {
            try d.prefix(10 + m.below(d.count - 10)).write(to: URL(fileURLWithPath: path))
        }
    } else {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    let reader = try LineReader(path: path, maxLineBytes: 1 << 16, maxDocumentLines: 1 + m.below(50))
    do {
        try reader.forEach { rec in
            framed += 1
            if case .line(let b, _) = rec {
                var results = 0
                engine.parse(line: b) { _ in results += 1 }
                if results == 0, !b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { total.silent += 1 }
            }
        }
    } catch { framingErrors += 1 }
}
let seconds = Date().timeIntervalSince(started)
print("osprey-fuzz: \(total); framing: \(files) files, \(framed) records, \(framingErrors) input errors (truncated gzip); 0 crashes; \(Int(seconds)) s")
if total.silent > 0 { print("osprey-fuzz: FAIL: inputs without a result"); exit(1) }
