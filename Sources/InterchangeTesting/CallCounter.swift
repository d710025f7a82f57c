import Synchronization

/// Counts calls — of a handler, a loader, an operation under test — shared between a test and the closures it
/// runs on other tasks.
///
/// ```swift
/// let loads = CallCounter()
/// let first = try await cache.value(for: "berlin") { loads.increment() }   // the loader returns 1
/// #expect(loads.count == 1)
/// ```
///
/// Named `CallCounter` rather than `Counter` so that it never collides with swift-metrics' `Counter` in a file
/// that imports both.
public final class CallCounter: Sendable {
    private let value = Mutex(0)

    public init() {}

    /// Counts one call and returns the count including it: 1 for the first call, 2 for the second, ….
    @discardableResult
    public func increment() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }

    /// The calls counted so far.
    public var count: Int { value.withLock { $0 } }
}
