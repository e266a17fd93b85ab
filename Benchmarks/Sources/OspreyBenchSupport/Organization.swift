import Foundation
import OspreyCore
import OspreyGenerator
import OspreyIO

/// The whole pipeline's input: a synthetic organization from OspreyGenerator (what `osprey generate` writes:
/// logs in every shape Osprey reads, one file per day, and a context directory).
public enum OrganizationInput {
    public struct Generated: Sendable {
        public var directory: String
        public var logs: String { directory + "/logs" }
        public var context: String { directory + "/context" }
        public var summary: GenerationSummary
    }

    /// Writes an organization of `users` people over `days` days to `directory` (`osprey generate --users
    /// --days --seed`, the classic profile).
    public static func generate(users: Int, days: Int, seed: UInt64 = 7, into directory: String) throws -> Generated {
        var o = GeneratorOptions()
        o.users = users; o.days = days; o.seed = seed
        let s = try OrganizationGenerator.generate(o, into: directory)
        return Generated(directory: directory, summary: s)
    }

    /// The log files of an organization, in the order `osprey replay DIR` reads them (by name).
    public static func logFiles(_ logs: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: logs).filter { $0.hasSuffix(".log") }.sorted().map { logs + "/" + $0 }
    }

    /// Every line of the organization's logs, in replay order.
    public static func lines(_ logs: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for f in try logFiles(logs) {
            try LineReader(path: f).forEach { rec in
                if case .line(let b, _) = rec { out.append(Array(b)) }
            }
        }
        return out
    }
}
