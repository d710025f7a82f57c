import Foundation
import FulfillmentEvents
import Logging
import Messaging
import Persistence
import SQLKit
import Sagas

/// Runs the saga of every order on the `Sagas` state machine (``SagaInstance``): starts it with the order, feeds it
/// the participants' replies, deadlines and cancels, and carries out its actions — in ONE transaction each time:
/// the order row (status and saga) and the outbox rows of the commands/events the actions produce.
///
/// The two styles differ only in what an action turns into:
///
/// | action | orchestration | choreography |
/// |---|---|---|
/// | execute reserve-inventory | `command.reserve-inventory` | nothing (inventory reacts to `order.created`) |
/// | execute charge-payment | `command.charge-payment` | nothing (payments reacts to `inventory.reserved`) |
/// | execute confirm | CONFIRMED + `order.confirmed` | the same |
/// | compensate reserve-inventory | `command.release-inventory` | `order.cancelled` once (inventory releases) |
/// | compensate charge-payment | `command.refund-payment` | `order.cancelled` once (payments refunds) |
/// | compensated / failed | CANCELLED + `order.cancelled` | CANCELLED (+ `order.cancelled` unless announced) |
///
/// Replies from different services are not ordered with each other (`payment.processed` can overtake
/// `inventory.reserved` in choreography), so a reply for a step the saga has not reached yet is kept in
/// ``SagaRecord/pending`` and applied when it does; a late reply (a step already passed) is applied at once, and the
/// state machine logs it as ignored.
struct OrderSaga: Sendable {
    let store: OrdersStore
    let outbox: Outbox
    let configuration: OrdersConfiguration
    let now: @Sendable () -> Date
    let logger: Logger

    static let cancelledByRequest = "cancelled by request"

    /// Inserts `order` and starts its saga on `sql` (the caller's transaction): `order.created` and the first
    /// step's command (orchestration) go to the outbox with it.
    func start(_ order: Order, in sql: any SQLDatabase) async throws -> Order {
        let date = now()
        let (instance, actions) = SagaInstance.start(
            id: order.id,
            definition: OrderSagaDefinition.definition(configuration, style: order.sagaStyle),
            at: date
        )
        var order = order
        var record = SagaRecord(instance: instance, pending: [])
        var events = [
            try OrderCreated(
                orderId: order.id,
                userId: order.userId,
                lines: order.lines,
                totalCents: order.totalCents,
                currency: order.currency,
                sagaStyle: order.sagaStyle
            ).cloudEvent(from: .orders, time: date)
        ]
        events += try carryOut(actions, order: &order, record: &record, at: date)
        try await store.insert(order, saga: record, in: sql)
        try await outbox.append(events, in: sql)
        return order
    }

    /// Applies `input` to the saga of `orderID` on `sql` (the caller's transaction — the inbox's, for a reply).
    ///
    /// - Returns: the order after it, nil when there is no such order.
    @discardableResult
    func apply(_ input: SagaInput, toOrder orderID: String, in sql: any SQLDatabase) async throws -> Order? {
        guard var (order, record) = try await store.lockOrder(id: orderID, in: sql) else { return nil }
        let before = (order, record)
        let date = now()
        var events: [CloudEvent] = []
        if Self.isAhead(input, of: record.instance) {
            record.pending.append(input)
        } else {
            events += try carryOut(record.instance.apply(input, at: date), order: &order, record: &record, at: date)
            events += try drainPending(order: &order, record: &record, at: date)
        }
        if record.instance.status.isTerminal { record.pending = [] }
        guard order != before.0 || record != before.1 else { return order }
        order.updatedAt = date
        try await store.save(order, saga: record, in: sql)
        try await outbox.append(events, in: sql)
        return order
    }

    /// Replies kept for a step the saga has now reached (or passed), applied until none applies.
    private func drainPending(order: inout Order, record: inout SagaRecord, at date: Date) throws -> [CloudEvent] {
        var events: [CloudEvent] = []
        var progressed = true
        while progressed {
            progressed = false
            for (index, input) in record.pending.enumerated() where !Self.isAhead(input, of: record.instance) {
                record.pending.remove(at: index)
                events += try carryOut(record.instance.apply(input, at: date), order: &order, record: &record, at: date)
                progressed = true
                break
            }
        }
        return events
    }

    /// Whether `input` is a reply for a step the saga has not reached yet (and will, unless it ends first).
    static func isAhead(_ input: SagaInput, of instance: SagaInstance) -> Bool {
        switch input {
        case .succeeded(let step, _), .failed(let step, _, _):
            return instance.status == .running && instance.phase(of: step) == .pending
        case .compensated(let step, _):
            guard instance.status == .running || instance.status == .compensating else { return false }
            switch instance.phase(of: step) {
            case .succeeded, .executing, .awaitingRetry, .abandoned: return true
            default: return false
            }
        case .timedOut, .cancel:
            return false
        }
    }

    /// Turns the state machine's actions into the order's status and the messages to send; a local step (confirm)
    /// is done here and its success fed back at once.
    private func carryOut(_ actions: [SagaAction], order: inout Order, record: inout SagaRecord, at date: Date) throws -> [CloudEvent] {
        var queue = actions[...]
        var events: [CloudEvent] = []
        let orchestrated = order.sagaStyle == .orchestration
        while let action = queue.popFirst() {
            switch action {
            case .execute(OrderSagaDefinition.reserve, _):
                order.status = .reserving
                if orchestrated {
                    let seconds = Int(configuration.reservationLifetime.components.seconds)
                    events.append(
                        try ReserveInventory(orderId: order.id, lines: order.lines.map(\.stockLine), expiresInSeconds: seconds)
                            .cloudEvent(from: .orders, time: date)
                    )
                }
            case .execute(OrderSagaDefinition.charge, _):
                order.status = .charging
                if orchestrated {
                    events.append(
                        try ChargePayment(orderId: order.id, userId: order.userId, amountCents: order.totalCents, currency: order.currency)
                            .cloudEvent(from: .orders, time: date)
                    )
                }
            case .execute(OrderSagaDefinition.confirm, _):
                order.status = .confirmed
                order.reason = nil
                events.append(try OrderConfirmed(orderId: order.id).cloudEvent(from: .orders, time: date))
                queue.append(
                    contentsOf: record.instance.apply(.succeeded(step: OrderSagaDefinition.confirm, messageID: "confirm:\(order.id)"), at: date)
                )
            case .execute(let step, _):
                preconditionFailure("the order saga has no step \(step)")
            case .compensate(let step, let attempt):
                let announced = order.status == .compensating
                order.status = .compensating
                if orchestrated {
                    switch step {
                    case OrderSagaDefinition.reserve:
                        events.append(try ReleaseInventory(orderId: order.id).cloudEvent(from: .orders, time: date))
                    case OrderSagaDefinition.charge:
                        events.append(try RefundPayment(orderId: order.id).cloudEvent(from: .orders, time: date))
                    default:
                        preconditionFailure("the order saga's step \(step) has no compensation")
                    }
                } else if !announced || attempt > 1 {
                    // Choreography: the participants compensate on order.cancelled; said again on a retry.
                    events.append(try OrderCancelled(orderId: order.id, reason: sagaReason(record)).cloudEvent(from: .orders, time: date))
                }
            case .deadline:
                break  // the instance holds it; saved as saga_deadline for the scanner
            case .completed:
                break  // confirmed when the confirm step executed
            case .compensated(let reason), .failed(let reason):
                let announced = order.status == .compensating && !orchestrated
                order.status = .cancelled
                order.reason = Self.orderReason(reason)
                if case .failed = action {
                    order.reason = "compensation failed: \(reason)"
                    logger.error("saga of order \(order.id) ended with a compensation not done: \(reason)")
                }
                if !announced {
                    events.append(try OrderCancelled(orderId: order.id, reason: order.reason ?? reason).cloudEvent(from: .orders, time: date))
                }
            }
        }
        return events
    }

    /// Why the saga compensates, as the order's reason.
    private func sagaReason(_ record: SagaRecord) -> String {
        Self.orderReason(record.instance.reason ?? "cancelled")
    }

    /// `cancelled: cancelled by request` reads better as `cancelled by request`.
    static func orderReason(_ reason: String) -> String {
        reason.hasPrefix("cancelled: ") ? String(reason.dropFirst("cancelled: ".count)) : reason
    }
}
