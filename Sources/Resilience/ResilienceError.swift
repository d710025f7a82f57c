/// An error that knows whether retrying can help and how long the other side asked us to wait.
///
/// The default ``RetryPredicate`` consults it: a rejected call (open circuit, full bulkhead) is not retried,
/// a `503` with `Retry-After: 5` is retried after five seconds.
public protocol RetryClassifiable: Error {
    /// Whether another attempt might succeed.
    var isRetryable: Bool { get }
    /// A delay the server asked for (`Retry-After`), which overrides the computed backoff.
    var retryAfter: Duration? { get }
}

/// The operation did not finish within its time limit and was cancelled.
public struct TimeoutError: RetryClassifiable, Hashable, CustomStringConvertible {
    /// The limit that was exceeded.
    public let timeout: Duration
    public init(timeout: Duration) { self.timeout = timeout }
    public var isRetryable: Bool { true }
    public var retryAfter: Duration? { nil }
    public var description: String { "timed out after \(timeout)" }
}

/// The circuit breaker rejected the call without running it.
public struct CircuitBreakerOpenError: RetryClassifiable, Hashable, CustomStringConvertible {
    /// The breaker's name.
    public let name: String
    /// The state that rejected the call (`open`, `forcedOpen` or `halfOpen` with all probes in flight).
    public let state: CircuitBreaker.State
    /// How long until the breaker lets a probe call through, when known.
    public let retryAfter: Duration?
    public init(name: String, state: CircuitBreaker.State, retryAfter: Duration?) {
        self.name = name
        self.state = state
        self.retryAfter = retryAfter
    }
    public var isRetryable: Bool { false }
    public var description: String {
        var text = "circuit breaker '\(name)' is \(state) and rejected the call"
        if let retryAfter { text += "; retry in \(retryAfter)" }
        return text
    }
}

/// The rate limiter had no permit within the allowed wait.
public struct RateLimitExceededError: RetryClassifiable, Hashable, CustomStringConvertible {
    /// The limiter's name.
    public let name: String
    /// When a permit will next be available.
    public let retryAfter: Duration?
    public init(name: String, retryAfter: Duration?) {
        self.name = name
        self.retryAfter = retryAfter
    }
    public var isRetryable: Bool { false }
    public var description: String {
        var text = "rate limiter '\(name)' has no permit available"
        if let retryAfter { text += "; next permit in \(retryAfter)" }
        return text
    }
}

/// The bulkhead was at its concurrency limit and its queue was full.
public struct BulkheadFullError: RetryClassifiable, Hashable, CustomStringConvertible {
    /// The bulkhead's name.
    public let name: String
    public let maxConcurrentCalls: Int
    public let maxQueuedCalls: Int
    public init(name: String, maxConcurrentCalls: Int, maxQueuedCalls: Int) {
        self.name = name
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxQueuedCalls = maxQueuedCalls
    }
    public var isRetryable: Bool { false }
    public var retryAfter: Duration? { nil }
    public var description: String {
        "bulkhead '\(name)' is full (\(maxConcurrentCalls) running, \(maxQueuedCalls) queued)"
    }
}
