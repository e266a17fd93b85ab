import ArgumentParser
import Foundation
import OspreyGenerator

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score alerts against labelled scenarios: detection per scenario, benign notable sessions, rule fires.")

    @Option(help: "labels.jsonl written by `osprey generate`.") var labels: String
    @Option(help: "Alerts JSON lines written by `osprey replay`.") var alerts: String
    @Option(help: "User-days of the history (default: users.csv rows × log files beside the labels).") var userDays: Int?

    func run() throws {
        let e = try Evaluation.run(labels: labels, alerts: alerts, userDays: userDays)
        print(e.report(), terminator: "")
        if !e.passed { throw ExitCode(1) }
    }
}
