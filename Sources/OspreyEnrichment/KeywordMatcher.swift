/// Finds keywords of several lists in text in one pass (Aho–Corasick over bytes, ASCII and Latin-1
/// case-folded), for the per-event path: no allocation while scanning.
///
/// Keyword syntax (one per line in the list files):
/// * `invoice` — whole word(s): the match must not touch a letter or digit on either side
///   (`_`, `-`, `.`, spaces and punctuation are boundaries, so `Q3_invoice.pdf` matches).
/// * `invoice*` — word prefix (`invoices`, `invoiced`); `*payroll` — word suffix; `*confidential*` — anywhere.
public struct KeywordMatcher: Sendable {
    public struct Keyword: Sendable, Equatable {
        public var list: Int
        public var text: String // as written, for evidence
        var bytes: [UInt8]
        var needStartBoundary: Bool
        var needEndBoundary: Bool
    }
    public private(set) var keywords: [Keyword] = []
    private var classOf = [UInt8](repeating: 0, count: 256)
    private var classCount = 1
    private var delta: [Int32] = []       // state * classCount + class → state
    private var outFirst: [Int32] = []    // per state: first keyword index in `outs`, or -1
    private var outs: [Int32] = []        // keyword indexes, grouped per state, then -1 terminator
    public var isEmpty: Bool { keywords.isEmpty }

    public init() {}

    /// Parses one keyword line; nil for an empty pattern.
    public static func keyword(_ raw: String, list: Int) -> Keyword? {
        var t = Substring(raw.trimmingSpaces)
        var start = true, end = true
        if t.hasPrefix("*") { start = false; t = t.dropFirst() }
        if t.hasSuffix("*") { end = false; t = t.dropLast() }
        let lowered = t.lowercased()
        guard !lowered.isEmpty else { return nil }
        return Keyword(list: list, text: raw.trimmingSpaces, bytes: Array(lowered.utf8), needStartBoundary: start, needEndBoundary: end)
    }

    @inline(__always) static func fold(_ c: UInt8, prev: UInt8) -> UInt8 {
        if c >= 0x41 && c <= 0x5A { return c | 0x20 }
        // Latin-1 supplement capitals À..Þ (C3 80..C3 9E, not × C3 97) → à..þ.
        if prev == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97 { return c + 0x20 }
        return c
    }

    @inline(__always) static func isWord(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c >= 0x80
    }

    public init(_ keywords: [Keyword]) {
        self.keywords = keywords
        // Byte classes: each byte used in a keyword gets its own class; everything else is class 0.
        for k in keywords { for b in k.bytes where classOf[Int(b)] == 0 { classOf[Int(b)] = UInt8(classCount); classCount += 1 } }
        precondition(classCount <= 256)
        // Trie.
        var children: [[Int32]] = [[Int32](repeating: -1, count: classCount)]
        var stateOuts: [[Int32]] = [[]]
        for (ki, k) in keywords.enumerated() {
            var s = 0
            for b in k.bytes {
                let c = Int(classOf[Int(b)])
                if children[s][c] < 0 {
                    children[s][c] = Int32(children.count)
                    children.append([Int32](repeating: -1, count: classCount))
                    stateOuts.append([])
                }
                s = Int(children[s][c])
            }
            stateOuts[s].append(Int32(ki))
        }
        // BFS: failure links turn the trie into a DFA; outputs inherit the failure state's outputs.
        let n = children.count
        var fail = [Int32](repeating: 0, count: n)
        var dfa = [Int32](repeating: 0, count: n * classCount)
        var queue: [Int] = []
        for c in 0..<classCount {
            let t = children[0][c]
            if t >= 0 { dfa[c] = t; fail[Int(t)] = 0; queue.append(Int(t)) } else { dfa[c] = 0 }
        }
        var qi = 0
        while qi < queue.count {
            let s = queue[qi]; qi += 1
            stateOuts[s].append(contentsOf: stateOuts[Int(fail[s])])
            for c in 0..<classCount {
                let t = children[s][c]
                if t >= 0 {
                    fail[Int(t)] = dfa[Int(fail[s]) * classCount + c]
                    dfa[s * classCount + c] = t
                    queue.append(Int(t))
                } else {
                    dfa[s * classCount + c] = dfa[Int(fail[s]) * classCount + c]
                }
            }
        }
        delta = dfa
        outFirst = [Int32](repeating: -1, count: n)
        for s in 0..<n where !stateOuts[s].isEmpty {
            outFirst[s] = Int32(outs.count)
            outs.append(contentsOf: stateOuts[s]); outs.append(-1)
        }
    }

    /// Scans `text`; for each list in `wanted` (bit i = list i) not yet in `found`, records the first
    /// matching keyword index in `hits[list]` and sets its bit in `found`. Returns the updated `found`.
    @inline(__always)
    public func scan(_ text: UnsafeRawBufferPointer, wanted: UInt32, found: UInt32, hits: inout (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)) -> UInt32 {
        guard !delta.isEmpty, wanted & ~found != 0 else { return found }
        var found = found
        return delta.withUnsafeBufferPointer { d in
            classOf.withUnsafeBufferPointer { cls in
                outFirst.withUnsafeBufferPointer { of in
                    var s = 0
                    var prev: UInt8 = 0
                    let n = text.count
                    var i = 0
                    while i < n {
                        let raw = text[i]
                        let c = KeywordMatcher.fold(raw, prev: prev)
                        prev = raw
                        s = Int(d[s * classCount + Int(cls[Int(c)])])
                        let o = of[s]
                        if o >= 0 {
                            var p = Int(o)
                            while outs[p] >= 0 {
                                let ki = Int(outs[p]); p += 1
                                let k = keywords[ki]
                                let bit = UInt32(1) << UInt32(k.list)
                                guard wanted & bit != 0, found & bit == 0 else { continue }
                                let startPos = i + 1 - k.bytes.count
                                if k.needStartBoundary, startPos > 0, KeywordMatcher.isWord(text[startPos - 1]) { continue }
                                if k.needEndBoundary, i + 1 < n, KeywordMatcher.isWord(text[i + 1]) { continue }
                                found |= bit
                                withUnsafeMutableBytes(of: &hits) { $0.storeBytes(of: Int32(ki), toByteOffset: k.list * 4, as: Int32.self) }
                                if wanted & ~found == 0 { return found }
                            }
                        }
                        i += 1
                    }
                    return found
                }
            }
        }
    }

    public func keyword(at index: Int32) -> Keyword { keywords[Int(index)] }

    /// Convenience for tests and tools: the first matching keyword text per list.
    public func matches(in text: String, lists: UInt32 = ~0) -> [Int: String] {
        var hits: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
        var t = text
        let found = t.withUTF8 { scan(UnsafeRawBufferPointer($0), wanted: lists, found: 0, hits: &hits) }
        var out: [Int: String] = [:]
        withUnsafeBytes(of: hits) { raw in
            for l in 0..<8 where found & (1 << UInt32(l)) != 0 {
                out[l] = keywords[Int(raw.load(fromByteOffset: l * 4, as: Int32.self))].text
            }
        }
        return out
    }
}
