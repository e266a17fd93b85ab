import XCTest
import OspreyCore
import OspreyGenerator
@testable import OspreyAssembly

final class DeterminismAndBoundsTests: XCTestCase {
    func render(_ events: [Event]) -> [String] { events.map(\.rendered) }

    /// Feeds `events` in batches of random sizes, draining the output between batches and sometimes handing
    /// in a fresh output array: the stream of released events must not depend on any of it.
    func runBatched(_ events: [Event], config: AssemblyConfig, seed: UInt64) -> [Event] {
        var rng = SeededRandom(seed: seed)
        var a = Assembler(config: config)
        var all: [Event] = []
        var i = 0
        while i < events.count {
            let n = 1 + rng.int(500)
            var out: [Event] = []
            a.push(contentsOf: events[i..<min(events.count, i + n)], into: &out)
            all += out
            i += n
        }
        var out: [Event] = []
        a.finish(into: &out)
        return all + out
    }

    func testSameInputSameOutputWhateverTheBatchingAndUnreachedBounds() {
        let events = MailStream.events(messages: 2_000, seed: 11)
        let (reference, stats) = Assembler.assemble(events)
        XCTAssertEqual(stats.closedByOpenLimit + stats.closedByBufferLimit, 0)
        let expected = render(reference)
        XCTAssertEqual(render(Assembler.assemble(events).events), expected, "twice the same")
        for seed in [1, 2, 3] as [UInt64] {
            XCTAssertEqual(render(runBatched(events, config: AssemblyConfig(), seed: seed)), expected, "batching \(seed)")
        }
        // Bounds that are never reached do not change anything.
        let roomy = AssemblyConfig(maxOpenMessages: stats.peakOpenMessages, maxBufferedEvents: stats.peakBufferedEvents)
        XCTAssertEqual(render(runBatched(events, config: roomy, seed: 9)), expected, "buffers just large enough")
        let huge = AssemblyConfig(maxOpenMessages: 10_000_000, maxBufferedEvents: 10_000_000)
        XCTAssertEqual(render(Assembler.assemble(events, config: huge).events), expected, "huge buffers")
    }

    func testTightBoundsAreDeterministicAndLoseNothing() {
        let events = MailStream.events(messages: 1_500, seed: 12)
        for config in [AssemblyConfig(maxOpenMessages: 8, maxBufferedEvents: 64),
                       AssemblyConfig(maxOpenMessages: 1_000, maxBufferedEvents: 20),
                       AssemblyConfig(windowMillis: 0, maxOpenMessages: 1, maxBufferedEvents: 1)] {
            let (a, sa) = Assembler.assemble(events, config: config)
            let b = runBatched(events, config: config, seed: 5)
            XCTAssertEqual(render(a), render(b))
            XCTAssertGreaterThan(sa.closedByOpenLimit + sa.closedByBufferLimit + sa.closedByWindow, 0)
            XCTAssertLessThanOrEqual(sa.peakOpenMessages, config.maxOpenMessages)
            XCTAssertLessThanOrEqual(sa.peakBufferedEvents, config.maxBufferedEvents)
            XCTAssertEqual(sa.eventsOut, sa.passThrough + sa.emailEvents)
            XCTAssertEqual(sa.messagesOpened, sa.messagesClosed)
            // No pass-through event lost, none duplicated.
            XCTAssertEqual(a.filter { $0[AssemblyField.assembled] == nil }.count, sa.passThrough)
        }
    }

    func testTimeOrderedInputGivesTimeOrderedOutput() {
        let events = MailStream.events(messages: 2_000, seed: 13)
        for config in [AssemblyConfig(), AssemblyConfig(maxOpenMessages: 16, maxBufferedEvents: 100)] {
            let out = Assembler.assemble(events, config: config).events
            var violations = 0
            for i in 1..<out.count where out[i].timeMillis < out[i - 1].timeMillis { violations += 1 }
            XCTAssertEqual(violations, 0)
        }
    }

    func testShuffledInputIsStillDeterministic() {
        var events = MailStream.events(messages: 2_000, seed: 14)
        var rng = SeededRandom(seed: 99)
        // local disorder: swap neighbours within a few seconds, as files of different record types interleave
        for i in stride(from: events.count - 1, to: 0, by: -1) where rng.int(3) == 0 {
            let j = max(0, i - 1 - rng.int(20))
            events.swapAt(i, j)
        }
        let a = render(Assembler.assemble(events).events)
        XCTAssertEqual(render(runBatched(events, config: AssemblyConfig(), seed: 4)), a)
        XCTAssertEqual(render(Assembler.assemble(events, config: AssemblyConfig(maxOpenMessages: 5_000_000)).events), a)
    }

    // MARK: Floods of parts that never complete

    func testFloodOfDistinctIncompleteMessagesStaysBounded() {
        let config = AssemblyConfig(maxOpenMessages: 500, maxBufferedEvents: 2_000)
        var a = Assembler(config: config)
        var out: [Event] = []
        var emitted = 0
        let n = 50_000
        for i in 0..<n {
            // all at the same instant: the window never closes anything, only the bounds do
            a.push(Mail.process("flood-\(i)", Mail.t0), into: &out)
            emitted += out.count
            out.removeAll(keepingCapacity: true)
            if a.stats.openMessages > 500 { XCTFail("open messages \(a.stats.openMessages)"); break }
        }
        a.finish(into: &out)
        emitted += out.count
        let s = a.stats
        XCTAssertEqual(emitted, n, "every part became an event")
        XCTAssertEqual(s.partialEvents, n)
        XCTAssertEqual(s.orphanParts, n)
        XCTAssertLessThanOrEqual(s.peakOpenMessages, 500)
        XCTAssertLessThanOrEqual(s.peakBufferedEvents, 2_000)
        XCTAssertEqual(s.closedByOpenLimit, n - 500)
    }

    func testFloodOfPartsOfOneMessageStaysBounded() {
        let config = AssemblyConfig(maxOpenMessages: 100, maxBufferedEvents: 2_000)
        var a = Assembler(config: config)
        var out: [Event] = []
        var emittedParts = 0
        for i in 0..<50_000 {
            a.push(Mail.delivery("same", Mail.t0 + Int64(i % 1_000), ok: false), into: &out)
        }
        a.finish(into: &out)
        for e in out { emittedParts += Int(e.int(AssemblyField.deliveryAttempts) ?? 0) }
        XCTAssertEqual(emittedParts, 50_000, "all attempts accounted for across the forced splits")
        XCTAssertLessThanOrEqual(a.stats.peakBufferedEvents, 2_000)
        XCTAssertEqual(a.stats.closedByBufferLimit, 24)
        XCTAssertTrue(out.allSatisfy { $0[AssemblyField.partial] == .bool(true) })
    }

    func testPassThroughHeldBehindAStuckMessageStaysBounded() {
        let config = AssemblyConfig(maxBufferedEvents: 1_000)
        var a = Assembler(config: config)
        var out: [Event] = []
        a.push(Mail.receipt("stuck"), into: &out)
        for i in 0..<100_000 { a.push(Mail.audit(Mail.t0 + Int64(i % 60_000)), into: &out) }
        XCTAssertLessThanOrEqual(a.stats.peakBufferedEvents, 1_000)
        XCTAssertEqual(a.stats.closedByBufferLimit, 1)
        a.finish(into: &out)
        XCTAssertEqual(out.count, 100_001)
        XCTAssertEqual(out[0][AssemblyField.assembled], .bool(true), "the stuck message, forced out first")
    }

    func testFloodWithManyRecipientsPerMessage() {
        // one receipt per recipient, 20k recipients on one key: recipient lookup must stay fast
        var a = Assembler(config: AssemblyConfig(maxBufferedEvents: 100_000))
        var out: [Event] = []
        for i in 0..<20_000 { a.push(Mail.receipt("dl", to: "member\(i)@corp.com", dir: "internal"), into: &out) }
        a.finish(into: &out)
        XCTAssertEqual(out.count, 20_000)
        XCTAssertEqual(Set(out.map { $0.string(Fields.destEmailAddress)! }).count, 20_000)
    }
}
