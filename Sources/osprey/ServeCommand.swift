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
