import OspreyCore

/// The ATT&CK technique table (`Content/attack/*.conf`): current names, tactics and accepted older names.
/// Rules name techniques by id and the name they were written with; the table gives every alert the name of
/// one ATT&CK release, so an old or misspelt name in a rule never reaches an output.
public struct AttackTable: Sendable {
    public struct Technique: Sendable {
        public var id: String
        /// Own name (for a sub-technique, without the parent's).
        public var name: String
        public var tactics: [String]
        public var aliases: [String]
    }

    public private(set) var version: String?
    public private(set) var techniques: [String: Technique] = [:]

    public var isEmpty: Bool { techniques.isEmpty }

    /// "Parent: Sub" for a sub-technique whose parent is in the table, else the own name.
    public func fullName(_ id: String) -> String? {
        guard let t = techniques[id] else { return nil }
        if let dot = id.firstIndex(of: "."), let parent = techniques[String(id[..<dot])] {
            return parent.name + ": " + t.name
        }
        return t.name
    }

    mutating func add(_ s: ContentSection) throws {
        if s.kind == "attack" {
            try s.checkKeys(allowed: ["version", "description"])
            guard version == nil else { throw s.error(at: s.line, "[attack …] given more than once") }
            version = try s.required("version").value
            return
        }
        try s.checkKeys(allowed: ["name", "tactics", "aliases", "description"])
        guard MitreTechnique.isValidID(s.name) else { throw s.error(at: s.line, "bad ATT&CK technique id '\(s.name)'") }
        guard techniques[s.name] == nil else { throw s.error(at: s.line, "technique '\(s.name)' defined twice") }
        let name = try s.required("name").value
        guard !name.isEmpty else { throw s.error(at: s.line, "technique '\(s.name)' has an empty name") }
        let tactics = (try s.optional("tactics")?.value ?? "").split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        let aliases = (try s.optional("aliases")?.value ?? "").split(separator: "|").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        techniques[s.name] = Technique(id: s.name, name: name, tactics: tactics, aliases: aliases)
    }

    /// The rule's techniques with the table's names. Without a table (content loaded from texts alone) the
    /// written names stand.
    func resolve(_ written: [MitreTechnique], in s: ContentSection) throws -> [MitreTechnique] {
        guard !isEmpty else { return written }
        let line = s.all("mitre").first?.line ?? s.line
        return try written.map { t in
            guard let full = fullName(t.id), let own = techniques[t.id] else {
                throw s.error(at: line, "ATT&CK technique \(t.id) is not in the technique table (Content/attack/*.conf): add it there")
            }
            guard t.writtenName == full || own.aliases.contains(t.writtenName) else {
                throw s.error(at: line, "'\(t.writtenName)' is not the ATT&CK name of \(t.id) ('\(full)') nor one of its aliases")
            }
            return MitreTechnique(id: t.id, name: full, writtenName: t.writtenName)
        }
    }
}

extension MitreTechnique {
    /// `T` + 4 digits, optionally `.` + 3 digits.
    static func isValidID(_ id: String) -> Bool {
        id.hasPrefix("T") && id.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            .enumerated().allSatisfy { i, p in i < 2 && p.count == (i == 0 ? 4 : 3) && p.allSatisfy(\.isNumber) }
    }
}
