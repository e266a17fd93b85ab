import Foundation
import NIOCore
import NIOPosix
import OspreyCore

/// Tenants' sender addresses (`sources =` of `[tenant NAME]`): a syslog record that reaches the `[serve]`
/// instance's listeners from one of them goes to that tenant's pipeline. Connection limits and deadlines stay
/// the listener's; records, their counters and backpressure are the target pipeline's.
struct SourceRoutes: @unchecked Sendable {
    var routes: [(range: IPRange, engine: ServeEngine)] = []

    /// The pipeline for a sender, `owner` when no tenant claims it.
    func engine(for address: SocketAddress?, owner: ServeEngine) -> ServeEngine {
        guard !routes.isEmpty, let text = address?.ipAddress, let ip = IPAddress.parse(text) else { return owner }
        for r in routes where r.range.contains(ip) { return r.engine }
        return owner
    }
}

/// Syslog over TCP: RFC 6587 framing per connection; each read's frames go to the engine as one batch.
/// Backpressure: a connection with 2 batches in flight, or any connection while the engine holds
/// `max_pending_records`, stops reading (TCP flow control pushes back on the sender) until it drains.
/// Limits (ConnectionLimiter): per source address and per listener, evicting the stalest connection when
/// full. Deadlines that bytes alone cannot reset: a frame must complete within `frame_timeout_seconds` of its
/// first byte, and a connection without a complete frame for `idle_seconds` is closed. A closed or vanished
/// connection's last unterminated frame is still processed.
final class SyslogTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    /// The listener's instance (limits, connection counters).
    let engine: ServeEngine
    /// Where this connection's records go: `engine`, or the tenant its sender address belongs to.
    var target: ServeEngine
    let routes: SourceRoutes
    let limiter: ConnectionLimiter
    var framer: SyslogFramer
    var outstanding = 0
    var paused = false
    var entry: ConnectionLimiter.Entry?
    var frameStarted: NIODeadline?
    var lastFrame = NIODeadline.now()
    var timer: RepeatedTask?

    init(engine: ServeEngine, limiter: ConnectionLimiter, routes: SourceRoutes = SourceRoutes()) {
        self.engine = engine
        self.target = engine
        self.routes = routes
        self.limiter = limiter
        framer = SyslogFramer(maxFrame: engine.config.maxFrameBytes)
    }

    func channelActive(context: ChannelHandlerContext) {
        switch limiter.admit(context.channel) {
        case .accepted(let e): entry = e
        case .refusedPerSource, .refusedFull:
            engine.count { $0.connectionsRefused += 1 }
            context.close(promise: nil)
            return
        }
        engine.count { $0.connectionsTotal += 1 }
        target = routes.engine(for: context.channel.remoteAddress, owner: engine)
        lastFrame = .now()
        let frameTimeout = TimeAmount.seconds(Int64(engine.config.frameTimeoutSeconds))
        let idle = TimeAmount.seconds(Int64(engine.config.idleSeconds))
        let engine = self.engine
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            // While paused by backpressure the server is the slow one: no deadline then.
            guard !paused else { return }
            let now = NIODeadline.now()
            let stalled = frameStarted.map { now - $0 > frameTimeout } ?? false
            if stalled || now - lastFrame > idle {
                engine.count { $0.connectionsTimedOut += 1 }
                context.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel(); timer = nil
        var records: [IngestRecord] = []
        framer.finish { records.append(SyslogTCPHandler.record($0)) }
        target.submit(records, source: "tcp")
        if let entry { limiter.remove(entry); self.entry = nil }
        context.fireChannelInactive()
    }

    static func record(_ f: SyslogFramer.Frame) -> IngestRecord {
        switch f {
        case .message(let m): return .line(Array(Syslog.payload(m)))
        case .tooLong(let n): return .tooLong(n)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        var records: [IngestRecord] = []
        buf.withUnsafeReadableBytes { raw in framer.feed(raw) { records.append(SyslogTCPHandler.record($0)) } }
        if !records.isEmpty {
            lastFrame = .now()
            if let entry { limiter.progress(entry) }
            frameStarted = framer.inFrame ? lastFrame : nil
        } else if frameStarted == nil, framer.inFrame {
            frameStarted = .now()
        }
        guard !records.isEmpty else { return }
        outstanding += 1
        let channel = context.channel
        let loop = context.eventLoop
        target.submit(records, source: "tcp") { [self] in
            loop.execute {
                self.outstanding -= 1
                self.maybeResume(channel)
            }
        }
        if outstanding >= 2 || target.overloaded { pause(channel) }
    }

    func pause(_ channel: Channel) {
        guard !paused else { return }
        paused = true
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let loop = channel.eventLoop
        target.whenBelow(target.config.maxPendingRecords / 2) { [self] in
            loop.execute { self.maybeResume(channel) }
        }
    }

    func maybeResume(_ channel: Channel) {
        guard paused, outstanding < 2, !target.overloaded else {
            if paused, outstanding < 2 {
                let loop = channel.eventLoop
                target.whenBelow(target.config.maxPendingRecords / 2) { [self] in loop.execute { self.maybeResume(channel) } }
            }
            return
        }
        paused = false
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        channel.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Syslog over UDP: one message per datagram (RFC 5426). Datagrams of one read burst go as one batch;
/// while the engine holds `max_pending_records` they are dropped and counted (UDP has no flow control).
final class SyslogUDPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let engine: ServeEngine
    let routes: SourceRoutes
    /// The batch being gathered and the pipeline it goes to (a new sender's tenant flushes it first).
    var batch: [IngestRecord] = []
    var target: ServeEngine

    init(engine: ServeEngine, routes: SourceRoutes = SourceRoutes()) {
        self.engine = engine
        self.routes = routes
        self.target = engine
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        let to = routes.engine(for: env.remoteAddress, owner: engine)
        if to !== target { flush(); target = to }
        let n = env.data.readableBytes
        if n > target.config.maxFrameBytes { batch.append(.tooLong(n)); return }
        env.data.withUnsafeReadableBytes { raw in
            let bytes = Array(raw)
            batch.append(.line(Array(Syslog.payload(bytes[...]))))
        }
        if batch.count >= 512 { flush() }
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush(); context.fireChannelReadComplete() }

    func flush() {
        guard !batch.isEmpty else { return }
        if target.overloaded { target.count { $0.droppedOverload += batch.count } }
        else { target.submit(batch, source: "udp") }
        batch.removeAll(keepingCapacity: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

/// The syslog listeners of one server.
final class SyslogListeners {
    let group: MultiThreadedEventLoopGroup
    var channels: [Channel] = []
    var udpPort: Int?
    var tcpPort: Int?

    init(group: MultiThreadedEventLoopGroup) { self.group = group }

    /// `routes`: tenants' sender addresses on these listeners (the `[serve]` instance's only).
    func start(engine: ServeEngine, routes: SourceRoutes = SourceRoutes()) throws {
        let limiter = engine.tcpLimiter
        if let e = engine.config.tcp {
            let ch = try ListenerError.naming("tcp", e) { try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 65536))
                .childChannelInitializer { ch in
                    ch.pipeline.addHandler(SyslogTCPHandler(engine: engine, limiter: limiter, routes: routes))
                }
                .bind(host: e.host, port: e.port).wait() }
            tcpPort = ch.localAddress?.port
            channels.append(ch)
        }
        if let e = engine.config.udp {
            let ch = try ListenerError.naming("udp", e) { try DatagramBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 8 << 20)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
                .channelInitializer { ch in ch.pipeline.addHandler(SyslogUDPHandler(engine: engine, routes: routes)) }
                .bind(host: e.host, port: e.port).wait() }
            udpPort = ch.localAddress?.port
            channels.append(ch)
        }
    }

    func stop() {
        for c in channels { try? c.close().wait() }
    }
}

/// A listener that could not start, named by its config key: "tcp = 127.0.0.1:5514: address already in use".
public struct ListenerError: Error, CustomStringConvertible {
    public var description: String

    static func naming<T>(_ key: String, _ e: ServeConfig.Endpoint, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw ListenerError(key: key, endpoint: e, error: error) }
    }

    init(key: String, endpoint: ServeConfig.Endpoint, error: Error) {
        var why = "\(error)"
        if let io = error as? IOError {
            why = String(cString: strerror(io.errnoCode)).lowercased()
            if io.errnoCode == EADDRINUSE { why += " (another process listens there: stop it or change `\(key) =` in the config)" }
            if io.errnoCode == EACCES { why += " (ports below 1024 need privileges: use a higher port)" }
            if io.errnoCode == EADDRNOTAVAIL { why += " (no interface has that address)" }
        }
        description = "\(key) = \(endpoint): cannot listen: \(why)"
    }
}
