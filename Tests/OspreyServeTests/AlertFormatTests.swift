import Foundation
import XCTest
import OspreyAnalytics
@testable import OspreyServe

/// The alert output formats (CEF, RFC 5424 syslog with structured data, ECS JSON) from alert lines as replay
/// writes them.
final class AlertFormatTests: XCTestCase {
    let rule = #"{"kind":"rule","rule":"EM-InB-Ex","name":"Mailbox permissions on an executive","score":60,"user":"eve@acme.com","session":"eve@acme.com#2026-01-05T08:00:00.000Z","time":"2026-01-05T09:30:00.000Z","mitre":[{"id":"T1098.002","name":"Account Manipulation: Additional Email Delegate Permissions"},{"id":"T1078","name":"Valid Accounts"}],"use_cases":["Privilege Abuse"],"reason":"eve@acme.com gave | access = to ceo@acme.com","evidence":{},"event":{"activity_type":"app-activity","outcome":"success","src_ip":"198.51.100.7","src_country":"DE","src_isp":"Hoster","dest_email_address":"ceo@acme.com","operation":"Delegate access"}}"#
    let session = #"{"kind":"session","user":"eve@acme.com","session":"eve@acme.com#2026-01-05T08:00:00.000Z","start":"2026-01-05T08:00:00.000Z","end":"2026-01-05T11:00:00.000Z","score":130,"notable":true,"rules":["EM-InB-Ex","UA-UC-F"]}"#

    func record(_ line: String) throws -> AlertLine { try XCTUnwrap(AlertLine.decode(line), line) }

    func testCEFCarriesSourceUsersCategoryMITREAndSession() throws {
        let cef = AlertFormats.cef(try record(rule))
        XCTAssertTrue(cef.hasPrefix("<115>1 2026-01-05T09:30:00.000Z "), cef)   // log alert, error (score 60)
        XCTAssertTrue(cef.contains("CEF:0|Osprey|Osprey|\(AlertFormats.productVersion)|EM-InB-Ex|Mailbox permissions on an executive|6|"), cef)
        for part in ["rt=1767605400000", "suser=eve@acme.com", "src=198.51.100.7", "duser=ceo@acme.com", "cat=app-activity",
                     "act=alert", "cn1Label=score cn1=60", "cs1Label=session cs1=eve@acme.com#2026-01-05T08:00:00.000Z",
                     "cs2Label=mitre cs2=T1098.002,T1078", "cs3Label=useCases cs3=Privilege Abuse",
                     #"msg=eve@acme.com gave | access \= to ceo@acme.com"#] {
            XCTAssertTrue(cef.contains(part), "\(part) in \(cef)")
        }
        XCTAssertFalse(cef.contains("cs4Label=notable"), "a rule line says nothing about notability")
        let s = AlertFormats.cef(try record(session))
        XCTAssertTrue(s.contains("|session|Notable session closed|10|"), s)
        XCTAssertTrue(s.contains("cs4Label=notable cs4=true"), s)
        XCTAssertTrue(s.hasPrefix("<114>1 "), s)   // critical
    }

    func testSyslogStructuredDataIsEscaped() throws {
        var r = try record(rule)
        r.user = #"a"b]c\d@acme.com"#
        let line = AlertFormats.syslog(r)
        XCTAssertTrue(line.contains(#"user="a\"b\]c\\d@acme.com""#), line)
        XCTAssertTrue(line.contains(#"[osprey@32473 kind="rule" score="60""#), line)
        XCTAssertTrue(line.contains(#"mitre="T1098.002,T1078""#), line)
        XCTAssertTrue(line.hasSuffix("] eve@acme.com gave | access = to ceo@acme.com"), line)
    }

    func testECSDocument() throws {
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(AlertFormats.ecs(try record(rule)).utf8)) as? [String: Any])
        XCTAssertEqual(doc["@timestamp"] as? String, "2026-01-05T09:30:00.000Z")
        let event = try XCTUnwrap(doc["event"] as? [String: Any])
        XCTAssertEqual(event["kind"] as? String, "alert")
        XCTAssertEqual(event["category"] as? [String], ["iam", "configuration"])
        XCTAssertEqual(event["risk_score"] as? Int, 60)
        let technique = try XCTUnwrap((doc["threat"] as? [String: Any])?["technique"] as? [String: Any])
        XCTAssertEqual(technique["id"] as? [String], ["T1098", "T1078"])
        XCTAssertEqual(technique["name"] as? [String], ["Account Manipulation", "Valid Accounts"])
        let sub = try XCTUnwrap(technique["subtechnique"] as? [String: Any])
        XCTAssertEqual(sub["id"] as? [String], ["T1098.002"])
        XCTAssertEqual(sub["name"] as? [String], ["Additional Email Delegate Permissions"])
        XCTAssertEqual(sub["reference"] as? [String], ["https://attack.mitre.org/techniques/T1098/002/"])
        XCTAssertEqual((doc["source"] as? [String: Any])?["ip"] as? String, "198.51.100.7")
        XCTAssertEqual((doc["user"] as? [String: Any])?["domain"] as? String, "acme.com")
        XCTAssertEqual(((doc["email"] as? [String: Any])?["to"] as? [String: Any])?["address"] as? [String], ["ceo@acme.com"])
        XCTAssertEqual((doc["rule"] as? [String: Any])?["id"] as? String, "EM-InB-Ex")
        let s = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(AlertFormats.ecs(try record(session)).utf8)) as? [String: Any])
        XCTAssertEqual((s["osprey"] as? [String: Any])?["notable"] as? Bool, true)
        XCTAssertEqual((s["event"] as? [String: Any])?["end"] as? String, "2026-01-05T11:00:00.000Z")
    }

    func testNonAlertLinesDoNotDecode() {
        XCTAssertNil(AlertLine.decode("not json"))
        XCTAssertNil(AlertLine.decode(#"{"kind":"rule"}"#))
    }
}
