import Foundation
import Gateway
import GatewayProxy
import Hummingbird
import Logging
import Persistence
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `interchange serve gateway --config kong.yaml`: the API gateway alone on its port, every path proxied from a Kong
/// declarative file (there `--config` names that file, not a settings file), and its read-only admin API on
/// `--admin-port` (loopback). The file is reloaded on SIGHUP and when it changes; a file that fails to load keeps the
/// configuration in force and says why (log, and `/_gateway/status`).
struct GatewayRunner {
    let declarativeFile: String
    let settings: Settings
    let adminPort: Int
    let logger: Logger
    /// How often the file is checked for changes.
    var pollInterval: Duration = .seconds(1)

    /// Loads the file (every problem named by key path and line, or the process stops with them) and serves it.
    static func load(_ path: String) throws -> GatewayConfiguration {
        do {
            return try GatewayConfiguration.load(contentsOf: URL(filePath: path))
        } catch {
            throw GatewayConfigurationRejected(path: path, reason: "\(error)")
        }
    }

    func run() async throws {
        let configuration = try Self.load(declarativeFile)
        let logger = logger
        // One set of figures and metrics for the process, carried from each configuration to the next.
        let (analytics, metrics) = (GatewayAnalytics(), GatewayMetrics())
        // Where the cluster policy of rate-limiting counts (--database, or INTERCHANGE_GATEWAY_DATABASE_URL).
        let database: Database?
        if let url = settings.sources.optionalString("gateway.database", environment: ["INTERCHANGE_GATEWAY_DATABASE_URL"]) {
            database = try await Database.open(try Database.Location(url: url, field: "gateway.database"), maxConnections: 8, logger: logger)
        } else {
            database = nil
        }
        do {
            try await serve(configuration, analytics: analytics, metrics: metrics, database: database)
        } catch {
            try? await database?.shutdown()
            throw error
        }
        try await database?.shutdown()
    }

    private func serve(_ configuration: GatewayConfiguration, analytics: GatewayAnalytics, metrics: GatewayMetrics, database: Database?) async throws
    {
        let logger = logger
        let first = try await GatewayProxy(configuration: configuration, analytics: analytics, metrics: metrics, database: database, logger: logger)
        let live = LiveGateway(first, logger: logger) { configuration in
            try await GatewayProxy(configuration: configuration, analytics: analytics, metrics: metrics, database: database, logger: logger)
        }
        let host = settings.host
        // The listening line comes once both servers are up, so a script that waits for it can call either.
        let bound = Mutex<(proxy: Int?, admin: Int?)>((nil, nil))
        let announce: @Sendable () -> Void = {
            guard let ports = bound.withLock({ $0.proxy != nil && $0.admin != nil ? $0 : nil }) else { return }
            let admin = ServerRunner.BoundAddress.url(host: "127.0.0.1", port: ports.admin ?? 0)
            let url = ServerRunner.BoundAddress.url(host: host, port: ports.proxy ?? 0)
            FileHandle.standardOutput.write(Data("Gateway admin API on \(admin)\(GatewayAdmin.mount)/\n".utf8))
            FileHandle.standardOutput.write(Data("Interchange is listening on \(url) (gateway)\n".utf8))
        }
        // A request head must be complete, and a body read the gateway asked for must bring data, within these.
        let headTimeout = try settings.sources.int(
            "gatewayRequestHeadTimeoutMs",
            environment: ["INTERCHANGE_GATEWAY_REQUEST_HEAD_TIMEOUT_MS"],
            default: 10_000,
            range: 1...3_600_000
        )
        let bodyTimeout = try settings.sources.int(
            "gatewayRequestBodyTimeoutMs",
            environment: ["INTERCHANGE_GATEWAY_REQUEST_BODY_TIMEOUT_MS"],
            default: 60_000,
            range: 1...3_600_000
        )
        let app = Application(
            router: live,
            server: GatewayProxy.server(requestHeadTimeout: .milliseconds(headTimeout), requestBodyTimeout: .milliseconds(bodyTimeout)),
            configuration: .init(address: .hostname(host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                bound.withLock { $0.proxy = channel.localAddress?.port ?? 0 }
                announce()
            },
            logger: logger
        )
        let admin = Application(
            router: GatewayAdmin(live),
            configuration: .init(address: .hostname("127.0.0.1", port: adminPort), serverName: nil),
            onServerRunning: { channel in
                bound.withLock { $0.admin = channel.localAddress?.port ?? 0 }
                announce()
            },
            logger: logger
        )
        let reloader = GatewayReloader(live: live, path: declarativeFile, pollInterval: pollInterval, logger: logger)
        logger.info(
            "starting the gateway",
            metadata: ["config": "\(declarativeFile)", "services": "\(configuration.services.count)", "routes": "\(configuration.routes.count)"]
        )
        let group = ServiceGroup(
            configuration: .init(services: [app, admin, reloader], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch {
            try? await live.shutdown()
            throw error
        }
        try await live.shutdown()
        logger.info("gateway stopped")
    }
}

/// Reloads the gateway's file on SIGHUP and whenever its contents change (checked every `pollInterval`).
struct GatewayReloader: ServiceLifecycle.Service {
    let live: LiveGateway
    let path: String
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        let path = path
        let load: @Sendable () throws -> GatewayConfiguration = { try GatewayRunner.load(path) }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    logger.info("gateway: SIGHUP, reloading", metadata: ["config": "\(path)"])
                    await live.reload(load)
                }
            }
            group.addTask {
                var last = try? Data(contentsOf: URL(filePath: path))
                while (try? await Task.sleep(for: pollInterval)) != nil, !Task.isCancelled {
                    let contents = try? Data(contentsOf: URL(filePath: path))
                    guard contents != last else { continue }
                    last = contents
                    logger.info("gateway: the file changed, reloading", metadata: ["config": "\(path)"])
                    await live.reload(load)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// The declarative file could not be used; the message lists every problem with its key path and line.
struct GatewayConfigurationRejected: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "gateway configuration \(path) rejected:\n\(reason)" }
}
