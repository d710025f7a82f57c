import InterchangeCore
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A clock that moves only when told to, so time-dependent code is tested without sleeping.
///
/// Two modes:
/// - **manual** (default): `sleep` suspends until ``advance(by:)`` moves time past the deadline.
///   ``waitForSleepers(_:timeout:)`` lets a test wait until the code under test is actually asleep before advancing.
/// - **advancesOnSleep**: `sleep` moves time to its deadline and returns at once, recording the duration in
///   ``sleeps``, for sequential code such as a retry loop whose delays are the thing under test.
///
/// ```swift
/// let clock = ManualClock()
/// let breaker = try CircuitBreaker(name: "x", configuration: config, clock: clock)
/// clock.advance(by: .seconds(60))   // the open state's wait is over, instantly
/// ```
///
/// Written here rather than taken from pointfreeco/swift-clocks: its `TestClock` relies on yielding the
/// global executor a fixed number of times to let sleepers register, which is not deterministic on a
/// multi-threaded executor; ``waitForSleepers(_:timeout:)`` is.
public final class ManualClock: Clock, @unchecked Sendable {
    // @unchecked: all mutable state lives in `state`, a Mutex.

    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock's origin.
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var cancelledBeforeRegistering: Set<UInt64> = []
        var sleeps: [Duration] = []
    }

    private let state = Mutex(State())
    private let advancesOnSleep: Bool
    /// The wall-clock time at the clock's origin, for code that also needs dates (HTTP `Date`, `Retry-After`).
    public let epoch: Date

    public init(advancesOnSleep: Bool = false, epoch: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        self.advancesOnSleep = advancesOnSleep
        self.epoch = epoch
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    /// The wall-clock time now: ``epoch`` plus the time advanced so far.
    public var date: Date { epoch.addingTimeInterval(now.offset.inSeconds) }

    /// A closure returning ``date``, for APIs that take a `now` provider.
    public var dateProvider: @Sendable () -> Date { { [self] in self.date } }

    /// How long each `sleep` asked for, in order (both modes).
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// How many tasks are asleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        if advancesOnSleep {
            state.withLock { state in
                state.sleeps.append(state.now.duration(to: deadline))
                if deadline > state.now { state.now = deadline }
            }
            await Task.yield()
            try Task.checkCancellation()
            return
        }
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: (resumeNow: Bool, cancelled: Bool) = state.withLock { state in
                    if state.cancelledBeforeRegistering.remove(id) != nil { return (true, true) }
                    state.sleeps.append(state.now.duration(to: deadline))
                    if deadline <= state.now { return (true, false) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (false, false)
                }
                if outcome.resumeNow {
                    if outcome.cancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                if let index = state.sleepers.firstIndex(where: { $0.id == id }) {
                    return state.sleepers.remove(at: index)
                }
                state.cancelledBeforeRegistering.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking every sleeper whose deadline has come, earliest first.
    public func advance(by duration: Duration) {
        let woken: [Sleeper] = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Moves time to `instant` (no-op if it is in the past).
    public func advance(to instant: Instant) {
        let delta = now.duration(to: instant)
        if delta > .zero { advance(by: delta) }
    }

    /// Returns once at least `count` tasks are asleep on this clock, so a test advances time only after the code
    /// under test is really waiting; throws ``WaitTimedOut`` if they are not within `timeout` of real time (a
    /// regression that never sleeps fails the test instead of hanging it).
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(10)) async throws {
        try await waitUntil("\(count) task(s) asleep on the ManualClock", timeout: timeout) { sleeperCount >= count }
    }
}
