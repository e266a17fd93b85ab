import ArgumentParser
import Foundation
import OspreyAnalytics
import OspreyContent
import OspreyCore
import OspreyEnrichment
import OspreyParsing
import OspreyPipeline
import OspreyServe

/// `osprey check`: validates content, a context directory (with its tuning) and a serve config without
/// running anything, so a change can be checked before it is deployed.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate content, a context directory (with tuning.conf) and a serve config, without running.",
        discussion: "Exits 0 when everything named loads; otherwise prints every error (file:line: reason) and exits 1. The content is always checked; --config also checks the context directory the config names.")

    @Option(help: "A serve config file (also checks its context directory).") var config: String?
    @Option(help: "A context directory (users, domains, lists, geo databases, tuning.conf).") var context: String?
    @OptionGroup var contentOptions: ContentOptions

    func run() throws {
        let contentDir = contentOptions.content ?? OspreyContent.directory.path
        var errors: [String] = []
        func attempt(_ what: String, _ body: () throws -> String) {
            do { print("ok  \(what): \(try body())") } catch let e as ContextLoadError {
                errors += e.errors.map { "\($0)" }
            } catch let e as ContentError {
                errors.append("\(e)")
            } catch {
                errors.append("\(what): \(error)")
            }
        }

        var analytics: AnalyticsContent? = nil
        attempt("parsers") {
            let engine = try ParseEngine(contentDirectory: contentDir)
            return "\(engine.parsers.count) parsers in \(contentDir)/parsers"
        }
        attempt("rules and models") {
            let c = try AnalyticsContent.load(directory: contentDir)
            analytics = c
            return "\(c.rules.count) rules, \(c.models.count) models"
        }

        var contexts: [String] = []
        if let context { contexts.append(context) }
        if let config {
            attempt("serve config") {
                let cfg = try ServeConfig.load(path: config)
                if let c = cfg.context, !contexts.contains(c) { contexts.append(c) }
                return config
            }
        }
        for dir in contexts {
            attempt("context") {
                let ctx = try Context.load(directory: dir, lists: contentDir + "/lists")
                return "\(dir) (\(ctx.users.count) users)"
            }
            if let analytics {
                attempt("tuning") {
                    let t = try Pipeline.loadTuning(contextDirectory: dir, content: analytics)
                    return t.isEmpty ? "no \(Pipeline.tuningFile) in \(dir)"
                        : "\(dir)/\(Pipeline.tuningFile): \(t.rules.count) rule overrides, \(t.allows.count) allowlists, \(t.watches.count) watchlists"
                }
            }
        }
        guard errors.isEmpty else {
            for e in errors { FileHandle.standardError.write(Data("error: \(e)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
