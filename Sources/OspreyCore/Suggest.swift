/// "Did you mean …" for names a user typed: the closest known name within a small edit distance.
public enum Suggest {
    /// The known name closest to `name` (ASCII case ignored) within `maxDistance` edits, or nil.
    public static func closest<S: Sequence>(to name: String, in known: S, maxDistance: Int = 2) -> String? where S.Element == String {
        let a = Array(name.lowercased().utf8)
        var best: (String, Int)? = nil
        for k in known {
            let d = distance(a, Array(k.lowercased().utf8), limit: maxDistance)
            if d <= maxDistance, d < (best?.1 ?? Int.max) || (d == best?.1 && k < best!.0) { best = (k, d) }
        }
        return best?.0
    }

    /// `, did you mean 'X'?` or "".
    public static func hint<S: Sequence>(_ name: String, _ known: S) -> String where S.Element == String {
        closest(to: name, in: known).map { ", did you mean '\($0)'?" } ?? ""
    }

    /// Levenshtein distance, giving up (returning limit + 1) once every cell of a row exceeds `limit`.
    public static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            cur[0] = i
            var rowMin = cur[0]
            for j in 1..<(b.count + 1) {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                rowMin = min(rowMin, cur[j])
            }
            if rowMin > limit { return limit + 1 }
            swap(&prev, &cur)
        }
        return a.isEmpty ? b.count : prev[b.count]
    }
}
