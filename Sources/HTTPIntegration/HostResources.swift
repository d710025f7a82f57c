import Logging
import Metrics
import Resilience

/// The live state behind a host's policy: its breaker, limiter, bulkhead and retry budget,
/// created once per host and shared by every call to it.
final class HostResources: Sendable {
    let policy: HostPolicy
    let retry: RetryStrategy
    let breaker: CircuitBreaker?
    let limiter: RateLimiter?
    let bulkhead: Bulkhead?
    let retries: Counter

    init(
        key: String,
        policy: HostPolicy,
        clock: some Clock<Duration>,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) throws {
        self.policy = policy
        let retries = Counter(label: "interchange_http_client_retries_total", dimensions: [("host", key)], factory: metricsFactory)
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
                        "host": "\(key)",
                        "attempt": "\(event.attempt)",
                        "delay": "\(event.delay)",
                        "server_requested_delay": "\(event.serverRequestedDelay)",
                        "error": "\(event.error.map { "\($0)" } ?? "none")",
                    ]
                )
            }
        )
        breaker = try policy.circuitBreaker.map {
            try CircuitBreaker(name: key, configuration: $0, clock: clock, metricsFactory: metricsFactory) { event in
                if case .stateChanged(let from, let to, let totals) = event {
                    logger.info(
                        "circuit breaker changed state",
                        metadata: [
                            "host": "\(key)", "from": "\(from)", "to": "\(to)",
                            "failure_rate": "\(totals?.failureRate ?? 0)",
                        ]
                    )
                }
            }
        }
        limiter = try policy.rateLimit.map {
            try RateLimiter(name: key, algorithm: $0.algorithm, maxWait: $0.maxWait, clock: clock)
        }
        bulkhead = try policy.bulkhead.map {
            try Bulkhead(name: key, maxConcurrentCalls: $0.maxConcurrentCalls, maxQueuedCalls: $0.maxQueuedCalls)
        }
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
