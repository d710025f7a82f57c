import InterchangeCore

/// Bounds how long an operation may run, cancelling it when the time is up.
///
/// The operation runs in a child task raced against the clock; when the clock wins, the child is cancelled
/// and ``TimeoutError`` is thrown. Cancellation is cooperative: the work stops at its next suspension point
/// that checks for it (every AsyncHTTPClient request and `Task.sleep` does).
///
/// Use one outside a ``RetryStrategy`` to bound the whole call and one inside to bound each attempt.
///
/// ```swift
/// let value = try await Timeout(.seconds(2)).execute { try await slowCall() }
/// ```
public struct Timeout: ResilienceStrategy {
    public let duration: Duration
    private let clock: ErasedClock

    /// - Throws: ``ConfigurationError`` naming `timeout` when not positive.
    public init(_ duration: Duration, clock: some Clock<Duration> = ContinuousClock()) throws {
        try ConfigurationError.require(duration > .zero, field: "timeout", "must be positive", got: duration)
        self.duration = duration
        self.clock = ErasedClock(clock)
    }

    public func execute<Output: Sendable>(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output {
        let deadline = clock.now + duration
        return try await withThrowingTaskGroup(of: Output.self) { group in
            group.addTask { try await operation() }
            group.addTask { [clock, duration] in
                try await clock.sleep(until: deadline)
                throw TimeoutError(timeout: duration)
            }
            defer { group.cancelAll() }
            // The first child to finish decides: the value, the operation's error, or the timeout.
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }
}
