/// Resilience: composable policies that keep a call to an unreliable dependency from becoming an outage.
///
/// In the spirit of Polly v8's resilience pipelines and Resilience4j, with no HTTP in sight:
/// ``RetryStrategy`` (exponential backoff with full, equal or decorrelated jitter, a ``RetryBudget``,
/// server-given delays), ``CircuitBreaker`` (count- and time-based sliding windows, failure-rate and
/// slow-call-rate thresholds), ``RateLimiter`` (token bucket, sliding window), ``Bulkhead``, ``Timeout``
/// and ``Fallback``, composed outermost-first in a ``ResiliencePipeline``:
///
/// ```swift
/// let breaker = try CircuitBreaker(name: "weather", configuration: .init(failureRateThreshold: 50))
/// let pipeline = ResiliencePipeline<Forecast> {
///     Fallback { _ in .unavailable }
///     try Timeout(.seconds(10))                 // the whole call
///     try RetryStrategy(maxAttempts: 3)
///     breaker
///     try Timeout(.seconds(2))                  // each attempt
/// }
/// let forecast = try await pipeline.execute { try await fetchForecast() }
/// ```
///
/// Every policy takes any `Clock<Duration>`, so tests drive time with a manual clock instead of sleeping.
/// Shared state (breaker windows, buckets, budgets) lives behind a `Mutex`, not an actor, so a decision
/// costs a lock, not a task hop. Written here because no well-kept Swift package provides these policies.
public enum ResilienceModule {}
