import Foundation
import FulfillmentEvents
import Messaging
import Synchronization

/// Watches the end of every saga from the outside: a consumer group of its own on the services' transport receives
/// `order.confirmed` and `order.cancelled`, stamps each order id with the monotonic time it arrived, and wakes the
/// placer waiting for that order. Nothing polls the orders API.
final class SagaObserver: Sendable {
    /// The observer's consumer group (its deliveries are not counted as the saga's).
    static let group = "bench.saga-observer"

    enum Outcome: Sendable, Equatable {
        case confirmed
        case cancelled(reason: String)
    }

    struct End: Sendable {
        var outcome: Outcome
        /// `DispatchTime.now().uptimeNanoseconds` when the event was handled.
        var at: UInt64
    }

    private struct State {
        var ends: [String: End] = [:]
        var waiters: [String: CheckedContinuation<End, any Error>] = [:]
        var failure: BenchmarkFailure?
        /// Waits cancelled before their continuation was stored.
        var cancelled: Set<String> = []
    }
    private let state = Mutex(State())

    /// The consumer to run beside the services.
    func consumer(bus: EventBus) -> EventConsumer {
        let subscription = Subscription(
            group: Self.group,
            bindings: [TopicPattern(OrderConfirmed.type), TopicPattern(OrderCancelled.type)],
            maxAttempts: 3,
            prefetch: 512
        )
        return bus.consumer(subscription) { [self] event, _ in
            let now = DispatchTime.now().uptimeNanoseconds
            guard let orderID = event.subject else { return }
            if event.type == OrderConfirmed.type {
                record(orderID, End(outcome: .confirmed, at: now))
            } else {
                let reason = (try? event.decodeData(as: OrderCancelled.self))?.reason ?? "?"
                record(orderID, End(outcome: .cancelled(reason: reason), at: now))
            }
        }
    }

    private func record(_ orderID: String, _ end: End) {
        let waiter = state.withLock { state -> CheckedContinuation<End, any Error>? in
            // A redelivered event keeps the first stamp.
            guard state.ends[orderID] == nil else { return nil }
            state.ends[orderID] = end
            return state.waiters.removeValue(forKey: orderID)
        }
        waiter?.resume(returning: end)
    }

    /// The end of `orderID`'s saga: at once when it was seen already, otherwise when it arrives, or the error
    /// ``fail(_:)`` was given (the run's deadline); throws `CancellationError` when the waiting task is cancelled.
    /// One waiter per order.
    func end(of orderID: String) async throws -> End {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let known = state.withLock { state -> Result<End, any Error>? in
                    if let end = state.ends[orderID] { return .success(end) }
                    if let failure = state.failure { return .failure(failure) }
                    if state.cancelled.remove(orderID) != nil { return .failure(CancellationError()) }
                    state.waiters[orderID] = continuation
                    return nil
                }
                if let known { continuation.resume(with: known) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: orderID) else {
                    if state.ends[orderID] == nil { state.cancelled.insert(orderID) }
                    return nil as CheckedContinuation<End, any Error>?
                }
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Fails every wait, now and later (the deadline passed).
    func fail(_ failure: BenchmarkFailure) {
        let waiters = state.withLock { state in
            state.failure = failure
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: failure) }
    }

    /// The ends seen for `orderIDs` (those not seen are missing).
    func ends(of orderIDs: some Sequence<String>) -> [String: End] {
        state.withLock { state in
            var found: [String: End] = [:]
            for id in orderIDs { found[id] = state.ends[id] }
            return found
        }
    }
}
