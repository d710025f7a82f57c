import InterchangeCore
import Metrics
import Synchronization

/// Stops calling a dependency that keeps failing, then probes it carefully until it recovers.
///
/// - **closed**: calls go through; outcomes fill a sliding window (the last N calls, or the last N seconds).
///   Once the window holds `minimumNumberOfCalls`, a failure rate or slow-call rate at or above its
///   threshold trips the breaker.
/// - **open**: calls are rejected at once with ``CircuitBreakerOpenError`` for `waitDurationInOpenState`.
/// - **half-open**: `permittedCallsInHalfOpenState` probe calls go through; their rates decide between
///   closed and open again.
/// - **forcedOpen** / **disabled**: set by hand, for maintenance or to take the breaker out of play.
///
/// Decisions take a `Mutex`, not an actor hop, and are correct under any concurrency: exactly
/// `permittedCallsInHalfOpenState` probes are admitted however many callers race, and the outcome of a call
/// admitted under an earlier state is not counted against the new one.
///
/// ```swift
/// let breaker = try CircuitBreaker(
///     name: "github",
///     configuration: .init(failureRateThreshold: 50, slidingWindow: .countBased(size: 20), minimumNumberOfCalls: 10)
/// )
/// let repo = try await breaker.execute { try await github.repository("apple/swift") }
/// ```
public final class CircuitBreaker: ResilienceStrategy {
    /// The breaker's state.
    public enum State: String, Sendable, Hashable, CustomStringConvertible {
        case closed
        case open
        case halfOpen = "half-open"
        case forcedOpen = "forced-open"
        case disabled

        /// The value the `interchange_circuit_breaker_state` gauge reports.
        public var gaugeValue: Int {
            switch self {
            case .closed: 0
            case .open: 1
            case .halfOpen: 2
            case .forcedOpen: 3
            case .disabled: 4
            }
        }

        public var description: String { rawValue }
    }

    /// Which outcomes the breaker remembers.
    public enum SlidingWindow: Sendable, Hashable {
        /// The last `size` calls.
        case countBased(size: Int)
        /// The calls of the last `seconds` seconds.
        case timeBased(seconds: Int)
    }

    /// What the breaker reports as it works.
    public enum Event: Sendable {
        /// The state changed; `totals` holds the window that caused an automatic transition.
        case stateChanged(from: State, to: State, totals: WindowTotals?)
        /// A call was rejected without running.
        case callNotPermitted(state: State)
    }

    /// The breaker's settings; defaults follow Resilience4j's.
    public struct Configuration: Sendable {
        /// Failure percentage (0–100] at or above which the breaker opens.
        public var failureRateThreshold: Double
        /// Slow-call percentage (0–100] at or above which the breaker opens.
        public var slowCallRateThreshold: Double
        /// Calls that take at least this long count as slow.
        public var slowCallDurationThreshold: Duration
        public var slidingWindow: SlidingWindow
        /// Calls the window must hold before rates are evaluated.
        public var minimumNumberOfCalls: Int
        /// How long the breaker stays open before admitting probes.
        public var waitDurationInOpenState: Duration
        /// Probe calls admitted in half-open.
        public var permittedCallsInHalfOpenState: Int
        /// Longest time in half-open before giving up on the probes and opening again; `nil` waits for them.
        public var maxWaitDurationInHalfOpenState: Duration?
        /// Which errors count as failures; others count as successes. Cancellation and ``LocalRejection``s
        /// (our own rate limiter, bulkhead or an inner breaker refusing the call) are never counted.
        public var isFailure: @Sendable (any Error) -> Bool

        public init(
            failureRateThreshold: Double = 50,
            slowCallRateThreshold: Double = 100,
            slowCallDurationThreshold: Duration = .seconds(60),
            slidingWindow: SlidingWindow = .countBased(size: 100),
            minimumNumberOfCalls: Int = 100,
            waitDurationInOpenState: Duration = .seconds(60),
            permittedCallsInHalfOpenState: Int = 10,
            maxWaitDurationInHalfOpenState: Duration? = nil,
            isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true }
        ) {
            self.failureRateThreshold = failureRateThreshold
            self.slowCallRateThreshold = slowCallRateThreshold
            self.slowCallDurationThreshold = slowCallDurationThreshold
            self.slidingWindow = slidingWindow
            self.minimumNumberOfCalls = minimumNumberOfCalls
            self.waitDurationInOpenState = waitDurationInOpenState
            self.permittedCallsInHalfOpenState = permittedCallsInHalfOpenState
            self.maxWaitDurationInHalfOpenState = maxWaitDurationInHalfOpenState
            self.isFailure = isFailure
        }

        /// Throws ``ConfigurationError`` naming the first field out of range.
        public func validate() throws {
            for (field, value) in [("failureRateThreshold", failureRateThreshold), ("slowCallRateThreshold", slowCallRateThreshold)] {
                try ConfigurationError.require(
                    value > 0 && value <= 100,
                    field: field,
                    "must be a percentage in (0, 100]",
                    got: value
                )
            }
            try ConfigurationError.require(
                slowCallDurationThreshold > .zero,
                field: "slowCallDurationThreshold",
                "must be positive",
                got: slowCallDurationThreshold
            )
            switch slidingWindow {
            case .countBased(let size):
                try ConfigurationError.require(size >= 1, field: "slidingWindow.size", "must be at least 1", got: size)
            case .timeBased(let seconds):
                try ConfigurationError.require(
                    seconds >= 1 && seconds <= 3600,
                    field: "slidingWindow.seconds",
                    "must be between 1 and 3600",
                    got: seconds
                )
            }
            try ConfigurationError.require(
                minimumNumberOfCalls >= 1,
                field: "minimumNumberOfCalls",
                "must be at least 1",
                got: minimumNumberOfCalls
            )
            try ConfigurationError.require(
                waitDurationInOpenState >= .zero,
                field: "waitDurationInOpenState",
                "must not be negative",
                got: waitDurationInOpenState
            )
            try ConfigurationError.require(
                permittedCallsInHalfOpenState >= 1,
                field: "permittedCallsInHalfOpenState",
                "must be at least 1",
                got: permittedCallsInHalfOpenState
            )
            if let maxWait = maxWaitDurationInHalfOpenState {
                try ConfigurationError.require(
                    maxWait > .zero,
                    field: "maxWaitDurationInHalfOpenState",
                    "must be positive",
                    got: maxWait
                )
            }
        }
    }

    /// A point-in-time view of the breaker, for dashboards and tests.
    public struct Snapshot: Sendable, Hashable {
        public var state: State
        public var totals: WindowTotals
        public var notPermittedCalls: Int
    }

    public let name: String
    public let configuration: Configuration
    @usableFromInline let clock: ErasedClock
    private let machine: Mutex<CircuitBreakerStateMachine>
    private let onEvent: (@Sendable (Event) -> Void)?
    private let metrics: CircuitBreakerMetrics

    /// - Throws: ``ConfigurationError`` naming the first invalid configuration field.
    public init(
        name: String,
        configuration: Configuration = Configuration(),
        clock: some Clock<Duration> = ContinuousClock(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        onEvent: (@Sendable (Event) -> Void)? = nil
    ) throws {
        try configuration.validate()
        self.name = name
        self.configuration = configuration
        self.clock = ErasedClock(clock)
        self.machine = Mutex(CircuitBreakerStateMachine(configuration: configuration, now: self.clock.now))
        self.onEvent = onEvent
        self.metrics = CircuitBreakerMetrics(name: name, factory: metricsFactory)
        metrics.state.record(State.closed.gaugeValue)
    }

    /// The current state.
    public var state: State {
        machine.withLock { $0.state }
    }

    /// The current state, window totals and rejected-call count.
    public var snapshot: Snapshot {
        let now = clock.now
        return machine.withLock { machine in
            Snapshot(state: machine.state, totals: machine.totals(now: now), notPermittedCalls: machine.notPermittedCalls)
        }
    }

    public func execute<Output: Sendable>(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output {
        try await execute(isFailure: nil, operation)
    }

    /// Runs `operation` if the breaker permits it, counting results for which `isFailure` is true as failures.
    ///
    /// A ``LocalRejection`` thrown by a policy inside the breaker (a rate limiter or bulkhead later in the
    /// pipeline) and cancellation are not counted: see ``GuardedAttempt``, which this runs through.
    @inlinable
    public func execute<Output: Sendable>(
        isFailure: (@Sendable (Output) -> Bool)?,
        _ operation: @Sendable () async throws -> Output
    ) async throws -> Output {
        try await GuardedAttempt(circuitBreaker: self, rateLimiter: nil, bulkhead: nil, erasedClock: clock).run(
            countingAsFailure: { isFailure?($0) ?? false },
            { _ in try await operation() }
        )
    }

    /// A permit to make one call, for code that cannot wrap the call in ``execute(isFailure:_:)``.
    public struct Permit: Sendable {
        package let inner: CircuitBreakerStateMachine.Permit
    }

    /// Asks to make a call. Hand the permit back through ``record(_:failed:duration:)`` or ``release(_:)``.
    ///
    /// - Throws: ``CircuitBreakerOpenError`` when the breaker rejects the call.
    public func acquirePermission() throws -> Permit {
        try acquirePermission(now: clock.now)
    }

    /// ``acquirePermission()`` at `now`, a reading of the breaker's own clock the caller already took.
    @usableFromInline
    package func acquirePermission(now: Duration) throws -> Permit {
        let (acquisition, transition) = machine.withLock { $0.acquire(now: now) }
        report(transition)
        switch acquisition {
        case .permitted(let permit):
            return Permit(inner: permit)
        case .rejected(let state, let retryAfter):
            metrics.notPermitted.increment()
            onEvent?(.callNotPermitted(state: state))
            throw CircuitBreakerOpenError(name: name, state: state, retryAfter: retryAfter)
        }
    }

    /// Records the outcome of a permitted call.
    public func record(_ permit: Permit, failed: Bool, duration: Duration) {
        record(permit, failed: failed, duration: duration, now: clock.now)
    }

    /// ``record(_:failed:duration:)`` at `now`, a reading of the breaker's own clock the caller already took.
    @usableFromInline
    package func record(_ permit: Permit, failed: Bool, duration: Duration, now: Duration) {
        guard permit.inner.state != .disabled else { return }
        let outcome = CallOutcome(failed: failed, slow: duration >= configuration.slowCallDurationThreshold)
        let transition = machine.withLock { $0.record(permit.inner, outcome: outcome, now: now) }
        metrics.record(outcome)
        report(transition)
    }

    /// Records how a permitted call that threw ended: cancellation and a ``LocalRejection`` hand the permit back
    /// uncounted; any other error counts as `configuration.isFailure` says.
    @usableFromInline
    package func settle(_ permit: Permit, after error: any Error, duration: Duration, now: Duration) {
        if error is CancellationError || error is any LocalRejection {
            release(permit)
        } else {
            record(permit, failed: configuration.isFailure(error), duration: duration, now: now)
        }
    }

    /// Hands back a permit without an outcome (the call was cancelled or is not worth counting).
    public func release(_ permit: Permit) {
        machine.withLock { $0.release(permit.inner) }
        metrics.ignored.increment()
    }

    /// Rejects every call until ``reset()`` or ``transitionToDisabled()``.
    public func transitionToForcedOpen() { transition(to: .forcedOpen) }

    /// Lets every call through and stops counting, until ``reset()``.
    public func transitionToDisabled() { transition(to: .disabled) }

    /// Closes the breaker with an empty window.
    public func reset() { transition(to: .closed) }

    private func transition(to state: State) {
        let now = clock.now
        let transition = machine.withLock { $0.transition(to: state, now: now) }
        report(transition)
    }

    private func report(_ transition: CircuitBreakerStateMachine.Transition?) {
        guard let transition else { return }
        metrics.state.record(transition.to.gaugeValue)
        metrics.transitions(from: transition.from, to: transition.to).increment()
        onEvent?(.stateChanged(from: transition.from, to: transition.to, totals: transition.totals))
    }
}

/// The breaker's metrics, created once so the hot path does not look them up per call.
private struct CircuitBreakerMetrics: Sendable {
    let state: Gauge
    let successful: Counter
    let failed: Counter
    let slow: Counter
    let notPermitted: Counter
    let ignored: Counter
    private let name: String
    private let factory: any MetricsFactory

    init(name: String, factory: any MetricsFactory) {
        self.name = name
        self.factory = factory
        state = Gauge(label: "interchange_circuit_breaker_state", dimensions: [("name", name)], factory: factory)
        let calls = "interchange_circuit_breaker_calls_total"
        successful = Counter(label: calls, dimensions: [("name", name), ("outcome", "successful")], factory: factory)
        failed = Counter(label: calls, dimensions: [("name", name), ("outcome", "failed")], factory: factory)
        slow = Counter(label: calls, dimensions: [("name", name), ("outcome", "slow")], factory: factory)
        notPermitted = Counter(label: calls, dimensions: [("name", name), ("outcome", "not_permitted")], factory: factory)
        ignored = Counter(label: calls, dimensions: [("name", name), ("outcome", "ignored")], factory: factory)
    }

    func record(_ outcome: CallOutcome) {
        (outcome.failed ? failed : successful).increment()
        if outcome.slow { slow.increment() }
    }

    func transitions(from: CircuitBreaker.State, to: CircuitBreaker.State) -> Counter {
        Counter(
            label: "interchange_circuit_breaker_transitions_total",
            dimensions: [("name", name), ("from", from.rawValue), ("to", to.rawValue)],
            factory: factory
        )
    }
}
