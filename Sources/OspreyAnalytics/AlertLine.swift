import Foundation
import OspreyCore

/// One output line of replay/serve (a rule trigger, a live notable, a closed session) read back from its JSON
/// text: what outputs, the API and tools that read an alert file use, instead of each re-parsing the line
/// its own way. Fields a kind does not have are nil. Decoding is Foundation's JSONDecoder: alerts are few
/// beside events, and this never runs per event.
public struct AlertLine: Codable, Sendable, Equatable {
    public struct Technique: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// The triggering event's pivot fields (RuleTrigger.eventFields).
    public struct EventInfo: Codable, Sendable, Equatable {
        public var activity_type: String?
        public var outcome: String?
        public var src_ip: String?
        public var src_country: String?
        public var src_isp: String?
        public var sender: String?
        public var dest_email_address: String?
        public var email_subject: String?
        public var file_name: String?
        public var app: String?
        public var operation: String?
        public var url: String?
    }

    public var kind: String
    public var rule: String?
    public var name: String?
    public var score: Int
    public var user: String
    public var session: String
    public var time: String?
    public var start: String?
    public var end: String?
    public var mitre: [Technique]?
    public var use_cases: [String]?
    public var reason: String?
    public var notable: Bool?
    public var rules: [String]?
    public var watchlist: String?
    public var event: EventInfo?

    /// The line's record, or nil when it is not an Osprey output line.
    public static func decode(_ line: String) -> AlertLine? {
        try? JSONDecoder().decode(AlertLine.self, from: Data(line.utf8))
    }

    /// When it happened: a trigger's or live notable's time, a session's end.
    public var timeMillis: Int64 { (time ?? end ?? start).flatMap(UTCTime.parse) ?? 0 }
}
