/// What a checkout call should do for an order (``ShopStore/checkoutAttempt(orderID:)``).
public enum CheckoutPlan: Sendable, Hashable {
    /// The order's session is open and not about to expire: hand out this one again.
    case reuse(CheckoutSessionRef)
    /// Open a new session with this attempt number (derive the Stripe `Idempotency-Key` from order and attempt),
    /// for this order's lines and amount.
    case create(attempt: Int, order: Order)
}
