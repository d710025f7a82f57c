import AsyncHTTPClient
import Foundation
import HTTPIntegration
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Resilience
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Reference system 1: the weather & repository dashboard — the page at `/`, its API under `/api/`.
///
/// Every upstream call goes through its own ``ResilientHTTPClient`` (so each upstream has its own circuit
/// breaker, retry budget and timeouts), and every answer through a single-flight TTL cache with stale-if-error.
public struct WeatherDashboardComponent: RootServingComponent {
    public let name = "weather"
    public let summary = "weather & repository dashboard: the page at /, its API under /api/"

    private let configuration: DashboardConfiguration
    private let assets: WebAssets
    /// Internal, not private: tests reach the service through it (`runtime.service()`).
    let runtime: Runtime
    /// openapi/weather-dashboard.yaml, the file the API is generated from, served at `/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument

    /// - Parameter selfBaseURL: where this process listens, for upstreams served by in-process simulators.
    public init(configuration: DashboardConfiguration, selfBaseURL: @escaping @Sendable () -> String, logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.assets = try WebAssets.bundled()
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
        self.runtime = Runtime(configuration: configuration, selfBaseURL: selfBaseURL, logger: logger)
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        assets.addRoutes(to: router)
        openAPIDocument.addRoute(to: router)
        let runtime = self.runtime
        try WeatherDashboardAPI(service: { try runtime.service() }, problemTypes: assets.problemTypes).registerHandlers(
            on: router,
            configuration: .init(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    public var services: [any Service] { [runtime] }

    /// Rendered `/api/` answers are replayed for `cachePolicy.responseMicroCacheTTL` (1 s): under load each URL
    /// is encoded once a second, and a replay skips the middleware stack.
    public var microCache: MicroCachePolicy? {
        configuration.cachePolicy.responseMicroCacheTTL.map { MicroCachePolicy(pathPrefixes: ["/api/"], ttl: $0, clock: configuration.clock) }
    }

    /// Builds the service on first use (the simulators' base URL is known only once the server is bound) and
    /// closes the shared HTTP client at shutdown.
    final class Runtime: Service, Sendable {
        private let configuration: DashboardConfiguration
        private let selfBaseURL: @Sendable () -> String
        private let logger: Logger
        private let httpClient: HTTPClient
        private let built = Mutex<DashboardService?>(nil)

        init(configuration: DashboardConfiguration, selfBaseURL: @escaping @Sendable () -> String, logger: Logger) {
            self.configuration = configuration
            self.selfBaseURL = selfBaseURL
            self.logger = logger
            self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .interchange(connectTimeout: .seconds(5)))
        }

        func service() throws -> DashboardService {
            try built.withLock { built in
                if let built { return built }
                let service = try configuration.makeService(httpClient: httpClient, selfBaseURL: selfBaseURL(), logger: logger)
                built = service
                return service
            }
        }

        func run() async throws {
            try? await gracefulShutdown()
            try await httpClient.shutdown()
        }
    }
}
