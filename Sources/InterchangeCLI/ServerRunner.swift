import Foundation
import Hummingbird
import Logging
import Observability
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Runs an HTTP server with the given components until SIGINT or SIGTERM, then shuts down gracefully:
/// the listener closes, in-flight requests finish, background services stop.
struct ServerRunner {
    let settings: Settings
    let observability: ObservabilityBootstrap
    let logger: Logger

    /// The URL the server listens on, filled in once it is bound (the port may have been 0).
    /// A fixed port is known before binding; port 0 only once the server reports it (`:0` until then).
    final class BoundAddress: Sendable {
        private let value: Mutex<String?>
        init(host: String, port: Int) { value = Mutex(port == 0 ? nil : Self.url(host: host, port: port)) }
        func set(_ url: String) { value.withLock { $0 = url } }
        var url: String { value.withLock { $0 } ?? "http://127.0.0.1:0" }
        static func url(host: String, port: Int) -> String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    /// - Parameter gatewayPort: when set, ``FrontGateway`` runs on it in front of the fulfillment services.
    func run(entries: [ComponentCatalog.Entry], landingPage: Bool, gatewayPort: Int? = nil) async throws {
        let address = BoundAddress(host: settings.host, port: settings.port)
        let (mainPort, mainPortContinuation) = AsyncStream.makeStream(of: Int.self)
        let events = SharedEventTransport(settings: settings, logger: logger)
        let context = ComponentContext(
            settings: settings,
            logger: logger,
            selfBaseURL: { address.url },
            isEmbedded: entries.count > 1 || landingPage,
            events: events
        )
        var components: [any Component] = []
        do {
            for entry in entries {
                components.append(contentsOf: try await entry.make(context))
            }
        } catch {
            await events.shutdown()
            throw error
        }
        let router = Router(context: BasicRequestContext.self)
        // First, so a replay costs what a hello-world route does; it still counts replays in the request metrics.
        for policy in components.compactMap(\.microCache) {
            router.add(middleware: ResponseMicroCache(policy, recordsRequestMetrics: true))
        }
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: TracingMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        HealthAndMetrics.addRoutes(
            to: router,
            components: components,
            metrics: .init(contentType: ObservabilityBootstrap.prometheusContentType, render: { observability.prometheusText() }),
            logger: logger
        )
        if landingPage {
            let page = LandingPage.html(components: components)
            router.get("/interchange") { _, _ in LandingPage.response(page) }
            if !components.contains(where: { $0.servesRoot }) {
                router.get("/") { _, _ in LandingPage.response(page) }
            }
        }
        for component in components {
            try component.addRoutes(to: router)
        }
        // Last: a known path asked with a method it has no route for gets 405 and Allow (not 404).
        router.addMethodNotAllowedResponses()
        let host = settings.host
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: settings.port), serverName: "Interchange"),
            onServerRunning: { channel in
                let url = BoundAddress.url(host: host, port: channel.localAddress?.port ?? 0)
                address.set(url)
                mainPortContinuation.yield(channel.localAddress?.port ?? 0)
                mainPortContinuation.finish()
                // The first line a person (or a test) waits for.
                FileHandle.standardOutput.write(Data("Interchange is listening on \(url)\n".utf8))
            },
            logger: logger
        )
        let frontGateway: [any Service] =
            gatewayPort.map { port in
                [FrontGateway(host: host, port: port, dataDirectory: settings.dataDirectory, mainPort: mainPort, logger: logger)]
            } ?? []
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse order: the server stops taking requests before the components' workers stop.
                // The shared event transport closes last, after every consumer and relay stopped.
                // The front gateway, last, stops taking requests first.
                services: [events.closer] + components.flatMap(\.services) + [app] + frontGateway,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("Interchange stopped")
    }
}

extension Component {
    /// Whether the component serves `/` itself (the dashboard does, under `up`).
    var servesRoot: Bool { (self as? any RootServingComponent) != nil }
}
