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
        let cfg: ServeConfig
        do { cfg = try ServeConfig.load(path: config) } catch let e as ContentError {
            throw CLIError("config error: \(e)")
        }
        let content = OspreyContent.directory.path
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task.detached {
            do { try await ServeMain.run(config: cfg, contentDirectory: content) } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let e = failure.error { throw e }
    }
}

final class FailureBox: @unchecked Sendable { var error: Error? }
