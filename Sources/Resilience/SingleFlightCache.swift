import Foundation
import InterchangeCore
import Synchronization

/// A TTL cache that collapses concurrent loads of the same key into one, and serves a stale value when a
/// reload fails.
///
/// - **single-flight**: N callers asking for a key that is missing or expired cause one call to `load`; the
///   others wait for its result (and share its error);
/// - **TTL**: a value is fresh for `ttl`;
/// - **stale-if-error**: when a reload fails and the last value is younger than `ttl + staleIfError`, that value
///   is returned, marked stale with its age, instead of the error;
/// - bounded: the least recently used key is dropped beyond `maxEntries`.
///
/// ```swift
/// let cache = try SingleFlightCache<String, Forecast>(ttl: .seconds(600), staleIfError: .seconds(7200))
/// let forecast = try await cache.value(for: "berlin") { try await upstream.forecast("berlin") }
/// if forecast.isStale { banner("showing data from \(forecast.age) ago") }
/// ```
///
/// Written here because no well-kept Swift package offers an async single-flight cache; it is the
/// Go `singleflight` pattern plus a TTL map.
public final class SingleFlightCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// A value and how old it is.
    public struct Cached: Sendable {
        public let value: Value
        /// When the value was loaded (wall clock).
        public let fetchedAt: Date
        /// How long ago it was loaded.
        public let age: Duration
        /// True when the reload failed and this older value stands in.
        public let isStale: Bool
        /// The error that made it stale.
        public let staleCause: (any Error)?
    }

    private struct Entry {
        var value: Value
        var loadedAt: Duration
        var fetchedAt: Date
        var lastUsed: UInt64
    }

    private struct Flight {
        var waiters: [CheckedContinuation<Cached, any Error>] = []
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var flights: [Key: Flight] = [:]
        var tick: UInt64 = 0
    }

    public let ttl: Duration
    public let staleIfError: Duration
    public let maxEntries: Int
    private let clock: ErasedClock
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    /// - Throws: ``ConfigurationError`` naming `ttl`, `staleIfError` or `maxEntries`.
    public init(
        ttl: Duration,
        staleIfError: Duration = .zero,
        maxEntries: Int = 10_000,
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try ConfigurationError.require(ttl > .zero, field: "ttl", "must be positive", got: ttl)
        try ConfigurationError.require(staleIfError >= .zero, field: "staleIfError", "must not be negative", got: staleIfError)
        try ConfigurationError.require(maxEntries >= 1, field: "maxEntries", "must be at least 1", got: maxEntries)
        self.ttl = ttl
        self.staleIfError = staleIfError
        self.maxEntries = maxEntries
        self.clock = ErasedClock(clock)
        self.now = now
    }

    private enum Plan {
        case fresh(Cached)
        case join
        case load
    }

    /// The cached value for `key`, loading it (once, for all concurrent callers) when missing or expired.
    public func value(for key: Key, load: @Sendable () async throws -> Value) async throws -> Cached {
        let at = clock.now
        let plan: Plan = state.withLock { state in
            if var entry = state.entries[key], at - entry.loadedAt < ttl {
                state.tick += 1
                entry.lastUsed = state.tick
                state.entries[key] = entry
                return .fresh(Cached(value: entry.value, fetchedAt: entry.fetchedAt, age: at - entry.loadedAt, isStale: false, staleCause: nil))
            }
            if state.flights[key] != nil { return .join }
            state.flights[key] = Flight()
            return .load
        }
        switch plan {
        case .fresh(let cached):
            return cached
        case .join:
            return try await withCheckedThrowingContinuation { continuation in
                let result: Result<Cached, any Error>? = state.withLock { state in
                    if state.flights[key] != nil {
                        state.flights[key]?.waiters.append(continuation)
                        return nil
                    }
                    // The flight landed between our two looks: use what it left.
                    if let entry = state.entries[key] {
                        return .success(
                            Cached(value: entry.value, fetchedAt: entry.fetchedAt, age: clock.now - entry.loadedAt, isStale: false, staleCause: nil)
                        )
                    }
                    return .failure(CancellationError())
                }
                if let result { continuation.resume(with: result) }
            }
        case .load:
            let outcome: Result<Cached, any Error>
            do {
                let value = try await load()
                let loadedAt = clock.now
                let fetchedAt = now()
                outcome = .success(Cached(value: value, fetchedAt: fetchedAt, age: .zero, isStale: false, staleCause: nil))
                state.withLock { state in
                    state.tick += 1
                    state.entries[key] = Entry(value: value, loadedAt: loadedAt, fetchedAt: fetchedAt, lastUsed: state.tick)
                    evictIfNeeded(&state)
                }
            } catch {
                let failedAt = clock.now
                let stale: Cached? = state.withLock { state in
                    guard let entry = state.entries[key], failedAt - entry.loadedAt < ttl + staleIfError else { return nil }
                    return Cached(value: entry.value, fetchedAt: entry.fetchedAt, age: failedAt - entry.loadedAt, isStale: true, staleCause: error)
                }
                outcome = stale.map { .success($0) } ?? .failure(error)
            }
            let waiters = state.withLock { state in state.flights.removeValue(forKey: key)?.waiters ?? [] }
            for waiter in waiters { waiter.resume(with: outcome) }
            return try outcome.get()
        }
    }

    /// Drops `key`.
    public func invalidate(_ key: Key) {
        state.withLock { _ = $0.entries.removeValue(forKey: key) }
    }

    /// Keys stored now.
    public var count: Int { state.withLock { $0.entries.count } }

    private func evictIfNeeded(_ state: inout State) {
        while state.entries.count > maxEntries, let victim = state.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            state.entries.removeValue(forKey: victim)
        }
    }
}
