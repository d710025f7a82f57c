import Foundation

extension OrderLifecycle {
    /// What a checkout request should do, decided from the facts.
    public enum CheckoutDecision: Sendable, Hashable {
        /// The latest session is open and valid long enough: hand it out again.
        case reuse(CheckoutSessionRef)
        /// Open a new session with this attempt number.
        case create(attempt: Int)
        /// The order cannot be paid now (paid, fulfilled, refunded, cancelled, a payment processing, or flagged).
        case notPayable(OrderStatus)
    }

    /// Decides whether to reuse the latest session or open a new one at `now`.
    ///
    /// A session is reused while it is open and valid for at least `minimumValidity` more, so a customer is never
    /// sent to a page about to expire; after that the next attempt opens a new one (its Idempotency-Key differs).
    public func checkoutDecision(now: Date, minimumValidity: TimeInterval = 60) -> CheckoutDecision {
        let status = status
        switch status {
        case .paid, .fulfilled, .refunded, .cancelled:
            return .notPayable(status)
        case .pending, .expired, .awaitingPayment:
            // Money is moving (a delayed method settling) or was taken with the wrong amount: another session
            // could charge twice.
            if processing || mismatched { return .notPayable(status) }
        }
        guard let latest = checkout else { return .create(attempt: 1) }
        let session = sessions.first { $0.id == latest.id }
        let open = session.map { !$0.expired && !$0.completed } ?? false
        if open && latest.expiresAt.timeIntervalSince(now) >= minimumValidity { return .reuse(latest) }
        return .create(attempt: latest.attempt + 1)
    }
}
