/// The lines of a text file (content, lists, the public suffix list, configs): cut at LF bytes, a CR before
/// the LF dropped, numbered from 1. One definition, on bytes: as Characters, CR LF is a single grapheme, so
/// splitting a CRLF file at "\n" found no line breaks at all and read the whole file as its first line.
public enum TextLines {
    public static func forEach(in text: String, _ body: (_ number: Int, _ line: UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var t = text
        try t.withUTF8 { b in
            var start = 0, number = 0
            while start < b.count {
                var end = start
                while end < b.count, b[end] != 0x0A { end += 1 }
                number += 1
                var stop = end
                if stop > start, b[stop - 1] == 0x0D { stop -= 1 }
                try body(number, UnsafeBufferPointer(rebasing: b[start..<stop]))
                start = end + 1
            }
        }
    }
}
