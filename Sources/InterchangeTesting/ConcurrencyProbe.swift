import Synchronization

/// Measures how many operations run at once, to check a concurrency limit (a bulkhead, a per-endpoint cap):
/// each operation calls ``enter()`` when it starts and ``leave()`` when it ends.
///
/// ```swift
/// let probe = ConcurrencyProbe()
/// server.handle("/slow") { _ in
///     probe.enter()
///     defer { probe.leave() }
///     …
/// }
/// #expect(probe.peak == 2)
/// ```
public final class ConcurrencyProbe: Sendable {
    private struct State {
        var current = 0
        var peak = 0
        var total = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// An operation started.
    public func enter() {
        state.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
            $0.total += 1
        }
    }

    /// An operation ended.
    public func leave() { state.withLock { $0.current -= 1 } }

    /// Operations running now.
    public var current: Int { state.withLock { $0.current } }
    /// The most operations that ever ran at once.
    public var peak: Int { state.withLock { $0.peak } }
    /// Operations that started, in all.
    public var total: Int { state.withLock { $0.total } }
}
