import AsyncHTTPClient
import Foundation
import HTTPTypes
import InterchangeCore
import Logging
import Metrics
import NIOCore
import Resilience
import Synchronization
import Tracing

/// An HTTP client for calling third-party APIs: per-host resilience policies, authentication, caching,
/// pagination, typed errors, redacted logs, metrics and tracing, over AsyncHTTPClient.
///
/// ```swift
/// let client = try ResilientHTTPClient(configuration: .init(
///     hosts: ["api.openweathermap.org": HostPolicy(authentication: .apiKey(key, query: "appid"), staleIfError: .seconds(600))],
///     cache: try HTTPCache()
/// ))
/// defer { try? await client.shutdown() }
/// let weather = try await client.get("https://api.openweathermap.org/data/2.5/weather?q=London").decode(Weather.self)
/// ```
///
/// The client owns its AsyncHTTPClient unless you pass one in; call ``shutdown()`` (or use
/// ``withClient(configuration:logger:_:)``) when done with it.
public final class ResilientHTTPClient: Sendable {
    /// The client's settings. Invalid values are reported at construction, naming the field.
    public struct Configuration: Sendable {
        /// What you call the dependency this client talks to (`github`, `open-meteo`): names its breakers and
        /// labels its metrics (`upstream`), unless a host's policy has a ``HostPolicy/name`` of its own.
        /// `nil` labels each host by its key (`api.github.com`, `127.0.0.1:8081`) — several clients talking
        /// to one simulator host would then share a label, so name them.
        public var name: String?
        /// The policy for hosts without one of their own.
        public var defaultPolicy: HostPolicy
        /// Policies by host (`api.github.com`) or host and port (`127.0.0.1:8081`).
        public var hosts: [String: HostPolicy]
        /// Responses larger than this fail with ``HTTPIntegrationError/Code/responseTooLarge``.
        public var maxResponseBodySize: Int
        /// Sent when the request has no `User-Agent` of its own.
        public var userAgent: String?
        /// A response cache shared by all hosts; `nil` for none.
        public var cache: HTTPCache?
        /// Your middlewares, run on every attempt just before authentication.
        public var middlewares: [any ClientMiddleware]
        /// Which query parameters are secret, for logs and errors.
        public var redaction: Redaction
        /// Connections kept per host by the AsyncHTTPClient the client creates (its default is 8).
        public var maxConnectionsPerHost: Int

        public init(
            name: String? = nil,
            defaultPolicy: HostPolicy = .standard,
            hosts: [String: HostPolicy] = [:],
            maxResponseBodySize: Int = 10 * 1024 * 1024,
            userAgent: String? = "Interchange/1.0 (+https://github.com/interchange)",
            cache: HTTPCache? = nil,
            middlewares: [any ClientMiddleware] = [],
            redaction: Redaction = .standard,
            maxConnectionsPerHost: Int = 32
        ) {
            self.name = name
            self.defaultPolicy = defaultPolicy
            self.hosts = hosts
            self.maxResponseBodySize = maxResponseBodySize
            self.userAgent = userAgent
            self.cache = cache
            self.middlewares = middlewares
            self.redaction = redaction
            self.maxConnectionsPerHost = maxConnectionsPerHost
        }
    }

    /// Statuses worth retrying by default: 408, 429, 500, 502, 503, 504.
    public static let defaultRetryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    public let configuration: Configuration
    let clock: ErasedClock
    private let resilienceClock: AnyClock
    private let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let resources: Mutex<[String: HostResources]>
    private let hostPolicies: [String: HostPolicy]
    private let nextHostID = Atomic(0)
    private let now: @Sendable () -> Date
    private let makePipeline: @Sendable (HostPolicy, _ withResilience: Bool) -> ClientNext

    /// - Parameters:
    ///   - httpClient: an AsyncHTTPClient to use; by default the client creates (and owns) one, with tracing
    ///     set to `tracer` so the W3C `traceparent` header is injected.
    ///   - tracer: where spans go; by default the globally bootstrapped tracer.
    ///   - clock: drives timeouts, backoff, breakers and cache ages; inject a manual clock in tests.
    ///   - now: the wall clock, for HTTP dates (`Retry-After`, `Expires`).
    /// - Throws: ``ConfigurationError`` naming the first invalid field (`hosts["api.github.com"].retry.maxAttempts`).
    public init(
        configuration: Configuration = Configuration(),
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "interchange.http-client"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        tracer: (any Tracer)? = InstrumentationSystem.tracer,
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        do {
            try configuration.defaultPolicy.validate()
        } catch let error as ConfigurationError {
            throw error.nested(under: "defaultPolicy")
        }
        for (host, policy) in configuration.hosts {
            do {
                try policy.validate()
            } catch let error as ConfigurationError {
                throw error.nested(under: "hosts[\"\(host)\"]")
            }
        }
        try ConfigurationError.require(
            configuration.maxResponseBodySize >= 1,
            field: "maxResponseBodySize",
            "must be at least 1 byte",
            got: configuration.maxResponseBodySize
        )
        try ConfigurationError.require(
            configuration.maxConnectionsPerHost >= 1,
            field: "maxConnectionsPerHost",
            "must be at least 1",
            got: configuration.maxConnectionsPerHost
        )
        self.configuration = configuration
        let anyClock = AnyClock(clock)
        self.clock = ErasedClock(anyClock)
        self.resilienceClock = anyClock
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.resources = Mutex([:])
        self.now = now
        self.hostPolicies = Dictionary(configuration.hosts.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        if let httpClient {
            self.httpClient = httpClient
            self.ownsHTTPClient = false
        } else {
            self.httpClient = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: .interchange(maxConnectionsPerHost: configuration.maxConnectionsPerHost, tracer: tracer)
            )
            self.ownsHTTPClient = true
        }
        let transport = AsyncHTTPClientTransport(
            httpClient: self.httpClient,
            maxResponseBodySize: configuration.maxResponseBodySize,
            userAgent: configuration.userAgent,
            redaction: configuration.redaction
        )
        let observability = ObservabilityMiddleware(tracer: tracer, metrics: ClientMetrics(factory: metricsFactory))
        let caching = configuration.cache.map { CachingMiddleware(cache: $0, now: now) }
        let resilience = ResilienceMiddleware(clock: anyClock, now: now)
        let custom = configuration.middlewares
        // Each host gets a chain of only the steps its policy uses: a layer that would do nothing still costs an
        // async call and a context copy per request.
        self.makePipeline = { policy, withResilience in
            var middlewares: [any ClientMiddleware] = [observability]
            if let caching { middlewares.append(caching) }
            if policy.generateIdempotencyKeys { middlewares.append(IdempotencyKeyMiddleware()) }
            if withResilience { middlewares.append(resilience) }
            middlewares.append(contentsOf: custom)
            if policy.authentication != nil { middlewares.append(AuthenticationMiddleware()) }
            return chain(middlewares) { request, context in try await transport.send(request, context: context) }
        }
    }

    /// Creates a client, runs `body` with it, and shuts it down.
    public static func withClient<T: Sendable>(
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "interchange.http-client"),
        _ body: (ResilientHTTPClient) async throws -> T
    ) async throws -> T {
        let client = try ResilientHTTPClient(configuration: configuration, logger: logger)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Closes the connections of the AsyncHTTPClient the client created (a no-op for one passed in).
    public func shutdown() async throws {
        if ownsHTTPClient { try await httpClient.shutdown() }
    }

    /// Sends `request` through the pipeline and returns the response, whatever its status.
    ///
    /// - Throws: ``HTTPIntegrationError`` when no response could be had (transport failure, timeout, open
    ///   circuit, local rate limit, full bulkhead, oversized body); `CancellationError` when cancelled.
    public func send(_ request: ClientRequest, logger: Logger? = nil) async throws -> ClientResponse {
        let (_, resources) = try hostResources(for: request)
        let context = ClientContext(
            logger: logger ?? self.logger,
            resources: resources,
            attempts: AttemptCounter(),
            client: self
        )
        // A request that overrides timeouts or attempts needs the resilience step even where the host's policy does not.
        let options = request.options
        let needsResilience = options.attemptTimeout != nil || options.totalTimeout != nil || options.maxAttempts != nil
        return try await (needsResilience ? resources.pipelineWithResilience : resources.pipeline)(request, context)
    }

    /// `GET url`.
    public func get(_ url: String, headers: HTTPFields = [:], options: RequestOptions = RequestOptions()) async throws -> ClientResponse {
        try await send(ClientRequest(method: .get, url: url, headerFields: headers, options: options))
    }

    /// `method url` with `body` encoded as JSON.
    public func send(
        _ method: HTTPRequest.Method,
        _ url: String,
        json body: some Encodable & Sendable,
        headers: HTTPFields = [:],
        options: RequestOptions = RequestOptions()
    ) async throws -> ClientResponse {
        var request = try ClientRequest(method: method, url: url, headerFields: headers, options: options)
        try request.setJSONBody(body)
        return try await send(request)
    }

    /// The breaker guarding `host` (`api.github.com` or `127.0.0.1:8081`), once a request has been made to it.
    public func circuitBreaker(for host: String) -> CircuitBreaker? {
        resources.withLock { $0[host.lowercased()]?.breaker }
    }

    /// The policy key and live state for the request's host, created on first use.
    private func hostResources(for request: ClientRequest) throws -> (String, HostResources) {
        let authority = request.authority
        if let existing = resources.withLock({ $0[authority] }) { return (existing.key, existing) }
        let host = (request.url.host ?? "").lowercased()
        let (key, policy): (String, HostPolicy)
        if let exact = hostPolicies[authority] {
            (key, policy) = (authority, exact)
        } else if let byHost = hostPolicies[host] {
            (key, policy) = (host, byHost)
        } else {
            (key, policy) = (authority, configuration.defaultPolicy)
        }
        if let existing = resources.withLock({ $0[key] }) {
            // Remember the authority too, so the next call finds it in one lookup.
            resources.withLock { $0[authority] = existing }
            return (key, existing)
        }
        let created = try HostResources(
            id: nextHostID.wrappingAdd(1, ordering: .relaxed).newValue,
            key: key,
            name: policy.name ?? configuration.name ?? key,
            policy: policy,
            pipeline: makePipeline(policy, ResilienceMiddleware.isNeeded(for: policy)),
            pipelineWithResilience: makePipeline(policy, true),
            redaction: configuration.redaction,
            clock: resilienceClock,
            metricsFactory: metricsFactory,
            logger: logger,
            now: now
        )
        return resources.withLock { resources in
            if let raced = resources[key] { return (key, raced) }
            resources[key] = created
            resources[authority] = created
            return (key, created)
        }
    }
}
