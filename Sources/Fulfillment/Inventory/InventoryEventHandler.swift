import Foundation
import FulfillmentEvents
import Logging
import Messaging
import Persistence
import SQLKit

/// What inventory does with each event it consumes, for both saga styles. Each event is handled in one transaction
/// with its inbox claim (``Database/handleOnce(_:inbox:_:)``) and the outbox rows of its answer, so a redelivered
/// event has no second effect and its answer is sent exactly when the effect committed.
///
/// | event | style | effect (answer) |
/// |---|---|---|
/// | `command.reserve-inventory` | orchestration | reserve all lines or none (`inventory.reserved` / `inventory.reservation-failed`) |
/// | `order.created` | choreography (ignored in orchestration) | the same |
/// | `command.release-inventory` | orchestration | release (`inventory.released`) |
/// | `payment.failed` | choreography reservations | release (`inventory.released`) |
/// | `order.cancelled` | all but orchestrated reservations (the orchestrator sends the command) | release, or record the order released (`inventory.released`) |
/// | `order.confirmed` | both | the reservation becomes a sale (no answer) |
///
/// Order-tolerant: a reserve for an order released before is refused with reason `cancelled`.
public struct InventoryEventHandler: Sendable {
    /// The types consumed, the subscription's bindings.
    public static let consumedTypes: [String] = [
        ReserveInventory.type, ReleaseInventory.type, OrderCreated.type, PaymentFailed.type, OrderCancelled.type, OrderConfirmed.type,
    ]

    let store: InventoryStore
    let inbox: Inbox
    let outbox: Outbox
    let reservationLifetime: Duration
    let now: @Sendable () -> Date
    let logger: Logger
    /// Called after a commit that appended answers (wakes the relay).
    let answered: @Sendable () -> Void

    /// Handles `event` once; returns the answers it committed (empty for a redelivery or an event with no answer).
    @discardableResult
    public func handle(_ event: CloudEvent) async throws -> [CloudEvent] {
        let store = self.store
        let outbox = self.outbox
        let now = self.now
        let lifetime = reservationLifetime
        let answers: [CloudEvent]? = try await store.database.handleOnce(event, inbox: inbox) { sql in
            let messages = try await Self.effect(of: event, store: store, now: now(), lifetime: lifetime, in: sql)
            let events = try messages.map { try Self.answer($0) }
            if !events.isEmpty { try await outbox.append(events, in: sql) }
            return events
        }
        guard let answers else {
            logger.debug("event handled before", metadata: ["event_id": "\(event.id)", "type": "\(event.type)"])
            return []
        }
        if !answers.isEmpty { answered() }
        return answers
    }

    private static func effect(
        of event: CloudEvent,
        store: InventoryStore,
        now: Date,
        lifetime: Duration,
        in sql: any SQLDatabase
    ) async throws -> [any FulfillmentMessage] {
        switch event.type {
        case ReserveInventory.type:
            let command = try event.decodeData(as: ReserveInventory.self)
            let expiresAt = now.addingTimeInterval(TimeInterval(max(command.expiresInSeconds, 1)))
            return [try await store.reserve(orderId: command.orderId, lines: command.lines, expiresAt: expiresAt, style: .orchestration, in: sql)]
        case OrderCreated.type:
            let order = try event.decodeData(as: OrderCreated.self)
            guard order.sagaStyle == .choreography else { return [] }
            let expiresAt = now.addingTimeInterval(lifetime.inSeconds)
            return [
                try await store.reserve(
                    orderId: order.orderId,
                    lines: order.lines.map(\.stockLine),
                    expiresAt: expiresAt,
                    style: .choreography,
                    in: sql
                )
            ]
        case ReleaseInventory.type:
            let command = try event.decodeData(as: ReleaseInventory.self)
            return try await store.release(orderId: command.orderId, style: .orchestration, in: sql).map { [$0] } ?? []
        case PaymentFailed.type:
            let failure = try event.decodeData(as: PaymentFailed.self)
            guard let reservation = try await InventoryStore.reservation(orderId: failure.orderId, in: sql),
                reservation.style == .choreography, reservation.status == .held
            else { return [] }
            return try await store.release(orderId: failure.orderId, style: .choreography, in: sql).map { [$0] } ?? []
        case OrderCancelled.type:
            let cancellation = try event.decodeData(as: OrderCancelled.self)
            if let reservation = try await InventoryStore.reservation(orderId: cancellation.orderId, in: sql), reservation.style == .orchestration {
                return []
            }
            return try await store.release(orderId: cancellation.orderId, style: .choreography, in: sql).map { [$0] } ?? []
        case OrderConfirmed.type:
            let confirmation = try event.decodeData(as: OrderConfirmed.self)
            try await store.confirmSale(orderId: confirmation.orderId, in: sql)
            return []
        default:
            throw PoisonEvent(reason: "inventory does not handle events of type \(event.type)")
        }
    }

    static func answer(_ message: some FulfillmentMessage) throws -> CloudEvent {
        try FulfillmentEvents.event(message, from: .inventory)
    }
}

extension Duration {
    var inSeconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
