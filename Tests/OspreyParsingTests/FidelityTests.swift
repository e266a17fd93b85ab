import Foundation
import XCTest
import OspreyCore
import OspreyIO
@testable import OspreyParsing

/// Issue 14: parser fidelity on real-world shapes. Every line here was written for these tests.
final class FidelityTests: XCTestCase {
    var engine: ParseEngine!
    override func setUpWithError() throws { engine = try Support.engine() }

    func one(_ line: String, file: StaticString = #filePath, lineNo: UInt = #line) -> Event? {
        let r = try! Support.parse(line, engine: engine)
        guard r.count == 1, case .event(let e) = r[0] else { XCTFail("one event expected, got \(r)", file: file, line: lineNo); return nil }
        return e
    }

    func tempFile(_ bytes: [UInt8], _ name: String = "in.log") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-fid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func kvReceipt(_ i: Int) -> String {
        "datetime=2025-02-03T04:05:\(String(format: "%02d", i))+0000|aCode=c\(i)|acc=C0A0|IP=192.0.2.\(i)|Dir=Inbound|Sender=s\(i)@contoso-example.net|Rcpt=r\(i)@fabrikam-example.com|Act=Acc|Subject=\\note \(i)\\"
    }

    // MARK: line ends

    func testBareCRLFAndCRLFEachEndARecord() throws {
        // 15 key=value records ended by a bare CR, as a collector saved the API's response: 15 events, not 1.
        let crOnly = (0..<15).map(kvReceipt).joined(separator: "\r") + "\r"
        var results = try Support.parseFile(try tempFile(Array(crOnly.utf8)), engine: engine)
        XCTAssertEqual(results.count, 15)
        let users = results.compactMap { r -> String? in if case .event(let e) = r { return e.user }; return nil }
        XCTAssertEqual(users, (0..<15).map { "r\($0)@fabrikam-example.com" })
        // Mixed: LF, CRLF, CR.
        let mixed = kvReceipt(1) + "\n" + kvReceipt(2) + "\r\n" + kvReceipt(3) + "\r" + kvReceipt(4)
        results = try Support.parseFile(try tempFile(Array(mixed.utf8)), engine: engine)
        XCTAssertEqual(results.compactMap { if case .event(let e) = $0 { return e.s("src_ip") }; return nil },
                       ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"])
    }

    func testCRInsideAJSONStringIsNotALineEnd() throws {
        let json = #"{"acc":"A","aCode":"1","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc","Subject":"line one"# + "\r" + #"line two"}"#
        let results = try Support.parseFile(try tempFile(Array((json + "\n" + json + "\r\n").utf8)), engine: engine)
        XCTAssertEqual(results.count, 2)
        for r in results {
            guard case .event(let e) = r else { XCTFail("\(r)"); continue }
            XCTAssertEqual(e.s("email_subject"), "line one\rline two")
        }
        // Outside a string, a bare CR between two JSON records ends the first.
        let two = #"{"acc":"A","aCode":"1","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","Act":"Acc"}"#
        XCTAssertEqual(try Support.parseFile(try tempFile(Array((two + "\r" + two + "\n").utf8)), engine: engine).count, 2)
    }

    // MARK: journals

    func testJournalRecordsAreNeverReceipts() throws {
        let kv = "datetime=2025-02-03T04:05:06+0000|aCode=j1|acc=C0A0|RcptActType=Jnl|Dir=Outbound|Sender=a@x.example|Rcpt=journal@x.example"
        XCTAssertEqual(one(kv)?.parser, "mimecast-kv-siem-journal")
        XCTAssertEqual(one(kv)?.s("record_type"), "journal")
        let json = #"{"acc":"C0A0","aCode":"j2","datetime":"2025-02-03T04:05:06+0000","Dir":"Outbound","Sender":"a@x.example","Rcpt":"journal@x.example","RcptActType":"Jnl"}"#
        XCTAssertEqual(one(json)?.s("record_type"), "journal")
        XCTAssertEqual(one(Support.connector(json, dproc: "SIEM Logs"))?.s("record_type"), "journal")
        XCTAssertEqual(one(Support.connector(json.replacingOccurrences(of: "\"", with: "\\\""), dproc: "SIEM Logs"))?.s("record_type"), "journal")
        let v2 = #"{"accountId":"C","aggregateId":"g9","processingId":"p","timestamp":1738555506000,"type":"journal","senderEnvelope":"a@x.example","recipients":["journal@x.example"],"direction":"Outbound","senderIp":"192.0.2.9","subtype":"receipt"}"#
        XCTAssertEqual(one(v2)?.s("record_type"), "journal")
        // and the receipts next to them are still receipts
        XCTAssertEqual(one(kvReceipt(5))?.s("record_type"), "receipt")
    }

    // MARK: hashes

    func testFileHashFieldByLength() throws {
        let md5 = "0123456789abcdef0123456789ABCDEF", sha1 = String(repeating: "a1", count: 20), sha256 = String(repeating: "9f", count: 32)
        func ttp(_ h: String) -> String {
            #"{"senderAddress":"a@x.example","recipientAddress":"b@y.example","date":"2025-02-03T04:05:06+0000","fileName":"inv.exe","fileType":"exe","fileHash":"\#(h)","result":"malicious","route":"inbound"}"#
        }
        for (h, field) in [(md5, "hash_md5"), (sha1, "hash_sha1"), (sha256, "hash_sha256"), ("beef", "file_hash")] {
            for line in [ttp(h), Support.connector(ttp(h), dproc: "TTP Attachment Protect")] {
                guard let e = one(line) else { continue }
                XCTAssertEqual(e.s(field), h, "\(e.parser) \(h.count)")
                for other in ["hash_md5", "hash_sha1", "hash_sha256", "file_hash"] where other != field { XCTAssertNil(e[other], "\(e.parser) \(other)") }
            }
        }
        let v2 = #"{"accountId":"C","aggregateId":"g3","processingId":"p","timestamp":1738555506000,"type":"attachment protect","fileName":"x.pdf","md5":"\#(sha256)","sha256":"\#(sha256)"}"#
        XCTAssertEqual(one(v2)?.s("hash_sha256"), sha256)
        XCTAssertNil(one(v2)?["hash_md5"])
    }

    // MARK: v2 subject and messageId, record_type spelling

    func testV2AttachmentProtectAndAVKeepSubjectAndMessageId() throws {
        for type in ["attachment protect", "av"] {
            let line = #"{"accountId":"C","aggregateId":"g4","processingId":"p","timestamp":1738555506000,"type":"\#(type)","fileName":"q.docm","fileExtension":"docm","md5":"0123456789abcdef0123456789abcdef","subject":"Invoice 42","messageId":"<inv42@contoso-example.net>","recipients":["b@y.example"],"virusFound":"W97M.Downloader"}"#
            guard let e = one(line) else { continue }
            XCTAssertEqual(e.s("email_subject"), "Invoice 42", type)
            XCTAssertEqual(e.s("message_id"), "inv42@contoso-example.net", type)
            XCTAssertEqual(e.s("record_type"), type == "av" ? "av" : "attachment-protect")
        }
        let v1 = #"{"IP":"192.0.2.5","Recipient":"b@y.example","Route":"Inbound","Sender":"x@y.example","acc":"C0A0","datetime":"2025-02-03T04:05:06+0000","fileMime":"application/pdf","fileName":"a.pdf","md5":"0123456789abcdef0123456789abcdef"}"#
        XCTAssertEqual(one(v1)?.s("record_type"), "attachment-protect", "v1 and v2 spell it the same")
    }

    // MARK: quotes inside attachment names

    func testQuotesInsideAttachmentNamesAreKept() throws {
        let names = #""so-called "TPS REPORTS" we need to fill.docx", "plain.xlsx", "a, b.pdf""#
        XCTAssertEqual(EventBuilder.splitNames(names), [#"so-called "TPS REPORTS" we need to fill.docx"#, "plain.xlsx", "a, b.pdf"])
        XCTAssertEqual(EventBuilder.splitNames(#"["x.docx","y.pdf"]"#), ["x.docx", "y.pdf"])
        XCTAssertEqual(EventBuilder.splitNames("one.txt, two.txt"), ["one.txt", "two.txt"])
        XCTAssertEqual(EventBuilder.splitNames(#"report "final".docx"#), [#"report "final".docx"#])
        let kv = #"datetime=2025-02-03T04:05:06+0000|aCode=BY9|acc=C0A0|AttSize=99|Act=Acc|AttCnt=2|AttNames="so-called "TPS REPORTS" we need to fill.docx", "plain.xlsx"|MsgSize=200"#
        XCTAssertEqual(one(kv)?["email_attachments"], .list([#"so-called "TPS REPORTS" we need to fill.docx"#, "plain.xlsx"]))
        XCTAssertEqual(one(kv)?.s("email_attachment"), #"so-called "TPS REPORTS" we need to fill.docx"#)
    }

    // MARK: held messages, QR rejections

    func testHeldMessageListRecordWithRecipientArray() throws {
        let line = #"{"data":[{"id":"hm-1","dateReceived":"2025-02-03T04:05:06Z","from":{"emailAddress":"out@fabrikam-example.com"},"to":[{"displayableName":"Ext","emailAddress":"someone@partner-example.org"}],"subject":"Q1 numbers","route":"outbound","size":1200,"hasAttachments":false,"reason":"Content policy","policyInfo":"DLP - finance"}]}"#
        guard let e = one(line) else { return }
        XCTAssertEqual(e.parser, "mimecast-json-held-message")
        XCTAssertEqual(e.activityType, .emailOutFailed)
        XCTAssertEqual(e.user, "out@fabrikam-example.com")
        XCTAssertEqual(e.s("dest_email_address"), "someone@partner-example.org")
        XCTAssertEqual(e.s("policy"), "DLP - finance")
    }

    func testQRCodeRejectionURL() throws {
        let line = #"{"id":"rj-4","fromAddress":"billing@lure-example.net","toAddress":"pat.lee@fabrikam-example.com","created":"2025-02-03T04:05:06+0000","type":"Message Content","description":"QR code URL detected","info":"Rejected: QR code in image.png resolves to https://login.lure-example.net/o365?u=pat, score 97","ipAddress":"203.0.113.40","remoteName":"mx.lure-example.net"}"#
        guard let e = one(line) else { return }
        XCTAssertEqual(e.parser, "mimecast-json-rejection")
        XCTAssertEqual(e.s("url"), "https://login.lure-example.net/o365?u=pat")
        let plain = line.replacingOccurrences(of: "QR code in image.png resolves to https://login.lure-example.net/o365?u=pat, score 97", with: "Spam score too high, see https://status.example/x")
        XCTAssertNil(one(plain)?["url"], "only QR-code rejections carry a URL field")
    }

    // MARK: the three records that were rejected

    func testRecordsWithoutUserOrTimeBecomeEvents() throws {
        let audit = #"{"id":"a-9","auditType":"Completed Directory Sync","user":"","eventTime":"2025-02-03T04:05:06+0000","eventInfo":"Nothing changed.","category":"account_logs"}"#
        let a = one(audit)
        XCTAssertNil(a?.user)
        XCTAssertEqual(a?.activityType, .appActivity)
        let search = #"{"createTime":"2025-02-03T04:05:06+0000","description":"Message Tracking Search","emailAddr":"<>","searchReason":"","searchText":"[User : pat.lee@fabrikam-example.com]","source":"archive"}"#
        XCTAssertNil(one(search)?.user)
        XCTAssertEqual(one(search)?.s("record_type"), "archive-search")
        // A release record without `released` takes the time of the record before it on the page.
        let page = #"{"heldReleaseLogs":[{"heldReason":"Policy","released":"2025-02-03T04:05:06+0000","status":"released","to":[{"emailAddress":"a@fabrikam-example.com"}]},{"heldReason":"Policy","status":"released","to":[{"emailAddress":"b@fabrikam-example.com"}]}]}"#
        let events = try Support.events(page, engine: engine)
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events.last?.timeText, "2025-02-03T04:05:06.000Z")
        XCTAssertEqual(events.last?.s("time_source"), "page")
        XCTAssertNil(events.first?["time_source"])
        // Alone (no earlier record on its page) it is still a reject.
        let alone = #"{"heldReason":"Policy","status":"released","to":[{"emailAddress":"b@fabrikam-example.com"}]}"#
        if case .reject(let r) = try Support.parse(alone, engine: engine).first { XCTAssertEqual(r.reason, .missingField) } else { XCTFail() }
    }

    // MARK: --explain

    func testExplainNamesEveryParserTriedAndWhy() throws {
        let noRcpt = #"{"acc":"A","aCode":"1","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"","Act":"Acc"}"#
        let text = engine.explain(line: noRcpt)
        XCTAssertTrue(text.contains("mimecast-json-siem-receipt"), text)
        XCTAssertTrue(text.contains("required field missing: mimecast-json-siem-receipt: dest_email_address"), text)
        XCTAssertTrue(text.contains("mimecast-json-audit (20-mimecast-api-json.parser:"), text)
        XCTAssertTrue(text.contains("`key = auditType` does not hold"), text)
        XCTAssertTrue(text.contains("→ reject: missing required field"), text)
        let badTime = noRcpt.replacingOccurrences(of: "2025-02-03T04:05:06+0000", with: "10000-01-01T00:00:00Z")
        XCTAssertTrue(engine.explain(line: badTime).contains("time unreadable: mimecast-json-siem-receipt: '10000-01-01T00:00:00Z'"))
        let ok = engine.explain(line: kvReceipt(3))
        XCTAssertTrue(ok.contains("mimecast-kv-siem-receipt (40-key-value.parser:"), ok)
        XCTAssertTrue(ok.contains("TAKES the record → dlp-email-alert-in"), ok)
        XCTAssertTrue(ok.contains("excluded") == false)
        let journal = engine.explain(line: "datetime=2025-02-03T04:05:06+0000|aCode=j1|RcptActType=Jnl|Rcpt=j@x.example|Sender=a@x.example")
        XCTAssertTrue(journal.contains("TAKES"), journal)
        XCTAssertTrue(engine.explain(line: "{\"data\":[5]}").contains("reject: not a record"))
    }
}
