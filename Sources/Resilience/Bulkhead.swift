import InterchangeCore
import Synchronization

/// Caps how many calls run at once, queues a few more, and rejects the rest at once.
///
/// Isolates a slow dependency: when it stops answering, only `maxConcurrentCalls` tasks wait on it and the
/// rest of the process keeps its threads, connections and memory. Queued callers are served first-in,
/// first-out; a cancelled waiter leaves the queue at once.
///
/// ```swift
/// let bulkhead = try Bulkhead(name: "payments", maxConcurrentCalls: 10, maxQueuedCalls: 20)
/// let receipt = try await bulkhead.execute { try await payments.charge(order) }
/// ```
public final class Bulkhead: ResilienceStrategy {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var queue: [Waiter] = []
        var nextID: UInt64 = 0
        /// Waiters cancelled before they were enqueued (the cancellation handler ran first).
        var cancelledBeforeEnqueue: Set<UInt64> = []
    }

    public let name: String
    public let maxConcurrentCalls: Int
    public let maxQueuedCalls: Int
    private let state = Mutex(State())

    /// - Throws: ``ConfigurationError`` naming `maxConcurrentCalls` or `maxQueuedCalls`.
    public init(name: String, maxConcurrentCalls: Int, maxQueuedCalls: Int = 0) throws {
        try ConfigurationError.require(
            maxConcurrentCalls >= 1,
            field: "maxConcurrentCalls",
            "must be at least 1",
            got: maxConcurrentCalls
        )
        try ConfigurationError.require(maxQueuedCalls >= 0, field: "maxQueuedCalls", "must not be negative", got: maxQueuedCalls)
        self.name = name
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxQueuedCalls = maxQueuedCalls
    }

    /// Calls running now and calls waiting for a slot.
    public var load: (running: Int, queued: Int) {
        state.withLock { ($0.running, $0.queue.count) }
    }

    public func execute<Output: Sendable>(_ operation: @escaping @Sendable () async throws -> Output) async throws -> Output {
        try await acquireSlot()
        defer { releaseSlot() }
        return try await operation()
    }

    private enum Admission {
        case run
        case queued(UInt64)
        case reject
    }

    /// Takes a slot, queueing for one when allowed; pair with ``releaseSlot()``.
    ///
    /// - Throws: ``BulkheadFullError`` when the queue is full; `CancellationError` if cancelled while queued.
    @usableFromInline
    package func acquireSlot() async throws {
        let admission: Admission = state.withLock { state in
            if state.running < maxConcurrentCalls {
                state.running += 1
                return .run
            }
            guard state.queue.count < maxQueuedCalls else { return .reject }
            state.nextID += 1
            return .queued(state.nextID)
        }
        switch admission {
        case .run:
            return
        case .reject:
            throw BulkheadFullError(name: name, maxConcurrentCalls: maxConcurrentCalls, maxQueuedCalls: maxQueuedCalls)
        case .queued(let id):
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let cancelled = state.withLock { state in
                        if state.cancelledBeforeEnqueue.remove(id) != nil { return true }
                        state.queue.append(Waiter(id: id, continuation: continuation))
                        return false
                    }
                    if cancelled { continuation.resume(throwing: CancellationError()) }
                }
            } onCancel: {
                let waiter: Waiter? = state.withLock { state in
                    if let index = state.queue.firstIndex(where: { $0.id == id }) {
                        return state.queue.remove(at: index)
                    }
                    state.cancelledBeforeEnqueue.insert(id)
                    return nil
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Frees a slot, handing it straight to the longest-waiting caller when there is one.
    @usableFromInline
    package func releaseSlot() {
        let next: Waiter? = state.withLock { state in
            if state.queue.isEmpty {
                state.running -= 1
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume()
    }
}
