/// How a Stripe event names the order it is about, strongest first.
public struct OrderReference: Sendable, Hashable {
    /// `metadata[order_id]`, else the session's `client_reference_id`.
    public var orderID: String?
    public var paymentIntentID: String?
    public var sessionID: String?

    public init(orderID: String? = nil, paymentIntentID: String? = nil, sessionID: String? = nil) {
        self.orderID = orderID
        self.paymentIntentID = paymentIntentID
        self.sessionID = sessionID
    }
}

extension StripeEvent {
    /// The event types the shop acts on; every other type is acknowledged and recorded as ignored.
    public static let handledTypes: Set<String> = [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
    ]

    /// The fact this event tells the order lifecycle; nil for a type the shop does not handle.
    ///
    /// - Throws: ``StripeEventDecodingError`` when a handled type carries the wrong kind of object, or lacks an
    ///   amount or currency it needs.
    public func paymentEvent() throws -> PaymentEvent? {
        switch (type, object) {
        case ("checkout.session.completed", .checkoutSession(let session)):
            let paid = session.paymentStatus == "paid" || session.paymentStatus == "no_payment_required"
            return .sessionCompleted(
                sessionID: session.id,
                paymentIntentID: session.paymentIntent,
                paid: paid,
                amount: try required(session.amountTotal, "data.object.amount_total"),
                currency: try required(session.currency, "data.object.currency")
            )
        case ("checkout.session.async_payment_succeeded", .checkoutSession(let session)):
            return .asyncPaymentSucceeded(
                sessionID: session.id,
                paymentIntentID: session.paymentIntent,
                amount: try required(session.amountTotal, "data.object.amount_total"),
                currency: try required(session.currency, "data.object.currency")
            )
        case ("checkout.session.async_payment_failed", .checkoutSession(let session)):
            return .asyncPaymentFailed(sessionID: session.id, paymentIntentID: session.paymentIntent)
        case ("checkout.session.expired", .checkoutSession(let session)):
            return .sessionExpired(sessionID: session.id)
        case ("payment_intent.succeeded", .paymentIntent(let intent)):
            return .paymentSucceeded(paymentIntentID: intent.id, amount: intent.amountReceived ?? intent.amount, currency: intent.currency)
        case ("payment_intent.payment_failed", .paymentIntent(let intent)):
            let error = intent.lastPaymentError
            let reason = [error?.code, error?.declineCode].compactMap { $0 }.joined(separator: ": ")
            return .paymentFailed(paymentIntentID: intent.id, reason: reason.isEmpty ? (error?.message ?? "payment failed") : reason)
        case ("charge.refunded", .charge(let charge)):
            return .chargeRefunded(
                chargeID: charge.id,
                paymentIntentID: charge.paymentIntent,
                amount: charge.amount,
                amountRefunded: charge.amountRefunded,
                fullyRefunded: charge.refunded,
                currency: charge.currency
            )
        case (let type, let object) where Self.handledTypes.contains(type):
            throw StripeEventDecodingError(field: "data.object.object", reason: "\(object.typeName) is not the object of a \(type) event")
        default:
            return nil
        }
    }

    /// Where to find the order: metadata `order_id` (or the session's `client_reference_id`), payment intent, session.
    public var orderReference: OrderReference {
        switch object {
        case .checkoutSession(let session):
            OrderReference(
                orderID: session.metadata["order_id"] ?? session.clientReferenceID,
                paymentIntentID: session.paymentIntent,
                sessionID: session.id
            )
        case .paymentIntent(let intent):
            OrderReference(orderID: intent.metadata["order_id"], paymentIntentID: intent.id)
        case .charge(let charge):
            OrderReference(orderID: charge.metadata["order_id"], paymentIntentID: charge.paymentIntent)
        case .other:
            OrderReference()
        }
    }

    private func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw StripeEventDecodingError(field: field, reason: "is missing") }
        return value
    }
}

extension StripeEvent.Object {
    var typeName: String {
        switch self {
        case .checkoutSession: "checkout.session"
        case .paymentIntent: "payment_intent"
        case .charge: "charge"
        case .other(let type): type ?? "an object without a type"
        }
    }
}
