import Synchronization

/// A field name interned to a small integer, so events store and look up fields without hashing strings.
/// The names are the field catalog's (`FieldCatalog.parse` registers every entry of Content/fields/fields.conf
/// when it loads) and those the code names (`Fields`, parser mappings); ids follow first registration and are
/// never persisted, so no second list of names is kept here.
public struct Field: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let id: UInt16
    public init(id: UInt16) { self.id = id }

    public var name: String { FieldRegistry.shared.name(of: self) }
    public var description: String { name }
    public static func < (a: Field, b: Field) -> Bool { a.id < b.id }

    /// The field with this name, registered on first use.
    public static func named(_ name: String) -> Field { FieldRegistry.shared.intern(name) }
    /// The field with this name if it was ever registered.
    public static func existing(_ name: String) -> Field? { FieldRegistry.shared.lookup(name) }
}

public final class FieldRegistry: Sendable {
    public static let shared = FieldRegistry()

    private struct Table { var names: [String] = []; var ids: [String: UInt16] = [:] }
    private let table = Mutex(Table())

    init() {}

    public func intern(_ name: String) -> Field {
        table.withLock { t in
            if let id = t.ids[name] { return Field(id: id) }
            let id = UInt16(t.names.count)
            t.names.append(name)
            t.ids[name] = id
            return Field(id: id)
        }
    }

    public func lookup(_ name: String) -> Field? {
        table.withLock { t in t.ids[name].map(Field.init(id:)) }
    }

    public func allNames() -> [String] { table.withLock { $0.names } }

    public func name(of field: Field) -> String {
        table.withLock { t in Int(field.id) < t.names.count ? t.names[Int(field.id)] : "field#\(field.id)" }
    }
}

/// Well-known fields, resolved once.
public enum Fields {
    public static let time = Field.named("time")
    public static let user = Field.named("user")
    public static let emailAddress = Field.named("email_address")
    public static let emailDomain = Field.named("email_domain")
    public static let srcIP = Field.named("src_ip")
    public static let srcPort = Field.named("src_port")
    public static let app = Field.named("app")
    public static let operation = Field.named("operation")
    public static let category = Field.named("category")
    public static let additionalInfo = Field.named("additional_info")
    public static let sender = Field.named("sender")
    public static let destEmailAddress = Field.named("dest_email_address")
    public static let emailRecipients = Field.named("email_recipients")
    public static let emailSubject = Field.named("email_subject")
    public static let emailAttachments = Field.named("email_attachments")
    public static let emailAttachment = Field.named("email_attachment")
    public static let fileExt = Field.named("file_ext")
    public static let fileName = Field.named("file_name")
    public static let attachmentCount = Field.named("attachment_count")
    public static let attachmentSize = Field.named("attachment_size")
    public static let bytes = Field.named("bytes")
    public static let direction = Field.named("direction")
    public static let action = Field.named("action")
    public static let result = Field.named("result")
    public static let alertID = Field.named("alert_id")
    public static let messageID = Field.named("message_id")
    public static let url = Field.named("url")
    public static let failureReason = Field.named("failure_reason")
    public static let destIP = Field.named("dest_ip")
    public static let joinKey = Field.named("join_key")
    public static let recordType = Field.named("record_type")
    public static let outcome = Field.named("outcome")
    public static let destDomain = Field.named("dest_domain")
    public static let senderDomain = Field.named("sender_domain")
    public static let host = Field.named("host")
}
