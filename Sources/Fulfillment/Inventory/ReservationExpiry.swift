import Foundation
import FulfillmentEvents
import Logging
import Messaging
import Persistence
import ServiceLifecycle

/// Releases reservations whose time ran out, on an injectable clock: every `interval` it releases each held
/// reservation with `expiresAt` ≤ now, in one transaction with its `inventory.released` outbox row.
public struct ReservationExpiry: Service {
    let store: InventoryStore
    let outbox: Outbox
    let interval: Duration
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger
    let answered: @Sendable () -> Void

    /// Scans until graceful shutdown or cancellation (then returns); a failed scan is logged and tried again next
    /// interval.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return  // cancelled: shutting down
                }
                do {
                    _ = try await releaseExpired()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("releasing expired reservations failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Releases what expired by now; returns the `inventory.released` events appended.
    public func releaseExpired() async throws -> [CloudEvent] {
        let cutoff = now()
        var released: [CloudEvent] = []
        for orderId in try await store.expiredOrders(by: cutoff) {
            let store = self.store
            let outbox = self.outbox
            let event: CloudEvent? = try await store.database.transaction { sql in
                // Conditional on the row still being held and expired: a confirmation that won the race keeps its sale.
                guard let message = try await store.release(orderId: orderId, style: .choreography, onlyIfExpiredBy: cutoff, in: sql) else {
                    return nil
                }
                let event = try InventoryEventHandler.answer(message)
                try await outbox.append([event], in: sql)
                return event
            }
            if let event {
                logger.debug("reservation expired", metadata: ["order_id": "\(orderId)"])
                released.append(event)
            }
        }
        if !released.isEmpty { answered() }
        return released
    }
}
