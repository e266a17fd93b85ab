import ArgumentParser
import Foundation
import OspreyCore
import OspreyEnrichment
import OspreyServe

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
        case let e as ServeConfigError: return e.description
        case let e as ListenerError: return e.description
        case is ExitCode, is ValidationError, is CleanExit: return nil
        default: break
        }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        return userMessage(error)
    }
}

/// One line for the user: the file and the reason, never a Foundation error domain and code.
func userMessage(_ error: Error) -> String {
    if let e = error as? ContentError { return e.description }
    if let e = error as? ServeConfigError { return e.description }
    if let e = error as? ListenerError { return e.description }
    if !(error is CocoaError) && type(of: error) != NSError.self {
        let d = "\(error)"
        if !d.contains("Error Domain=") { return d }
    }
    let ns = error as NSError
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    var why: String
    if ns.domain == NSCocoaErrorDomain {
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileReadNoSuchFile, .fileNoSuchFile: why = "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: why = "permission denied"
        case .fileReadCorruptFile, .propertyListReadCorrupt: why = "not in the expected format"
        case .fileReadInapplicableStringEncoding: why = "not UTF-8 text"
        case .fileWriteOutOfSpace: why = "no space left on the device"
        default: why = "cannot be read or written"
        }
    } else if ns.domain == NSPOSIXErrorDomain {
        why = String(cString: strerror(Int32(ns.code)))
    } else {
        why = ns.localizedDescription
    }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        why = String(cString: strerror(Int32(underlying.code))).lowercased()
    }
    return (path.map { $0 + ": " } ?? "") + why + " (check the path in the config or on the command line)"
}
