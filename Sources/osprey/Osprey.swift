import ArgumentParser
import Foundation
import OspreyCore

@main
struct Osprey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osprey",
        abstract: "Behavioral threat detection for Mimecast Secure Email Gateway logs.",
        version: OspreyVersion.string,
        subcommands: [Demo.self, Parse.self, Replay.self, Serve.self, Collect.self, Generate.self, Evaluate.self, Calibrate.self, ContentCommand.self, Check.self, StateCommand.self])

    /// Runs the command; errors about files, content or config are one line on stderr (no usage text, no
    /// Foundation error domains), command-line mistakes are reported by ArgumentParser with usage.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let line = ErrorReport.line(for: error) {
                FileHandle.standardError.write(Data("osprey: \(line)\n".utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// Where content comes from: `--content DIR` overrides the bundled Content/.
struct ContentOptions: ParsableArguments {
    @Option(name: .long, help: "Content directory (parsers/, mappings/, models/, rules/, lists/); default: the bundled content.")
    var content: String?
}
