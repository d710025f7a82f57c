import Foundation
import InterchangeCore
import Synchronization

/// A TTL cache that collapses concurrent loads of the same key into one, and serves a stale value when a
/// reload fails.
///
/// - **single-flight**: N callers asking for a key that is missing or expired cause one call to `load`; the
///   others wait for its result (and share its error); if the loading caller is cancelled, a waiter loads instead;
/// - **TTL**: a value is fresh for `ttl` — or while a caller-given rule says so, for values that carry their own
///   expiry (``value(for:freshWhile:load:)``, what OAuth tokens use);
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
        try await value(for: key, isFresh: { [ttl] entry, at in at - entry.loadedAt < ttl }, servesStale: true, load: load)
    }

    /// The cached value for `key` while `isFresh` says it is usable, otherwise loaded once for all concurrent callers.
    ///
    /// For values that carry their own expiry, such as an OAuth access token refreshed shortly before its
    /// `expires_in` runs out: `isFresh` replaces the TTL, and a failed load is an error for every caller waiting
    /// for it (nothing stale is served).
    ///
    /// ```swift
    /// let token = try await tokens.value(
    ///     for: "default",
    ///     freshWhile: { clock.now < $0.refreshAt },
    ///     load: { try await fetchToken() }
    /// ).value
    /// ```
    public func value(
        for key: Key,
        freshWhile isFresh: (Value) -> Bool,
        load: @Sendable () async throws -> Value
    ) async throws -> Cached {
        try await value(for: key, isFresh: { entry, _ in isFresh(entry.value) }, servesStale: false, load: load)
    }

    private func value(
        for key: Key,
        isFresh: (Entry, Duration) -> Bool,
        servesStale: Bool,
        load: @Sendable () async throws -> Value
    ) async throws -> Cached {
        while true {
            let at = clock.now
            let plan: Plan = state.withLock { state in
                if var entry = state.entries[key], isFresh(entry, at) {
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
                do {
                    return try await join(key)
                } catch is FlightAbandoned {
                    continue  // the loading caller was cancelled, or its flight landed before we joined: look again
                }
            case .load:
                return try await fly(key, servesStale: servesStale, load: load)
            }
        }
    }

    /// Waits for the flight loading `key` and shares its outcome.
    private func join(_ key: Key) async throws -> Cached {
        try await withCheckedThrowingContinuation { continuation in
            let joined = state.withLock { state in
                guard state.flights[key] != nil else { return false }
                state.flights[key]?.waiters.append(continuation)
                return true
            }
            if !joined { continuation.resume(throwing: FlightAbandoned()) }
        }
    }

    /// Loads `key` for this caller and for every caller that joined meanwhile.
    private func fly(_ key: Key, servesStale: Bool, load: @Sendable () async throws -> Value) async throws -> Cached {
        let outcome: Result<Cached, any Error>
        var waitersOutcome: Result<Cached, any Error>? = nil
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
                guard servesStale, let entry = state.entries[key], failedAt - entry.loadedAt < ttl + staleIfError else { return nil }
                return Cached(value: entry.value, fetchedAt: entry.fetchedAt, age: failedAt - entry.loadedAt, isStale: true, staleCause: error)
            }
            outcome = stale.map { .success($0) } ?? .failure(error)
            if stale == nil, error is CancellationError || Task.isCancelled {
                // Our caller gave up; the waiters did not. One of them loads instead of all failing with our cancellation.
                waitersOutcome = .failure(FlightAbandoned())
            }
        }
        let waiters = state.withLock { state in state.flights.removeValue(forKey: key)?.waiters ?? [] }
        for waiter in waiters { waiter.resume(with: waitersOutcome ?? outcome) }
        return try outcome.get()
    }

    private struct FlightAbandoned: Error {}

    /// Drops `key`.
    public func invalidate(_ key: Key) {
        state.withLock { _ = $0.entries.removeValue(forKey: key) }
    }

    /// Drops `key` if `matches` picks its value — and not a newer one another caller has loaded since.
    public func invalidate(_ key: Key, if matches: (Value) -> Bool) {
        state.withLock { state in
            if let entry = state.entries[key], matches(entry.value) { state.entries.removeValue(forKey: key) }
        }
    }

    /// Callers waiting now for the load of `key` in flight, not counting the one loading it.
    public func waitingCallers(for key: Key) -> Int {
        state.withLock { $0.flights[key]?.waiters.count ?? 0 }
    }

    /// Keys stored now.
    public var count: Int { state.withLock { $0.entries.count } }

    private func evictIfNeeded(_ state: inout State) {
        while state.entries.count > maxEntries, let victim = state.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            state.entries.removeValue(forKey: victim)
        }
    }
}
