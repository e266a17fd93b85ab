import Foundation
import OspreyTestSupport
import XCTest
import OspreyAnalytics
@testable import OspreyServe

/// Alert output formats: CEF, RFC 5424 with structured data, ECS.
final class FormatTests: XCTestCase {
    let rule = #"{"kind":"rule","rule":"APP-F-FL","name":"First login from a new country","score":30,"user":"ann@corp.example","session":"ann@corp.example#3","time":"2026-11-02T08:15:02.113Z","mitre":[{"id":"T1078","name":"Valid Accounts"},{"id":"T1078.004","name":"Cloud Accounts"}],"use_cases":["account compromise"],"reason":"login from DE | new=1","evidence":{"src_ip":"203.0.113.9","dest_email_address":["bob@x.example","c=d@y.example"],"operation":"login","email_subject":"Invoice"}}"#
    let session = #"{"kind":"session","user":"ann@corp.example","session":"ann@corp.example#3","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T09:00:00.000Z","score":120,"notable":true,"rules":["APP-F-FL","EM-X"]}"#
    let quiet = #"{"kind":"session","user":"bo","session":"bo#1","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T09:00:00.000Z","score":20,"notable":false,"rules":["EM-X"]}"#

    /// An alert line as the formats see it (decoded through the one alert type, as a re-delivery is).
    func view(_ line: String) throws -> AlertView { AlertView(try AnalyticsOutput(line: line)) }

    func testCEF() throws {
        let r = AlertFormat.cef(try view(rule))
        XCTAssertTrue(r.hasPrefix("<116>1 2026-11-02T08:15:02.113Z "), r)
        XCTAssertTrue(r.contains("|APP-F-FL|First login from a new country|3|"), r)   // 30 × 10 / 90
        for part in ["rt=1793607302113", "src=203.0.113.9", "suser=ann@corp.example", "duser=bob@x.example,c\\=d@y.example",
                     "act=alert", "cat=account compromise", "cs1Label=sessionId cs1=ann@corp.example#3",
                     "cs3Label=mitreTechniqueIds cs3=T1078,T1078.004", "cs4Label=useCases cs4=account compromise",
                     "cs5Label=mitreTechniqueNames cs5=Valid Accounts,Cloud Accounts", "cn1Label=score cn1=30", "msg=login from DE | new\\=1"] {
            XCTAssertTrue(r.contains(part), "\(part) in \(r)")
        }
        XCTAssertFalse(r.contains("cs2"), "a rule trigger does not know whether its session becomes notable")
        let s = AlertFormat.cef(try view(session))
        XCTAssertTrue(s.hasPrefix("<114>1 2026-11-02T09:00:00.000Z "), s)
        XCTAssertTrue(s.contains("|session|Osprey session (notable)|10|"), s)
        XCTAssertTrue(s.contains("cs2Label=notable cs2=true") && s.contains("act=notable"), s)
        let q = AlertFormat.cef(try view(quiet))
        XCTAssertTrue(q.contains("cs2Label=notable cs2=false") && q.contains("|2|"), q)
    }

    func testRFC5424StructuredData() throws {
        let r = AlertFormat.rfc5424(try view(rule))
        XCTAssertTrue(r.hasPrefix("<116>1 2026-11-02T08:15:02.113Z "), r)
        XCTAssertTrue(r.contains(" osprey - RULE [osprey@32473 kind=\"rule\" rule=\"APP-F-FL\" score=\"30\" severity=\"3\" user=\"ann@corp.example\" session=\"ann@corp.example#3\" mitre=\"T1078,T1078.004\" use_cases=\"account compromise\" src_ip=\"203.0.113.9\"] \u{FEFF}First login"), r)
        // SD-PARAM escaping of '"', '\' and ']'.
        let odd = #"{"kind":"rule","rule":"R","name":"n","score":1,"user":"a\"b]c\\d","session":"s","time":"2026-11-02T08:15:02.113Z","reason":"x"}"#
        XCTAssertTrue(AlertFormat.rfc5424(try view(odd)).contains(#"user="a\"b\]c\\d""#))
        // A session: its notable flag.
        XCTAssertTrue(AlertFormat.rfc5424(try view(session)).contains(" SESSION [osprey@32473 kind=\"session\" rule=\"session\" score=\"120\" severity=\"10\"") )
    }

    func testECS() throws {
        let d = try JSONSerialization.jsonObject(with: Data(AlertFormat.ecs(try view(rule)).utf8)) as! [String: Any]
        XCTAssertEqual(d["@timestamp"] as? String, "2026-11-02T08:15:02.113Z")
        let event = d["event"] as! [String: Any]
        XCTAssertEqual(event["kind"] as? String, "alert")
        XCTAssertEqual(event["risk_score"] as? Int, 30)
        let technique = (d["threat"] as! [String: Any])["technique"] as! [String: Any]
        // ECS: parent techniques under threat.technique, sub-techniques under threat.technique.subtechnique.
        XCTAssertEqual(technique["id"] as? [String], ["T1078"])
        let sub = try XCTUnwrap(technique["subtechnique"] as? [String: Any])
        XCTAssertEqual(sub["id"] as? [String], ["T1078.004"])
        XCTAssertEqual(sub["reference"] as? [String], ["https://attack.mitre.org/techniques/T1078/004/"])
        XCTAssertEqual((d["user"] as! [String: Any])["email"] as? String, "ann@corp.example")
        XCTAssertEqual((d["source"] as! [String: Any])["ip"] as? String, "203.0.113.9")
        let email = d["email"] as! [String: Any]
        XCTAssertEqual((email["to"] as! [String: Any])["address"] as? [String], ["bob@x.example", "c=d@y.example"])
        XCTAssertEqual(email["subject"] as? String, "Invoice")
        XCTAssertEqual((d["rule"] as! [String: Any])["id"] as? String, "APP-F-FL")
        let s = try JSONSerialization.jsonObject(with: Data(AlertFormat.ecs(try view(session)).utf8)) as! [String: Any]
        XCTAssertEqual((s["osprey"] as! [String: Any])["notable"] as? Bool, true)
        XCTAssertEqual((s["event"] as! [String: Any])["start"] as? String, "2026-11-02T08:00:00.000Z")
        XCTAssertNil(s["threat"])
    }

    func testSourceMustBeAnAddress() throws {
        let bad = #"{"kind":"rule","rule":"R","name":"n","score":1,"user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","reason":"x","evidence":{"src_ip":"1.2.3.4 act=evil"}}"#
        XCTAssertFalse(AlertFormat.cef(try view(bad)).contains("src="))
    }

    /// The trigger's `event` object (every trigger has one) is preferred over fields found in the evidence.
    func testFormatsReadTheTriggersEvent() throws {
        let line = #"{"kind":"rule","rule":"EM-OD-A","name":"Abnormal destination","score":15,"user":"ann@corp.example","session":"s","time":"2026-11-02T08:15:02.113Z","mitre":[{"id":"T1048.003","name":"Exfiltration Over Alternative Protocol: Exfiltration Over Unencrypted Non-C2 Protocol"}],"use_cases":["Data Exfiltration"],"reason":"r","evidence":{},"event":{"activity_type":"dlp-email-alert-out","outcome":"success","src_ip":"198.51.100.4","src_country":"GB","sender":"ann@corp.example","dest_email_address":"x@rival.example","email_subject":"plans"}}"#
        let a = try view(line)
        let cef = AlertFormat.cef(a)
        for part in ["src=198.51.100.4", "duser=x@rival.example", "cat=dlp-email-alert-out"] { XCTAssertTrue(cef.contains(part), "\(part) in \(cef)") }
        let d = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(AlertFormat.ecs(a).utf8)) as? [String: Any])
        XCTAssertEqual(((d["source"] as? [String: Any])?["geo"] as? [String: Any])?["country_iso_code"] as? String, "GB")
        XCTAssertEqual(((d["email"] as? [String: Any])?["from"] as? [String: Any])?["address"] as? [String], ["ann@corp.example"])
        XCTAssertEqual((d["email"] as? [String: Any])?["subject"] as? String, "plans")
        let technique = try XCTUnwrap((d["threat"] as? [String: Any])?["technique"] as? [String: Any])
        XCTAssertEqual(technique["name"] as? [String], ["Exfiltration Over Alternative Protocol"])
        XCTAssertEqual((technique["subtechnique"] as? [String: Any])?["name"] as? [String], ["Exfiltration Over Unencrypted Non-C2 Protocol"])
    }
}
