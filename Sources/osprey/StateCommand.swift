import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyContent
import OspreyPipeline
import OspreyState

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Inspect or reset a durable state directory (--state DIR of replay and serve).",
        subcommands: [Check.self, Reset.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a state database: SQLite structure, every checkpoint column, the analytics image. Prints OK or the problem.")
        @Option(help: "The state directory.") var state: String
        @OptionGroup var contentOptions: ContentOptions

        func run() throws {
            switch StateCheck.run(directory: state, content: contentOptions.content ?? OspreyContent.directory.path) {
            case .success(let summary): print("OK: " + summary)
            case .failure(let e):
                print("PROBLEM: \(e)")
                throw ExitCode(1)
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the state database aside (osprey.sqlite.old-TIMESTAMP) so the next run starts afresh.")
        @Option(help: "The state directory.") var state: String

        func run() throws {
            if let old = try StateStore.moveAside(directory: state) {
                print("moved \(StateStore.databasePath(state)) to \(old)")
            } else {
                print("no state database in \(state)")
            }
        }
    }
}

enum StateCheck {
    /// Opens the database and decodes everything a resume would; the summary on success.
    static func run(directory: String, content: String) -> Result<String, StateError> {
        let path = StateStore.databasePath(directory)
        guard FileManager.default.fileExists(atPath: path) else {
            return .failure(StateError(directory: directory, problem: "no state database"))
        }
        do {
            let store = try StateStore(directory: directory)
            let qc = try store.quickCheck()
            guard qc == ["ok"] else {
                return .failure(StateError(directory: directory, problem: "SQLite quick_check: " + qc.prefix(5).joined(separator: "; ")))
            }
            guard let cp = try store.loadCheckpoint() else {
                return .success("\(path): no checkpoint yet (a run starts afresh)")
            }
            // The organization's context is not needed to read the images: the default lists stand in.
            let pipeline = try Pipeline(options: PipelineOptions(contentDirectory: content, contextDirectory: nil))
            let engine = pipeline.analytics
            do {
                try engine.restore(snapshot: cp.analytics)
                if let inFlight = cp.inFlight { try pipeline.restoreInFlight(inFlight) }
            } catch {
                return .failure(StateError(directory: directory, problem: "\(error)"))
            }
            let alerts = try store.alertLines()
            guard alerts.count == cp.seq, alerts.last?.seq ?? 0 == cp.seq else {
                return .failure(StateError(directory: directory,
                                           problem: "alert log holds \(alerts.count) outputs (last seq \(alerts.last?.seq ?? 0)), checkpoint says \(cp.seq)"))
            }
            let m = engine.memoryReport()
            return .success("\(path): checkpoint seq \(cp.seq), \(cp.records) records over \(cp.inputs.count) inputs, "
                            + "analytics image \(cp.analytics.count) bytes, about \(m.totalBytes) in memory (\(m.strings) interned strings, \(m.histograms) histograms, "
                            + "\(engine.openSessions.count) open sessions), \(pipeline.heldEvents) events in flight")
        } catch let e as StateError {
            return .failure(e)
        } catch {
            return .failure(StateError(directory: directory, problem: "\(error)"))
        }
    }
}
