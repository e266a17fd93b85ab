import Foundation

/// The content shipped with Osprey (parsers, mappings, models, rules, lists), as package resources.
public enum OspreyContent {
    /// The directory holding the shipped content: `OSPREY_CONTENT` when set, else the bundled resources.
    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["OSPREY_CONTENT"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return Bundle.module.resourceURL!
    }
}
