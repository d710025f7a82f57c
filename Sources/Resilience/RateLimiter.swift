import InterchangeCore
import Synchronization

/// Limits how often calls are made, waiting briefly for a permit or failing fast.
///
/// Two algorithms:
/// - **token bucket**: `capacity` tokens, refilled at `refillPerSecond`; allows bursts up to the capacity and a
///   steady rate after.
/// - **sliding window**: at most `limit` calls in any `window`-long interval, exactly (a sliding log of the
///   last `limit` grant times, so memory is O(limit) and each decision O(1)).
///
/// A caller that finds no permit waits up to `maxWait` for one (the permit is reserved, so waiters are served
/// in order and never starve), and otherwise gets ``RateLimitExceededError`` carrying when to try again.
///
/// ```swift
/// let limiter = try RateLimiter(name: "openweathermap", algorithm: .tokenBucket(capacity: 10, refillPerSecond: 1))
/// let weather = try await limiter.execute { try await fetchWeather() }
/// ```
public final class RateLimiter: ResilienceStrategy {
    public enum Algorithm: Sendable, Hashable {
        case tokenBucket(capacity: Int, refillPerSecond: Double)
        case slidingWindow(limit: Int, window: Duration)
    }

    /// The outcome of a non-blocking ``tryAcquire()``.
    public enum Decision: Sendable, Hashable {
        case acquired
        case denied(retryAfter: Duration)
    }

    private enum State: Sendable {
        case bucket(tokens: Double, updatedAt: Duration)
        /// Grant times of the last `limit` permits (some may be in the future: reserved by waiters).
        case window(grants: [Duration], oldest: Int)
    }

    public let name: String
    public let algorithm: Algorithm
    public let maxWait: Duration
    private let clock: ErasedClock
    private let state: Mutex<State>

    /// - Throws: ``ConfigurationError`` naming `capacity`, `refillPerSecond`, `limit`, `window` or `maxWait`.
    public init(
        name: String,
        algorithm: Algorithm,
        maxWait: Duration = .zero,
        clock: some Clock<Duration> = ContinuousClock()
    ) throws {
        switch algorithm {
        case .tokenBucket(let capacity, let refill):
            try ConfigurationError.require(capacity >= 1, field: "capacity", "must be at least 1", got: capacity)
            try ConfigurationError.require(
                refill > 0 && refill.isFinite,
                field: "refillPerSecond",
                "must be a positive number",
                got: refill
            )
        case .slidingWindow(let limit, let window):
            try ConfigurationError.require(limit >= 1, field: "limit", "must be at least 1", got: limit)
            try ConfigurationError.require(limit <= 1_000_000, field: "limit", "must be at most 1000000", got: limit)
            try ConfigurationError.require(window > .zero, field: "window", "must be positive", got: window)
        }
        try ConfigurationError.require(maxWait >= .zero, field: "maxWait", "must not be negative", got: maxWait)
        self.name = name
        self.algorithm = algorithm
        self.maxWait = maxWait
        let clock = ErasedClock(clock)
        self.clock = clock
        switch algorithm {
        case .tokenBucket(let capacity, _):
            state = Mutex(.bucket(tokens: Double(capacity), updatedAt: clock.now))
        case .slidingWindow(let limit, let window):
            // Start with every slot free: grants far enough in the past to be outside any window.
            state = Mutex(.window(grants: Array(repeating: clock.now - window - window, count: limit), oldest: 0))
        }
    }

    /// Takes a permit if one is available now, without waiting.
    public func tryAcquire() -> Decision {
        tryAcquire(now: clock.now)
    }

    /// ``tryAcquire()`` at `now`, a reading of the limiter's own clock the caller already took.
    @usableFromInline
    package func tryAcquire(now: Duration) -> Decision {
        state.withLock { state in
            let wait = Self.reserve(&state, algorithm: algorithm, now: now, maxWait: .zero)
            return wait.map { _ in .acquired } ?? .denied(retryAfter: Self.nextAvailable(state, algorithm: algorithm, now: now))
        }
    }

    /// Takes a permit, waiting up to `maxWait` for one.
    ///
    /// - Throws: ``RateLimitExceededError`` when none is available in time; `CancellationError` if cancelled while waiting.
    public func acquire() async throws {
        _ = try await acquire(now: clock.now)
    }

    /// ``acquire()`` at `now`, a reading of the limiter's own clock the caller already took.
    /// Returns the instant the permit was granted: `now`, or later after a wait.
    @usableFromInline
    package func acquire(now: Duration) async throws -> Duration {
        let outcome: Result<Duration, RateLimitExceededError> = state.withLock { state in
            if let wait = Self.reserve(&state, algorithm: algorithm, now: now, maxWait: maxWait) {
                return .success(wait)
            }
            return .failure(
                RateLimitExceededError(name: name, retryAfter: Self.nextAvailable(state, algorithm: algorithm, now: now))
            )
        }
        let wait = try outcome.get()
        guard wait > .zero else { return now }
        do {
            try await clock.sleep(until: now + wait)
        } catch {
            refund(reservedFor: now + wait)
            throw error
        }
        return now + wait
    }

    @inlinable
    public func execute<Output: Sendable>(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output {
        try await acquire()
        return try await operation()
    }

    /// Reserves a permit, returning how long the caller must wait for it, or nil when that exceeds `maxWait`.
    private static func reserve(_ state: inout State, algorithm: Algorithm, now: Duration, maxWait: Duration) -> Duration? {
        switch algorithm {
        case .tokenBucket(let capacity, let refill):
            guard case .bucket(let tokens, let updatedAt) = state else { preconditionFailure("rate limiter state does not match its algorithm") }
            let available = min(Double(capacity), tokens + (now - updatedAt).inSeconds * refill)
            let wait: Duration = available >= 1 ? .zero : .fromSeconds((1 - available) / refill)
            guard wait <= maxWait else {
                state = .bucket(tokens: available, updatedAt: now)
                return nil
            }
            state = .bucket(tokens: available - 1, updatedAt: now)
            return wait
        case .slidingWindow(_, let window):
            // Consume the state so the grants array is uniquely referenced and written in place, not copied.
            guard case .window(var grants, let oldest) = consume state else { preconditionFailure("rate limiter state does not match its algorithm") }
            let grantAt = max(now, grants[oldest] + window)
            let wait = grantAt - now
            guard wait <= maxWait else {
                state = .window(grants: grants, oldest: oldest)
                return nil
            }
            grants[oldest] = grantAt
            state = .window(grants: grants, oldest: (oldest + 1) % grants.count)
            return wait
        }
    }

    private static func nextAvailable(_ state: State, algorithm: Algorithm, now: Duration) -> Duration {
        switch (state, algorithm) {
        case (.bucket(let tokens, let updatedAt), .tokenBucket(let capacity, let refill)):
            let available = min(Double(capacity), tokens + (now - updatedAt).inSeconds * refill)
            return available >= 1 ? .zero : .fromSeconds((1 - available) / refill)
        case (.window(let grants, let oldest), .slidingWindow(_, let window)):
            return max(.zero, grants[oldest] + window - now)
        default:
            preconditionFailure("rate limiter state does not match its algorithm")
        }
    }

    /// Returns a permit reserved by a waiter that was cancelled, so it is not lost.
    private func refund(reservedFor grantAt: Duration) {
        state.withLock { state in
            switch state {
            case .bucket(let tokens, let updatedAt):
                if case .tokenBucket(let capacity, _) = algorithm {
                    state = .bucket(tokens: min(Double(capacity), tokens + 1), updatedAt: updatedAt)
                }
            case .window(var grants, let oldest):
                guard case .slidingWindow(_, let window) = algorithm else { return }
                if let index = grants.lastIndex(of: grantAt) {
                    grants[index] = .zero - window  // outside every window from the clock's origin on: free again
                    state = .window(grants: grants, oldest: oldest)
                }
            }
        }
    }
}
