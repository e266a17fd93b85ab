import Synchronization

/// A field name interned to a small integer, so events store and look up fields without hashing strings.
/// The normalized names of docs/architecture.md#the-normalized-event are registered first; content files may register more at load time.
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

    init() {
        for name in FieldRegistry.normalizedNames { _ = intern(name) }
    }

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

    /// The seed's information model (parsers' capture names) plus the derived names of docs/architecture.md#the-normalized-event.
    public static let normalizedNames: [String] = [
        "time", "user", "email_address", "email_domain", "src_ip", "src_port", "app", "operation", "category",
        "additional_info", "sender", "dest_email_address", "email_recipients", "email_subject",
        "email_attachments", "email_attachment", "file_ext", "file_type", "file_name", "hash_md5",
        "attachment_count", "attachment_size", "bytes", "direction", "action", "result", "alert_id",
        "alert_name", "message_id", "url", "url_verdict", "failure_reason", "service_name", "host",
        "email_user", "dproc", "dest_ip", "policy", "join_key", "record_type", "user_agent", "client_id",
        "method", "object", "mime_type", "auth_2fa", "account",
        // derived by the event builder and enrichment
        "activity_type", "outcome", "dest_domain", "sender_domain", "src_country", "src_asn", "src_isp",
        "src_zone", "dest_country", "peer_group",
    ]
}

/// Well-known fields, resolved once.
public enum F {
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
