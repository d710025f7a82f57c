import Foundation
import Logging
import Sagas
import ServiceLifecycle

/// Feeds every saga whose deadline passed its ``SagaInput/timedOut(step:attempt:)`` — the step is retried or
/// fails and the saga compensates — on an injectable clock. Several scanners (instances of orders) may run: each
/// order is updated under its row lock, and the state machine ignores a timeout that is no longer pending.
struct SagaDeadlineScanner: Service {
    let saga: OrderSaga
    let interval: Duration
    let clock: any Clock<Duration>
    let wake: @Sendable () -> Void

    /// Orders handled per scan query.
    static let batchSize = 100

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        _ = try await scanOnce()
                    } catch is CancellationError {
                        return
                    } catch {
                        saga.logger.warning("saga deadline scan failed: \(error)")
                    }
                    try await clock.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down: the sleep was cancelled because the service group asked.
        }
    }

    /// Times out the sagas whose deadline is due now (up to ``batchSize``, earliest first); returns how many.
    @discardableResult
    func scanOnce() async throws -> Int {
        let date = saga.now()
        let due = try await saga.store.dueDeadlines(at: date, limit: Self.batchSize)
        for orderID in due {
            try await saga.store.database.transaction { sql in
                guard let (_, record) = try await saga.store.lockOrder(id: orderID, in: sql), let deadline = record.instance.deadline,
                    deadline.at <= date
                else { return }
                try await saga.apply(.timedOut(step: deadline.step, attempt: deadline.attempt), toOrder: orderID, in: sql)
            }
        }
        if !due.isEmpty { wake() }
        return due.count
    }
}
