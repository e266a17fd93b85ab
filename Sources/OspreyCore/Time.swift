/// UTC instants in epoch milliseconds, parsed from the byte forms Mimecast logs use and formatted as
/// `2024-05-01T10:00:00.000Z`. Hand-written because this runs once per event (Foundation's formatters cost
/// microseconds each).
public enum UTCTime {
    /// The instants Osprey accepts and prints: 0000-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z. Parsed
    /// times outside are rejected (a five-digit year cannot be written in the 24-byte form).
    public static let minMillis: Int64 = -62_167_219_200_000
    public static let maxMillis: Int64 = 253_402_300_799_999

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    @inline(__always) public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    @inline(__always) public static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Parses ISO-8601-like text (`2021-10-18T09:02:43+0100`, `…+00:00`, `…Z`, `….670Z`, unpadded hour
    /// `2022-05-31T9:05:31+0000`, a space instead of `T`, no zone = UTC) or epoch seconds / milliseconds.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var p = 0
        let n = bytes.count
        while p < n, bytes[p] == 0x20 || bytes[p] == 0x22 { p += 1 }
        var end = n
        while end > p, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x22 { end -= 1 }
        guard p < end else { return nil }

        // Epoch: all digits.
        var allDigits = true
        for i in p..<end where !(bytes[i] >= 0x30 && bytes[i] <= 0x39) { allDigits = false; break }
        if allDigits {
            var v: Int64 = 0
            let count = end - p
            guard count <= 16 else { return nil } // 16 digits < 10^16 < Int64.max: no overflow below
            for i in p..<end { v = v * 10 + Int64(bytes[i] - 0x30) }
            if count >= 12 { return v <= maxMillis ? v : nil } // epoch milliseconds
            if count >= 9 { return v * 1000 }                   // epoch seconds (≤ 11 digits: year < 5139)
            return nil
        }

        func digits(_ count: Int, max: Int? = nil) -> Int? {
            var v = 0
            var read = 0
            while read < (max ?? count), p < end, bytes[p] >= 0x30, bytes[p] <= 0x39 {
                v = v * 10 + Int(bytes[p] - 0x30); p += 1; read += 1
            }
            return read >= count ? v : nil
        }
        func expect(_ c: UInt8) -> Bool {
            guard p < end, bytes[p] == c else { return false }
            p += 1; return true
        }

        guard let year = digits(4, max: 4), expect(0x2D), let month = digits(1, max: 2), expect(0x2D),
              let day = digits(1, max: 2) else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= 31 else { return nil }
        guard p < end, bytes[p] == 0x54 || bytes[p] == 0x20 || bytes[p] == 0x74 else { return nil }
        p += 1
        guard let hour = digits(1, max: 2), expect(0x3A), let minute = digits(2, max: 2) else { return nil }
        var second = 0
        if expect(0x3A) { guard let s = digits(2, max: 2) else { return nil }; second = s }
        guard hour < 24, minute < 60, second <= 60 else { return nil }
        var millis = 0
        if p < end, bytes[p] == 0x2E || bytes[p] == 0x2C {
            p += 1
            var scale = 100
            var any = false
            while p < end, bytes[p] >= 0x30, bytes[p] <= 0x39 {
                if scale > 0 { millis += Int(bytes[p] - 0x30) * scale; scale /= 10 }
                p += 1; any = true
            }
            if !any { return nil }
        }
        while p < end, bytes[p] == 0x20 { p += 1 }
        var offsetMinutes = 0
        if p < end {
            let c = bytes[p]
            if c == 0x5A || c == 0x7A { p += 1 }
            else if c == 0x2B || c == 0x2D {
                p += 1
                guard let oh = digits(2, max: 2) else { return nil }
                _ = expect(0x3A)
                let om = digits(2, max: 2) ?? 0
                guard oh <= 14, om < 60 else { return nil }
                offsetMinutes = (oh * 60 + om) * (c == 0x2D ? -1 : 1)
            } else if c == 0x55, p + 2 < end, bytes[p + 1] == 0x54, bytes[p + 2] == 0x43 { p += 3 } // "UTC"
            else if c == 0x47, p + 2 < end, bytes[p + 1] == 0x4D, bytes[p + 2] == 0x54 { p += 3 } // "GMT"
            else { return nil }
        }
        while p < end, bytes[p] == 0x20 { p += 1 }
        guard p == end else { return nil }
        let d = days(year: year, month: month, day: day)
        let secs = Int64(d) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        let ms = secs * 1000 + Int64(millis)
        // A zone offset can carry 0000-01-01 / 9999-12-31 across the range.
        return ms >= minMillis && ms <= maxMillis ? ms : nil
    }

    public static func parse(_ text: String) -> Int64? {
        var t = text
        return t.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// `2024-05-01T10:00:00.000Z`
    public static func format(_ ms: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        write(ms, into: &bytes, at: 0)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the 24-byte form at `offset` (the array must have room).
    /// Instants outside `minMillis…maxMillis` (never produced by `parse`) are written clamped to that range,
    /// so the text always has the right digits for a valid instant.
    public static func write(_ ms: Int64, into out: inout [UInt8], at offset: Int) {
        let ms = min(max(ms, minMillis), maxMillis)
        var secs = ms / 1000
        var milli = Int(ms % 1000)
        if milli < 0 { milli += 1000; secs -= 1 }
        var dayCount = secs / 86400
        var rem = Int(secs % 86400)
        if rem < 0 { rem += 86400; dayCount -= 1 }
        let (y, m, d) = civil(days: Int(dayCount))
        func put(_ v: Int, _ width: Int, _ at: Int) {
            var v = v
            var i = at + width - 1
            while i >= at { out[i] = UInt8(0x30 + v % 10); v /= 10; i -= 1 }
        }
        put(y, 4, offset); out[offset + 4] = 0x2D
        put(m, 2, offset + 5); out[offset + 7] = 0x2D
        put(d, 2, offset + 8); out[offset + 10] = 0x54
        put(rem / 3600, 2, offset + 11); out[offset + 13] = 0x3A
        put(rem / 60 % 60, 2, offset + 14); out[offset + 16] = 0x3A
        put(rem % 60, 2, offset + 17); out[offset + 19] = 0x2E
        put(milli, 3, offset + 20); out[offset + 23] = 0x5A
    }

    /// Hour of week 0..167, Sunday 00:00 = 0 (1970-01-01 was a Thursday).
    public static func hourOfWeek(_ ms: Int64) -> Int {
        let hours = Int((ms >= 0 ? ms : ms - 3_599_999) / 3_600_000)
        let h = ((hours % 168) + 168) % 168
        return (h + 4 * 24) % 168
    }
}
