import Foundation
import OspreyCore

/// A small RFC 4180 reader: comma-separated, `"` quoting with `""` escapes, quoted fields may hold commas
/// and newlines; `#` lines outside quotes are comments; CRLF accepted. Each row keeps its starting line.
public enum CSV {
    public struct Row: Sendable { public var line: Int; public var fields: [String] }

    public static func parse(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false, quotedField = false, atLineStart = true
        var line = 1, rowLine = 1
        let bytes = Array(text.utf8)
        var i = 0
        func endField() { fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true); quotedField = false }
        func endRow() {
            endField()
            if !(fields.count == 1 && fields[0].trimmingSpaces.isEmpty) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
        }
        while i < bytes.count {
            let c = bytes[i]
            // Control bytes (NUL, ESC, DEL …) are never data: a field holding one is rejected, not stored.
            if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || c == 0x7F {
                throw ContentError(file: file, line: line, reason: String(format: "control byte 0x%02X in a field", c))
            }
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < bytes.count, bytes[i + 1] == 0x22 { field.append(0x22); i += 2; continue }
                    inQuotes = false; i += 1; continue
                }
                if c == 0x0A { line += 1 }
                field.append(c); i += 1; continue
            }
            if atLineStart {
                rowLine = line
                atLineStart = false
                if c == 0x23 { // comment line
                    while i < bytes.count, bytes[i] != 0x0A { i += 1 }
                    i += 1; line += 1; atLineStart = true; continue
                }
            }
            switch c {
            case 0x22:
                if field.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && !quotedField {
                    field.removeAll(); inQuotes = true; quotedField = true
                } else {
                    throw ContentError(file: file, line: line, reason: "stray '\"' inside an unquoted field")
                }
            case 0x2C: endField()
            case 0x0D: break
            case 0x0A: endRow(); line += 1; atLineStart = true
            default:
                if quotedField && c != 0x20 && c != 0x09 {
                    throw ContentError(file: file, line: line, reason: "text after a closing '\"'")
                }
                field.append(c)
            }
            i += 1
        }
        if inQuotes { throw ContentError(file: file, line: rowLine, reason: "unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}
