/// Any `Clock<Duration>`, erased to a monotonic timeline measured from the moment it was wrapped.
///
/// Policies keep instants as a `Duration` since that origin, which makes them plain values
/// (comparable, storable in a `Mutex`) whatever clock the caller injected.
@usableFromInline
package struct ErasedClock: Sendable {
    /// `ContinuousClock`, the clock in production, is read directly: no closure, no generic witness.
    private enum Source: Sendable {
        case continuous(origin: ContinuousClock.Instant)
        case custom(now: @Sendable () -> Duration, sleep: @Sendable (Duration) async throws -> Void)
    }

    private let source: Source

    package init<C: Clock>(_ clock: C) where C.Duration == Duration {
        if let any = clock as? AnyClock {
            // Keep one timeline: an AnyClock's instants already count from its own origin.
            self = any.erased
        } else if clock is ContinuousClock {
            source = .continuous(origin: .now)
        } else {
            let origin = clock.now
            source = .custom(
                now: { origin.duration(to: clock.now) },
                sleep: { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
            )
        }
    }

    /// Time elapsed since the clock was wrapped.
    @usableFromInline
    package var now: Duration {
        switch source {
        case .continuous(let origin): origin.duration(to: .now)
        case .custom(let now, _): now()
        }
    }

    /// Suspends until `deadline` (a point on this clock's timeline); throws `CancellationError` when cancelled.
    package func sleep(until deadline: Duration) async throws {
        switch source {
        case .continuous(let origin): try await ContinuousClock().sleep(until: origin.advanced(by: deadline), tolerance: nil)
        case .custom(_, let sleep): try await sleep(deadline)
        }
    }

    /// Suspends for `duration`; returns at once for zero or negative durations.
    @usableFromInline
    package func sleep(for duration: Duration) async throws {
        guard duration > .zero else {
            try Task.checkCancellation()
            return
        }
        try await sleep(until: now + duration)
    }
}

/// Any `Clock<Duration>` as one concrete type, for storing an injected clock and passing it on.
///
/// ```swift
/// struct Poller { let clock: AnyClock }
/// let poller = Poller(clock: AnyClock(ContinuousClock()))
/// ```
public struct AnyClock: Clock {
    public struct Instant: InstantProtocol {
        /// Time since the wrapped clock's origin (when it was wrapped).
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    fileprivate let erased: ErasedClock

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        if let already = clock as? AnyClock {
            self = already
        } else {
            erased = ErasedClock(clock)
        }
    }

    public var now: Instant { Instant(offset: erased.now) }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await erased.sleep(until: deadline.offset)
    }
}
