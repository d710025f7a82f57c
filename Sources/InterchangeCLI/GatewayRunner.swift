import Foundation
import Gateway
import GatewayProxy
import Hummingbird
import Logging
import ServiceLifecycle

/// `interchange serve gateway --config kong.yaml`: the API gateway alone on its port, every path proxied by
/// ``GatewayProxy`` from a Kong declarative file (there `--config` names that file, not a settings file).
struct GatewayRunner {
    let declarativeFile: String
    let settings: Settings
    let logger: Logger

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
        let proxy = try GatewayProxy(configuration: configuration, logger: logger)
        let host = settings.host
        let app = Application(
            router: proxy,
            configuration: .init(address: .hostname(host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let url = ServerRunner.BoundAddress.url(host: host, port: channel.localAddress?.port ?? 0)
                FileHandle.standardOutput.write(Data("Interchange is listening on \(url) (gateway)\n".utf8))
            },
            logger: logger
        )
        logger.info(
            "starting the gateway",
            metadata: ["config": "\(declarativeFile)", "services": "\(configuration.services.count)", "routes": "\(configuration.routes.count)"]
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await proxy.shutdown()
            throw error
        }
        try await proxy.shutdown()
        logger.info("gateway stopped")
    }
}

/// The declarative file could not be used; the message lists every problem with its key path and line.
struct GatewayConfigurationRejected: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "gateway configuration \(path) rejected:\n\(reason)" }
}
