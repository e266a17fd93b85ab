import OspreyCore
import OspreyIO

/// The parse benchmark's input (ported from the former `osprey-bench`): lines across 16 shapes, shape
/// `index % 16`, seeded, so the same count always gives the same bytes. Seven shapes are connector lines (the
/// Exabeam Cloud Connector's syslog + CEF header with the Mimecast record as JSON in `cs6=`), the others raw
/// API JSON, SIEM v2 JSON and key=value lines.
public enum MixedLines {
    /// The shapes (`index % 16`) that are connector lines.
    public static let connectorShapes: Set<Int> = [0, 2, 3, 4, 5, 6, 7]

    /// Whether line `index` is a connector line.
    public static func isConnector(index: Int) -> Bool { connectorShapes.contains(index % 16) }

    /// The substring every connector line carries (the floor's memmem needle).
    public static let connectorMarker = "Mimecast Email Security"

    /// Seeded draws over OspreyCore's SplitMix64.
    struct Rng {
        var core: SplitMix64
        init(state: UInt64) { core = SplitMix64(state: state) }
        mutating func next() -> UInt64 { core.next() }
        mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Calls `body(index, line)` for `lines` lines (no line end).
    public static func generate(lines: Int, _ body: (Int, String) throws -> Void) rethrows {
        var rng = Rng(state: 42)
        let users = (0..<2000).map { "user\($0)@northwind-example.com" }
        let partners = ["contoso-partner.example", "fabrikam.example", "gmail.com", "outlook.com", "supplier-billing.example"]
        let apps = ["Administration Console", "mimecast-moa", "Integrations", "mimecast-case-review"]
        let audit = ["User Logged On", "Logon Authentication Failed", "Search Action", "Mailbox Delegation Permission Granted"]
        var t = Int64(1_762_000_000_000)
        func ip() -> String { "\(rng.int(223) + 1).\(rng.int(256)).\(rng.int(256)).\(rng.int(256))" }
        func iso(_ ms: Int64) -> String { String(UTCTime.format(ms).dropLast(5)) + "+0000" }
        func wrap(_ json: String, _ dproc: String) -> String {
            "<110>1 \(UTCTime.format(t)) exa-cc-01 Skyformation - 6865378086067993358 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data cs6Label=raw-event destinationServiceName =Mimecast Email Security dproc=\(dproc) requestClientApplication=Mimecast cs6=\(json)"
        }
        for i in 0..<lines {
            t += Int64(rng.int(2000))
            let u = rng.pick(users), p = "ext\(rng.int(500))@" + rng.pick(partners), code = "aC\(i)"
            let line: String
            switch i % 16 {
            case 0: line = wrap(#"{"id":"eNq\#(i)","auditType":"\#(rng.pick(audit))","user":"\#(u)","eventTime":"\#(iso(t))","eventInfo":"Successful authentication for \#(u), Date: 2026-11-02, Time: 08:15:01+0000, IP: \#(ip()), Application: \#(rng.pick(apps)), Method: Cloud","category":"authentication_logs"}"#, "Audit Events")
            case 1: line = "date=\(iso(t))|mcType=auditLog|user=\(u)|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for \(u), IP: \(ip()), Application: \(rng.pick(apps))|app=\(rng.pick(apps))|src=\(ip()):443|action=success"
            case 2: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Dir":"Outbound","Sender":"\#(u)","Rcpt":"\#(p)","IP":"\#(ip())","Act":"Acc","MsgId":"<m\#(i)@x>","Subject":"Quarterly numbers \#(i)"}"#, "SIEM Logs")
            case 3: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Act":"Acc","AttCnt":2,"AttNames":["report\#(i).xlsx","notes.pdf"],"AttSize":\#(rng.int(5_000_000)),"MsgSize":\#(rng.int(6_000_000)),"Sender":"\#(u)","Subject":"Quarterly numbers","MsgId":"<m\#(i)@x>"}"#, "SIEM Logs")
            case 4: line = wrap(#"{"userEmailAddress":"\#(u)","fromUserEmailAddress":"\#(p)","url":"https://click.example/\#(i)","ttpDefinition":"Inbound URL","subject":"Offer","action":"allow","scanResult":"clean","category":"Business","sendingIp":"\#(ip())","date":"\#(iso(t))","route":"inbound","messageId":"<u\#(i)@x>"}"#, "TTP URL Logs")
            case 5: line = wrap(#"{"id":"MTOKEN:\#(i)","senderAddress":"\#(p)","recipientAddress":"\#(u)","subject":"Urgent","definition":"Default","hits":1,"action":"none","taggedMalicious":false,"senderIpAddress":"\#(ip())","eventTime":"\#(iso(t))","messageId":"<i\#(i)@x>"}"#, "TTP Impersonation Protect")
            case 6: line = wrap(#"{"senderAddress":"\#(p)","recipientAddress":"\#(u)","fileName":"doc\#(i).pdf","fileType":"application/pdf","result":"safe","actionTriggered":"none","date":"\#(iso(t))","route":"inbound","messageId":"<a\#(i)@x>","subject":"Docs","fileHash":"ab\#(i)"}"#, "Attachment Protection")
            case 7: line = wrap(#"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Route":"Inbound","Sender":"\#(p)","Recipient":"\#(u)","IP":"\#(ip())","MsgId":"<s\#(i)@x>","Subject":"Win","SourceIP":"\#(ip())"}"#, "SIEM Logs")
            case 8: line = #"{"acc":"C0A0","aCode":"\#(code)","datetime":"\#(iso(t))","Dir":"Inbound","Sender":"\#(p)","Rcpt":"\#(u)","IP":"\#(ip())","Act":"Acc","MsgId":"<r\#(i)@x>","Subject":"Re: plans","SpamScore":0}"#
            case 9: line = #"{"acc":"C0A0","Delivered":true,"IP":"\#(ip())","AttCnt":0,"Dir":"Outbound","MsgId":"<d\#(i)@x>","Subject":"hello","Sender":"\#(u)","datetime":"\#(iso(t))","Rcpt":"\#(p)","AttSize":0,"Attempt":1,"Snt":\#(rng.int(90000)),"aCode":"\#(code)","Route":"Office365"}"#
            case 10: line = #"{"Act":"Acc","AttCnt":1,"AttNames":"\"a\#(i).docx\"","AttSize":\#(rng.int(90000)),"MsgId":"<p\#(i)@x>","MsgSize":\#(rng.int(100000)),"aCode":"\#(code)","acc":"C0A0","datetime":"\#(iso(t))"}"#
            case 11: line = #"{"auditType":"\#(rng.pick(audit))","user":"\#(u)","eventTime":"\#(iso(t))","eventInfo":"Failed authentication for \#(u), IP: \#(ip()), Application: \#(rng.pick(apps)), Reason: Wrong password","category":"authentication_logs","id":"e\#(i)"}"#
            case 12: line = #"{"accountId":"C0A0","aggregateId":"ag\#(i)","processingId":"p\#(i)","timestamp":\#(t),"type":"receipt","subtype":"Acc","action":"Acc","senderEnvelope":"\#(p)","recipients":"\#(u)","senderIp":"\#(ip())","direction":"Inbound","messageId":"<v\#(i)@x>","subject":"v2"}"#
            case 13: line = #"{"accountId":"C0A0","aggregateId":"ag\#(i)","timestamp":\#(t),"type":"delivery","subtype":"true","delivered":"true","destinationIp":"\#(ip())","direction":"Outbound","recipients":"\#(p)","senderEnvelope":"\#(u)","emailSize":"\#(rng.int(90000))","route":"Office365"}"#
            case 14: line = "datetime=\(iso(t))|aCode=\(code)|acc=C0A0|IP=\(ip())|Dir=Outbound|MsgId=<k\(i)@x>|Subject=\\weekly report\\|Sender=\(u)|Rcpt=\(p)|Act=Acc|SpamScore=0"
            default: line = #"{"senderAddress":"\#(u)","recipientAddress":"\#(p)","subject":"deck","eventTime":"\#(iso(t))","route":"outbound","policy":"Confidential","action":"notification","messageId":"<l\#(i)@x>"}"#
            }
            try body(i, line)
        }
    }

    /// The lines as byte arrays; `connectorsOnly` keeps only the connector lines of the same sequence.
    public static func lines(_ count: Int, connectorsOnly: Bool = false) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(connectorsOnly ? count / 2 : count)
        generate(lines: count) { i, line in
            if !connectorsOnly || isConnector(index: i) { out.append(Array(line.utf8)) }
        }
        return out
    }

    /// Writes `lines` lines to `path`, and the connector lines among them to `connectorsPath` when given.
    /// Returns the number of connector lines.
    @discardableResult
    public static func write(lines: Int, to path: String, connectorsTo connectorsPath: String? = nil) throws -> Int {
        let out = try OutputWriter(path: path)
        let connectors = try connectorsPath.map { try OutputWriter(path: $0) }
        var n = 0
        generate(lines: lines) { i, line in
            let l = line + "\n"
            out.write(l)
            if let connectors, isConnector(index: i) { connectors.write(l); n += 1 }
        }
        out.flush()
        connectors?.flush()
        return n
    }
}
