import CPCRE2

/// A PCRE2 pattern compiled once with JIT and matched on UTF-8 bytes. Named captures may repeat
/// (PCRE2_DUPNAMES): extraction takes the first group of a name that matched. Match and depth limits keep a
/// hostile line from running away; hitting one is reported as no match (`limitHit`).
public final class PCRE2Regex: @unchecked Sendable {
    public struct CompileError: Error, CustomStringConvertible, Sendable {
        public var pattern: String
        public var offset: Int
        public var message: String
        public var description: String { "regex error at offset \(offset): \(message) in /\(pattern)/" }
    }

    public let pattern: String
    /// Capture group numbers per name, in group order.
    public let groups: [(name: String, numbers: [Int])]
    private let code: OpaquePointer
    private let matchContext: OpaquePointer?
    private let jitted: Bool
    // One match-data block per regex: PCRE2Regex is used from one thread at a time (each engine owns its
    // parsers); concurrent users build their own ParserSet.
    private let matchData: OpaquePointer

    public init(_ pattern: String, caseless: Bool = false, matchLimit: UInt32 = 100_000, depthLimit: UInt32 = 1_000) throws {
        self.pattern = pattern
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        var options = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF) | UInt32(PCRE2_DUPNAMES)
        if caseless { options |= UInt32(PCRE2_CASELESS) }
        let compiled: OpaquePointer? = pattern.withCString { p in
            p.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) { bytes in
                pcre2_compile_8(bytes, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            let message = n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "error \(errorCode)"
            throw CompileError(pattern: pattern, offset: errorOffset, message: message)
        }
        code = compiled
        jitted = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        let ctx = pcre2_match_context_create_8(nil)
        if let ctx {
            pcre2_set_match_limit_8(ctx, matchLimit)
            pcre2_set_depth_limit_8(ctx, depthLimit)
        }
        matchContext = ctx
        matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)

        // Name table: entries of (2-byte group number, zero-terminated name).
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafeMutablePointer<UInt8>? = nil
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_NAMETABLE), &table)
        var named: [(String, [Int])] = []
        if let table, count > 0 {
            for i in 0..<Int(count) {
                let entry = table + i * Int(entrySize)
                let number = Int(entry[0]) << 8 | Int(entry[1])
                var len = 0
                while len < Int(entrySize) - 2, entry[2 + len] != 0 { len += 1 }
                let name = String(decoding: UnsafeBufferPointer(start: entry + 2, count: len), as: UTF8.self)
                if let k = named.firstIndex(where: { $0.0 == name }) { named[k].1.append(number) }
                else { named.append((name, [number])) }
            }
        }
        groups = named.map { (name: $0.0, numbers: $0.1.sorted()) }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        if let matchContext { pcre2_match_context_free_8(matchContext) }
        pcre2_code_free_8(code)
    }

    public var isJIT: Bool { jitted }
    public private(set) var limitHits = 0

    /// Matches `subject`; on success calls `capture` with each named group that took part (first group of
    /// a duplicated name that matched), as a byte range of the subject.
    @discardableResult
    public func match(_ subject: UnsafeRawBufferPointer, from start: Int = 0,
                      capture: (String, Range<Int>) -> Void = { _, _ in }) -> Bool {
        guard let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer<UInt8>(bitPattern: 1) else { return false }
        let rc: Int32
        if jitted {
            rc = pcre2_jit_match_8(code, base, subject.count, start, 0, matchData, matchContext)
        } else {
            rc = pcre2_match_8(code, base, subject.count, start, 0, matchData, matchContext)
        }
        if rc < 0 {
            if rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT { limitHits += 1 }
            return false
        }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        let pairs = Int(pcre2_get_ovector_count_8(matchData))
        let unset = osprey_pcre2_unset()
        for g in groups {
            for number in g.numbers where number < pairs {
                let s = ovector[2 * number], e = ovector[2 * number + 1]
                if s != unset, e != unset, e > s {
                    capture(g.name, Int(s)..<Int(e))
                    break
                }
            }
        }
        return true
    }

    /// Convenience for tests and tooling.
    public func captures(in text: String) -> [String: String]? {
        var t = text
        return t.withUTF8 { buf -> [String: String]? in
            let raw = UnsafeRawBufferPointer(buf)
            var out: [String: String] = [:]
            let ok = match(raw) { name, r in
                out[name] = String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self)
            }
            return ok ? out : nil
        }
    }
}
