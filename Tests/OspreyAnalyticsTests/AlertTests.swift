import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

/// The one alert type: what the analytics write (the byte writer) decodes back to the same fields, and a
/// corrupt line is a named error, never a trap.
final class AlertTests: XCTestCase {
    let t = UTCTime.parse("2026-11-02T08:15:02.113Z") ?? 0

    var trigger: RuleTrigger {
        RuleTrigger(rule: "EM-OD-A", name: "Abnormal destination \"x\"", score: 15, user: "ann@corp.example", session: "ann@corp.example#3",
                    timeMillis: t,
                    mitre: [MitreTechnique(id: "T1048.003", name: "Exfiltration Over Alternative Protocol: Unencrypted")],
                    useCases: ["Data Exfiltration", "Insider"], reason: "new destination é\n\t|=",
                    evidence: .object([("value", .string("rival.example")), ("count", .int(1)), ("share", .double(0.0312)),
                                       ("top", .array([.object([("v", .string("corp.example")), ("share", .double(0.97))])])),
                                       ("also_matched", .array([.string("EM-OD-B")])), ("tuning", .null), ("converged", .bool(true))]),
                    event: .object([("activity_type", .string("dlp-email-alert-out")), ("src_ip", .string("198.51.100.4")),
                                    ("dest_email_address", .string("x@rival.example"))]))
    }

    var samples: [AnalyticsOutput] {
        var noEvent = trigger
        noEvent.event = nil
        noEvent.mitre = []
        return [
            .rule(trigger), .rule(noEvent),
            .session(SessionSummary(user: "ann@corp.example", session: "ann@corp.example#3", startMillis: t - 3_600_000, endMillis: t,
                                    score: 120, notable: true, rules: ["EM-OD-A", "APP-F-FL"], events: 40)),
            .session(SessionSummary(user: "bo", session: "bo#1", startMillis: t, endMillis: t + 1, score: 0, notable: false,
                                    rules: [], events: 1, watchlist: "leavers")),
            .session(SessionSummary(user: "cy", session: "cy#9", startMillis: t, endMillis: t + 60_000, score: 75, notable: true,
                                    rules: ["A", "B"], events: 7, live: true, threshold: 70)),
        ]
    }

    func testWrittenLinesDecodeToTheSameFields() throws {
        for a in samples {
            let line = a.jsonLine
            let back = try AnalyticsOutput(line: line)
            // Every written field comes back (object keys of evidence and event sorted: a decoder keeps no order).
            XCTAssertEqual(back.json.keysSorted.serialized(), a.json.keysSorted.serialized(), line)
            XCTAssertEqual(back.kind, a.kind)
            XCTAssertEqual(back.user, a.user)
            XCTAssertEqual(back.session, a.session)
            XCTAssertEqual(back.score, a.score)
            XCTAssertEqual(back.timeMillis, a.timeMillis)
            switch (a, back) {
            case (.rule(let x), .rule(let y)):
                XCTAssertEqual(x.mitre, y.mitre)
                XCTAssertEqual(x.useCases, y.useCases)
                XCTAssertEqual(x.reason, y.reason)
                XCTAssertEqual(x.name, y.name)
                XCTAssertEqual(x.event == nil, y.event == nil)
                XCTAssertEqual(y.evidence["share"]?.doubleValue, 0.0312)
            case (.session(let x), .session(let y)):
                XCTAssertEqual(x.startMillis, y.startMillis)
                XCTAssertEqual(x.endMillis, y.endMillis)
                XCTAssertEqual(x.notable, y.notable)
                XCTAssertEqual(x.rules, y.rules)
                XCTAssertEqual(x.live, y.live)
                XCTAssertEqual(x.threshold, y.threshold)
                XCTAssertEqual(x.watchlist, y.watchlist)
            default:
                XCTFail("kind changed: \(line)")
            }
            // Writing the decoded alert again gives the line back byte for byte once evidence keys are sorted.
            if case .rule(var r) = a {
                r.evidence = r.evidence.keysSorted
                r.event = r.event?.keysSorted
                XCTAssertEqual(back.jsonLine, AnalyticsOutput.rule(r).jsonLine)
            } else {
                XCTAssertEqual(back.jsonLine, line)
            }
        }
    }

    /// The Encodable side says the same as the line writer.
    func testEncoderAgreesWithTheWriter() throws {
        for a in samples {
            let data = try JSONEncoder().encode(a)
            let back = try AnalyticsOutput(data: data)
            XCTAssertEqual(back.json.keysSorted.serialized(), a.json.keysSorted.serialized())
        }
    }

    func testCorruptLinesAreNamedErrors() {
        let good = AnalyticsOutput.rule(trigger).jsonLine
        let cases: [(String, AlertLineError.Reason, String)] = [
            ("", .notJSON, ""),
            (String(good.prefix(good.count / 2)), .notJSON, ""),
            ("[1,2,3]", .notJSON, ""),
            ("\"rule\"", .notJSON, ""),
            ("{\"kind\":\"rule\",\u{0}}", .notJSON, ""),
            ("{}", .missingField, "kind"),
            (#"{"kind":"alarm","user":"u"}"#, .unknownKind, "alarm"),
            (#"{"kind":7}"#, .badValue, "kind"),
            (#"{"kind":"rule","rule":"R","session":"s","time":"2026-11-02T08:15:02.113Z"}"#, .missingField, "user"),
            (#"{"kind":"rule","rule":"R","user":"u","session":"s","time":"yesterday"}"#, .badTime, "time"),
            (#"{"kind":"rule","rule":"R","user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","score":"high"}"#, .badValue, "score"),
            (#"{"kind":"rule","rule":"R","user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","score":1e30}"#, .badValue, "score"),
            (#"{"kind":"rule","rule":"R","user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","score":2.5}"#, .badValue, "score"),
            (#"{"kind":"rule","rule":"R","user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","mitre":[{"name":"x"}]}"#, .missingField, "id"),
            (#"{"kind":"session","user":"u","session":"s","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T09:00:00.000Z","score":5,"rules":"A"}"#, .badValue, "rules"),
            (#"{"kind":"session","user":"u","session":"s","start":"2026-11-02T08:00:00.000Z","score":5}"#, .missingField, "end"),
            (#"{"kind":"notable","user":"u","session":"s","start":"2026-11-02T08:00:00.000Z","end":"2026-11-02T09:00:00.000Z","score":5}"#, .missingField, "time"),
        ]
        for (line, reason, field) in cases {
            do {
                let a = try AnalyticsOutput(line: line)
                XCTFail("read \(line) as \(a.kind)")
            } catch let error as AlertLineError {
                XCTAssertEqual(error.reason, reason, "\(line): \(error)")
                XCTAssertEqual(error.field, field, "\(line): \(error)")
            } catch {
                XCTFail("\(line): not an AlertLineError: \(error)")
            }
        }
        // Invalid UTF-8 and very deep nesting: errors, not traps.
        XCTAssertThrowsError(try AnalyticsOutput(data: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D])))
        let deep = #"{"kind":"rule","rule":"R","user":"u","session":"s","time":"2026-11-02T08:15:02.113Z","evidence":"#
            + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        XCTAssertThrowsError(try AnalyticsOutput(line: deep))
    }

    /// A file of alerts: good lines read, bad ones counted with their line numbers, blank lines ignored.
    func testAlertFileCountsBadLines() throws {
        let lines = samples.map(\.jsonLine)
        let text = lines[0] + "\n\n" + "{\"kind\":\"rule\"\n" + lines[2] + "\r\n" + "garbage\n" + lines[4] + "\n"
        let f = AlertFile(bytes: Data(text.utf8))
        XCTAssertEqual(f.alerts.count, 3)
        XCTAssertEqual(f.rejected.map(\.line), [3, 5])
        XCTAssertEqual(f.rejected.map(\.reason), [.notJSON, .notJSON])
        XCTAssertEqual(f.rejectSummary, "2 alert lines unreadable (first: line 3: not a JSON object)")
        XCTAssertNil(AlertFile(bytes: Data((lines.joined(separator: "\n") + "\n").utf8)).rejectSummary)
    }

    /// Every alert line of the golden replay (real analytics output: all three kinds) decodes to the same
    /// fields: the decoded alert written again equals the line, compared with object keys sorted.
    func testGoldenAlertLinesRoundTrip() throws {
        let path = Support.root + "/Tests/OspreyPipelineTests/Fixtures/golden/expected.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw XCTSkip("golden fixture absent: \(path)")
        }
        var kinds: [String: Int] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("{\"kind\":\"golden-") {
            let a = try AnalyticsOutput(line: line)
            kinds[a.kind, default: 0] += 1
            // The written line with its objects' keys sorted is what the decoded alert writes.
            let original = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            XCTAssertEqual(a.json.keysSorted.serialized(), original.serialized(), String(line.prefix(120)))
        }
        XCTAssertGreaterThan(kinds["rule", default: 0], 0)
        XCTAssertGreaterThan(kinds["session", default: 0], 0)
        XCTAssertGreaterThan(kinds["notable", default: 0], 0)
    }
}
