import Foundation
import Logging
import Metrics
import Resilience

/// The live state behind a host's policy: its breaker, limiter, bulkhead and retry budget,
/// created once per host and shared by every call to it.
final class HostResources: Sendable {
    /// A small number unique to this host within its client (a metrics cache key).
    let id: Int
    /// The key the policy is configured under (`api.github.com`, or `host:port`), used as the metrics label.
    let key: String
    /// What the user calls the dependency: the policies' name and the metrics' `upstream` label.
    let name: String
    let policy: HostPolicy
    /// The middleware chain for this host's policy.
    let pipeline: ClientNext
    /// The same chain with the resilience step, for requests that override timeouts or attempts.
    let pipelineWithResilience: ClientNext
    let retry: RetryStrategy
    let breaker: CircuitBreaker?
    let limiter: RateLimiter?
    let bulkhead: Bulkhead?
    /// One attempt under the breaker, limiter and bulkhead (all on the client's clock).
    let attempt: GuardedAttempt
    let retries: Counter
    /// The retry predicate for this host's retryable requests.
    let retryPredicate: RetryPredicate<ClientResponse>
    /// The client's redaction plus the query parameters the host's authentication puts secrets in.
    let redaction: Redaction

    init(
        id: Int,
        key: String,
        name: String,
        policy: HostPolicy,
        pipeline: @escaping ClientNext,
        pipelineWithResilience: @escaping ClientNext,
        redaction: Redaction,
        clock: some Clock<Duration>,
        metricsFactory: any MetricsFactory,
        logger: Logger,
        now: @escaping @Sendable () -> Date
    ) throws {
        self.retryPredicate = ResilienceMiddleware.predicate(for: policy, now: now)
        self.id = id
        self.key = key
        self.name = name
        self.policy = policy
        self.pipeline = pipeline
        self.pipelineWithResilience = pipelineWithResilience
        self.redaction = policy.authentication.map { redaction.adding($0.secretQueryParameters) } ?? redaction
        let retries = Counter(label: "interchange_http_client_retries_total", dimensions: [("upstream", name)], factory: metricsFactory)
        self.retries = retries
        let budget = try policy.retry.budget.map {
            try RetryBudget(ratio: $0.ratio, minRetriesPerSecond: $0.minRetriesPerSecond, window: $0.window, clock: clock)
        }
        retry = try RetryStrategy(
            maxAttempts: policy.retry.maxAttempts,
            backoff: policy.retry.backoff,
            budget: budget,
            maxServerDelay: policy.retry.maxServerDelay,
            clock: clock,
            onRetry: { event in
                retries.increment()
                logger.debug(
                    "retrying request",
                    metadata: [
                        "upstream": "\(name)",
                        "attempt": "\(event.attempt)",
                        "delay": "\(event.delay)",
                        "server_requested_delay": "\(event.serverRequestedDelay)",
                        "error": "\(event.error.map { "\($0)" } ?? "none")",
                    ]
                )
            }
        )
        // The breaker and limiter must run on `clock` itself: the resilience step hands them its own readings of it.
        breaker = try policy.circuitBreaker.map {
            try CircuitBreaker(name: name, configuration: $0, clock: clock, metricsFactory: metricsFactory) { event in
                if case .stateChanged(let from, let to, let totals) = event {
                    logger.info(
                        "circuit breaker changed state",
                        metadata: [
                            "upstream": "\(name)", "from": "\(from)", "to": "\(to)",
                            "failure_rate": "\(totals?.failureRate ?? 0)",
                        ]
                    )
                }
            }
        }
        limiter = try policy.rateLimit.map {
            try RateLimiter(name: name, algorithm: $0.algorithm, maxWait: $0.maxWait, clock: clock)
        }
        bulkhead = try policy.bulkhead.map {
            try Bulkhead(name: name, maxConcurrentCalls: $0.maxConcurrentCalls, maxQueuedCalls: $0.maxQueuedCalls)
        }
        attempt = GuardedAttempt(circuitBreaker: breaker, rateLimiter: limiter, bulkhead: bulkhead, clock: clock)
    }

    /// The retry strategy for one request: the host's, or one with the request's own attempt limit
    /// sharing the host's budget.
    func retryStrategy(for options: RequestOptions, clock: some Clock<Duration>) throws -> RetryStrategy {
        guard let maxAttempts = options.maxAttempts, maxAttempts != retry.maxAttempts else { return retry }
        return try RetryStrategy(
            maxAttempts: maxAttempts,
            backoff: retry.backoff,
            budget: retry.budget,
            maxServerDelay: retry.maxServerDelay,
            clock: clock,
            onRetry: { [retries] _ in retries.increment() }
        )
    }
}
