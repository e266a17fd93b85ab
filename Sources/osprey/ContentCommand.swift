import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyContent
import OspreyCore
import OspreyParsing

struct ContentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content", abstract: "List the loaded content.",
        subcommands: [Parsers.self, Rules.self, Models.self, Mitre.self])

    struct Parsers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every parser with its format and activity types.")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var contentOptions: ContentOptions

        func run() throws {
            let dir = contentOptions.content ?? OspreyContent.directory.path
            let parsers: [ParserDefinition]
            do { parsers = try ParserLoader.load(directory: dir + "/parsers", catalog: try FieldCatalog.load(contentDirectory: dir)) } catch let e as ContentError {
                throw CLIError("content error: \(e)")
            }
            if json {
                var w = JSONWriter()
                w.raw("[")
                for (i, p) in parsers.enumerated() {
                    if i > 0 { w.raw(",") }
                    w.raw("{\"name\":"); w.string(p.name)
                    w.raw(",\"vendor\":"); w.string(p.vendor)
                    w.raw(",\"product\":"); w.string(p.product)
                    w.raw(",\"format\":"); w.string(p.format.rawValue)
                    w.raw(",\"activity_types\":"); w.value(.list(p.activityTypes.map(\.rawValue)))
                    w.raw(",\"description\":"); w.string(p.description)
                    w.raw("}")
                }
                w.raw("]\n")
                FileHandle.standardOutput.write(Data(w.bytes))
            } else {
                for p in parsers {
                    print("\(p.name.padding(toLength: 56, withPad: " ", startingAt: 0)) \(p.format.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(p.activityTypes.map(\.rawValue).joined(separator: ", "))")
                }
                print("\(parsers.count) parsers")
            }
        }
    }

    static func analytics(_ options: ContentOptions) throws -> AnalyticsContent {
        let dir = options.content ?? OspreyContent.directory.path
        do { return try AnalyticsContent.load(directory: dir) } catch let e as ContentError {
            throw CLIError("content error: \(e)")
        }
    }

    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every rule: id, name, activity types, MITRE, use cases, kind, model, score.")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var contentOptions: ContentOptions
        func run() throws { print(try ContentCommand.analytics(contentOptions).contentRulesListing(json: json), terminator: "") }
    }

    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every behavioral model: id, name, kind, scope, feature.")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var contentOptions: ContentOptions
        func run() throws { print(try ContentCommand.analytics(contentOptions).contentModelsListing(json: json), terminator: "") }
    }

    struct Mitre: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An ATT&CK Navigator layer of the techniques the content covers, with rule counts.")
        @OptionGroup var contentOptions: ContentOptions
        func run() throws { print(try ContentCommand.analytics(contentOptions).mitreNavigatorLayer(), terminator: "") }
    }
}
