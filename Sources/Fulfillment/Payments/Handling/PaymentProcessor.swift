import Foundation
import FulfillmentEvents
import Logging
import Messaging
import Persistence
import SQLKit

/// What the payments service does with each message it consumes, in both saga styles, each in ONE transaction with
/// the inbox claim (``Database/handleOnce(_:inbox:_:)``) and the outbox rows of its answer — so a redelivered
/// message has no second effect and an answer exists if and only if the effect committed.
///
/// | message | effect | answer |
/// |---|---|---|
/// | `command.charge-payment` (orchestration) | charge, once per order | `payment.processed` or `payment.failed` |
/// | `command.refund-payment` (orchestration) | tombstone; refund what was charged | `payment.refunded` (amount 0 when nothing was) |
/// | `order.created` | remember amount, user, currency and saga style | — |
/// | `inventory.reserved` (choreography orders) | charge the remembered amount | `payment.processed` or `payment.failed` |
/// | `order.cancelled` | tombstone; under choreography refund what was charged | `payment.refunded` (choreography) |
///
/// **Order-tolerant**: once an order is tombstoned (refunded or cancelled), a later charge is refused with
/// `payment.failed` reason `cancelled` and nothing is charged. **One charge per order**: a charge that already
/// happened is answered again, not repeated, and every provider call carries the key derived from the order id.
///
/// **A provider timeout** (the money may have moved) records the payment `failed` with reason `timeout` (or
/// `unavailable`) and answers nothing: the saga's own step timeout decides — orchestration sends the command again
/// and the charge is asked again with the same idempotency key (the provider answers the first charge, it does not
/// take the money twice); a refund of such a payment first asks the provider what became of the charge
/// (``PaymentProvider/findCharge(_:)``) and refunds it when it happened, so a late charge is never kept.
///
/// Provider calls run inside the handler's transaction, with the order's lock row held, so a charge and a refund
/// of one order never interleave (on SQLite the database's write lock is held for the call: keep latency small).
public struct PaymentProcessor: Sendable {
    public let store: PaymentStore
    public let provider: any PaymentProvider
    public let inbox: Inbox
    private let outbox: Outbox
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// The reason of a payment whose charge timed out (its outcome unknown until asked again).
    public static let timeoutReason = "timeout"
    /// The reason of a payment whose provider could not be reached (outcome unknown, as for a timeout).
    public static let unavailableReason = "unavailable"
    /// The reason of a payment the provider refused as a request (not a decline).
    public static let rejectedReason = "rejected"

    public init(store: PaymentStore, provider: any PaymentProvider, inbox: Inbox, outbox: Outbox, now: @escaping @Sendable () -> Date, logger: Logger)
    {
        self.store = store
        self.provider = provider
        self.inbox = inbox
        self.outbox = outbox
        self.now = now
        self.logger = logger
    }

    /// What handling one message came to.
    public enum Outcome: Sendable, Hashable {
        /// Handled before (the inbox had it): nothing happened.
        case duplicate
        /// Handled; these events were appended to the outbox.
        case handled(answers: [CloudEvent])
    }

    /// Handles one consumed event by its type. Unknown types are a ``PoisonEvent``.
    public func handle(_ event: CloudEvent) async throws -> Outcome {
        switch event.type {
        case ChargePayment.type:
            let command = try event.decodeData(as: ChargePayment.self)
            return try await once(event) { sql in
                try await charge(
                    ChargeRequest(orderID: command.orderId, userID: command.userId, amountCents: command.amountCents, currency: command.currency),
                    in: sql
                )
            }
        case RefundPayment.type:
            let command = try event.decodeData(as: RefundPayment.self)
            return try await once(event) { sql in [try await refund(orderID: command.orderId, reason: "refund-payment", in: sql)] }
        case OrderCreated.type:
            let order = try event.decodeData(as: OrderCreated.self)
            return try await once(event) { sql in
                let remembered = PaymentOrder(
                    orderID: order.orderId,
                    userID: order.userId,
                    amountCents: order.totalCents,
                    currency: order.currency,
                    sagaStyle: order.sagaStyle.rawValue
                )
                try await store.remember(remembered, at: now(), in: sql)
                return []
            }
        case InventoryReserved.type:
            let reserved = try event.decodeData(as: InventoryReserved.self)
            return try await once(event) { sql in
                guard let order = try await store.order(orderID: reserved.orderId, in: sql) else {
                    // order.created has not been handled yet (a retry reordered them): try again later.
                    throw PaymentProcessorError.orderNotKnownYet(reserved.orderId)
                }
                guard order.sagaStyle == FulfillmentSagaStyle.choreography.rawValue else { return [] }
                return try await charge(
                    ChargeRequest(orderID: order.orderID, userID: order.userID, amountCents: order.amountCents, currency: order.currency),
                    in: sql
                )
            }
        case OrderCancelled.type:
            let cancelled = try event.decodeData(as: OrderCancelled.self)
            return try await once(event) { sql in
                let style = try await store.order(orderID: cancelled.orderId, in: sql)?.sagaStyle
                guard style == FulfillmentSagaStyle.choreography.rawValue else {
                    // Orchestration: the orchestrator sends refund-payment; the tombstone alone refuses a late charge.
                    try await store.lock(orderID: cancelled.orderId, in: sql)
                    try await store.tombstone(orderID: cancelled.orderId, reason: "order.cancelled", at: now(), in: sql)
                    return []
                }
                return [try await refund(orderID: cancelled.orderId, reason: "order.cancelled", in: sql)]
            }
        default:
            throw PoisonEvent(reason: "payments does not handle \(event.type)")
        }
    }

    /// The messages the payments consumer subscribes to.
    public static let consumedTypes = [ChargePayment.type, RefundPayment.type, OrderCreated.type, InventoryReserved.type, OrderCancelled.type]

    private func once(_ event: CloudEvent, _ body: @escaping @Sendable (any SQLDatabase) async throws -> [CloudEvent]) async throws -> Outcome {
        let outbox = self.outbox
        let answers = try await store.database.handleOnce(event, inbox: inbox) { sql in
            let answers = try await body(sql)
            try await outbox.append(answers, in: sql)
            return answers
        }
        return answers.map { .handled(answers: $0) } ?? .duplicate
    }

    // MARK: Charge

    /// Charges `request` unless the order is tombstoned or already has a payment; answers the outcome (none when
    /// the provider's answer was lost: see the type's documentation).
    func charge(_ request: ChargeRequest, in sql: any SQLDatabase) async throws -> [CloudEvent] {
        try await store.lock(orderID: request.orderID, in: sql)
        let at = now()
        let existing = try await store.payment(orderID: request.orderID, in: sql)
        if try await store.tombstone(orderID: request.orderID, in: sql) != nil {
            if existing == nil {
                try await store.insert(newPayment(request, status: .failed, reason: Payment.cancelledReason, at: at), in: sql)
            }
            logger.debug("charge refused: the order was refunded or cancelled before", metadata: ["order_id": "\(request.orderID)"])
            return [try answer(PaymentFailed(orderId: request.orderID, reason: PaymentFailed.cancelled))]
        }
        if let existing {
            switch (existing.status, existing.reason) {
            case (.charged, _):
                return [try processed(existing)]
            case (.failed, Self.timeoutReason), (.failed, Self.unavailableReason):
                return try await callProvider(request, updating: existing, in: sql)
            case (.failed, _):
                return [
                    try answer(
                        PaymentFailed(orderId: existing.orderID, reason: existing.reason ?? Payment.declinedReason, declineCode: existing.declineCode)
                    )
                ]
            case (.refunded, _):
                return [try answer(PaymentFailed(orderId: existing.orderID, reason: PaymentFailed.cancelled))]
            }
        }
        return try await callProvider(request, updating: nil, in: sql)
    }

    private func callProvider(_ request: ChargeRequest, updating existing: Payment?, in sql: any SQLDatabase) async throws -> [CloudEvent] {
        var payment = existing ?? newPayment(request, status: .failed, reason: nil, at: now())
        let outcome: ChargeOutcome
        do {
            outcome = try await provider.charge(request)
        } catch let error as PaymentProviderError {
            payment.updatedAt = now()
            let answers: [CloudEvent]
            switch error.code {
            case .timeout, .unavailable:
                // Unknown outcome: record it, answer nothing; a repeat of the command asks again with the same key.
                payment.status = .failed
                payment.reason = error.code == .timeout ? Self.timeoutReason : Self.unavailableReason
                answers = []
            default:
                payment.status = .failed
                payment.reason = Self.rejectedReason
                answers = [try answer(PaymentFailed(orderId: request.orderID, reason: Self.rejectedReason))]
            }
            logger.debug("charge without an answer", metadata: ["order_id": "\(request.orderID)", "error": "\(error)"])
            try await save(payment, existed: existing != nil, in: sql)
            return answers
        }
        payment.updatedAt = now()
        switch outcome {
        case .charged(let charge):
            payment.status = .charged
            payment.providerPaymentID = charge.providerPaymentID
            payment.reason = nil
            try await save(payment, existed: existing != nil, in: sql)
            return [try processed(payment)]
        case .declined(let decline):
            payment.status = .failed
            payment.reason = Payment.declinedReason
            payment.declineCode = decline.code
            try await save(payment, existed: existing != nil, in: sql)
            return [try answer(PaymentFailed(orderId: request.orderID, reason: Payment.declinedReason, declineCode: decline.code))]
        }
    }

    // MARK: Refund

    /// Tombstones the order and refunds its charge, if any; answers `payment.refunded` (amount 0 when nothing was
    /// charged). Throws when the provider cannot refund now: the message is retried until it can.
    func refund(orderID: String, reason: String, in sql: any SQLDatabase) async throws -> CloudEvent {
        try await store.lock(orderID: orderID, in: sql)
        try await store.tombstone(orderID: orderID, reason: reason, at: now(), in: sql)
        guard var payment = try await store.payment(orderID: orderID, in: sql) else {
            return try answer(PaymentRefunded(orderId: orderID, paymentId: nil, amountCents: 0))
        }
        if payment.status == .failed, payment.reason == Self.timeoutReason || payment.reason == Self.unavailableReason {
            // The charge's answer was lost: ask what became of it before deciding there is nothing to give back.
            let request = ChargeRequest(orderID: orderID, userID: payment.userID, amountCents: payment.amountCents, currency: payment.currency)
            switch try await provider.findCharge(request) {
            case .charged(let charge)?:
                payment.status = .charged
                payment.providerPaymentID = charge.providerPaymentID
                payment.reason = nil
            case .declined(let decline)?:
                payment.reason = Payment.declinedReason
                payment.declineCode = decline.code
            case nil:
                payment.reason = Payment.cancelledReason
            }
            payment.updatedAt = now()
            try await store.update(payment, in: sql)
        }
        switch payment.status {
        case .charged:
            guard let providerPaymentID = payment.providerPaymentID else {
                throw PaymentProcessorError.chargedWithoutProviderID(payment.id)
            }
            let receipt = try await provider.refund(
                RefundRequest(orderID: orderID, providerPaymentID: providerPaymentID, amountCents: payment.amountCents)
            )
            try await store.markRefunded(id: payment.id, refundID: receipt.refundID, cents: receipt.amountCents, at: now(), in: sql)
            return try answer(PaymentRefunded(orderId: orderID, paymentId: payment.id, amountCents: receipt.amountCents))
        case .refunded:
            return try answer(PaymentRefunded(orderId: orderID, paymentId: payment.id, amountCents: payment.refundedCents))
        case .failed:
            return try answer(PaymentRefunded(orderId: orderID, paymentId: nil, amountCents: 0))
        }
    }

    // MARK: Helpers

    private func newPayment(_ request: ChargeRequest, status: Payment.Status, reason: String?, at date: Date) -> Payment {
        Payment(
            id: Payment.newID(),
            orderID: request.orderID,
            userID: request.userID,
            amountCents: request.amountCents,
            currency: request.currency,
            status: status,
            provider: provider.name,
            providerPaymentID: nil,
            refundID: nil,
            refundedCents: 0,
            reason: reason,
            declineCode: nil,
            createdAt: date,
            updatedAt: date
        )
    }

    private func save(_ payment: Payment, existed: Bool, in sql: any SQLDatabase) async throws {
        if existed { try await store.update(payment, in: sql) } else { try await store.insert(payment, in: sql) }
    }

    private func processed(_ payment: Payment) throws -> CloudEvent {
        try answer(PaymentProcessed(orderId: payment.orderID, paymentId: payment.id, amountCents: payment.amountCents, currency: payment.currency))
    }

    private func answer<M: FulfillmentMessage>(_ message: M) throws -> CloudEvent {
        try FulfillmentEvents.event(message, from: .payments, time: now())
    }
}

/// Why a message could not be handled now (it is retried).
public enum PaymentProcessorError: Error, CustomStringConvertible, Sendable {
    /// `inventory.reserved` came before `order.created` was handled: the amount is not known yet.
    case orderNotKnownYet(String)
    /// A stored charged payment has no provider id (data damaged).
    case chargedWithoutProviderID(String)

    public var description: String {
        switch self {
        case .orderNotKnownYet(let id): "order \(id) is not known yet (order.created not handled): retried later"
        case .chargedWithoutProviderID(let id): "payments row '\(id)', column provider_payment_id: null on a charged payment"
        }
    }
}
