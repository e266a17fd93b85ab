import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Compares two tokens in time that depends only on the expected token's length, not on where they differ.
func constantTimeEquals(_ given: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
    var diff = UInt8(given.count == expected.count ? 0 : 1)
    var it = given.makeIterator()
    for b in expected {
        let g = it.next() ?? 0
        diff |= g ^ b
    }
    return diff == 0
}

/// Open connections of one listener: at most `maxPerSource` per remote address and `max` in all. At the
/// global limit a new connection evicts the one that made no progress (no complete frame or request) for the
/// longest time, if that is over a second; otherwise the new connection is refused. So a crowd of slow or
/// silent connections cannot lock out a sender that is actually delivering.
final class ConnectionLimiter: @unchecked Sendable {
    final class Entry: @unchecked Sendable {
        let id: Int
        let source: String
        let channel: Channel
        var lastProgress: NIODeadline
        init(id: Int, source: String, channel: Channel, now: NIODeadline) {
            self.id = id; self.source = source; self.channel = channel; lastProgress = now
        }
    }
    enum Decision { case accepted(Entry), refusedPerSource, refusedFull }

    let max: Int
    let maxPerSource: Int
    private let lock = NSLock()
    private var open: [Int: Entry] = [:]
    private var perSource: [String: Int] = [:]
    private var nextID = 0
    private(set) var evicted = 0
    private(set) var refusedPerSource = 0
    private(set) var refusedFull = 0

    init(max: Int, maxPerSource: Int) { self.max = max; self.maxPerSource = maxPerSource }

    static func source(of channel: Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }

    func admit(_ channel: Channel) -> Decision {
        let source = ConnectionLimiter.source(of: channel)
        let now = NIODeadline.now()
        var victim: Channel?
        lock.lock()
        if perSource[source, default: 0] >= maxPerSource { refusedPerSource += 1; lock.unlock(); return .refusedPerSource }
        if open.count >= max {
            // The stalest connection, if it has been without progress for over a second.
            let stalest = open.values.min { $0.lastProgress < $1.lastProgress }
            guard let s = stalest, now - s.lastProgress > .seconds(1) else { refusedFull += 1; lock.unlock(); return .refusedFull }
            removeLocked(s)
            evicted += 1
            victim = s.channel
        }
        nextID += 1
        let e = Entry(id: nextID, source: source, channel: channel, now: now)
        open[e.id] = e
        perSource[source, default: 0] += 1
        lock.unlock()
        victim?.close(promise: nil)
        return .accepted(e)
    }

    func progress(_ e: Entry) { lock.lock(); e.lastProgress = .now(); lock.unlock() }

    func remove(_ e: Entry) { lock.lock(); removeLocked(e); lock.unlock() }

    private func removeLocked(_ e: Entry) {
        guard open.removeValue(forKey: e.id) != nil else { return }
        let n = perSource[e.source, default: 1] - 1
        if n <= 0 { perSource.removeValue(forKey: e.source) } else { perSource[e.source] = n }
    }

    var openCount: Int { lock.lock(); defer { lock.unlock() }; return open.count }
    var snapshot: (open: Int, evicted: Int, refusedPerSource: Int, refusedFull: Int) {
        lock.lock(); defer { lock.unlock() }
        return (open.count, evicted, refusedPerSource, refusedFull)
    }
}

/// Guards each HTTP connection (added after HTTP decoding, before Hummingbird's request handling):
/// - per-source and global connection limits (ConnectionLimiter);
/// - the request head must arrive within `frameTimeout` of the connection opening or of the previous
///   response; an idle keep-alive connection closes after `idle`;
/// - a request body must arrive at `minRate` bytes/s at least after `frameTimeout` of grace: the allowed
///   time grows only with bytes received, so a one-byte trickle cannot keep the connection. Only time the
///   server spends waiting for the client counts (from a read request to the data): while /ingest holds
///   the body back for the pipeline, the clock stops;
/// - a response written before its request body was read to the end (401, 413, an error) carries
///   `Connection: close`; the rest of the body is drained for at most 2 seconds and 1 MiB (so the client can
///   read the answer), then the connection closes (a declared Content-Length of 10^12 does not hold it).
final class HTTPRequestGuard: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limiter: ConnectionLimiter
    let frameTimeout: TimeAmount
    let idle: TimeAmount
    let minRate: Int64
    private var entry: ConnectionLimiter.Entry?
    private var inBody = false
    private var bodyStart = NIODeadline.now()
    private var bodyBytes: Int64 = 0
    /// Time spent waiting for the client during the current body, and since when we wait now.
    private var clientTime = TimeAmount.zero
    private var waitingSince: NIODeadline?
    private var requestEnded = true
    private var timer: Scheduled<Void>?
    private var waitingForHead = true
    private var headDeadline = NIODeadline.now()
    private var draining = false
    private var drainDeadline = NIODeadline.now()
    private var drainBytes = 0
    static let drainLimit = 1 << 20

    init(limiter: ConnectionLimiter, frameTimeoutSeconds: Int, idleSeconds: Int, minBytesPerSecond: Int) {
        self.limiter = limiter
        frameTimeout = .seconds(Int64(frameTimeoutSeconds))
        idle = .seconds(Int64(idleSeconds))
        minRate = Int64(minBytesPerSecond)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        switch limiter.admit(context.channel) {
        case .accepted(let e): entry = e
        case .refusedPerSource, .refusedFull: context.close(promise: nil); return
        }
        waitingForHead = true
        headDeadline = .now() + frameTimeout
        schedule(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel(); timer = nil
        if let entry { limiter.remove(entry) }
        entry = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel(); timer = nil
        if let entry { limiter.remove(entry) }
        entry = nil
        context.fireChannelInactive()
    }

    private func schedule(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.scheduleTask(in: .seconds(1)) { [self] in check(context) }
    }

    private func check(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let now = NIODeadline.now()
        if waitingForHead, now > headDeadline { context.close(promise: nil); return }
        if draining, now > drainDeadline { context.close(promise: nil); return }
        if inBody {
            // Allowed: the grace plus the time the bytes so far would take at the minimum rate.
            let allowed = frameTimeout + .nanoseconds(bodyBytes.multipliedReportingOverflow(by: 1_000_000_000 / max(1, minRate)).partialValue)
            let waited = clientTime + (waitingSince.map { now - $0 } ?? .zero)
            if waited > allowed { context.close(promise: nil); return }
        }
        schedule(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let w = waitingSince { clientTime = clientTime + (NIODeadline.now() - w); waitingSince = nil }
        if draining {
            switch part {
            case .body(let b):
                drainBytes += b.readableBytes
                if drainBytes > HTTPRequestGuard.drainLimit { context.close(promise: nil); return }
            case .end, .head:
                context.close(promise: nil); return
            }
            context.fireChannelRead(data)
            return
        }
        switch part {
        case .head:
            waitingForHead = false
            inBody = true
            requestEnded = false
            bodyStart = .now()
            bodyBytes = 0
            clientTime = .zero
        case .body(let b):
            bodyBytes = bodyBytes &+ Int64(b.readableBytes)
        case .end:
            inBody = false
            requestEnded = true
            if let entry { limiter.progress(entry) }
        }
        context.fireChannelRead(data)
    }

    /// The request handler asks for more bytes: from now on we wait for the client.
    func read(context: ChannelHandlerContext) {
        if waitingSince == nil { waitingSince = .now() }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(var head) = part, !requestEnded {
            // Answering before the body was read (an error): say so and close after the response.
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        guard case .end = part else { context.write(data, promise: promise); return }
        if !requestEnded {
            draining = true
            drainDeadline = .now() + .seconds(2)
            inBody = false
            context.writeAndFlush(data, promise: promise)
            return
        }
        // Next request: its head must arrive within the idle time.
        waitingForHead = true
        headDeadline = .now() + idle
        context.write(data, promise: promise)
    }
}
