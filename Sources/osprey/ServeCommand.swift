import ArgumentParser
import Dispatch
import Foundation
import OspreyContent
import OspreyCore
import OspreyServe

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run continuously: syslog (UDP, TCP) and HTTP ingest, REST API, metrics, web page, alert outputs.")

    @Option(help: "Config file ([serve NAME] and [output NAME] sections; see README).") var config: String

    func run() throws {
        // Errors are one line on stderr (file, line, what to do) and exit status 1, without the usage text.
        let cfg: ServeConfig
        do { cfg = try ServeConfig.load(path: config) } catch {
            fail("config error: " + userMessage(error))
        }
        let content = OspreyContent.directory.path
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task.detached {
            do { try await ServeMain.run(config: cfg, contentDirectory: content) } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let e = failure.error { fail(userMessage(e)) }
    }

    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("osprey serve: " + message + "\n").utf8))
        Osprey.exit(withError: ExitCode.failure)
    }
}

final class FailureBox: @unchecked Sendable { var error: Error? }

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
