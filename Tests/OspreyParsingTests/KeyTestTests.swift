import Foundation
import XCTest
import OspreyCore
@testable import OspreyParsing

/// Parsers are chosen by key tests on the scanned record (`key`, `no_key`, `value`, `no_value`), so text a
/// sender controls (a subject) cannot steer which parser reads a record.
final class KeyTestTests: XCTestCase {
    var engine: ParseEngine!
    override func setUpWithError() throws { engine = try Support.engine() }

    func one(_ line: String, file: StaticString = #filePath, lineNo: UInt = #line) throws -> Event? {
        let r = try Support.parse(line, engine: engine)
        guard r.count == 1, case .event(let e) = r[0] else { XCTFail("one event expected, got \(r)", file: file, line: lineNo); return nil }
        return e
    }

    // MARK: shipped parsers

    func testSubjectTextCannotMakeAReceiptAJournal() throws {
        let subject = #"re \"RcptActType\":\"Jnl\" RcptActType= |RcptActType=Jnl"#
        let json = #"{"acc":"C0A0","aCode":"k1","datetime":"2025-02-03T04:05:06+0000","Dir":"Outbound","Sender":"a@x.example","Rcpt":"b@y.example","IP":"192.0.2.7","Act":"Acc","MsgId":"<m@x>","Subject":"SUBJ"}"#
        let forms: [(String, String)] = [
            ("json", json),
            ("connector", Support.connector(json, dproc: "SIEM Logs")),
            ("connector, escaped once", Support.connector(json.replacingOccurrences(of: "\"", with: "\\\""), dproc: "SIEM Logs")),
        ]
        for (name, line) in forms {
            let plain = try one(line.replacingOccurrences(of: "SUBJ", with: "hello"))
            XCTAssertEqual(plain?.s("record_type"), "receipt", name)
            let hostile = try one(line.replacingOccurrences(of: "SUBJ", with: name.contains("escaped") ? subject.replacingOccurrences(of: "\\\"", with: "\\\\\\\"") : subject))
            XCTAssertEqual(hostile?.s("record_type"), "receipt", "\(name): a subject chose the parser (\(hostile?.parser ?? "none"))")
            XCTAssertEqual(hostile?.parser, plain?.parser, name)
            XCTAssertEqual(hostile?.s("src_ip"), "192.0.2.7", name)
            XCTAssertNotNil(hostile?.s("email_subject"), name)
        }
        // Key=value: a backslash-wrapped subject may hold `|RcptActType=` without it being a key.
        let kv = #"datetime=2025-02-03T04:05:06+0000|aCode=k2|acc=C0A0|IP=192.0.2.8|Dir=Inbound|Sender=s@x.example|Rcpt=r@y.example|Act=Acc|Subject=\hi |RcptActType=Jnl\"#
        XCTAssertEqual(try one(kv)?.s("record_type"), "receipt")
        // SIEM v2: the record type is the `type` key's value, not text ending in `journal"` anywhere.
        let v2 = #"{"accountId":"C","aggregateId":"g1","processingId":"p","timestamp":1738555506000,"type":"receipt","senderEnvelope":"a@x.example","recipients":["b@y.example"],"direction":"Outbound","senderIp":"192.0.2.9","subject":"\"type\":\"journal\" journal"}"#
        XCTAssertEqual(try one(v2)?.s("record_type"), "receipt")
        XCTAssertEqual(try one(v2)?.parser, "mimecast-json-siem-v2-receipt")
    }

    func testRealJournalsStillReadAsJournals() throws {
        let json = #"{"acc":"C0A0","aCode":"j2","datetime":"2025-02-03T04:05:06+0000","Dir":"Outbound","Sender":"a@x.example","Rcpt":"journal@x.example","RcptActType":"Jnl"}"#
        XCTAssertEqual(try one(json)?.s("record_type"), "journal")
        XCTAssertEqual(try one(Support.connector(json, dproc: "SIEM Logs"))?.s("record_type"), "journal")
        let v2 = #"{"accountId":"C","aggregateId":"g2","processingId":"p","timestamp":1738555506000,"eventType":"JOURNAL","senderEnvelope":"a@x.example","recipients":["j@x.example"],"direction":"Outbound","senderIp":"192.0.2.9"}"#
        XCTAssertEqual(try one(v2)?.parser, "mimecast-json-siem-v2-journal", "value tests ignore ASCII case and read the older eventType")
    }

    // MARK: semantics, with a parser written for the test

    func engine(_ tests: String) throws -> ParseEngine {
        let text = "[parser t]\nvendor = V\nproduct = P\nformat = json\nactivity = audit\nactivity_types = app-activity\ntime = t\nmap u = user\n" + tests
        return try ParseEngine(parsers: try ParserLoader.parse(text, file: "t.parser"),
                               activityMap: try ActivityMap.load(file: Support.contentDir + "/mappings/activity.conf"))
    }

    func takes(_ e: ParseEngine, _ line: String) -> Bool {
        var got = false
        e.parse(line: line) { if case .event = $0 { got = true } }
        return got
    }

    func testKeyTestsFireAndMissOnStructureOnly() throws {
        let t = #""t":"2025-02-03T04:05:06Z","u":"a@x.example""#
        let key = try engine("key = kind | sort\n")
        XCTAssertTrue(takes(key, "{\(t),\"kind\":1}"))
        XCTAssertTrue(takes(key, "{\(t),\"sort\":null}"), "presence, whatever the value")
        XCTAssertTrue(takes(key, "{\(t),\"outer\":{\"kind\":1}}") == false, "a nested key is outer.kind")
        XCTAssertFalse(takes(key, "{\(t),\"note\":\"\\\"kind\\\":1\"}"), "the key's text inside a value")
        XCTAssertFalse(takes(key, "{\(t),\"kindness\":1}"), "a longer key")

        let nested = try engine("key = outer.kind\n")
        XCTAssertTrue(takes(nested, "{\(t),\"outer\":{\"kind\":1}}"))

        let noKey = try engine("no_key = kind\n")
        XCTAssertTrue(takes(noKey, "{\(t),\"note\":\"kind\"}"))
        XCTAssertFalse(takes(noKey, "{\(t),\"kind\":\"\"}"))

        let value = try engine("value type|eventType = receipt, spam\n")
        XCTAssertTrue(takes(value, "{\(t),\"type\":\"Receipt\"}"))
        XCTAssertTrue(takes(value, "{\(t),\"eventType\":\"SPAM\"}"))
        XCTAssertTrue(takes(value, "{\(t),\"type\":\"rec\\u0065ipt\"}"), "an escaped value is decoded first")
        XCTAssertFalse(takes(value, "{\(t),\"type\":\"receipts\"}"), "the whole value, not a prefix")
        XCTAssertFalse(takes(value, "{\(t),\"subject\":\"receipt\"}"), "another key's value")
        XCTAssertFalse(takes(value, "{\(t),\"type\":[\"receipt\"]}"), "an array is not a value")

        let noValue = try engine("no_value type = journal\n")
        XCTAssertTrue(takes(noValue, "{\(t),\"type\":\"receipt\",\"subject\":\"journal\"}"))
        XCTAssertTrue(takes(noValue, "{\(t)}"), "no key, so no such value")
        XCTAssertFalse(takes(noValue, "{\(t),\"type\":\"Journal\"}"))

        let numbers = try engine("value n = 7, true\n")
        XCTAssertTrue(takes(numbers, "{\(t),\"n\":7}"))
        XCTAssertTrue(takes(numbers, "{\(t),\"n\":true}"))
        XCTAssertFalse(takes(numbers, "{\(t),\"n\":70}"))
    }

    func testKeyTestSyntaxErrorsNameTheLine() {
        func loadError(_ text: String) -> ContentError? {
            do { _ = try ParserLoader.parse(text, file: "bad.parser"); return nil } catch { return error as? ContentError }
        }
        let head = "[parser p]\nvendor = V\nproduct = P\nformat = json\nactivity = email\nactivity_types = app-login\ntime = t\n"
        XCTAssertNil(loadError(head + "key = a | b\nno_key = c\nvalue d|e = f, g\nno_value h = i\n"))
        XCTAssertEqual(loadError(head + "key = |\n")?.line, 8)
        XCTAssertEqual(loadError(head + "key = |\n")?.reason, "key: expected a key name")
        XCTAssertEqual(loadError(head + "value = x\n")?.reason, "unknown key 'value' in [parser p]")
        XCTAssertEqual(loadError(head + "key d = x\n")?.reason, "unknown key 'key d' in [parser p]")
        XCTAssertEqual(loadError(head + "value d = ,\n")?.reason, "value d: expected at least one value")
        XCTAssertEqual(loadError(head + "no_value | = x\n")?.line, 8)
        XCTAssertEqual(loadError(head + "absent =\n")?.reason, "empty absent")
    }

    func testExplainNamesTheKeyTestThatFailed() throws {
        let out = engine.explain(line: #"{"acc":"A","aCode":"1","datetime":"2025-02-03T04:05:06+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"","Act":"Acc"}"#)
        XCTAssertTrue(out.contains("mimecast-json-audit (20-mimecast-api-json.parser:5): `key = auditType` does not hold"), out)
        XCTAssertTrue(out.contains("mimecast-json-siem-receipt (20-mimecast-api-json.parser:63): conditions hold, but required field missing"), out)
    }
}
