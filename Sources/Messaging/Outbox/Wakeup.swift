import Resilience
import Synchronization

/// An in-process nudge for polling loops: ``wait(upTo:after:clock:)`` sleeps until ``signal()`` or the timeout,
/// whichever comes first, so work committed in this process is picked up at once and work from other processes
/// within a poll.
///
/// No signal is lost between a loop's look for work and its wait: the loop takes a ``ticket`` before it looks, and
/// the wait returns at once if a signal came since.
///
/// ```swift
/// let ticket = wakeup.ticket
/// if try await claimWork().isEmpty { try await wakeup.wait(upTo: pollInterval, after: ticket, clock: clock) }
/// ```
final class Wakeup: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelledBeforeWaiting: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// The number of signals so far: pass it to ``wait(upTo:after:clock:)``.
    var ticket: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiter, and every wait whose ticket predates this signal.
    func signal() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            let woken = Array(state.waiters.values)
            state.waiters.removeAll()
            return woken
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns after `timeout` on `clock`, or at once when a signal came after `ticket` was taken, or when one comes;
    /// throws `CancellationError` when cancelled.
    func wait(upTo timeout: Duration, after ticket: UInt64, clock: AnyClock) async throws {
        try Task.checkCancellation()
        if state.withLock({ $0.generation != ticket }) { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await clock.sleep(for: timeout) }
            group.addTask { await self.signalled(after: ticket) }
            _ = try await group.next()
            group.cancelAll()
        }
        try Task.checkCancellation()
    }

    private func signalled(after ticket: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelledBeforeWaiting.remove(id) != nil || state.generation != ticket { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelledBeforeWaiting.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
