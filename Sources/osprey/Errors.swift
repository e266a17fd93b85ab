import ArgumentParser
import Foundation
import OspreyCore
import OspreyEnrichment

/// A failure the user can act on: printed as one line (`osprey: …`), exit status 1, no usage text.
/// Usage is printed only for a command line that does not parse (ArgumentParser's own errors).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum ErrorReport {
    /// One line for an error that is not about the command line, or nil to let ArgumentParser report it.
    static func line(for error: Error) -> String? {
        switch error {
        case let e as CLIError: return e.description
        case let e as ContentError: return "content error: \(e)"
        case let e as ContextLoadError: return "context error: " + e.errors.map { "\($0)" }.joined(separator: "; ")
        case is ExitCode, is ValidationError, is CleanExit: return nil
        default: break
        }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let what: String
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: what = "no such file"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: what = "permission denied"
        case NSFileWriteOutOfSpaceError: what = "no space left on the device"
        case NSFileWriteFileExistsError: what = "the file already exists"
        case NSFileReadCorruptFileError, NSPropertyListReadCorruptError: what = "not valid JSON (or corrupt)"
        case NSFileReadInapplicableStringEncodingError: what = "not valid UTF-8 text"
        case NSFileWriteInvalidFileNameError, NSFileWriteUnknownError, NSFileReadUnknownError:
            what = "cannot be read or written (check the path and that its folder exists)"
        default: what = ns.localizedFailureReason ?? "error \(ns.code)"
        }
        return path.map { "\($0): \(what)" } ?? what
    }
}
