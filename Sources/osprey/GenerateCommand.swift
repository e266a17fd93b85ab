import ArgumentParser
import Foundation
import OspreyCore
import OspreyGenerator

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic organization: logs in every supported shape, a context directory, geo data and labelled attack scenarios.")

    @Option(help: "Output directory.") var out: String
    @Option(help: "Number of people (default: the profile's).") var users: Int?
    @Option(help: "Days of history.") var days: Int = 45
    @Option(help: "Random seed: the same seed gives the same bytes.") var seed: UInt64 = 7
    @Option(help: "Organization profile: classic, small (~60, one office), medium (~300, four countries), large (~2,000).")
    var profile: String = "classic"
    @Flag(help: "No progress line on a terminal.") var quiet = false

    func validate() throws { try GeneratorArguments.validate(users: users, days: days, profile: profile) }

    func run() throws {
        let o = try GeneratorArguments.options(users: users, days: days, seed: seed, profile: profile)
        let t0 = Date()
        let progress = Progress("osprey generate", quiet: quiet)
        let s = try OrganizationGenerator.generate(o, into: out) { done, total in progress.step(done, of: total, unit: "days") }
        progress.finish()
        print("generated \(s.users) accounts over \(s.days) days from \(UTCTime.format(s.firstDay).prefix(10)): \(s.lines) log lines in \(s.files) files, \(s.messages) messages, \(s.logins) logins, \(s.scenarios) labelled scenarios (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s)")
        print("  \(out)/logs/*.log  \(out)/context/  \(out)/labels.jsonl" + (o.profile == .classic ? "" : "  \(out)/benign.jsonl"))
    }
}

/// Shared by generate, demo and calibrate: the profile and its checks.
enum GeneratorArguments {
    static func validate(users: Int?, days: Int, profile: String) throws {
        guard let p = OrganizationProfile(rawValue: profile) else {
            throw ValidationError("--profile must be one of \(OrganizationProfile.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let n = users ?? p.defaultUsers
        guard n >= 30, n <= 100_000 else { throw ValidationError("--users must be between 30 and 100000 (scenarios need distinct victims)") }
        guard days >= 21, days <= 3650 else {
            throw ValidationError("--days must be between 21 and 3650 (the scenarios need the 14-day warm-up and history after it)")
        }
    }

    static func options(users: Int?, days: Int, seed: UInt64, profile: String) throws -> GeneratorOptions {
        try validate(users: users, days: days, profile: profile)
        var o = GeneratorOptions()
        o.profile = OrganizationProfile(rawValue: profile)!
        o.users = users ?? o.profile.defaultUsers; o.days = days; o.seed = seed
        return o
    }
}
