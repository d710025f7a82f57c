/// A fact about one order's payment, as the lifecycle understands it — independent of Stripe's JSON
/// (``StripeEvent/paymentEvent`` translates).
public enum PaymentEvent: Sendable, Hashable, Codable {
    /// The customer finished the checkout page: `paid` true when the money is taken, false when a delayed payment
    /// method is still processing.
    case sessionCompleted(sessionID: String, paymentIntentID: String?, paid: Bool, amount: Int, currency: String)
    /// A delayed payment of the session settled.
    case asyncPaymentSucceeded(sessionID: String, paymentIntentID: String?, amount: Int, currency: String)
    /// A delayed payment of the session failed for good.
    case asyncPaymentFailed(sessionID: String, paymentIntentID: String?)
    /// The session expired unpaid.
    case sessionExpired(sessionID: String)
    /// The payment intent succeeded.
    case paymentSucceeded(paymentIntentID: String, amount: Int, currency: String)
    /// An attempt to pay was declined (the session stays open for another card).
    case paymentFailed(paymentIntentID: String, reason: String)
    /// A charge was refunded, in part or in full; `amountRefunded` is the total refunded so far.
    case chargeRefunded(chargeID: String, paymentIntentID: String?, amount: Int, amountRefunded: Int, fullyRefunded: Bool, currency: String)
}
