import AsyncHTTPClient
import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeCore
import Logging
import Metrics
import NIOCore
import Persistence
import Resilience
import ServiceLifecycle
import Synchronization
import Tracing
import WebhooksSigning

/// Delivers webhooks reliably: durably queued, signed, retried on a schedule, dead-lettered, replayable.
///
/// - ``publish(eventType:payload:messageID:)`` stores the message and one delivery per subscribed endpoint in one
///   transaction; once it returns, nothing is lost to a crash or restart.
/// - The engine (a ServiceLifecycle `Service`) claims due deliveries with a lease and sends them: signed with the
///   endpoint's scheme (both secrets during a rotation overlap), no redirects, a request timeout, at most
///   `maxConcurrency` in flight per endpoint, behind a circuit breaker per endpoint.
/// - A failed attempt is retried after the next delay of the schedule (Svix's by default: immediately, 5 s,
///   5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each with ±10% jitter); after the last it is dead-lettered (`failed`).
/// - `410 Gone` disables the endpoint at once; an endpoint whose every delivery has failed for `disableAfter`
///   (5 days) is disabled too. Either way an `interchange.endpoint.disabled` event goes to endpoints that
///   subscribe to it by name, and a warning is logged.
/// - Every attempt is logged (time, status, latency, the start of the response).
/// - Targets resolving to private, loopback or link-local addresses are refused (``SSRFGuard``).
///
/// ```swift
/// let engine = try WebhookDeliveryEngine(database: database)
/// try await engine.prepare()
/// let endpoint = try await engine.createEndpoint(url: "https://example.com/hooks", eventTypes: ["order.*"])
/// try await engine.publish(eventType: "order.created", payload: Data(#"{"id":"o_1"}"#.utf8))
/// // run `engine` in your ServiceGroup
/// ```
public final class WebhookDeliveryEngine: Service, Sendable {
    public struct Configuration: Sendable {
        /// The delay before each attempt; the first is usually zero. Its length is the number of attempts.
        public var schedule: [Duration]
        /// Each delay is varied by up to this fraction either way (0.1 = ±10%), so retries do not arrive in waves.
        public var jitter: Double
        /// Time allowed for one attempt, connection to last byte.
        public var requestTimeout: Duration
        /// An endpoint whose every delivery has failed for this long is disabled.
        public var disableAfter: Duration
        /// Deliveries in flight at once, across all endpoints.
        public var maxConcurrentDeliveries: Int
        /// Deliveries in flight at once to one endpoint, unless the endpoint says otherwise.
        public var defaultEndpointConcurrency: Int
        /// How often an idle engine looks for due deliveries.
        public var pollInterval: Duration
        /// How long the previous secret keeps signing after a rotation.
        public var secretRotationOverlap: Duration
        public var ssrfGuard: SSRFGuard
        /// The breaker kept for each endpoint.
        public var endpointCircuitBreaker: CircuitBreaker.Configuration
        /// Largest payload accepted by ``WebhookDeliveryEngine/publish(eventType:payload:messageID:)``.
        public var maxPayloadSize: Int
        /// How endpoint signing secrets are stored: encrypted with a key (what `interchange` does), or as they are.
        public var secretSealer: SecretSealer

        /// Svix's retry schedule.
        public static let svixSchedule: [Duration] = [
            .zero, .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3600), .seconds(5 * 3600), .seconds(10 * 3600),
            .seconds(10 * 3600),
        ]

        public init(
            schedule: [Duration] = Configuration.svixSchedule,
            jitter: Double = 0.1,
            requestTimeout: Duration = .seconds(15),
            disableAfter: Duration = .seconds(5 * 24 * 3600),
            maxConcurrentDeliveries: Int = 32,
            defaultEndpointConcurrency: Int = 4,
            pollInterval: Duration = .seconds(1),
            secretRotationOverlap: Duration = .seconds(24 * 3600),
            ssrfGuard: SSRFGuard = SSRFGuard(),
            endpointCircuitBreaker: CircuitBreaker.Configuration = .init(
                failureRateThreshold: 50,
                slidingWindow: .countBased(size: 20),
                minimumNumberOfCalls: 10,
                waitDurationInOpenState: .seconds(60),
                permittedCallsInHalfOpenState: 1
            ),
            maxPayloadSize: Int = 256 * 1024,
            secretSealer: SecretSealer = .plaintext
        ) {
            self.schedule = schedule
            self.jitter = jitter
            self.requestTimeout = requestTimeout
            self.disableAfter = disableAfter
            self.maxConcurrentDeliveries = maxConcurrentDeliveries
            self.defaultEndpointConcurrency = defaultEndpointConcurrency
            self.pollInterval = pollInterval
            self.secretRotationOverlap = secretRotationOverlap
            self.ssrfGuard = ssrfGuard
            self.endpointCircuitBreaker = endpointCircuitBreaker
            self.maxPayloadSize = maxPayloadSize
            self.secretSealer = secretSealer
        }

        /// Throws ``ConfigurationError`` naming the first invalid field.
        public func validate() throws {
            try ConfigurationError.require(!schedule.isEmpty, field: "schedule", "needs at least one attempt", got: "[]")
            for delay in schedule {
                try ConfigurationError.require(delay >= .zero, field: "schedule", "delays must not be negative", got: delay)
            }
            try ConfigurationError.require(jitter >= 0 && jitter <= 0.5, field: "jitter", "must be between 0 and 0.5", got: jitter)
            try ConfigurationError.require(requestTimeout > .zero, field: "requestTimeout", "must be positive", got: requestTimeout)
            try ConfigurationError.require(disableAfter > .zero, field: "disableAfter", "must be positive", got: disableAfter)
            try ConfigurationError.require(
                maxConcurrentDeliveries >= 1,
                field: "maxConcurrentDeliveries",
                "must be at least 1",
                got: maxConcurrentDeliveries
            )
            try ConfigurationError.require(
                defaultEndpointConcurrency >= 1,
                field: "defaultEndpointConcurrency",
                "must be at least 1",
                got: defaultEndpointConcurrency
            )
            try ConfigurationError.require(pollInterval > .zero, field: "pollInterval", "must be positive", got: pollInterval)
            try ConfigurationError.require(maxPayloadSize >= 1, field: "maxPayloadSize", "must be at least 1", got: maxPayloadSize)
            do {
                try endpointCircuitBreaker.validate()
            } catch let error as ConfigurationError {
                throw error.nested(under: "endpointCircuitBreaker")
            }
        }

        /// How long a claimed delivery stays hidden from other workers: long enough for any attempt to finish.
        var lease: Duration { requestTimeout * 2 + .seconds(30) }
    }

    /// The event type announcing that an endpoint was disabled.
    public static let endpointDisabledEventType = "interchange.endpoint.disabled"

    public let store: WebhookStore
    public let configuration: Configuration
    private let client: ResilientHTTPClient
    private let httpClient: HTTPClient
    /// Where deliveries connect through, so the address the SSRF guard judged is the one connected to (nil when
    /// the guard allows every target).
    private let connectProxy: SSRFGuard.ConnectProxy?
    private let logger: Logger
    private let clock: AnyClock
    let now: @Sendable () -> Date
    private let jitterSource: JitterSource
    private let metrics: DeliveryMetrics
    private let guards = Mutex<[String: EndpointGuards]>([:])

    /// - Parameters:
    ///   - clock: drives the idle poll; inject a manual clock in tests.
    ///   - now: the wall clock used for every stored time and schedule.
    /// - Throws: ``ConfigurationError`` naming the first invalid field.
    public init(
        database: Database,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "interchange.webhooks"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        tracer: (any Tracer)? = InstrumentationSystem.tracer,
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        jitterSource: JitterSource = .system
    ) throws {
        try configuration.validate()
        self.store = WebhookStore(database: database, sealer: configuration.secretSealer)
        self.configuration = configuration
        self.logger = logger
        self.clock = AnyClock(clock)
        self.now = now
        self.jitterSource = jitterSource
        self.metrics = DeliveryMetrics(factory: metricsFactory)
        // Connections go through the guard's CONNECT proxy, which connects only to an address it judged (no DNS
        // rebinding between check and connect). Never follow redirects: a receiver's 3xx is a failed attempt, and
        // cannot bounce a delivery past the SSRF guard.
        let connectProxy: SSRFGuard.ConnectProxy? =
            configuration.ssrfGuard.allowsEveryTarget
            ? nil : try SSRFGuard.ConnectProxy.start(guard: configuration.ssrfGuard, connectTimeout: .seconds(10))
        var httpConfiguration = HTTPClient.Configuration.interchange(
            maxConnectionsPerHost: configuration.defaultEndpointConcurrency,
            followRedirects: false,
            tracer: tracer
        )
        httpConfiguration.proxy = connectProxy?.proxy
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        self.httpClient = httpClient
        self.connectProxy = connectProxy
        do {
            self.client = try ResilientHTTPClient(
                configuration: .init(
                    defaultPolicy: HostPolicy(
                        retry: .disabled,
                        circuitBreaker: nil,
                        attemptTimeout: configuration.requestTimeout,
                        totalTimeout: configuration.requestTimeout
                    ),
                    maxResponseBodySize: 1024 * 1024,
                    userAgent: "Interchange-Webhooks/1.0"
                ),
                httpClient: httpClient,
                logger: logger,
                metricsFactory: metricsFactory,
                tracer: tracer,
                clock: self.clock,
                now: now
            )
        } catch {
            try? httpClient.syncShutdown()
            connectProxy?.closeNow()
            throw error
        }
    }

    /// Creates the engine's tables when missing, and seals endpoint secrets still stored in plaintext.
    public func prepare() async throws {
        try await store.database.migrate(WebhookStore.migrations)
        let sealed = try await store.sealPlaintextSecrets()
        if sealed > 0 { logger.notice("sealed plaintext endpoint secrets", metadata: ["endpoints": "\(sealed)"]) }
    }

    /// Closes the engine's HTTP connections. Call after the service has stopped.
    public func shutdown() async throws {
        try await httpClient.shutdown()
        try await connectProxy?.shutdown()
    }

    // MARK: Publishing

    /// The outcome of ``publish(eventType:payload:messageID:)``.
    public struct Publication: Sendable, Hashable {
        public var messageID: String
        /// Deliveries created; empty when no endpoint subscribes, or when `messageID` was published before.
        public var deliveryIDs: [String]
    }

    /// Stores the event and a delivery to every enabled endpoint that subscribes to `eventType`.
    ///
    /// Publishing the same `messageID` twice creates nothing the second time, so a publisher can retry safely.
    /// - Throws: ``ConfigurationError`` naming `payload` or `eventType` when they are unusable.
    @discardableResult
    public func publish(eventType: String, payload: Data, messageID: String? = nil) async throws -> Publication {
        try Self.validate(eventType: eventType)
        try ConfigurationError.require(
            payload.count <= configuration.maxPayloadSize,
            field: "payload",
            "exceeds the limit of \(configuration.maxPayloadSize) bytes",
            got: "\(payload.count) bytes"
        )
        let id = messageID ?? WebhookSigner.generateMessageID()
        let timestamp = now()
        let isOperational = eventType.hasPrefix("interchange.")
        let targets = try await store.endpoints().filter { endpoint in
            // Operational events go only to endpoints that name them; a catch-all subscription does not include them.
            endpoint.enabled && (isOperational ? endpoint.eventTypes.contains(eventType) : endpoint.accepts(eventType))
        }
        let message = WebhookMessage(id: id, eventType: eventType, payload: payload, createdAt: timestamp)
        let deliveries = try await store.publish(message, to: targets, maxAttempts: configuration.schedule.count, now: timestamp)
        return Publication(messageID: id, deliveryIDs: deliveries.map(\.id))
    }

    /// Sends a `webhook.test` event to one endpoint, whatever it subscribes to.
    public func sendTestEvent(to endpointID: String) async throws -> WebhookDelivery {
        guard let endpoint = try await store.endpoint(id: endpointID) else { throw WebhookAdminError.endpointNotFound(endpointID) }
        let timestamp = now()
        let payload = Data(#"{"type":"webhook.test","data":{"message":"A test event from Interchange"}}"#.utf8)
        let message = WebhookMessage(id: WebhookSigner.generateMessageID(), eventType: "webhook.test", payload: payload, createdAt: timestamp)
        guard let delivery = try await store.publish(message, to: [endpoint], maxAttempts: 1, now: timestamp).first else {
            throw WebhookAdminError.endpointNotFound(endpointID)
        }
        return delivery
    }

    // MARK: Delivering

    /// Runs until graceful shutdown: delivers what is due, then waits `pollInterval` when there is nothing to do.
    /// Deliveries in flight at shutdown finish first.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let delivered = await processDue()
            if delivered == 0 {
                try? await cancelWhenGracefulShutdown { [clock, configuration] in
                    try await clock.sleep(for: configuration.pollInterval)
                }
            }
        }
    }

    /// Claims the deliveries that are due (up to `maxConcurrentDeliveries`) and attempts each once, concurrently.
    /// Returns how many were attempted. Tests and tools call it directly to step the engine.
    @discardableResult
    public func processDue() async -> Int {
        let claims: [WebhookStore.Claim]
        do {
            claims = try await store.claimDue(limit: configuration.maxConcurrentDeliveries, lease: configuration.lease, now: now())
        } catch {
            logger.error("cannot claim webhook deliveries", metadata: ["error": "\(error)"])
            return 0
        }
        let completions = await withTaskGroup(of: WebhookStore.Completion?.self) { group in
            for claim in claims {
                group.addTask { await self.attempt(claim) }
            }
            var all: [WebhookStore.Completion] = []
            for await completion in group {
                if let completion { all.append(completion) }
            }
            return all
        }
        do {
            // One commit for the batch; until then the deliveries stay leased, so a crash means a retry, not a loss.
            for (endpointID, reason) in try await store.complete(completions) {
                if let endpoint = claims.first(where: { $0.delivery.endpointID == endpointID })?.endpoint {
                    await endpointDisabled(endpoint, reason: reason, at: now())
                }
            }
        } catch {
            // The database refused the outcomes: the leases expire and the deliveries are attempted again.
            logger.error("cannot record webhook delivery outcomes", metadata: ["deliveries": "\(completions.count)", "error": "\(error)"])
        }
        return claims.count
    }

    /// Makes one attempt of a claimed delivery and returns what to record (nil: nothing, the lease will expire).
    ///
    /// Every decision is ``WebhookDeliveryStateMachine``'s; this sends the request and applies what it returns.
    private func attempt(_ claim: WebhookStore.Claim) async -> WebhookStore.Completion? {
        let startedAt = now()
        var machine = WebhookDeliveryStateMachine(
            delivery: claim.delivery,
            endpointIsFailing: claim.endpoint?.failingSince != nil,
            disableAfter: configuration.disableAfter,
            delayAfterAttempt: { [self] attempt in nextDelay(after: attempt) }
        )
        guard let endpoint = claim.endpoint, let message = claim.message else {
            return apply(.targetMissing(at: startedAt), to: &machine, attempt: nil)
        }
        guard endpoint.enabled else {
            return apply(.endpointDisabled(reason: endpoint.disabledReason, at: startedAt), to: &machine, attempt: nil)
        }
        let guards: EndpointGuards
        do {
            guards = try self.guards(for: endpoint)
        } catch {
            logger.error("cannot attempt a webhook delivery", metadata: ["delivery": "\(claim.delivery.id)", "error": "\(error)"])
            return nil
        }
        var attemptNumber = 0
        let outcome: SendOutcome
        do {
            // Timed on the engine's clock, so the breaker's slow-call threshold sees real durations.
            outcome = try await guards.attempt.run(countingAsFailure: \.countsAgainstEndpoint) { _ in
                attemptNumber = machine.beginAttempt()
                return try await send(message, to: endpoint)
            }
        } catch let open as CircuitBreakerOpenError where attemptNumber == 0 {
            // The endpoint is failing hard: wait for the breaker instead of spending an attempt.
            let wait = open.retryAfter ?? configuration.endpointCircuitBreaker.waitDurationInOpenState
            return apply(.circuitOpen(retryAfter: wait, at: startedAt), to: &machine, attempt: nil)
        } catch let violation as SSRFViolation {
            logger.warning("refused a webhook target", metadata: ["endpoint": "\(endpoint.id)", "reason": "\(violation)"])
            outcome = SendOutcome(result: .forbiddenTarget(reason: violation.description))
        } catch let unusable as UnusableEndpointURL {
            outcome = SendOutcome(result: .forbiddenTarget(reason: unusable.description))
        } catch let error as HTTPIntegrationError {
            outcome = SendOutcome(result: .failed(statusCode: nil, error: "\(error.code)\(error.reason.map { ": \($0)" } ?? "")"))
        } catch {
            outcome = SendOutcome(result: .failed(statusCode: nil, error: "\(error)"))
        }
        if attemptNumber == 0 { attemptNumber = machine.beginAttempt() }
        let finishedAt = now()
        let elapsed = finishedAt.timeIntervalSince(startedAt)
        metrics.latency.recordNanoseconds(Int64(elapsed * 1e9))
        let log = WebhookAttempt(
            deliveryID: claim.delivery.id,
            attempt: attemptNumber,
            startedAt: startedAt,
            durationMilliseconds: Int(elapsed * 1000),
            statusCode: outcome.statusCode,
            responseExcerpt: outcome.excerpt,
            error: outcome.error
        )
        return apply(.attempted(outcome.result, finishedAt: finishedAt), to: &machine, attempt: log)
    }

    private func apply(
        _ event: WebhookDeliveryStateMachine.Event,
        to machine: inout WebhookDeliveryStateMachine,
        attempt: WebhookAttempt?
    ) -> WebhookStore.Completion {
        let effect = machine.handle(event)
        metrics.outcome(effect.outcome)
        return .init(delivery: machine.delivery, attempt: attempt, endpointChange: effect.endpointChange)
    }

    private struct SendOutcome {
        var result: WebhookDeliveryStateMachine.AttemptResult
        var excerpt: String?

        var statusCode: Int? {
            switch result {
            case .succeeded(let code): code
            case .gone: 410
            case .failed(let code, _): code
            case .forbiddenTarget: nil
            }
        }

        var error: String? {
            switch result {
            case .succeeded, .gone: nil
            case .failed(_, let error): error
            case .forbiddenTarget(let reason): reason
            }
        }

        /// What the endpoint's breaker counts as a failure: anything but 2xx (refusals never reach it).
        var countsAgainstEndpoint: Bool {
            if case .succeeded = result { return false }
            return true
        }
    }

    /// Signs and sends one attempt. Throws ``SSRFViolation`` (a ``LocalRejection``: the breaker does not count
    /// it) when the target is refused, and the client's errors for transport failures and timeouts.
    private func send(_ message: WebhookMessage, to endpoint: WebhookEndpoint) async throws -> SendOutcome {
        guard let url = URL(string: endpoint.url), let host = url.host else {
            throw UnusableEndpointURL()
        }
        try await configuration.ssrfGuard.checkResolved(host: host)
        var request = ClientRequest(method: .post, url: url, body: ByteBuffer(data: message.payload))
        request.headerFields[.contentType] = "application/json"
        let signature = try WebhookSigner(scheme: endpoint.scheme).sign(
            payload: message.payload,
            secrets: endpoint.signingSecrets(at: now()),
            id: message.id,
            timestamp: now()
        )
        request.headerFields.append(contentsOf: signature.httpFields)
        if endpoint.scheme == .stripe {
            // Stripe puts the event id in the body; a header helps receivers that dedupe on it.
            request.headerFields[HTTPField.Name("Interchange-Event-Id")!] = message.id
        }
        let response: ClientResponse
        do {
            response = try await client.send(request)
        } catch {
            // The proxy refused the tunnel: say what the guard found at connect time.
            throw connectProxy?.refusal(for: url, behind: error) ?? error
        }
        let excerpt = response.bodyExcerpt(limit: 1024)
        switch response.status.code {
        case 200..<300: return SendOutcome(result: .succeeded(statusCode: response.status.code), excerpt: excerpt)
        case 410: return SendOutcome(result: .gone, excerpt: excerpt)
        default: return SendOutcome(result: .failed(statusCode: response.status.code, error: nil), excerpt: excerpt)
        }
    }

    /// The delay before the attempt after `attempt`, with jitter.
    func nextDelay(after attempt: Int) -> Duration {
        let base = configuration.schedule[min(attempt, configuration.schedule.count - 1)].inSeconds
        let factor = 1 + configuration.jitter * (2 * jitterSource.next() - 1)
        return .fromSeconds(max(0, base * factor))
    }

    private func endpointDisabled(_ endpoint: WebhookEndpoint, reason: String, at: Date) async {
        logger.warning("webhook endpoint disabled", metadata: ["endpoint": "\(endpoint.id)", "url": "\(endpoint.url)", "reason": "\(reason)"])
        metrics.disabled.increment()
        struct Notice: Encodable {
            let type: String
            let data: Data
            struct Data: Encodable {
                let endpointId: String
                let url: String
                let reason: String
                let disabledAt: Date
            }
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        do {
            let payload = try encoder.encode(
                Notice(type: Self.endpointDisabledEventType, data: .init(endpointId: endpoint.id, url: endpoint.url, reason: reason, disabledAt: at))
            )
            try await publish(eventType: Self.endpointDisabledEventType, payload: payload)
        } catch {
            logger.error("cannot publish the endpoint-disabled event", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Per-endpoint guards

    /// One endpoint's breaker and bulkhead, as one ``GuardedAttempt`` on the engine's clock.
    private struct EndpointGuards: Sendable {
        let attempt: GuardedAttempt
        let maxConcurrency: Int
    }

    private func guards(for endpoint: WebhookEndpoint) throws -> EndpointGuards {
        try guards.withLock { guards in
            if let existing = guards[endpoint.id], existing.maxConcurrency == endpoint.maxConcurrency { return existing }
            let name = "webhook:\(endpoint.id)"
            // Endpoints come and go: per-endpoint breaker metrics would grow one label set per endpoint, never
            // removed. The breakers report nothing themselves; the engine counts their transitions by state.
            let breaker = try CircuitBreaker(
                name: name,
                configuration: configuration.endpointCircuitBreaker,
                clock: clock,
                metricsFactory: NOOPMetricsHandler.instance,
                onEvent: { [metrics] event in metrics.breakerEvent(event) }
            )
            let bulkhead = try Bulkhead(name: name, maxConcurrentCalls: max(1, endpoint.maxConcurrency), maxQueuedCalls: 10_000)
            let created = EndpointGuards(
                attempt: GuardedAttempt(circuitBreaker: breaker, bulkhead: bulkhead, clock: clock),
                maxConcurrency: endpoint.maxConcurrency
            )
            guards[endpoint.id] = created
            return created
        }
    }

    /// Drops a deleted endpoint's breaker and bulkhead.
    func forgetGuards(endpointID: String) {
        _ = guards.withLock { $0.removeValue(forKey: endpointID) }
    }

    static func validate(eventType: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-*"))
        try ConfigurationError.require(
            !eventType.isEmpty && eventType.count <= 128 && eventType.unicodeScalars.allSatisfy { allowed.contains($0) },
            field: "eventType",
            "must be 1-128 letters, digits, '.', '_', '-' (and '*' in filters)",
            got: "'\(eventType.prefix(64))'"
        )
    }
}

/// A refusal by the SSRF guard is our own decision, not the endpoint failing: its breaker does not count it.
extension SSRFViolation: LocalRejection {}

/// The endpoint's stored URL cannot be parsed: repeating cannot help, and the endpoint's breaker does not count it.
private struct UnusableEndpointURL: LocalRejection, CustomStringConvertible {
    var description: String { "endpoint URL is not valid" }
}

/// Delivery counters, the attempt latency timer and the endpoint breakers' transitions — a fixed set of label
/// sets whatever the number of endpoints.
private struct DeliveryMetrics: Sendable {
    typealias Outcome = WebhookDeliveryStateMachine.Outcome
    private let counters: [Outcome: Counter]
    private let breakerTransitions: [CircuitBreaker.State: Counter]
    let latency: Metrics.Timer
    let disabled: Counter

    init(factory: any MetricsFactory) {
        var counters: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            counters[outcome] = Counter(
                label: "interchange_webhook_deliveries_total",
                dimensions: [("outcome", outcome.rawValue)],
                factory: factory
            )
        }
        self.counters = counters
        var transitions: [CircuitBreaker.State: Counter] = [:]
        for state in [CircuitBreaker.State.closed, .open, .halfOpen, .forcedOpen, .disabled] {
            transitions[state] = Counter(
                label: "interchange_webhook_endpoint_breaker_transitions_total",
                dimensions: [("to", state.rawValue)],
                factory: factory
            )
        }
        self.breakerTransitions = transitions
        latency = Metrics.Timer(label: "interchange_webhook_attempt_duration_seconds", factory: factory)
        disabled = Counter(label: "interchange_webhook_endpoints_disabled_total", factory: factory)
    }

    func outcome(_ outcome: Outcome) {
        counters[outcome]?.increment()
    }

    func breakerEvent(_ event: CircuitBreaker.Event) {
        if case .stateChanged(_, let to, _) = event { breakerTransitions[to]?.increment() }
    }
}
