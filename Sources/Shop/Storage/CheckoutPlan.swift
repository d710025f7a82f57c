import Foundation

/// What a checkout call should do for an order (``ShopStore/checkoutAttempt(orderID:sessionLifetime:)``).
public enum CheckoutPlan: Sendable, Hashable {
    /// The order's session is open and not about to expire: hand out this one again.
    case reuse(CheckoutSessionRef)
    /// Open the session of this attempt (derive the Stripe `Idempotency-Key` from order and attempt) for this order's
    /// lines and amount, expiring at `expiresAt` — stored with the order when the attempt was planned, so every
    /// retry of the attempt sends Stripe the same parameters.
    case create(attempt: Int, expiresAt: Date, order: Order)
}
