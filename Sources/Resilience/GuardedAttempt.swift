/// An error one of our own policies raised before a call reached the dependency: a rate limiter with no
/// permit, a full bulkhead, an inner circuit breaker that is open.
///
/// A circuit breaker never counts one against the dependency: local throttling must not open a breaker.
public protocol LocalRejection: Error {}

extension RateLimitExceededError: LocalRejection {}
extension BulkheadFullError: LocalRejection {}
extension CircuitBreakerOpenError: LocalRejection {}

/// One attempt at a dependency, guarded by the policies that decide whether it may run:
/// circuit-breaker permit → rate-limiter permit → bulkhead slot → the call → the breaker's outcome.
///
/// This is the only place an attempt is put together. ``CircuitBreaker/execute(_:)`` (so every
/// ``ResiliencePipeline``), the HTTP client's resilience step and the webhook delivery engine all run their
/// attempts through it, so they agree on what counts against a dependency:
/// - a result counts as a failure when `isFailure(result)` says so;
/// - an error counts as the breaker's `Configuration.isFailure` says;
/// - a ``LocalRejection`` (our limiter, our bulkhead, an inner breaker) and cancellation hand the permit back
///   uncounted — the dependency did nothing wrong.
///
/// One clock reading serves the breaker's permit, the limiter and the call's duration, so the policies must
/// run on the clock given here (the HTTP client creates all of them on its own clock).
///
/// ```swift
/// let attempt = GuardedAttempt(circuitBreaker: breaker, rateLimiter: limiter)
/// let status = try await attempt.run(countingAsFailure: { $0 >= 500 }) { _ in try await send() }
/// ```
public struct GuardedAttempt: Sendable {
    public let circuitBreaker: CircuitBreaker?
    public let rateLimiter: RateLimiter?
    public let bulkhead: Bulkhead?
    @usableFromInline let clock: ErasedClock

    /// - Parameter clock: the clock the breaker and limiter were created with.
    public init(
        circuitBreaker: CircuitBreaker? = nil,
        rateLimiter: RateLimiter? = nil,
        bulkhead: Bulkhead? = nil,
        clock: some Clock<Duration> = ContinuousClock()
    ) {
        self.init(circuitBreaker: circuitBreaker, rateLimiter: rateLimiter, bulkhead: bulkhead, erasedClock: ErasedClock(clock))
    }

    @usableFromInline
    package init(circuitBreaker: CircuitBreaker?, rateLimiter: RateLimiter?, bulkhead: Bulkhead?, erasedClock: ErasedClock) {
        self.circuitBreaker = circuitBreaker
        self.rateLimiter = rateLimiter
        self.bulkhead = bulkhead
        self.clock = erasedClock
    }

    /// Whether any policy guards the attempt.
    public var isEmpty: Bool { circuitBreaker == nil && rateLimiter == nil && bulkhead == nil }

    /// Runs `operation` once under the guards.
    ///
    /// - Parameters:
    ///   - isFailure: which results the breaker counts as failures.
    ///   - operation: the call; it receives the instant (on the clock's timeline, as an `AnyClock` offset) from
    ///     which the attempt's own time runs — after any wait for the rate limiter.
    /// - Throws: ``CircuitBreakerOpenError``, ``RateLimitExceededError``, ``BulkheadFullError`` when refused;
    ///   otherwise whatever `operation` throws.
    @inlinable
    public func run<Output>(
        countingAsFailure isFailure: (Output) -> Bool,
        _ operation: (_ cleared: Duration) async throws -> Output
    ) async throws -> Output {
        let started = clock.now
        let permit = try circuitBreaker?.acquirePermission(now: started)
        do {
            var cleared = started
            if let rateLimiter {
                if rateLimiter.maxWait == .zero {
                    // Fail fast, without an async call: the common configuration, on every attempt's hot path.
                    if case .denied(let retryAfter) = rateLimiter.tryAcquire(now: started) {
                        throw RateLimitExceededError(name: rateLimiter.name, retryAfter: retryAfter)
                    }
                } else {
                    cleared = try await rateLimiter.acquire(now: started)
                }
            }
            let output: Output
            if let bulkhead {
                try await bulkhead.acquireSlot()
                defer { bulkhead.releaseSlot() }
                output = try await operation(cleared)
            } else {
                output = try await operation(cleared)
            }
            if let permit, let circuitBreaker {
                let finished = clock.now
                circuitBreaker.record(permit, failed: isFailure(output), duration: finished - started, now: finished)
            }
            return output
        } catch {
            if let permit, let circuitBreaker {
                let finished = clock.now
                circuitBreaker.settle(permit, after: error, duration: finished - started, now: finished)
            }
            throw error
        }
    }

    /// ``run(countingAsFailure:_:)`` where no result counts as a failure, only errors.
    @inlinable
    public func run<Output>(_ operation: (_ cleared: Duration) async throws -> Output) async throws -> Output {
        try await run(countingAsFailure: { _ in false }, operation)
    }
}
