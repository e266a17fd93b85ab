import Foundation
import NIOCore
import NIOPosix

/// Syslog over TCP: RFC 6587 framing per connection; each read's frames go to the engine as one batch.
/// Backpressure: a connection with 2 batches in flight, or any connection while the engine holds
/// `max_pending_records`, stops reading (TCP flow control pushes back on the sender) until it drains.
/// Idle connections are closed after `idleSeconds`; a vanished connection's last unterminated frame is
/// still processed.
final class SyslogTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let engine: ServeEngine
    var framer: SyslogFramer
    var outstanding = 0
    var paused = false
    var counted = false

    init(engine: ServeEngine) {
        self.engine = engine
        framer = SyslogFramer(maxFrame: engine.config.maxFrameBytes)
    }

    func channelActive(context: ChannelHandlerContext) {
        var refuse = false
        engine.count {
            if $0.connectionsOpen >= engine.config.maxConnections { $0.connectionsRefused += 1; refuse = true }
            else { $0.connectionsOpen += 1; $0.connectionsTotal += 1 }
        }
        if refuse { context.close(promise: nil); return }
        counted = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        var records: [IngestRecord] = []
        framer.finish { records.append(SyslogTCPHandler.record($0)) }
        engine.submit(records, source: "tcp")
        if counted { engine.count { $0.connectionsOpen -= 1 }; counted = false }
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
        guard !records.isEmpty else { return }
        outstanding += 1
        let channel = context.channel
        let loop = context.eventLoop
        engine.submit(records, source: "tcp") { [self] in
            loop.execute {
                self.outstanding -= 1
                self.maybeResume(channel)
            }
        }
        if outstanding >= 2 || engine.overloaded { pause(channel) }
    }

    func pause(_ channel: Channel) {
        guard !paused else { return }
        paused = true
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let loop = channel.eventLoop
        engine.whenBelow(engine.config.maxPendingRecords / 2) { [self] in
            loop.execute { self.maybeResume(channel) }
        }
    }

    func maybeResume(_ channel: Channel) {
        guard paused, outstanding < 2, !engine.overloaded else {
            if paused, outstanding < 2 {
                let loop = channel.eventLoop
                engine.whenBelow(engine.config.maxPendingRecords / 2) { [self] in loop.execute { self.maybeResume(channel) } }
            }
            return
        }
        paused = false
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        channel.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil); return }
        context.fireUserInboundEventTriggered(event)
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
    var batch: [IngestRecord] = []

    init(engine: ServeEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        let n = env.data.readableBytes
        if n > engine.config.maxFrameBytes { batch.append(.tooLong(n)); return }
        env.data.withUnsafeReadableBytes { raw in
            let bytes = Array(raw)
            batch.append(.line(Array(Syslog.payload(bytes[...]))))
        }
        if batch.count >= 512 { flush() }
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush(); context.fireChannelReadComplete() }

    func flush() {
        guard !batch.isEmpty else { return }
        if engine.overloaded { engine.count { $0.droppedOverload += batch.count } }
        else { engine.submit(batch, source: "udp") }
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

    func start(engine: ServeEngine, idleSeconds: Int64 = 300) throws {
        if let e = engine.config.tcp {
            let ch = try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 65536))
                .childChannelInitializer { ch in
                    ch.pipeline.addHandlers([IdleStateHandler(readTimeout: .seconds(idleSeconds)), SyslogTCPHandler(engine: engine)])
                }
                .bind(host: e.host, port: e.port).wait()
            tcpPort = ch.localAddress?.port
            channels.append(ch)
        }
        if let e = engine.config.udp {
            let ch = try DatagramBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 8 << 20)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
                .channelInitializer { ch in ch.pipeline.addHandler(SyslogUDPHandler(engine: engine)) }
                .bind(host: e.host, port: e.port).wait()
            udpPort = ch.localAddress?.port
            channels.append(ch)
        }
    }

    func stop() {
        for c in channels { try? c.close().wait() }
    }
}
