import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeCore
import Logging
import NIOCore
import NIOHTTP1
import Persistence
import Resilience
import Synchronization

/// The gateway's data plane: routes each request with ``GatewayRouter``, runs the plugins that apply (Kong's order
/// and precedence), and forwards it to one of its service's targets, streaming both bodies with
/// backpressure (nothing is buffered whole).
///
/// Per hop (RFC 9110 §7.6): hop-by-hop headers are removed both ways; `X-Forwarded-For|Proto|Host|Port|Prefix`,
/// `X-Real-IP`, `Forwarded` (RFC 7239) and `Via` are added; `Host` is the target's unless the route preserves the
/// client's (or the upstream sets `host_header`). Upstream connections are kept alive and pooled
/// (``Settings/connectionsPerHost`` each, not AsyncHTTPClient's 8) with the service's connect, read and write timeouts.
///
/// Per target: a circuit breaker (passive health). A failed connection, a timeout or a status in the upstream's
/// passive `unhealthy.http_statuses` counts against it; once open, the target gets no traffic until the breaker's
/// wait is over, then probes (half-open) decide whether it closes again. When every target's breaker is open the
/// answer is an immediate 503 with `Retry-After`.
///
/// Retries: an idempotent request without a body (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) that failed to connect or
/// timed out is tried again on another target, up to the service's `retries` and within a shared retry budget; any
/// other request fails at once with 502 (unreachable) or 504 (timed out). Errors are problem+json.
///
/// ```swift
/// let proxy = try await GatewayProxy(configuration: try GatewayConfiguration.load(contentsOf: url), logger: logger)
/// let app = Application(router: proxy, configuration: .init(address: .hostname("0.0.0.0", port: 8000)))
/// ```
public final class GatewayProxy: HTTPResponderBuilder, Sendable {
    public struct Settings: Sendable {
        /// Kept-alive connections per upstream host and port.
        public var connectionsPerHost: Int
        /// How long an idle upstream connection is kept.
        public var idleTimeout: Duration
        /// Each target's breaker; by default it opens at 50 % failures over its last 10 calls (at least 5), stays
        /// open 10 s and closes after 2 successful probes.
        public var breaker: CircuitBreaker.Configuration
        /// Retries (across all services) allowed per call made, beyond `minRetriesPerSecond`.
        public var retryRatio: Double
        public var minRetriesPerSecond: Double

        public init(
            connectionsPerHost: Int = 256,
            idleTimeout: Duration = .seconds(60),
            breaker: CircuitBreaker.Configuration = Settings.defaultBreaker,
            retryRatio: Double = 0.2,
            minRetriesPerSecond: Double = 10
        ) {
            self.connectionsPerHost = connectionsPerHost
            self.idleTimeout = idleTimeout
            self.breaker = breaker
            self.retryRatio = retryRatio
            self.minRetriesPerSecond = minRetriesPerSecond
        }

        public static let defaultBreaker = CircuitBreaker.Configuration(
            failureRateThreshold: 50,
            slidingWindow: .countBased(size: 10),
            minimumNumberOfCalls: 5,
            waitDurationInOpenState: .seconds(10),
            permittedCallsInHalfOpenState: 2
        )
    }

    private struct Timeouts: Hashable {
        let connect: Duration
        let read: Duration
        let write: Duration
    }

    public let configuration: GatewayConfiguration
    private let router: GatewayRouter
    /// Per service position: its targets (nil for a disabled service).
    private let targets: [ServiceTargets?]
    /// Per service position: the client with its timeouts (services with equal timeouts share one).
    private let clients: [HTTPClient]
    private let distinctClients: [HTTPClient]
    private let budget: RetryBudget
    private let resolver: PluginResolver
    /// Each enabled plugin instance, built once (a rate limiter's counters live in it).
    private let plugins: [PluginInstance: any GatewayPlugin]
    /// Where each request is counted once its response has ended.
    public let analytics: GatewayAnalytics
    /// The prometheus plugin's metrics (recorded only for requests a prometheus instance applies to).
    public let metrics: GatewayMetrics
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// The active health checks' probing tasks, cancelled by ``shutdown()``.
    private let probes: Mutex<[Task<Void, Never>]>
    /// Whether any prometheus or file-log instance is enabled (only then are bytes counted).
    private let hasLoggingPlugins: Bool

    /// - Throws: ``ConfigurationError`` for settings out of range.
    public init(
        configuration: GatewayConfiguration,
        settings: Settings = Settings(),
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = Date.init,
        analytics: GatewayAnalytics = GatewayAnalytics(),
        metrics: GatewayMetrics = GatewayMetrics(),
        database: Database? = nil,
        logger: Logger
    ) async throws {
        try ConfigurationError.require(
            settings.connectionsPerHost >= 1,
            field: "connectionsPerHost",
            "must be at least 1",
            got: settings.connectionsPerHost
        )
        self.configuration = configuration
        self.router = GatewayRouter(configuration)
        self.analytics = analytics
        self.metrics = metrics
        self.logger = logger
        self.now = now
        self.budget = try RetryBudget(ratio: settings.retryRatio, minRetriesPerSecond: settings.minRetriesPerSecond, clock: clock)
        self.resolver = PluginResolver(configuration)
        self.plugins = try await Self.buildPlugins(configuration, now: now, metrics: metrics, database: database, logger: logger)
        self.hasLoggingPlugins = configuration.plugins.contains { $0.enabled && Self.loggingPluginNames.contains($0.name) }
        self.targets = try configuration.services.map { service in
            guard service.enabled else { return nil }
            return try ServiceTargets(
                service: service,
                upstream: service.upstream.map { configuration[$0] },
                breaker: settings.breaker,
                clock: clock
            )
        }
        var byTimeouts: [Timeouts: HTTPClient] = [:]
        var distinct: [HTTPClient] = []
        self.clients = configuration.services.map { service in
            let timeouts = Timeouts(connect: service.connectTimeout, read: service.readTimeout, write: service.writeTimeout)
            if let client = byTimeouts[timeouts] { return client }
            var client = HTTPClient.Configuration()
            client.connectionPool = .init(
                idleTimeout: TimeAmount(settings.idleTimeout),
                concurrentHTTP1ConnectionsPerHostSoftLimit: settings.connectionsPerHost
            )
            // A refused connection is the breaker's and the retry's business, not a silent retry until the timeout.
            client.connectionPool.retryConnectionEstablishment = false
            client.timeout = .init(
                connect: TimeAmount(timeouts.connect),
                read: TimeAmount(timeouts.read),
                write: TimeAmount(timeouts.write)
            )
            client.redirectConfiguration = .disallow
            client.decompression = .disabled
            // No client spans: the gateway passes the client's trace headers through untouched (as Kong does without a
            // tracing plugin) instead of adding its own traceparent per hop — and saves the span work per request.
            client.tracing.tracer = nil
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
            byTimeouts[timeouts] = made
            distinct.append(made)
            return made
        }
        self.distinctClients = distinct
        var probes: [Task<Void, Never>] = []
        for (position, targets) in targets.enumerated() {
            guard let targets, let active = targets.active else { continue }
            let (service, client, logger) = (configuration.services[position], clients[position], logger)
            probes.append(
                Task {
                    await active.run(
                        targets: targets.endpoints,
                        scheme: service.scheme,
                        hostHeader: targets.hostHeader,
                        client: client,
                        logger: logger
                    )
                }
            )
        }
        self.probes = Mutex(probes)
    }

    private static func buildPlugins(
        _ configuration: GatewayConfiguration,
        now: @escaping @Sendable () -> Date,
        metrics: GatewayMetrics,
        database: Database?,
        logger: Logger
    ) async throws -> [PluginInstance: any GatewayPlugin] {
        var plugins: [PluginInstance: any GatewayPlugin] = [:]
        let cluster = configuration.plugins.contains { instance in
            guard instance.enabled, case .rateLimiting(let config) = instance.configuration else { return false }
            return config.policy == .cluster
        }
        if cluster, let database { try await ClusterRateLimitCounters.prepare(database) }
        for (position, instance) in configuration.plugins.enumerated() where instance.enabled {
            let field = "plugins[\(position)] (\(instance.configuration.pluginName))"
            do {
                switch instance.configuration {
                case .correlationID(let config): plugins[instance] = try CorrelationIDPlugin(config)
                case .keyAuth(let config): plugins[instance] = try KeyAuthPlugin(config, gateway: configuration)
                case .rateLimiting(let config):
                    // The cluster's rows of an instance are found again by its id, or by its place in the file.
                    let scope = instance.id ?? "plugins[\(position)]"
                    plugins[instance] = try RateLimitingPlugin(
                        config,
                        gateway: configuration,
                        scope: scope,
                        database: database,
                        now: now,
                        logger: logger
                    )
                case .requestSizeLimiting(let config): plugins[instance] = RequestSizeLimitingPlugin(configuration: config)
                case .basicAuth(let config): plugins[instance] = try BasicAuthPlugin(config, gateway: configuration)
                case .acl(let config): plugins[instance] = ACLPlugin(config, gateway: configuration)
                case .ipRestriction(let config): plugins[instance] = try IPRestrictionPlugin(config)
                case .jwt(let config): plugins[instance] = try await JWTPlugin(config, gateway: configuration, now: now, logger: logger)
                case .cors(let config): plugins[instance] = try CORSPlugin(config)
                case .prometheus(let config): plugins[instance] = PrometheusPlugin(config, metrics: metrics)
                case .fileLog(let config): plugins[instance] = try FileLogPlugin(config, gateway: configuration)
                case .requestTransformer(let config): plugins[instance] = RequestTransformerPlugin(config)
                case .responseTransformer(let config): plugins[instance] = ResponseTransformerPlugin(config)
                case .proxyCache(let config): plugins[instance] = try ProxyCachePlugin(config, gateway: configuration, now: now)
                }
            } catch let error as GatewayPluginError {
                throw ConfigurationError(field: "\(field).\(error.field)", reason: error.reason)
            }
        }
        return plugins
    }

    /// Closes the upstream connections. Call it once the server has stopped.
    public func shutdown() async throws {
        let probes = self.probes.withLock { probes in
            defer { probes = [] }
            return probes
        }
        for probe in probes { probe.cancel() }
        for probe in probes { await probe.value }
        for client in distinctClients { try await client.shutdown() }
    }

    /// Each target of `service` by `host:port`: `healthy` or `unhealthy` by its active health checks,
    /// `healthchecks_off` when its upstream has none.
    public func activeHealth(service: String) -> [String: String] {
        guard let index = configuration.service(named: service), let targets = targets[index.position] else { return [:] }
        let states = targets.endpoints.indices.map { index in
            targets.active.map { $0.isHealthy(index) ? "healthy" : "unhealthy" } ?? "healthchecks_off"
        }
        return Dictionary(zip(targets.endpoints.map(\.address), states), uniquingKeysWith: { first, _ in first })
    }

    /// The breaker state of each target of `service` (by name or id), keyed by `host:port`.
    public func targetStates(service: String) -> [String: CircuitBreaker.State] {
        guard let index = configuration.service(named: service), let targets = targets[index.position] else { return [:] }
        return Dictionary(zip(targets.endpoints.map(\.address), targets.breakers.map(\.state)), uniquingKeysWith: { first, _ in first })
    }

    /// The responder to serve: every request goes through ``respond(to:context:)``.
    public func buildResponder() -> CallbackResponder<GatewayRequestContext> {
        CallbackResponder { [self] request, context in try await self.respond(to: request, context: context) }
    }

    public func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        try await respond(to: request, context: context, finished: nil)
    }

    /// ``respond(to:context:)``, calling `finished` once the response has been written (or dropped) — the one hook
    /// per request that ``LiveGateway`` needs to know when a configuration's last request is over.
    func respond(to request: Request, context: GatewayRequestContext, finished: (@Sendable () -> Void)?) async throws -> Response {
        let started = ContinuousClock.now
        let startedAt = now()
        let head = request.head
        // The body bytes read, for the logging plugins' sizes (counted as they stream, when a logging plugin is
        // configured at all; a request without a body has none).
        let countsRequestBody =
            hasLoggingPlugins && (head.headerFields[.contentLength].map { $0 != "0" } ?? (head.headerFields[.transferEncoding] != nil))
        let received = countsRequestBody ? ByteCount() : nil
        var request = request
        if let received {
            request.body = RequestBody(
                asyncSequence: ObservedBody(base: request.body) { if case .part(let buffer) = $0 { received.add(buffer.readableBytes) } }
            )
        }
        let host = head.authority
        let routeRequest = RouteRequest(
            method: head.method.rawValue,
            host: host,
            target: head.path ?? "/",
            headers: head.headerFields.map { ($0.name.canonicalName, $0.value) }
        )
        guard let match = router.match(routeRequest) else {
            let response = GatewayProblem.response(
                404,
                "no-route",
                "No Route matched",
                "no route matches \(head.method.rawValue) \(host ?? "")\(request.uri.path)"
            )
            analytics.record(route: GatewayAnalytics.noRoute, service: nil, consumer: nil, status: 404, latency: .now - started)
            finished?()  // nothing upstream to wait for
            return response
        }
        guard let serviceIndex = match.service, let targets = targets[serviceIndex.position] else {
            finished?()
            return GatewayProblem.response(
                503,
                "route-without-service",
                "Route without a service",
                "the matched route has no enabled service to proxy to"
            )
        }
        var plugin = PluginContext(
            head: head,
            query: match.query,
            clientAddress: context.remoteAddress?.ipAddress,
            route: match.route,
            service: serviceIndex
        )
        let response: Response
        let source: GatewayMetrics.Source
        if let answer = try await runPlugins(&plugin) {
            response = Self.adding(plugin, to: answer)
            source = .exit
        } else {
            let forwarded = try await forward(request, plugin: plugin, match: match, service: serviceIndex, targets: targets, port: context.localPort)
            response = Self.adding(plugin, to: forwarded.response)
            source = forwarded.source
        }
        let (route, service) = (configuration[match.route], configuration[serviceIndex])
        let routeName = route.name ?? route.id ?? "routes[\(match.route.position)]"
        let serviceName = service.name ?? service.host
        let consumer = plugin.consumer.map { configuration[$0] } ?? plugin.externalConsumer.map { Consumer(id: $0) }
        let consumerName = consumer.flatMap { $0.username ?? $0.id }
        // A request a plugin answered before the logging plugins' turn is logged by the ones that apply to it.
        let loggers = source == .exit && plugin.loggers.isEmpty ? loggingPlugins(for: plugin) : plugin.loggers
        let upstreamURI = source == .exit ? nil : (plugin.upstreamPath ?? match.upstreamPath) + (plugin.query.map { "?\($0)" } ?? "")
        let (analytics, status, responseHeaders) = (analytics, response.status.code, response.headers)
        let clientAddress = plugin.clientAddress
        let responseStatus = response.status
        // Bytes are counted only for the logging plugins (prometheus's bandwidth, file-log's sizes).
        return InFlight.finishing(response, countingBytes: !loggers.isEmpty) { sent in
            defer { finished?() }
            let latency = ContinuousClock.now - started
            analytics.record(
                route: routeName,
                service: serviceName,
                consumer: consumerName,
                status: status,
                latency: latency
            )
            guard !loggers.isEmpty else { return }
            let log = RequestLog(
                request: head,
                clientAddress: clientAddress,
                startedAt: startedAt,
                route: route,
                service: service,
                consumer: consumer,
                upstreamURI: upstreamURI,
                status: status,
                responseHeaders: responseHeaders,
                source: source,
                latency: latency,
                requestBytes: head.serializedSize + (received?.value ?? 0),
                responseBytes: HTTPResponse(status: responseStatus, headerFields: responseHeaders).serializedSize + sent
            )
            for logger in loggers { logger.log(log) }
        }
    }

    /// The logging plugins that apply to a request, by Kong's precedence.
    private func loggingPlugins(for context: PluginContext) -> [any LoggingPlugin] {
        Self.loggingPluginNames.compactMap { name in
            resolver.plugin(named: name, route: context.route, service: context.service, consumer: context.consumer)
                .flatMap { plugins[$0] as? any LoggingPlugin }
        }
    }

    private static let loggingPluginNames = ["prometheus", "file-log"]

    /// The access phase: each plugin that applies, in Kong's order; once one identifies the consumer, the plugins
    /// still to run are picked again for that consumer (its own instances win, as in Kong).
    private func runPlugins(_ context: inout PluginContext) async throws -> Response? {
        guard !plugins.isEmpty else { return nil }
        var pending = resolver.plugins(route: context.route, service: context.service, consumer: nil)[...]
        while let instance = pending.popFirst() {
            guard let plugin = plugins[instance] else { continue }
            let consumer = context.consumer
            if let answer = try await plugin.access(&context) { return answer }
            if context.consumer != consumer, let identified = context.consumer {
                let priority = instance.configuration.executionPriority
                pending =
                    resolver.plugins(route: context.route, service: context.service, consumer: identified)
                    .filter { $0.configuration.executionPriority < priority }[...]
            }
        }
        return nil
    }

    private func forward(
        _ request: Request,
        plugin: PluginContext,
        match: RouteMatch,
        service serviceIndex: EntityIndex<Service>,
        targets: ServiceTargets,
        port: Int?
    ) async throws -> (response: Response, source: GatewayMetrics.Source) {
        let service = configuration[serviceIndex]
        let route = configuration[match.route]
        let head = plugin.head
        let host = head.authority
        let client = ForwardingHeaders.Client(address: plugin.clientAddress, scheme: "http", host: host, port: port)
        var fields = head.headerFields
        ForwardingHeaders.removeHopByHop(&fields)
        fields[.contentLength] = nil
        ForwardingHeaders.addForwarding(&fields, client: client, strippedPrefix: route.stripPath ? match.matchedPath : nil)

        let length = head.headerFields[.contentLength].flatMap(Int64.init)
        let hasBody = (length ?? 0) > 0 || head.headerFields[.transferEncoding] != nil
        let retriable = Self.idempotent.contains(head.method) && !hasBody
        let key = hashKey(targets, request: request, client: client, match: match)
        let pathAndQuery = (plugin.upstreamPath ?? match.upstreamPath) + (plugin.query.map { "?\($0)" } ?? "")
        let problem = { (status: Int, type: String, title: String, detail: String, headers: HTTPFields) in
            GatewayProblem.response(status, type, title, detail, headers: headers, correlationID: plugin.correlationID)
        }

        // A body a plugin edits is read whole first (and so sent with its new length); any other streams.
        var edited: ByteBuffer?
        if hasBody, let transform = plugin.requestBodyTransform {
            let limit = min(plugin.bodyLimit ?? .max, RequestTransformerPlugin.bodyLimit)
            let whole: ByteBuffer
            do {
                whole = try await request.body.collect(upTo: limit)
            } catch {
                return (RequestSizeLimitingPlugin.tooLarge(limit, correlationID: plugin.correlationID), .exit)
            }
            do {
                edited = try transform(whole)
            } catch {
                let detail = "the request body could not be transformed: it is not a JSON object"
                return (problem(400, "invalid-body", "Invalid body", detail, [:]), .exit)
            }
        }

        budget.recordCall()
        var tried = Set<Int>()
        var attempts = 0
        var lastFailure: Response?
        var retryAfter: Duration?
        while true {
            let available = { (index: Int) in !tried.contains(index) && targets.active?.isHealthy(index) != false }
            guard let index = targets.balancer.pick(key: key, isAvailable: available) else {
                if let lastFailure { return (lastFailure, .kong) }
                let seconds = max(1, Int(((retryAfter ?? .seconds(1)).inSeconds).rounded(.up)))
                let unavailable = problem(
                    503,
                    "no-healthy-target",
                    "No healthy target",
                    "every target of service \(service.name ?? service.host) is failing: its circuit breakers are open or its health checks fail",
                    [.retryAfter: String(seconds)]
                )
                return (unavailable, .kong)
            }
            tried.insert(index)
            let breaker = targets.breakers[index]
            let permit: CircuitBreaker.Permit
            do {
                permit = try breaker.acquirePermission()
            } catch let open as CircuitBreakerOpenError {
                if let wait = open.retryAfter { retryAfter = min(retryAfter ?? wait, wait) }
                continue
            }
            let endpoint = targets.endpoints[index]
            var upstream = HTTPClientRequest(url: "\(service.scheme.rawValue)://\(endpoint.address)\(pathAndQuery)")
            upstream.method = HTTPMethod(rawValue: head.method.rawValue)
            var outgoing = fields
            outgoing[Self.hostField] =
                route.preserveHost ? (host ?? endpoint.address) : (targets.hostHeader ?? Self.hostValue(endpoint, scheme: service.scheme))
            upstream.headers = HTTPHeaders(outgoing.map { ($0.name.rawName, $0.value) })
            if let edited {
                upstream.body = .bytes(edited)
            } else if hasBody {
                let bodyLength: HTTPClientRequest.Body.Length = length.map { .known($0) } ?? .unknown
                if let limit = plugin.bodyLimit {
                    upstream.body = .stream(LimitedBody(base: request.body, limit: limit), length: bodyLength)
                } else {
                    upstream.body = .stream(request.body, length: bodyLength)
                }
            }
            attempts += 1
            targets.balancer.started(index)
            let started = ContinuousClock.now
            do {
                let response = try await clients[serviceIndex.position].execute(upstream, deadline: .distantFuture, logger: logger)
                breaker.record(permit, failed: targets.failureStatuses.contains(Int(response.status.code)), duration: .now - started)
                let inFlight = InFlight { targets.balancer.finished(index) }
                if let transformer = plugin.responseTransformer, transformer.editsBody(contentType: response.headers.first(name: "content-type")) {
                    return (await Self.transformedResponse(from: response, transformer, inFlight: inFlight, cache: plugin.cache), .service)
                }
                return (Self.response(from: response, inFlight: inFlight, cache: plugin.cache), .service)
            } catch {
                targets.balancer.finished(index)
                if error is CancellationError || Task.isCancelled {
                    breaker.release(permit)
                    throw error
                }
                if let tooLarge = error as? BodyTooLarge {
                    // The client's fault, not the target's.
                    breaker.release(permit)
                    return (RequestSizeLimitingPlugin.tooLarge(tooLarge.limit, correlationID: plugin.correlationID), .exit)
                }
                breaker.record(permit, failed: true, duration: .now - started)
                let timedOut = Self.isTimeout(error)
                logger.warning(
                    "gateway: upstream attempt failed",
                    metadata: [
                        "service": "\(service.name ?? service.host)", "target": "\(endpoint.address)", "attempt": "\(attempts)",
                        "error": "\(String(describing: error))",
                    ]
                )
                lastFailure =
                    timedOut
                    ? problem(504, "upstream-timeout", "Upstream timed out", "target \(endpoint.address) did not answer in time", [:])
                    : problem(502, "upstream-unreachable", "Upstream unreachable", "target \(endpoint.address) could not be reached", [:])
                guard retriable, attempts <= service.retries, budget.tryWithdrawRetry() else { return (lastFailure!, .kong) }
            }
        }
    }

    /// The plugins' response headers on `response`: response-transformer's edits first, then each plugin header
    /// replacing the upstream's field of its name; `Vary` gains `Origin` when a plugin's answer depends on it.
    private static func adding(_ plugin: PluginContext, to response: Response) -> Response {
        guard !plugin.responseHeaders.isEmpty || plugin.varyOrigin || plugin.responseTransformer != nil else { return response }
        var response = response
        plugin.responseTransformer?.transformHeaders(&response.headers)
        for field in plugin.responseHeaders { response.headers[field.name] = field.value }
        if plugin.varyOrigin {
            let vary = response.headers[values: .vary].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            if !vary.contains(where: { $0 == "*" || $0.lowercased() == "origin" }) {
                response.headers[.vary] = (vary + ["Origin"]).joined(separator: ", ")
            }
        }
        return response
    }

    private static let hostField = HTTPField.Name("Host")!

    static let idempotent: Set<HTTPRequest.Method> = [.get, .head, .options, .put, .delete, .trace]

    private static func hostValue(_ endpoint: Target, scheme: Service.UpstreamScheme) -> String {
        let defaultPort = scheme == .https ? 443 : 80
        return endpoint.port == defaultPort ? endpoint.host : endpoint.address
    }

    private func hashKey(_ targets: ServiceTargets, request: Request, client: ForwardingHeaders.Client, match: RouteMatch) -> String? {
        guard targets.balancer.algorithm == .consistentHashing else { return nil }
        return Self.key(targets.hashOn, request: request, client: client, match: match)
            ?? Self.key(targets.hashFallback, request: request, client: client, match: match)
    }

    private static func key(_ input: Upstream.HashInput, request: Request, client: ForwardingHeaders.Client, match: RouteMatch) -> String? {
        switch input {
        case .none, .consumer: return nil
        case .ip: return client.address
        case .header(let name):
            guard let field = HTTPField.Name(name) else { return nil }
            let values = request.headers[values: field]
            return values.isEmpty ? nil : values.joined(separator: ",")
        case .cookie(let name, _):
            for header in request.headers[values: .cookie] {
                for pair in header.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
                }
            }
            return nil
        case .path: return request.uri.path
        case .queryArgument(let name): return request.uri.queryParameters[Substring(name)].map(String.init)
        case .uriCapture(let name): return match.namedCaptures[name]
        }
    }

    private static func isTimeout(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .readTimeout || error == .connectTimeout || error == .deadlineExceeded || error == .writeTimeout
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        return false
    }

    /// The upstream's JSON response with its body edited by response-transformer (read whole, up to the plugin's
    /// limit: a longer one is a 502; a body that is not a JSON object passes unchanged).
    private static func transformedResponse(
        from upstream: HTTPClientResponse,
        _ transformer: ResponseTransformerPlugin,
        inFlight: InFlight,
        cache: ProxyCachePlugin.Pending?
    ) async -> Response {
        defer { inFlight.finish() }
        var head = response(from: upstream, inFlight: inFlight, cache: nil)
        let whole: ByteBuffer
        do {
            whole = try await upstream.body.collect(upTo: ResponseTransformerPlugin.bodyLimit)
        } catch {
            let detail = "the upstream's JSON response is over \(ResponseTransformerPlugin.bodyLimit) bytes, too large to transform"
            return GatewayProblem.response(502, "upstream-response-too-large", "Upstream response too large", detail)
        }
        let body = (try? transformer.transformBody(whole)) ?? whole
        head.headers[.contentLength] = String(body.readableBytes)
        head.body = ResponseBody(byteBuffer: body)
        if let cache, let capture = cache.plugin.capture(cache, status: head.status, headers: &head.headers) { capture.store(body) }
        return head
    }

    /// The upstream's response as the client gets it, its body streamed (and copied into proxy-cache when `cache`
    /// says so and the response may be stored).
    private static func response(from upstream: HTTPClientResponse, inFlight: InFlight, cache: ProxyCachePlugin.Pending?) -> Response {
        var fields = HTTPFields()
        for (name, value) in upstream.headers {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        ForwardingHeaders.removeHopByHop(&fields)
        fields.append(HTTPField(name: .via, value: ForwardingHeaders.via))
        let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)
        let capture = cache.flatMap { $0.plugin.capture($0, status: status, headers: &fields) }
        let body = ObservedBody(base: upstream.body) { event in
            switch event {
            case .part(let buffer): capture?.append(buffer)
            case .end:
                capture?.finish()
                inFlight.finish()
            case .failure: inFlight.finish()
            }
        }
        return Response(status: status, headers: fields, body: ResponseBody(asyncSequence: body))
    }

}

/// Calls `onFinish` once: when the response body ends, or when it is dropped unread (a client that went away).
final class InFlight: Sendable {
    private let onFinish: @Sendable () -> Void
    private let done = Atomic<Bool>(false)

    init(_ onFinish: @escaping @Sendable () -> Void) { self.onFinish = onFinish }

    func finish() {
        if !done.exchange(true, ordering: .acquiringAndReleasing) { onFinish() }
    }

    deinit { finish() }
}

extension InFlight {
    /// `response` with `onFinish` called once its body has been written or once it is dropped unwritten (the client
    /// went away), with the body bytes written when `countingBytes` (so far, when it was dropped), 0 otherwise.
    static func finishing(
        _ response: Response,
        countingBytes: Bool,
        _ onFinish: @escaping @Sendable (_ bytesWritten: Int) -> Void
    ) -> Response {
        let sent = countingBytes ? ByteCount() : nil
        let finished = InFlight { onFinish(sent?.value ?? 0) }
        var response = response
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { finished.finish() }
            guard let sent else { return try await body.write(writer) }
            try await body.write(
                writer.map { buffer in
                    sent.add(buffer.readableBytes)
                    return buffer
                }
            )
        }
        return response
    }
}

/// Bytes counted as they pass.
final class ByteCount: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ bytes: Int) { count.add(bytes, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// A body passed through as it arrives, each part and its end (or failure) told to `observe` — to count bytes, copy
/// the body, or learn when it is over.
struct ObservedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    enum Event {
        case part(ByteBuffer)
        case end
        case failure
    }

    typealias Element = ByteBuffer
    let base: Base
    let observe: @Sendable (Event) -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let observe: @Sendable (Event) -> Void

        mutating func next() async throws -> ByteBuffer? {
            do {
                guard let buffer = try await base.next() else {
                    observe(.end)
                    return nil
                }
                observe(.part(buffer))
                return buffer
            } catch {
                observe(.failure)
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), observe: observe) }
}
