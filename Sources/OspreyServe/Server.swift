import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// `osprey serve`: one ServeEngine (one Pipeline on one serial queue), syslog listeners (UDP, TCP) and
/// the HTTP server (ingest, API, metrics, web page). Runs until SIGTERM/SIGINT, then flushes, checkpoints
/// (with a state directory) and waits for the outputs.
public enum ServeMain {
    public static func run(config: ServeConfig, contentDirectory: String) async throws {
        let started = Date()
        let log: @Sendable (String) -> Void = { s in FileHandle.standardError.write(Data(("osprey serve: " + s + "\n").utf8)) }
        for w in config.warnings { log(w) }
        if config.auth == .none { log("warning: auth = none: the API and /ingest accept requests without a token (loopback only)") }
        let engine = try ServeEngine(config: config, contentDirectory: contentDirectory)
        engine.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listeners = SyslogListeners(group: group)
        do { try listeners.start(engine: engine) } catch {
            listeners.stop()
            await engine.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        if let h = config.http {
            let router = HTTPRoutes.router(engine: engine, started: started)
            let udp = listeners.udpPort, tcp = listeners.tcpPort
            let limiter = engine.httpLimiter
            let (frame, idle, rate) = (config.frameTimeoutSeconds, config.idleSeconds, config.minBytesPerSecond)
            let app = Application(
                router: router,
                server: .http1(configuration: .init(additionalChannelHandlers: [
                    HTTPRequestGuard(limiter: limiter, frameTimeoutSeconds: frame, idleSeconds: idle, minBytesPerSecond: rate)
                ])),
                configuration: .init(address: .hostname(h.host, port: h.port), serverName: "osprey"),
                onServerRunning: { channel in
                    log("listening udp=\(udp.map(String.init) ?? "-") tcp=\(tcp.map(String.init) ?? "-") http=\(channel.localAddress?.port.map(String.init) ?? "-")")
                },
                eventLoopGroupProvider: .shared(group),
                logger: { var l = Logger(label: "osprey"); l.logLevel = .warning; return l }()
            )
            do { try await app.runService() } catch {
                listeners.stop()
                await engine.shutdown()
                try? await group.shutdownGracefully()
                throw ListenerError(key: "http", endpoint: h, error: error)
            }
        } else {
            log("listening udp=\(listeners.udpPort.map(String.init) ?? "-") tcp=\(listeners.tcpPort.map(String.init) ?? "-") http=-")
            await waitForSignal()
        }
        log("stopping")
        listeners.stop()
        await engine.shutdown()
        try await group.shutdownGracefully()
        log("stopped")
    }

    static func waitForSignal() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            signal(SIGTERM, SIG_IGN); signal(SIGINT, SIG_IGN)
            let once = NSLock(); var done = false
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { once.lock(); defer { once.unlock() }; if !done { done = true; c.resume() } }
                s.resume()
                sources.append(s)
            }
            withExtendedLifetime(sources) {}
            keep = sources
        }
    }
    nonisolated(unsafe) static var keep: [DispatchSourceSignal] = []
}
