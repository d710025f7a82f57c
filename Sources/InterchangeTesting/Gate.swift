import Synchronization

/// Holds operations in flight until a test opens it, so a test can make calls overlap for real instead of
/// hoping a sleep is long enough.
///
/// ```swift
/// let gate = Gate()
/// server.handle("/oauth/token") { _ in
///     await gate.wait()  // the upstream answers only when the test says so
///     return .json(#"{"access_token":"t"}"#)
/// }
/// // … start 25 callers, then:
/// try await waitUntil("24 callers wait for the token") { oauth.callersWaitingForToken == 24 }
/// gate.open()
/// ```
///
/// A waiting operation also returns when its task is cancelled, so a test that fails (a bounded wait timing out,
/// its time limit running out) before it opens the gate ends instead of hanging on the operations it holds.
public final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelledBeforeWaiting: Set<UInt64> = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Returns when the gate is open (at once if it already is), or when the waiting task is cancelled.
    public func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isOpen || state.cancelledBeforeWaiting.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiters.removeValue(forKey: id)
                if waiter == nil { state.cancelledBeforeWaiting.insert(id) }
                return waiter
            }
            waiter?.resume()
        }
    }

    /// Operations waiting at the gate now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns once at least `count` operations wait at the gate; throws ``WaitTimedOut`` if they have not
    /// arrived within `timeout` of real time.
    ///
    /// ```swift
    /// async let first = bulkhead.execute { await gate.wait() }
    /// async let second = bulkhead.execute { await gate.wait() }
    /// try await gate.waitForWaiters(2)   // both calls are inside the bulkhead now
    /// ```
    public func waitForWaiters(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        try await waitUntil("\(count) operation(s) wait at the gate", timeout: timeout) { waiting >= count }
    }

    /// Lets every waiting and future operation through.
    public func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
