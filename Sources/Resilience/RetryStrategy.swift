import InterchangeCore

/// Whether and when to try again after an attempt.
public enum RetryDecision: Sendable, Hashable {
    /// Stop: return this result or throw this error to the caller.
    case doNotRetry
    /// Try again after the backoff's delay.
    case retry
    /// Try again after the delay the server asked for (for example from `Retry-After`).
    case retryAfter(Duration)
}

/// Decides which outcomes of an operation are worth another attempt.
///
/// ```swift
/// let predicate = RetryPredicate<HTTPResponse>(
///     onResult: { $0.status == .serviceUnavailable ? .retry : .doNotRetry }
/// )
/// ```
public struct RetryPredicate<Output>: Sendable {
    public var onError: @Sendable (any Error) -> RetryDecision
    public var onResult: @Sendable (Output) -> RetryDecision

    public init(
        onError: @escaping @Sendable (any Error) -> RetryDecision = RetryPredicate.defaultErrorDecision,
        onResult: @escaping @Sendable (Output) -> RetryDecision = { _ in .doNotRetry }
    ) {
        self.onError = onError
        self.onResult = onResult
    }

    /// Retries every error except cancellation and errors that say they are not retryable
    /// (``RetryClassifiable``); never retries a returned result.
    public static var transientErrors: RetryPredicate { RetryPredicate() }

    /// The default decision for an error: see ``transientErrors``.
    @Sendable
    public static func defaultErrorDecision(_ error: any Error) -> RetryDecision {
        if error is CancellationError { return .doNotRetry }
        if let classified = error as? any RetryClassifiable {
            guard classified.isRetryable else { return .doNotRetry }
            if let after = classified.retryAfter { return .retryAfter(after) }
        }
        return .retry
    }
}

/// What a retry loop reports before each retry: enough to log why and when.
public struct RetryEvent: Sendable {
    /// The attempt that just failed (1 for the first attempt).
    public let attempt: Int
    /// How long the loop waits before the next attempt.
    public let delay: Duration
    /// The error, when the attempt threw.
    public let error: (any Error)?
    /// Whether the delay was set by the server rather than the backoff.
    public let serverRequestedDelay: Bool

    @usableFromInline
    init(attempt: Int, delay: Duration, error: (any Error)?, serverRequestedDelay: Bool) {
        self.attempt = attempt
        self.delay = delay
        self.error = error
        self.serverRequestedDelay = serverRequestedDelay
    }
}

/// Tries an operation again when it fails, waiting longer each time.
///
/// - `maxAttempts` counts the first attempt: `3` means one call and at most two retries.
/// - The delay comes from the ``Backoff`` (exponential with full jitter by default), capped at its `maxDelay`.
/// - A server-given delay (``RetryDecision/retryAfter(_:)``) replaces the backoff; one longer than
///   `maxServerDelay` ends the retries, since waiting that long would outlive the caller's patience.
/// - A shared ``RetryBudget`` stops retries when they would exceed their share of recent calls.
///
/// ```swift
/// let retry = try RetryStrategy(maxAttempts: 4, backoff: .exponential(initial: .milliseconds(100)))
/// let value = try await retry.execute { attempt in try await fetch() }
/// ```
public struct RetryStrategy: ResilienceStrategy {
    public let maxAttempts: Int
    public let backoff: Backoff
    public let budget: RetryBudget?
    public let maxServerDelay: Duration
    public let jitterSource: JitterSource
    @usableFromInline let clock: ErasedClock
    @usableFromInline let onRetry: (@Sendable (RetryEvent) -> Void)?

    /// - Throws: ``ConfigurationError`` naming `maxAttempts` or `maxServerDelay` when out of range.
    public init(
        maxAttempts: Int = 3,
        backoff: Backoff = .standard,
        budget: RetryBudget? = nil,
        maxServerDelay: Duration = .seconds(60),
        jitterSource: JitterSource = .system,
        clock: some Clock<Duration> = ContinuousClock(),
        onRetry: (@Sendable (RetryEvent) -> Void)? = nil
    ) throws {
        try ConfigurationError.require(maxAttempts >= 1, field: "maxAttempts", "must be at least 1", got: maxAttempts)
        try ConfigurationError.require(
            maxAttempts <= 100,
            field: "maxAttempts",
            "must be at most 100; more attempts only prolong an outage",
            got: maxAttempts
        )
        try ConfigurationError.require(
            maxServerDelay >= .zero,
            field: "maxServerDelay",
            "must not be negative",
            got: maxServerDelay
        )
        self.init(
            validatedMaxAttempts: maxAttempts,
            backoff: backoff,
            budget: budget,
            maxServerDelay: maxServerDelay,
            jitterSource: jitterSource,
            clock: ErasedClock(clock),
            onRetry: onRetry
        )
    }

    private init(
        validatedMaxAttempts maxAttempts: Int,
        backoff: Backoff,
        budget: RetryBudget?,
        maxServerDelay: Duration,
        jitterSource: JitterSource,
        clock: ErasedClock,
        onRetry: (@Sendable (RetryEvent) -> Void)?
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.budget = budget
        self.maxServerDelay = maxServerDelay
        self.jitterSource = jitterSource
        self.clock = clock
        self.onRetry = onRetry
    }

    /// A strategy that never retries.
    public static let never = RetryStrategy(
        validatedMaxAttempts: 1,
        backoff: .standard,
        budget: nil,
        maxServerDelay: .zero,
        jitterSource: .system,
        clock: ErasedClock(ContinuousClock()),
        onRetry: nil
    )

    /// Runs `operation`, retrying errors the default predicate deems transient.
    public func execute<Output: Sendable>(
        _ operation: @escaping @Sendable () async throws -> Output
    ) async throws -> Output {
        try await execute(when: .transientErrors) { _ in try await operation() }
    }

    /// Runs `operation` (given the attempt number, from 1), retrying as `predicate` decides.
    ///
    /// When attempts run out on a retryable *result*, that last result is returned; on a retryable *error*,
    /// that last error is thrown. Cancellation ends the loop at once.
    public func execute<Output: Sendable>(
        when predicate: RetryPredicate<Output>,
        _ operation: @Sendable (_ attempt: Int) async throws -> Output
    ) async throws -> Output {
        try await execute(when: predicate, deadline: nil, operation)
    }

    /// Like ``execute(when:_:)``, but never starts a retry whose backoff would end after `deadline` (a point on
    /// this strategy's clock, as `AnyClock` offsets): the caller gets the real last outcome rather than a timeout.
    @inlinable
    package func execute<Output: Sendable>(
        when predicate: RetryPredicate<Output>,
        deadline: Duration?,
        _ operation: @Sendable (_ attempt: Int) async throws -> Output
    ) async throws -> Output {
        budget?.recordCall()
        var attempt = 1
        var previousDelay = Duration.zero
        var lastOutput: Result<Output, any Error> = .failure(CancellationError())
        while true {
            let decision: RetryDecision
            let failure: (any Error)?
            do {
                let output = try await operation(attempt)
                decision = predicate.onResult(output)
                if decision == .doNotRetry || !canRetry(after: attempt, decision: decision) {
                    return output
                }
                lastOutput = .success(output)
                failure = nil
            } catch {
                decision = predicate.onError(error)
                if decision == .doNotRetry || !canRetry(after: attempt, decision: decision) {
                    throw error
                }
                failure = error
            }
            let delay: Duration
            let fromServer: Bool
            if case .retryAfter(let requested) = decision {
                delay = requested
                fromServer = true
            } else {
                delay = backoff.delay(beforeRetry: attempt, previousDelay: previousDelay, jitterSource: jitterSource)
                fromServer = false
            }
            if let deadline, clock.now + delay >= deadline {
                if let failure { throw failure }
                return try lastOutput.get()
            }
            onRetry?(RetryEvent(attempt: attempt, delay: delay, error: failure, serverRequestedDelay: fromServer))
            try await clock.sleep(for: delay)
            previousDelay = delay
            attempt += 1
        }
    }

    /// Whether another attempt is allowed; withdraws from the budget when it is.
    @usableFromInline
    func canRetry(after attempt: Int, decision: RetryDecision) -> Bool {
        guard attempt < maxAttempts else { return false }
        if case .retryAfter(let requested) = decision, requested > maxServerDelay { return false }
        if let budget, !budget.tryWithdrawRetry() { return false }
        return true
    }
}
