import Foundation
import FulfillmentEvents
import Logging
import Messaging
import Persistence
import SQLKit
import Sagas
import ServiceLifecycle

/// The saga of every order, on the `Sagas` engine: a ``SagaOrchestrator`` for orders placed in the orchestration
/// style and a ``SagaTracker`` for choreographed ones, over orders' own database (the `sagas` tables beside
/// `fulfillment_orders` and the outbox). Each input — a participant's reply, a deadline, a cancel — is one
/// transaction: the saga's state, the order's status and the outbox rows of what the saga sends next commit together.
///
/// The two styles differ only in what an action turns into (`Performer`):
///
/// | action | orchestration | choreography |
/// |---|---|---|
/// | execute reserve-inventory | `command.reserve-inventory` | nothing (inventory reacts to `order.created`) |
/// | execute charge-payment | `command.charge-payment` | nothing (payments reacts to `inventory.reserved`) |
/// | execute confirm (local) | CONFIRMED + `order.confirmed` | the same |
/// | compensate reserve-inventory | `command.release-inventory` | `order.cancelled` once (inventory releases) |
/// | compensate charge-payment | `command.refund-payment` | `order.cancelled` once (payments refunds) |
/// | compensated / failed | CANCELLED + `order.cancelled` | CANCELLED (+ `order.cancelled` unless announced) |
///
/// Replies from different services are not ordered with each other (`payment.processed` can overtake
/// `inventory.reserved` in choreography): the saga instance holds an early reply until it reaches its step.
struct OrderSaga: Sendable {
    let store: OrdersStore
    let outbox: Outbox
    let configuration: OrdersConfiguration
    let now: @Sendable () -> Date
    let logger: Logger
    private let orchestrator: SagaOrchestrator<OrderSagaContext>
    private let tracker: SagaTracker<OrderSagaContext>

    static let cancelledByRequest = "cancelled by request"

    /// - Parameters:
    ///   - clock: what the deadline scanners sleep on (tests: a `ManualClock`, with its `now`).
    ///   - relay: woken after the transactions the scanners open themselves.
    init(
        store: OrdersStore,
        outbox: Outbox,
        configuration: OrdersConfiguration,
        now: @escaping @Sendable () -> Date,
        clock: any Clock<Duration> = ContinuousClock(),
        relay: OutboxRelay? = nil,
        logger: Logger
    ) {
        self.store = store
        self.outbox = outbox
        self.configuration = configuration
        self.now = now
        self.logger = logger
        let engine = SagaEngineConfiguration(pollInterval: configuration.deadlineScanInterval)
        let performer = Performer(store: store, configuration: configuration, now: now, logger: logger)
        orchestrator = SagaOrchestrator(
            definition: OrderSagaDefinition.definition(configuration, style: .orchestration),
            context: OrderSagaContext.self,
            database: store.database,
            store: OrdersStore.sagas,
            outbox: outbox,
            configuration: engine,
            clock: clock,
            now: now,
            relay: relay,
            logger: logger
        ) { action, saga in try await performer.perform(action, saga, style: .orchestration) }
        tracker = SagaTracker(
            definition: OrderSagaDefinition.definition(configuration, style: .choreography),
            context: OrderSagaContext.self,
            database: store.database,
            store: OrdersStore.sagas,
            outbox: outbox,
            configuration: engine,
            clock: clock,
            now: now,
            relay: relay,
            logger: logger
        ) { action, saga in try await performer.perform(action, saga, style: .choreography) }
    }

    /// The deadline scanners of both styles, to run beside the server.
    var services: [any Service] { [orchestrator, tracker] }

    /// Inserts `order` and starts its saga on `sql` (the caller's transaction): `order.created` and the first
    /// step's command (orchestration) go to the outbox with it. Returns the order as the saga left it (RESERVING).
    func start(_ order: Order, in sql: any SQLDatabase) async throws -> Order {
        try await store.insert(order, in: sql)
        let created = try OrderCreated(
            orderId: order.id,
            userId: order.userId,
            lines: order.lines,
            totalCents: order.totalCents,
            currency: order.currency,
            sagaStyle: order.sagaStyle
        ).cloudEvent(from: .orders, time: now())
        try await outbox.append([created], in: sql)
        let context = OrderSagaContext(order)
        switch order.sagaStyle {
        case .orchestration: try await orchestrator.start(id: order.id, context: context, in: sql)
        case .choreography: try await tracker.start(id: order.id, context: context, in: sql)
        }
        return try await store.order(id: order.id, in: sql) ?? order
    }

    /// Applies `input` to the saga of `orderID` on `sql` (the caller's transaction — the inbox's, for a reply).
    ///
    /// - Returns: the order after it, nil when there is no such order.
    @discardableResult
    func apply(_ input: SagaInput, toOrder orderID: String, in sql: any SQLDatabase) async throws -> Order? {
        // Not locked here: the engine locks the saga's row first, on every path (replies, deadlines, cancels), and
        // only then writes the order's, so two inputs never take the two locks in opposite orders.
        guard let order = try await store.order(id: orderID, in: sql) else { return nil }
        switch order.sagaStyle {
        case .orchestration: try await orchestrator.apply(input, to: orderID, in: sql)
        case .choreography: try await tracker.record(input, for: orderID, in: sql)
        }
        return try await store.order(id: orderID, in: sql)
    }

    /// Saga `orderID` as stored, its row locked until `sql`'s transaction ends (PostgreSQL).
    func lockedSaga(_ orderID: String, in sql: any SQLDatabase) async throws -> SagaInstance? {
        try await OrdersStore.sagas.load(id: orderID, lockingRow: true, in: sql)?.instance
    }

    /// Fires the deadlines due now in both styles (what the scanners do every poll); returns how many.
    func fireDueDeadlines() async throws -> Int {
        try await orchestrator.fireDueDeadlines() + tracker.fireDueDeadlines()
    }

    /// `cancelled: cancelled by request` reads better as `cancelled by request`.
    static func orderReason(_ reason: String) -> String {
        reason.hasPrefix("cancelled: ") ? String(reason.dropFirst("cancelled: ".count)) : reason
    }
}

/// What the saga carries (stored as JSON with it): what its commands need, so no step reads the order's row.
struct OrderSagaContext: Codable, Sendable, Hashable {
    var orderId: String
    var userId: String
    var lines: [OrderLine]
    var totalCents: Int
    var currency: String

    init(_ order: Order) {
        orderId = order.id
        userId = order.userId
        lines = order.lines
        totalCents = order.totalCents
        currency = order.currency
    }
}

/// Turns the engine's actions into the order's status and the messages to send, inside the saga's transaction.
private struct Performer: Sendable {
    let store: OrdersStore
    let configuration: OrdersConfiguration
    let now: @Sendable () -> Date
    let logger: Logger

    func perform(_ action: SagaAction, _ saga: SagaExecution<OrderSagaContext>, style: FulfillmentSagaStyle) async throws -> SagaEffects {
        let order = saga.context
        let date = now()
        let orchestrated = style == .orchestration
        switch action {
        case .execute(OrderSagaDefinition.reserve, _):
            try await store.setStatus(.reserving, of: order.orderId, at: date, in: saga.sql)
            guard orchestrated else { return .none }
            let seconds = Int(configuration.reservationLifetime.components.seconds)
            return [
                try ReserveInventory(orderId: order.orderId, lines: order.lines.map(\.stockLine), expiresInSeconds: seconds)
                    .cloudEvent(from: .orders, time: date)
            ]
        case .execute(OrderSagaDefinition.charge, _):
            try await store.setStatus(.charging, of: order.orderId, at: date, in: saga.sql)
            guard orchestrated else { return .none }
            return [
                try ChargePayment(orderId: order.orderId, userId: order.userId, amountCents: order.totalCents, currency: order.currency)
                    .cloudEvent(from: .orders, time: date)
            ]
        case .execute(OrderSagaDefinition.confirm, _):
            try await store.setStatus(.confirmed, of: order.orderId, at: date, in: saga.sql)
            return .local(
                .succeeded(step: OrderSagaDefinition.confirm, messageID: "confirm:\(order.orderId)"),
                publishing: [try OrderConfirmed(orderId: order.orderId).cloudEvent(from: .orders, time: date)]
            )
        case .execute(let step, _):
            preconditionFailure("the order saga has no step \(step)")
        case .compensate(let step, let attempt):
            // The order's row as this transaction left it: COMPENSATING once a compensation began (this action's
            // batch included), which is how choreography says order.cancelled only once.
            let announced = try await store.order(id: order.orderId, in: saga.sql)?.status == .compensating
            try await store.setStatus(.compensating, of: order.orderId, at: date, in: saga.sql)
            if orchestrated {
                switch step {
                case OrderSagaDefinition.reserve: return [try ReleaseInventory(orderId: order.orderId).cloudEvent(from: .orders, time: date)]
                case OrderSagaDefinition.charge: return [try RefundPayment(orderId: order.orderId).cloudEvent(from: .orders, time: date)]
                default: preconditionFailure("the order saga's step \(step) has no compensation")
                }
            }
            // Choreography: the participants compensate on order.cancelled — said once when compensating begins,
            // and again on a retry.
            guard !announced || attempt > 1 else { return .none }
            let reason = OrderSaga.orderReason(saga.instance.reason ?? "cancelled")
            return [try OrderCancelled(orderId: order.orderId, reason: reason).cloudEvent(from: .orders, time: date)]
        case .compensated(let cause), .failed(let cause):
            let announced = try await store.order(id: order.orderId, in: saga.sql)?.status == .compensating
            var reason = OrderSaga.orderReason(cause)
            if case .failed = action {
                reason = "compensation failed: \(cause)"
                logger.error("saga of order \(order.orderId) ended with a compensation not done: \(cause)")
            }
            try await store.setStatus(.cancelled, reason: reason, of: order.orderId, at: date, in: saga.sql)
            // Choreography announced order.cancelled when its compensations began; said now if there were none.
            if !orchestrated && announced { return .none }
            return [try OrderCancelled(orderId: order.orderId, reason: reason).cloudEvent(from: .orders, time: date)]
        case .completed, .deadline:
            return .none  // confirmed when the confirm step executed; the store keeps the deadline
        }
    }
}
