import ArgumentParser

@main
struct Osprey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osprey",
        abstract: "Behavioral threat detection for Mimecast Secure Email Gateway logs.",
        subcommands: [Demo.self, Parse.self, Replay.self, Serve.self, Generate.self, Evaluate.self, ContentCommand.self, StateCommand.self])
}

/// Where content comes from: `--content DIR` overrides the bundled Content/.
struct ContentOptions: ParsableArguments {
    @Option(name: .long, help: "Content directory (parsers/, mappings/, models/, rules/, lists/); default: the bundled content.")
    var content: String?
}
