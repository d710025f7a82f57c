import Synchronization

/// A value shared between a test and the closures it runs on other tasks (handlers, callbacks, event sinks),
/// behind a lock: what a `Mutex` is, but a class, so escaping and `@Sendable` closures can capture it.
///
/// ```swift
/// let handled = LockedValue<[String]>([])
/// let processor = InboxProcessor(inbox: inbox) { event in handled.append(event.id) }
/// await processor.processDue()
/// #expect(handled.value == ["evt_1"])
/// ```
public final class LockedValue<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    public init(_ value: Value) { storage = Mutex(value) }

    /// Runs `body` with the value locked, to read and change it in one step.
    public func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> sending Result) rethrows -> Result {
        try storage.withLock(body)
    }

    /// A copy of the value now.
    public var value: Value { storage.withLock { $0 } }
}

extension LockedValue where Value: RangeReplaceableCollection, Value.Element: Sendable {
    /// Appends `element`, for a value that collects what happened (events, log lines, handled ids).
    public func append(_ element: Value.Element) {
        storage.withLock { $0.append(element) }
    }
}
