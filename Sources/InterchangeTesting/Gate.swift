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
public final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Returns when the gate is open (at once if it already is).
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Operations waiting at the gate now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Lets every waiting and future operation through.
    public func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A bounded wait in a test ran out of time: what it waited for did not happen.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var condition: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting until \(condition)" }
}

/// Polls (every millisecond) until `condition` holds, and throws ``WaitTimedOut`` after `timeout` of real time, so a regression makes
/// the test fail instead of hang.
public func waitUntil(
    _ description: String,
    timeout: Duration = .seconds(10),
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while !condition() {
        guard clock.now < deadline else { throw WaitTimedOut(condition: description, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(1))
    }
}
