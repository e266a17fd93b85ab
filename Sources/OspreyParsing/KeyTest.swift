import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

/// A parser condition on the scanned record's keys, decided with the record view's key table (one hash
/// probe per key) instead of a substring search over the line. Unlike a substring, it cannot be satisfied by
/// text inside another field's value: a subject reading `"RcptActType"` does not make a receipt look like a
/// journal record.
///
///     key = Rcpt                       the record has the key Rcpt
///     key = Recipient | recipient      … one of these keys
///     no_key = RcptActType             the record has none of these keys
///     value dproc = Audit Events       a key's value is one of these (ASCII case-insensitive)
///     value type|eventType = receipt   … of one of these keys
///     no_value type = journal          no such key holds one of these values
public final class KeyTest: Sendable {
    public enum Kind: String, Sendable { case has = "key", lacks = "no_key", equals = "value", differs = "no_value" }
    public let kind: Kind
    /// Alternatives: the test reads whichever of them the record has.
    public let keys: [String]
    let hashes: [UInt64]
    /// `value` / `no_value`: the values, lowercased, and as written (records mostly use the same case, which
    /// one memcmp then confirms).
    let values: [[UInt8]]
    let written: [[UInt8]]
    /// As written in the parser file, for `osprey parse --explain`.
    public let text: String

    init(kind: Kind, keys: [String], values: [String], text: String) {
        self.kind = kind
        self.keys = keys
        self.hashes = keys.map(FNV.hash)
        self.values = values.map { Array(ASCII.lowercased($0).utf8) }
        self.written = values.map { Array($0.utf8) }
        self.text = text
    }

    func holds(_ view: RecordView) -> Bool {
        switch kind {
        case .has: return hashes.contains { view.entry($0) != nil }
        case .lacks: return !hashes.contains { view.entry($0) != nil }
        case .equals: return anyValueMatches(view)
        case .differs: return !anyValueMatches(view)
        }
    }

    private func anyValueMatches(_ view: RecordView) -> Bool {
        for h in hashes {
            guard let e = view.entry(h), e.value.kind == .string || e.value.kind == .number || e.value.kind == .bool else { continue }
            if e.value.kind == .string && e.value.escaped {
                var s = view.string(e)
                if s.withUTF8({ matches(UnsafeRawBufferPointer($0)) }) { return true }
            } else if matches(UnsafeRawBufferPointer(rebasing: view.buffer(e)[e.value.start..<e.value.end])) {
                return true
            }
        }
        return false
    }

    private func matches(_ raw: UnsafeRawBufferPointer) -> Bool {
        for (k, v) in values.enumerated() where v.count == raw.count {
            if let base = raw.baseAddress, written[k].withUnsafeBytes({ w in w.baseAddress.map { memcmp($0, base, raw.count) == 0 } ?? false }) {
                return true
            }
            var same = true
            for i in 0..<raw.count where ASCII.lower(raw[i]) != v[i] { same = false; break }
            if same { return true }
        }
        return false
    }

    struct SyntaxError: Error { let reason: String }

    /// Parses the value of a `key`, `no_key`, `value NAME` or `no_value NAME` entry.
    static func parse(kind: Kind, arg: String?, value: String) -> Result<KeyTest, SyntaxError> {
        func names(_ s: String) -> [String] { s.split(separator: "|").map { $0.trimmingSpaces }.filter { !$0.isEmpty } }
        switch kind {
        case .has, .lacks:
            let keys = names(value)
            guard !keys.isEmpty else { return .failure(SyntaxError(reason: "\(kind.rawValue): expected a key name")) }
            return .success(KeyTest(kind: kind, keys: keys, values: [], text: "\(kind.rawValue) = \(value)"))
        case .equals, .differs:
            let keys = names(arg ?? "")
            guard !keys.isEmpty else { return .failure(SyntaxError(reason: "\(kind.rawValue): expected '\(kind.rawValue) KEY = VALUE, …'")) }
            let values = splitList(value)
            guard !values.isEmpty else { return .failure(SyntaxError(reason: "\(kind.rawValue) \(arg ?? ""): expected at least one value")) }
            return .success(KeyTest(kind: kind, keys: keys, values: values, text: "\(kind.rawValue) \(arg ?? "") = \(value)"))
        }
    }
}
