import ArgumentParser
import Foundation
import OspreyCore
import OspreyGenerator

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic organization: logs in every supported shape, a context directory, geo data and labelled attack scenarios.")

    @Option(help: "Output directory.") var out: String
    @Option(help: "Number of people.") var users: Int = 300
    @Option(help: "Days of history.") var days: Int = 45
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 7

    func validate() throws {
        guard users >= 30 else { throw ValidationError("--users must be at least 30 (scenarios need distinct victims)") }
        guard days >= 21 else { throw ValidationError("--days must be at least 21 (models need history before the scenarios)") }
    }

    func run() throws {
        var o = GeneratorOptions()
        o.users = users; o.days = days; o.seed = seed
        let t0 = Date()
        let s = try OrganizationGenerator.generate(o, into: out)
        print("generated \(s.users) accounts over \(s.days) days from \(UTCTime.format(s.firstDay).prefix(10)): \(s.lines) log lines in \(s.files) files, \(s.messages) messages, \(s.logins) logins, \(s.scenarios) labelled scenarios (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s)")
        print("  \(out)/logs/*.log  \(out)/context/  \(out)/labels.jsonl")
    }
}
