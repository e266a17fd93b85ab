import Foundation
import XCTest
import OspreyCore
import OspreyIO
import OspreyParsing
@testable import OspreyAssembly

/// Real public samples (../shared/corpus) parsed with the shipped parsers, then assembled.
enum Corpus {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var contentDir: String { packageRoot.appendingPathComponent("Content").path }

    static func corpus() throws -> URL {
        let u = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        guard FileManager.default.fileExists(atPath: u.path) else {
            throw XCTSkip("../shared/corpus is not present beside the package: corpus assembly tests skipped (they run inside the Osprey workspace)")
        }
        return u
    }

    static func engine() throws -> ParseEngine { try ParseEngine(contentDirectory: contentDir) }

    /// Parses a file as `osprey parse` does (framing included); fails the test on any reject.
    static func events(_ path: String, engine: ParseEngine, file: StaticString = #filePath, line: UInt = #line) throws -> [Event] {
        var out: [Event] = []
        let reader = try LineReader(path: path)
        try reader.forEach { rec in
            guard case .line(let b, _) = rec else { XCTFail("\(path): line too long", file: file, line: line); return }
            if b.allSatisfy({ $0 == 0x20 }) { return }
            engine.parse(line: b) { r in
                switch r {
                case .event(let e): out.append(e)
                case .reject(let why): XCTFail("\(path): \(why.reason.rawValue): \(why.detail)", file: file, line: line)
                case .emptyPage: break
                }
            }
        }
        return out
    }

    static func parse(lines: [String], engine: ParseEngine) -> [Event] {
        var out: [Event] = []
        for l in lines { engine.parse(line: l) { if case .event(let e) = $0 { out.append(e) } } }
        return out
    }

    /// Stable sort by event time: the order a time-ordered replay feeds.
    static func timeOrdered(_ events: [Event]) -> [Event] {
        events.indices.sorted { events[$0].timeMillis != events[$1].timeMillis ? events[$0].timeMillis < events[$1].timeMillis : $0 < $1 }
            .map { events[$0] }
    }

    /// The Exabeam Cloud Connector wrapper (mimecast-formats.md §2) around one raw JSON record.
    static func connector(_ json: String) -> String {
        "<110>1 2021-10-19T06:06:41.120Z exa-cc-01 Skyformation - 6865378086067993358 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data cs6Label=raw-event destinationServiceName =Mimecast Email Security dproc=SIEM Logs requestClientApplication=Mimecast cs6=\(json)"
    }

    /// Every JSON object of a file (several per line, envelopes unwrapped), re-serialised compactly.
    static func jsonRecords(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [[String: Any]] = []
        for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let data = Data(("[" + line + "]").utf8)
            guard let arr = try JSONSerialization.jsonObject(with: data) as? [Any] else { continue }
            for o in arr {
                if let d = o as? [String: Any] {
                    if let inner = d["data"] as? [[String: Any]] { out += inner } else { out.append(d) }
                }
            }
        }
        return out
    }

    static func compact(_ record: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
    }
}

extension Event {
    func s(_ name: String) -> String? { self[name].map { $0.text } }
    var isAssembled: Bool { self[AssemblyField.assembled] == .bool(true) }
}

final class CorpusAssemblyTests: XCTestCase {
    func siem(_ name: String) throws -> String { try Corpus.corpus().appendingPathComponent("elastic_integrations/siem_logs/\(name)").path }
    func demisto(_ name: String) throws -> String { try Corpus.corpus().appendingPathComponent("demisto_content/\(name)").path }

    func assembled(_ out: [Event], key: String) -> [Event] { out.filter { $0.isAssembled && $0.s("join_key") == key } }

    /// elastic test-siem-logs.log: aCode 61dfe7da… has a process line and two delivery attempts for the same
    /// recipient (delivered, then a failed attempt), no receipt.
    func testElasticV1ProcessAndDeliveriesShareACode() throws {
        let engine = try Corpus.engine()
        let parsed = try Corpus.events(try siem("test-siem-logs.log"), engine: engine)
        XCTAssertEqual(parsed.count, 8)
        let (out, stats) = Assembler.assemble(Corpus.timeOrdered(parsed))
        let m = assembled(out, key: "61dfe7da-4c6d-34e1-9667-69b04f0d564f")
        XCTAssertEqual(m.count, 1, "one message, one recipient")
        let e = try XCTUnwrap(m.first)
        XCTAssertEqual(e[AssemblyField.parts], .list(["process", "delivery"]))
        XCTAssertEqual(e.s("dest_email_address"), "johndoejr@example.com")
        XCTAssertEqual(e.s("direction"), "internal", "direction from the delivery line")
        XCTAssertEqual(e.activityType, .emailOut)
        XCTAssertEqual(e.s("mail_outcome"), "delivered", "one attempt delivered")
        XCTAssertEqual(e.int(AssemblyField.deliveryAttempts), 2)
        XCTAssertEqual(e.int(Fields.bytes), 49_025, "MsgSize from the process line")
        XCTAssertEqual(e.int(AssemblyField.bytesSent), 51_666, "Snt of the delivering attempt")
        XCTAssertEqual(e.s("email_subject"), "You have new held messages", "subject from the process line")
        XCTAssertEqual(e.s("dest_ip"), "67.43.156.15")
        XCTAssertNil(e[Fields.failureReason], "the failed attempt's reason does not stick to a delivered message")
        XCTAssertEqual(e[AssemblyField.partial], .bool(true), "no receipt line")
        XCTAssertEqual(e.timeMillis, UTCTime.parse("2021-10-19T07:04:55+0100"))

        // held process alone, failed delivery alone, journal alone: partial events, never dropped
        XCTAssertEqual(assembled(out, key: "HhuwRf_AOcuJZINE2ZgcKw").map { $0.s("mail_outcome") }, ["held"])
        XCTAssertEqual(assembled(out, key: "29be076e-44cd-354d-a7c2-083d4a312371").map { $0.s("mail_outcome") }, ["failed"])
        XCTAssertEqual(assembled(out, key: "29be076e-44cd-354d-a7c2-083d4a312371").first?.activityType, .emailInFailed)
        XCTAssertEqual(assembled(out, key: "CYSuuaBUMjOpk3k1Xhvy_Q").first?[AssemblyField.parts], .list(["journal"]))
        // the SIEM TTP URL record has no aCode: it passes through unchanged
        let ttp = out.filter { !$0.isAssembled }
        XCTAssertEqual(ttp.map(\.parser), ["mimecast-json-siem-ttp-url"])
        XCTAssertEqual(stats.passThrough, 1)
        XCTAssertEqual(stats.partsIn, 7)
        XCTAssertEqual(stats.emailEvents, 5, "five messages: 61dfe7da…, two held/failed singles, a journal, a receipt")
        XCTAssertEqual(out.count, 6)

        // The file's own order (the process line is 2 minutes older than the delivery before it) gives the
        // same message.
        let (fileOrder, _) = Assembler.assemble(parsed)
        XCTAssertEqual(assembled(fileOrder, key: "61dfe7da-4c6d-34e1-9667-69b04f0d564f").map(\.rendered), m.map(\.rendered))
    }

    /// demisto: one outbound message (aCode -dogI8…) with two receipt lines, one per recipient; and a delivery
    /// file of two inbound messages.
    func testDemistoReceiptsPerRecipientAndDeliveries() throws {
        let engine = try Corpus.engine()
        let receipts = try Corpus.events(try demisto("siem_result_multiple_events_process.json"), engine: engine)
        XCTAssertEqual(receipts.count, 3)
        let (out, stats) = Assembler.assemble(receipts)
        let m = assembled(out, key: "-dogI8BBMquuevdHEC83Lw")
        XCTAssertEqual(m.compactMap { $0.s("dest_email_address") }, ["jito@demo-visionary.b41.one", "dimeff@demo-visionary.b41.one"])
        for e in m {
            XCTAssertEqual(e[Fields.emailRecipients], .list(["jito@demo-visionary.b41.one", "dimeff@demo-visionary.b41.one"]))
            XCTAssertEqual(e.s("user"), "jeff.dasovich@paloaltonetworks.mime.integration.com", "outbound: the sender")
            XCTAssertEqual(e.activityType, .emailOut)
            XCTAssertEqual(e.s("src_ip"), "54.243.138.179")
            XCTAssertEqual(e.s("mail_outcome"), "accepted")
            XCTAssertEqual(e[AssemblyField.partial], .bool(true))
        }
        XCTAssertEqual(stats.messagesOpened, 2)
        XCTAssertEqual(stats.orphanParts, 0)

        let deliveries = try Corpus.events(try demisto("delivery_tse_us01_33_65_00_1c49f_46d99288-4355-4fc9-903f-7952d799d33c_20220524.json"), engine: engine)
        let (dout, dstats) = Assembler.assemble(deliveries)
        XCTAssertEqual(dout.count, 2)
        let klay = try XCTUnwrap(assembled(dout, key: "iYY6RVj4PfW-Gb8jgTxUpQ").first)
        XCTAssertEqual(klay.s("user"), "klay@paloaltonetworks.mime.integration.com", "inbound: the recipient")
        XCTAssertEqual(klay.activityType, .emailIn)
        XCTAssertEqual(klay.int(AssemblyField.bytesSent), 7_063)
        XCTAssertEqual(klay.int(Fields.bytes), 7_063, "no process line: the delivery's bytes")
        XCTAssertEqual(klay.s("dest_ip"), "1.2.3.4")
        XCTAssertEqual(dstats.orphanParts, 2, "deliveries whose receipt was never seen")
    }

    /// elastic test-siem-docs-logs.log (Mimecast's documentation samples): two process lines for one aCode
    /// (one with the attachment names, one without), a held process, protection records.
    func testElasticDocsSamples() throws {
        let engine = try Corpus.engine()
        let parsed = try Corpus.events(try siem("test-siem-docs-logs.log"), engine: engine)
        let (out, stats) = Assembler.assemble(Corpus.timeOrdered(parsed))
        let two = try XCTUnwrap(assembled(out, key: "BY81J52RPjSmp7MrubnlZg").first)
        XCTAssertEqual(assembled(out, key: "BY81J52RPjSmp7MrubnlZg").count, 1)
        XCTAssertEqual(two[Fields.emailAttachments], .list(["filename.docx", "filename2.xlsx"]))
        XCTAssertEqual(two.int(Fields.attachmentCount), 2)
        XCTAssertEqual(two.int(Fields.bytes), 2_116)
        XCTAssertEqual(two.s("file_ext"), "docx")
        XCTAssertEqual(assembled(out, key: "015vTYvNN-Wn30v7M5MzNw").first?.s("mail_outcome"), "held")
        XCTAssertEqual(assembled(out, key: "015vTYvNN-Wn30v7M5MzNw").first?.activityType.isFailure, true)
        XCTAssertEqual(stats.eventsOut, stats.passThrough + stats.emailEvents)
        XCTAssertEqual(stats.eventsIn, parsed.count)
        // every (join key, recipient) of the input has its event
        assertEveryRecipientHasAnEvent(parsed, out)
    }

    /// SIEM v2 (aggregateId, epoch-ms times, string booleans), fed in time order as replay does.
    func testSIEMv2Records() throws {
        let engine = try Corpus.engine()
        let parsed = try Corpus.events(try siem("test-siem-v2-logs.log"), engine: engine)
        XCTAssertEqual(parsed.count, 62)
        let (out, stats) = Assembler.assemble(Corpus.timeOrdered(parsed))

        // nine delivery attempts of one message to one recipient over two minutes: one event
        let d = assembled(out, key: "x0J66B7HOZCFDsdRtjBrdg")
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.first?.int(AssemblyField.deliveryAttempts), 9)
        XCTAssertEqual(d.first?.s("mail_outcome"), "delivered")
        XCTAssertEqual(d.first?.activityType, .emailOut, "internal: the sender's")

        // a receipt and seven attachment-protect records: one event, attachment names from the protection records
        let a = assembled(out, key: "pZrAa9HUN-WmL2AK6cWduw")
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(a.first?.s("dest_email_address"), "boucard.john@demo-int.elastic.mime-api.com")
        XCTAssertEqual(a.first?[AssemblyField.parts], .list(["receipt", "attachment-protect"]), "record types are hyphenated in v1 and v2 alike")
        XCTAssertEqual(a.first?[Fields.emailAttachments], .list(["WinZip Attachments.zip"]))
        XCTAssertEqual(a.first?.s("file_ext"), "zip")
        XCTAssertEqual(a.first?.activityType, .emailIn)

        // the same aggregateId with two different `_<epoch>` suffixes: one message
        XCTAssertEqual(assembled(out, key: "Zyc2YQp5NiebreJzicSY0g").count, 1)

        // a receipt and two spam records naming other recipients: three events
        let spam = assembled(out, key: "6ihbgt-UOrKODApypGlzXQ")
        XCTAssertEqual(spam.count, 3)
        XCTAssertEqual(Set(spam.compactMap { $0.s("src_ip") }), ["81.2.69.144"])

        // rejected at receipt: complete and failed
        let rej = try XCTUnwrap(assembled(out, key: "lf7BP8oVOue0keIDXck0Ww").first)
        XCTAssertEqual(rej.s("mail_outcome"), "rejected")
        XCTAssertEqual(rej.activityType, .emailInFailed)
        XCTAssertEqual(rej[AssemblyField.partial], .bool(false))
        XCTAssertEqual(rej.s("failure_reason"), "Manual Envelope Rejection")

        // held process alone
        XCTAssertEqual(assembled(out, key: "8TCFD0OlO06323_aNlbxVA").first?.s("mail_outcome"), "held")

        XCTAssertEqual(stats.passThrough, 0, "every v2 record carries an aggregateId")
        XCTAssertEqual(stats.eventsOut, stats.emailEvents)
        assertEveryRecipientHasAnEvent(parsed, out)

        // The file's own order (days out of order): the same accounting, nothing lost.
        let (fileOrder, fs) = Assembler.assemble(parsed)
        XCTAssertEqual(fs.eventsOut, fs.emailEvents)
        XCTAssertGreaterThan(fs.lateParts, 0)
        assertEveryRecipientHasAnEvent(parsed, fileOrder)
    }

    /// The same records in the Exabeam connector wrapper (CEF, JSON in cs6) assemble to the same message as
    /// the raw API JSON.
    func testConnectorWrappedLinesAssembleLikeRawJSON() throws {
        let engine = try Corpus.engine()
        let records = try Corpus.jsonRecords(try siem("test-siem-logs.log"))
            .filter { ($0["aCode"] as? String) == "61dfe7da-4c6d-34e1-9667-69b04f0d564f" }
        XCTAssertEqual(records.count, 3)
        let raw = Corpus.parse(lines: try records.map(Corpus.compact), engine: engine)
        let wrapped = Corpus.parse(lines: try records.map { Corpus.connector(try Corpus.compact($0)) }, engine: engine)
        XCTAssertEqual(raw.count, 3)
        XCTAssertEqual(wrapped.count, 3)
        XCTAssertTrue(wrapped.allSatisfy { $0.parser.hasPrefix("mimecast-seg-cef-") }, "\(wrapped.map(\.parser))")
        let a = Assembler.assemble(Corpus.timeOrdered(raw)).events
        let b = Assembler.assemble(Corpus.timeOrdered(wrapped)).events
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(b.count, 1)
        for name in ["parts", "dest_email_address", "direction", "user", "mail_outcome", "bytes", "bytes_sent",
                     "delivery_attempts", "dest_ip", "email_subject", "message_id", "sender", "partial", "outcome"] {
            XCTAssertEqual(a[0][name], b[0][name], name)
        }
        XCTAssertEqual(a[0].activityType, b[0].activityType)
        XCTAssertEqual(a[0].timeMillis, b[0].timeMillis)

        // A wrapped receipt joins a raw process and delivery of the same aCode (mixed collectors).
        let receipt = #"{"acc":"ABC123","Act":"Acc","Dir":"Internal","IP":"203.0.113.9","MsgId":"<137188507-1634623494888@uk-mta-151.uk.mimecast.lan>","Rcpt":"johndoejr@example.com","Sender":"johndoe@example.com","Subject":"You have new held messages","aCode":"61dfe7da-4c6d-34e1-9667-69b04f0d564f","datetime":"2021-10-19T07:04:54+0100"}"#
        let mixed = Corpus.parse(lines: [Corpus.connector(receipt)], engine: engine) + raw
        XCTAssertEqual(mixed.count, 4)
        let m = Assembler.assemble(Corpus.timeOrdered(mixed)).events
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(m[0][AssemblyField.parts], .list(["receipt", "process", "delivery"]))
        XCTAssertEqual(m[0][AssemblyField.partial], .bool(false))
        XCTAssertEqual(m[0].s("src_ip"), "203.0.113.9", "connecting IP from the receipt, never the delivery's destination")
        XCTAssertEqual(m[0].s("dest_ip"), "67.43.156.15")
        XCTAssertEqual(m[0].s("user"), "johndoe@example.com", "internal: the receipt's sender")
    }

    /// Every parsed file of SIEM samples: accounting holds and each (message, recipient) has an event, for
    /// time order, file order and tight buffers.
    func testAllSIEMSamplesAccounting() throws {
        let engine = try Corpus.engine()
        var all: [Event] = []
        for p in [try siem("test-siem-logs.log"), try siem("test-siem-docs-logs.log"), try siem("test-siem-v2-logs.log"),
                  try demisto("siem_result_multiple_events_process.json"),
                  try demisto("delivery_tse_us01_33_65_00_1c49f_46d99288-4355-4fc9-903f-7952d799d33c_20220524.json")] {
            all += try Corpus.events(p, engine: engine)
        }
        for (input, config) in [(Corpus.timeOrdered(all), AssemblyConfig()), (all, AssemblyConfig()),
                                (Corpus.timeOrdered(all), AssemblyConfig(maxOpenMessages: 3, maxBufferedEvents: 5))] {
            let (out, s) = Assembler.assemble(input, config: config)
            XCTAssertEqual(s.eventsIn, all.count)
            XCTAssertEqual(s.eventsOut, out.count)
            XCTAssertEqual(out.count, s.passThrough + s.emailEvents)
            XCTAssertEqual(s.messagesOpened, s.messagesClosed)
            XCTAssertLessThanOrEqual(s.peakBufferedEvents, config.maxBufferedEvents)
            assertEveryRecipientHasAnEvent(input, out)
            XCTAssertEqual(Assembler.assemble(input, config: config).events.map(\.rendered), out.map(\.rendered))
        }
    }

    func assertEveryRecipientHasAnEvent(_ input: [Event], _ out: [Event], file: StaticString = #filePath, line: UInt = #line) {
        var have = Set<String>()
        for e in out where e.isAssembled { have.insert("\(e.s("join_key") ?? "")|\(e.s("dest_email_address")?.lowercased() ?? "")") }
        for e in input {
            guard let k = Assembler.joinKey(of: e).map(Assembler.normalizeJoinKey) else { continue }
            let r = e.s("dest_email_address")?.lowercased() ?? ""
            if r.isEmpty {
                XCTAssertTrue(have.contains { $0.hasPrefix(k + "|") }, "no event for \(k)", file: file, line: line)
            } else {
                XCTAssertTrue(have.contains("\(k)|\(r)"), "no event for \(k) → \(r)", file: file, line: line)
            }
        }
    }
}
