import InterchangeCore
import Resilience

/// How requests to one host are made resilient. Configure per host in
/// ``ResilientHTTPClient/Configuration/hosts``; override per request with ``RequestOptions``.
///
/// ```swift
/// var github = HostPolicy.standard
/// github.authentication = .bearer(token)
/// github.rateLimit = RateLimitPolicy(algorithm: .tokenBucket(capacity: 10, refillPerSecond: 5), maxWait: .seconds(1))
/// ```
public struct HostPolicy: Sendable {
    /// What you call this dependency (`github`, `stripe`): the name of its breaker, limiter and bulkhead and the
    /// `upstream` label of its metrics. `nil` uses the client's ``ResilientHTTPClient/Configuration/name``, then
    /// the host key (`api.github.com`, `127.0.0.1:8081`).
    public var name: String?
    public var retry: RetryPolicy
    /// `nil` disables the breaker for the host.
    public var circuitBreaker: CircuitBreaker.Configuration?
    /// The client's own limit on calls to the host; `nil` for none.
    public var rateLimit: RateLimitPolicy?
    /// Caps concurrent calls to the host; `nil` for no cap.
    public var bulkhead: BulkheadPolicy?
    /// Limit for each attempt.
    public var attemptTimeout: Duration?
    /// Limit for the whole call, retries included.
    public var totalTimeout: Duration?
    public var authentication: (any AuthenticationProvider)?
    /// Adds a random `Idempotency-Key` to POST and PATCH requests that lack one, so they can be retried safely.
    public var generateIdempotencyKeys: Bool
    /// When the origin fails, serve a cached copy up to this stale (RFC 5861 stale-if-error); the response's own
    /// `Cache-Control: stale-if-error` wins when present. Needs ``ResilientHTTPClient/Configuration/cache``.
    public var staleIfError: Duration?

    public init(
        name: String? = nil,
        retry: RetryPolicy = RetryPolicy(),
        circuitBreaker: CircuitBreaker.Configuration? = HostPolicy.defaultCircuitBreaker,
        rateLimit: RateLimitPolicy? = nil,
        bulkhead: BulkheadPolicy? = nil,
        attemptTimeout: Duration? = .seconds(10),
        totalTimeout: Duration? = .seconds(30),
        authentication: (any AuthenticationProvider)? = nil,
        generateIdempotencyKeys: Bool = false,
        staleIfError: Duration? = nil
    ) {
        self.name = name
        self.retry = retry
        self.circuitBreaker = circuitBreaker
        self.rateLimit = rateLimit
        self.bulkhead = bulkhead
        self.attemptTimeout = attemptTimeout
        self.totalTimeout = totalTimeout
        self.authentication = authentication
        self.generateIdempotencyKeys = generateIdempotencyKeys
        self.staleIfError = staleIfError
    }

    /// Three attempts with jittered exponential backoff and a 20% retry budget, a circuit breaker that opens at
    /// 50% failures over the last 50 calls (once 20 were made), 10 s per attempt, 30 s per call.
    public static let standard = HostPolicy()

    /// The breaker ``standard`` uses.
    public static let defaultCircuitBreaker = CircuitBreaker.Configuration(
        failureRateThreshold: 50,
        slowCallDurationThreshold: .seconds(10),
        slidingWindow: .countBased(size: 50),
        minimumNumberOfCalls: 20,
        waitDurationInOpenState: .seconds(30),
        permittedCallsInHalfOpenState: 5
    )

    /// Checks every field, throwing ``ConfigurationError`` naming the first bad one.
    public func validate() throws {
        do { try retry.validate() } catch let error as ConfigurationError { throw error.nested(under: "retry") }
        do { try circuitBreaker?.validate() } catch let error as ConfigurationError { throw error.nested(under: "circuitBreaker") }
        for (field, value) in [("attemptTimeout", attemptTimeout), ("totalTimeout", totalTimeout), ("staleIfError", staleIfError)] {
            if let value {
                try ConfigurationError.require(value > .zero, field: field, "must be positive", got: value)
            }
        }
        if let rateLimit {
            do {
                _ = try RateLimiter(name: "validation", algorithm: rateLimit.algorithm, maxWait: rateLimit.maxWait)
            } catch let error as ConfigurationError {
                throw error.nested(under: "rateLimit")
            }
        }
        if let bulkhead {
            do {
                _ = try Bulkhead(name: "validation", maxConcurrentCalls: bulkhead.maxConcurrentCalls, maxQueuedCalls: bulkhead.maxQueuedCalls)
            } catch let error as ConfigurationError {
                throw error.nested(under: "bulkhead")
            }
        }
    }
}

/// How a host's failed attempts are retried.
public struct RetryPolicy: Sendable {
    /// Attempts including the first.
    public var maxAttempts: Int
    public var backoff: Backoff
    /// Caps retries at a share of recent calls to the host; `nil` for no cap.
    public var budget: RetryBudgetPolicy?
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    public var maxServerDelay: Duration
    /// Statuses worth another attempt (for requests that are safe to repeat).
    public var retryableStatuses: Set<Int>

    public init(
        maxAttempts: Int = 3,
        backoff: Backoff = .standard,
        budget: RetryBudgetPolicy? = RetryBudgetPolicy(),
        maxServerDelay: Duration = .seconds(60),
        retryableStatuses: Set<Int> = ResilientHTTPClient.defaultRetryableStatuses
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.budget = budget
        self.maxServerDelay = maxServerDelay
        self.retryableStatuses = retryableStatuses
    }

    /// One attempt, no retries.
    public static let disabled = RetryPolicy(maxAttempts: 1, budget: nil)

    func validate() throws {
        _ = try RetryStrategy(maxAttempts: maxAttempts, backoff: backoff, maxServerDelay: maxServerDelay)
        if let budget {
            do {
                _ = try RetryBudget(ratio: budget.ratio, minRetriesPerSecond: budget.minRetriesPerSecond, window: budget.window)
            } catch let error as ConfigurationError {
                throw error.nested(under: "budget")
            }
        }
        for status in retryableStatuses {
            try ConfigurationError.require((100...599).contains(status), field: "retryableStatuses", "must be HTTP status codes", got: status)
        }
    }
}

/// Settings for a host's ``RetryBudget``.
public struct RetryBudgetPolicy: Sendable, Hashable {
    public var ratio: Double
    public var minRetriesPerSecond: Double
    public var window: Duration

    public init(ratio: Double = 0.2, minRetriesPerSecond: Double = 10, window: Duration = .seconds(10)) {
        self.ratio = ratio
        self.minRetriesPerSecond = minRetriesPerSecond
        self.window = window
    }
}

/// Settings for a host's ``RateLimiter``.
public struct RateLimitPolicy: Sendable, Hashable {
    public var algorithm: RateLimiter.Algorithm
    public var maxWait: Duration

    public init(algorithm: RateLimiter.Algorithm, maxWait: Duration = .zero) {
        self.algorithm = algorithm
        self.maxWait = maxWait
    }
}

/// Settings for a host's ``Bulkhead``.
public struct BulkheadPolicy: Sendable, Hashable {
    public var maxConcurrentCalls: Int
    public var maxQueuedCalls: Int

    public init(maxConcurrentCalls: Int, maxQueuedCalls: Int = 0) {
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxQueuedCalls = maxQueuedCalls
    }
}
