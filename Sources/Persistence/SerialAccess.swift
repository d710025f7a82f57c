import Synchronization

/// Runs one body at a time, in arrival order, across tasks; re-entrant within a task (a body that asks again
/// runs at once rather than wait for itself forever).
///
/// SQLite has one writer. Two transactions that want to write at once do not queue: the second sleeps in SQLite's
/// busy handler (1, 2, 5, 10 … 100 ms) and retries, so under concurrency transactions spend most of their time
/// asleep (the shop's order creation: p99 of a third of a second at 16 in flight). Taking turns in the process
/// keeps the database busy and nobody asleep.
final class SerialAccess: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// How many callers wait for their turn.
    var waiting: Int { state.withLock { $0.waiters.count } }
    @TaskLocal private static var holders: Set<ObjectIdentifier> = []

    func run<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        let me = ObjectIdentifier(self)
        if Self.holders.contains(me) { return try await body() }
        await acquire()
        defer { release() }
        return try await Self.$holders.withValue(Self.holders.union([me])) { try await body() }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                guard state.held else {
                    state.held = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the turn to the longest waiter (it stays held), or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
