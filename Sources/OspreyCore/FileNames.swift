/// File names: the one definition of a file's extension (parse and assembly derive file_ext with it,
/// enrichment matches source-code extensions with it, the rules' `ext()` returns it).
public enum FileNames {
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    /// The extension of a file name, lowercased: `Report.Q3.XLSX` → `xlsx`, `file.tar.gz` → `gz`. Trailing
    /// spaces and quotes are ignored (names quoted in a list), and only the last path component counts
    /// (`dir.v2/README` has none). Nil for a name without a dot, a hidden file without one (`.bashrc`, as
    /// Python's splitext and Foundation's pathExtension read it), a trailing dot, or an "extension" that is
    /// not 1–10 ASCII letters and digits (`a.b c`, `notes.2024-01`).
    public static func fileExtension(_ name: String) -> String? {
        let u = name.utf8
        var end = u.endIndex
        while end > u.startIndex {
            let c = u[u.index(before: end)]
            guard c == 0x20 || c == 0x09 || c == 0x22 || c == 0x27 else { break }
            end = u.index(before: end)
        }
        var i = end, n = 0, upper = false
        while i > u.startIndex {
            let j = u.index(before: i)
            let c = u[j]
            if c == 0x2E {
                guard n >= 1, n <= 10, j > u.startIndex else { return nil }
                let before = u[u.index(before: j)]
                guard before != 0x2F, before != 0x5C else { return nil } // `dir/.hidden`
                let ext = String(decoding: u[i..<end], as: UTF8.self)
                return upper ? ASCII.lowercased(ext) : ext
            }
            guard isAlnum(c) else { return nil }
            if c <= 0x5A && c >= 0x41 { upper = true }
            n += 1
            i = j
        }
        return nil
    }
}
