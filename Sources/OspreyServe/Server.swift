import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `osprey serve`: one ServeEngine (one Pipeline on one serial queue), syslog listeners (UDP, TCP) and
/// the HTTP server (ingest, API, metrics, web page). Runs until SIGTERM/SIGINT, then flushes, checkpoints
/// (with a state directory) and waits for the outputs.
///
/// With `[tenant NAME]` sections, every tenant is such an instance of its own in the same process, run
/// side by side: its pipeline on its own queue (so tenants use all cores), its listeners, token, state,
/// context and outputs. Nothing is shared but the process; a tenant that cannot start stops them all.
public enum ServeMain {
    public static func run(config: ServeConfig, contentDirectory: String) async throws {
        StopSignal.shared.install()
        guard !config.tenants.isEmpty else {
            let engine = try ServeEngine(config: config, contentDirectory: contentDirectory)
            engine.start()
            try await runInstance(config: config, tenant: nil, engine: engine)
            return
        }
        // Every instance's pipeline first, so the [serve] instance's /ingest can route a tenant's token to it.
        let configs = [config] + config.tenants
        var engines: [ServeEngine] = []
        do {
            for c in configs {
                let e = try ServeEngine(config: c, contentDirectory: contentDirectory)
                e.start()
                engines.append(e)
            }
        } catch {
            for e in engines { await e.shutdown() }
            throw error
        }
        let routes = zip(config.tenants, engines.dropFirst()).compactMap { c, e in c.token.map { (token: $0, engine: e) } }
        let senders = SourceRoutes(routes: zip(config.tenants, engines.dropFirst()).flatMap { c, e in c.sources.map { (range: $0, engine: e) } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, c) in configs.enumerated() {
                let engine = engines[i]
                group.addTask {
                    do {
                        try await runInstance(config: c, tenant: i == 0 ? nil : c.name, engine: engine,
                                              tenantIngest: i == 0 ? routes : [], tenantSenders: i == 0 ? senders : SourceRoutes())
                    } catch {
                        StopSignal.shared.fire()   // one tenant cannot run: stop the others cleanly, then report
                        throw error
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One organization's server on its (started) engine. `tenant` names it in the log (nil: the `[serve]`
    /// section, whose "listening" line keeps its one-organization form); `tenantIngest` are the tenants whose
    /// token this instance's `/ingest` accepts and routes to their pipelines.
    static func runInstance(config: ServeConfig, tenant: String?, engine: ServeEngine,
                            tenantIngest: [(token: String, engine: ServeEngine)] = [],
                            tenantSenders: SourceRoutes = SourceRoutes()) async throws {
        let started = Date()
        let prefix = "osprey serve: " + (tenant.map { "tenant \($0): " } ?? "")
        let log: @Sendable (String) -> Void = { s in FileHandle.standardError.write(Data((prefix + s + "\n").utf8)) }
        let ready = tenant == nil ? "listening" : "ready on"
        for w in config.warnings { log(w) }
        if config.auth == .none { log("warning: auth = none: the API and /ingest accept requests without a token (loopback only)") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listeners = SyslogListeners(group: group)
        do { try listeners.start(engine: engine, routes: tenantSenders) } catch {
            listeners.stop()
            await engine.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        if let h = config.http {
            let router = HTTPRoutes.router(engine: engine, started: started, tenantIngest: tenantIngest)
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
                    log("\(ready) udp=\(udp.map(String.init) ?? "-") tcp=\(tcp.map(String.init) ?? "-") http=\(channel.localAddress?.port.map(String.init) ?? "-")")
                },
                eventLoopGroupProvider: .shared(group),
                logger: { var l = Logger(label: "osprey"); l.logLevel = .warning; return l }()
            )
            // Signals reach the server through StopSignal, which stops every instance of the process.
            let service = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: app.logger))
            StopSignal.shared.register(service)
            do { try await service.run() } catch {
                listeners.stop()
                await engine.shutdown()
                try? await group.shutdownGracefully()
                throw ListenerError(key: "http", endpoint: h, error: error)
            }
        } else {
            log("\(ready) udp=\(listeners.udpPort.map(String.init) ?? "-") tcp=\(listeners.tcpPort.map(String.init) ?? "-") http=-")
            await waitForSignal()
        }
        log("stopping")
        listeners.stop()
        await engine.shutdown()
        try await group.shutdownGracefully()
        log("stopped")
    }

    /// Returns at SIGTERM/SIGINT, or when another tenant could not start.
    static func waitForSignal() async {
        StopSignal.shared.install()
        await StopSignal.shared.wait()
    }
}

/// SIGTERM/SIGINT (or `fire()`, when a tenant cannot start) as one stop for every instance of the process:
/// instances without HTTP wait on it, HTTP servers are registered and shut down gracefully.
final class StopSignal: @unchecked Sendable {
    static let shared = StopSignal()
    private let lock = NSLock()
    private var fired = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextID = 0
    private var sources: [DispatchSourceSignal] = []
    private var services: [ServiceGroup] = []

    private init() {}

    /// Takes SIGTERM and SIGINT from their default action (once per process).
    func install() {
        lock.withLock {
            guard sources.isEmpty else { return }
            signal(SIGTERM, SIG_IGN); signal(SIGINT, SIG_IGN)
            for sig in [SIGTERM, SIGINT] {
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { [weak self] in self?.fire() }
                s.resume()
                sources.append(s)
            }
        }
    }

    func fire() {
        let (all, groups): ([CheckedContinuation<Void, Never>], [ServiceGroup]) = lock.withLock {
            fired = true
            defer { waiters.removeAll() }
            return (Array(waiters.values), services)
        }
        for c in all { c.resume() }
        for g in groups { Task { await g.triggerGracefulShutdown() } }
    }

    /// A server to shut down gracefully at the stop (at once when the stop already came: a group not yet
    /// running starts and then shuts down).
    func register(_ group: ServiceGroup) {
        let now: Bool = lock.withLock { services.append(group); return fired }
        if now { Task { await group.triggerGracefulShutdown() } }
    }

    private func cancel(_ id: Int) {
        let c = lock.withLock { waiters.removeValue(forKey: id) }
        c?.resume()
    }

    /// Returns at the stop, or when the task is cancelled.
    func wait() async {
        let id: Int = lock.withLock { defer { nextID += 1 }; return nextID }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if fired || Task.isCancelled { lock.unlock(); c.resume(); return }
                waiters[id] = c
                lock.unlock()
            }
        } onCancel: {
            cancel(id)
        }
    }
}
