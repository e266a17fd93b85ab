import Foundation
import XCTest
import OspreyCore
import OspreyGenerator
import OspreyParsing
@testable import OspreyAssembly

/// `osprey generate` output (every shape: connector, raw API JSON, SIEM v2, key=value), parsed with the
/// shipped parsers, time-ordered as replay feeds it, assembled: the assembled events' attachment and size fields
/// come from the process lines, recipient and direction from receipt and delivery lines.
final class GeneratedOrganizationTests: XCTestCase {
    func testGeneratedMailAssembles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("osprey-asm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = GeneratorOptions()
        options.users = 30
        options.days = 21
        options.seed = 3
        _ = try OrganizationGenerator.generate(options, into: dir)
        let engine = try Corpus.engine()
        var parsed: [Event] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir + "/logs").sorted() where f.hasSuffix(".log") {
            parsed += try Corpus.events(dir + "/logs/" + f, engine: engine)
        }
        let input = Corpus.timeOrdered(parsed)
        let (out, stats) = Assembler.assemble(input)

        // Expectations read from the parts themselves, by (normalized key, recipient).
        struct Expect { var process: Event?; var receipts: [String: Event] = [:]; var deliveries: [String: Event] = [:] }
        var expect: [String: Expect] = [:]
        var shapes = Set<String>()
        for e in input {
            guard let raw = Assembler.joinKey(of: e) else { continue }
            let k = Assembler.normalizeJoinKey(raw)
            shapes.insert(e.parser)
            switch e.s("record_type") {
            case "process": expect[k, default: Expect()].process = e
            case "receipt": expect[k, default: Expect()].receipts[e.s("dest_email_address")!] = e
            case "delivery": expect[k, default: Expect()].deliveries[e.s("dest_email_address")!] = e
            default: break
            }
        }
        XCTAssertGreaterThanOrEqual(shapes.count, 8, "mail in several shapes: \(shapes.sorted())")
        let mail = out.filter(\.isAssembled)
        XCTAssertEqual(mail.count, expect.values.reduce(0) { $0 + max(1, Set($1.receipts.keys).union($1.deliveries.keys).count) })
        var withAttachments = 0
        for e in mail {
            let k = try XCTUnwrap(e.s("join_key"))
            let r = try XCTUnwrap(e.s("dest_email_address"))
            let x = try XCTUnwrap(expect[k])
            if let p = x.process {
                XCTAssertEqual(e[Fields.bytes], p[Fields.bytes], "size from the process line (\(k))")
                XCTAssertEqual(e[Fields.attachmentCount], p[Fields.attachmentCount], k)
                XCTAssertEqual(e[Fields.emailAttachments], p[Fields.emailAttachments], k)
                if p[Fields.emailAttachments] != nil { withAttachments += 1 }
            }
            if let rc = x.receipts[r] {
                XCTAssertEqual(e.s("direction"), rc.s("direction"), k)
                XCTAssertEqual(e.s("src_ip"), rc.s("src_ip"), "connecting IP from the receipt (\(k))")
                XCTAssertEqual(e.s("sender"), rc.s("sender"), k)
            }
            if let d = x.deliveries[r] {
                XCTAssertEqual(e.s("dest_ip"), d.s("dest_ip"), "destination IP from the delivery (\(k))")
                XCTAssertEqual(e[AssemblyField.bytesSent], d[Fields.bytes], k)
                XCTAssertEqual(e.s("mail_outcome"), d.activityType.isFailure ? "failed" : "delivered", k)
            }
            let dir = e.s("direction")
            XCTAssertEqual(e.s("user"), (dir == "inbound" ? r : e.s("sender"))?.lowercased(), k)
            let complete = x.receipts[r] != nil && x.process != nil
                && (x.deliveries[r] != nil || e.s("mail_outcome") == "held" || e.s("mail_outcome") == "rejected")
            let rejected = x.receipts[r]?.activityType.isFailure == true && x.deliveries[r] == nil
            XCTAssertEqual(e[AssemblyField.partial], .bool(!(complete || rejected)), "\(k) → \(r)")
        }
        XCTAssertGreaterThan(withAttachments, 0)
        XCTAssertEqual(stats.orphanParts, 0, "the generator writes every message's receipt")
        XCTAssertEqual(stats.closedByOpenLimit + stats.closedByBufferLimit, 0)
        XCTAssertEqual(out.count, stats.passThrough + stats.emailEvents)
        print("generated organization: \(parsed.count) events → \(out.count) (\(stats.emailEvents) email events, \(stats.partialEvents) partial)")
    }
}
