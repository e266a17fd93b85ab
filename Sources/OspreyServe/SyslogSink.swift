import NIOCore
import NIOPosix
import OspreyAnalytics

/// `type = cef` (an RFC 5424 message whose MSG is a CEF record) and `type = syslog` (RFC 5424 with
/// structured data), over UDP (one datagram per alert) or TCP (RFC 6587 octet counting, one connection kept
/// open and re-made after an error), on SwiftNIO's shared event loops.
final class SyslogSink: AlertSink {
    enum Format { case cef, rfc5424 }
    let name: String
    let udp: Bool
    let format: Format
    let address: SocketAddress
    private let group: EventLoopGroup = NIOSingletons.posixEventLoopGroup
    /// The UDP socket or the TCP connection; only touched from the sink's serial queue.
    private var channel: Channel?
    static let connectTimeout = TimeAmount.seconds(10)

    init(name: String, udp: Bool, host: String, port: Int, format: Format) throws {
        self.name = name; self.udp = udp; self.format = format
        guard (1...65535).contains(port),
              let a = try? SocketAddress(ipAddress: host == "localhost" ? "127.0.0.1" : host, port: port),
              case .v4 = a
        else { throw SinkError("output \(name): target must be an IPv4 address: \(host)") }
        address = a
    }

    func text(_ alert: AnalyticsOutput) -> String {
        let view = AlertView(alert)
        switch format {
        case .cef: return AlertFormat.cef(view)
        case .rfc5424: return AlertFormat.rfc5424(view)
        }
    }

    func send(_ items: [SinkItem]) -> Bool {
        guard let channel = connected() else { return false }
        var writes: [EventLoopFuture<Void>] = []
        writes.reserveCapacity(items.count)
        for i in items {
            let msg = Array(text(i.alert).utf8)
            if udp {
                let buffer = channel.allocator.buffer(bytes: msg)
                writes.append(channel.write(AddressedEnvelope(remoteAddress: address, data: buffer)))
            } else {
                var buffer = channel.allocator.buffer(capacity: msg.count + 8)
                buffer.writeString("\(msg.count) ")   // RFC 6587 octet counting
                buffer.writeBytes(msg)
                writes.append(channel.write(buffer))
            }
        }
        channel.flush()
        var ok = true
        for w in writes { do { try w.wait() } catch { ok = false } }
        if !ok && !udp { drop() }
        return ok
    }

    /// The open channel, made when missing (TCP: connected to the target; UDP: bound to an ephemeral port).
    private func connected() -> Channel? {
        if let c = channel, c.isActive { return c }
        drop()
        do {
            if udp {
                channel = try DatagramBootstrap(group: group).bind(host: "0.0.0.0", port: 0).wait()
            } else {
                channel = try ClientBootstrap(group: group)
                    .connectTimeout(SyslogSink.connectTimeout)
                    .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
                    .connect(to: address).wait()
            }
        } catch {
            return nil
        }
        return channel
    }

    private func drop() {
        if let c = channel { try? c.close().wait() }
        channel = nil
    }

    func close() { drop() }
}
