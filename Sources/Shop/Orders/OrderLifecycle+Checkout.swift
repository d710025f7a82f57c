import Foundation

extension OrderLifecycle {
    /// A checkout attempt the shop planned, kept with the order until its session is recorded: what every call for
    /// that attempt sends Stripe, so a retry — in another hour, by another process, after a crash between Stripe
    /// opening the session and the shop recording it — sends identical parameters under the attempt's
    /// `Idempotency-Key` and gets Stripe's first session back.
    public struct PlannedCheckout: Sendable, Hashable, Codable {
        public var attempt: Int
        /// The session's `expires_at`, fixed when the attempt was planned (then + the session lifetime).
        public var expiresAt: Date

        public init(attempt: Int, expiresAt: Date) {
            self.attempt = attempt
            self.expiresAt = expiresAt
        }
    }

    /// What a checkout request should do, decided from the facts.
    public enum CheckoutDecision: Sendable, Hashable {
        /// The latest session is open and valid long enough: hand it out again.
        case reuse(CheckoutSessionRef)
        /// Open (or get back from Stripe) the session of this planned attempt, with exactly these parameters.
        case create(PlannedCheckout)
        /// The order cannot be paid now (paid, fulfilled, refunded, cancelled, a payment processing, or flagged).
        case notPayable(OrderStatus)
    }

    /// Stripe refuses a session that expires less than 30 minutes after it is created.
    public static let stripeMinimumSessionLifetime: TimeInterval = 30 * 60

    /// Decides whether to reuse the latest session or open one at `now`, and keeps the plan of a new attempt.
    ///
    /// - A recorded session is reused while it is open and valid for at least `minimumValidity` more, so a customer
    ///   is never sent to a page about to expire.
    /// - Otherwise the planned attempt after it is used again while its `expiresAt` is at least Stripe's 30 minutes
    ///   (plus `minimumValidity` of clock slack) away — Stripe may have opened its session already, and only the
    ///   same parameters get that session back.
    /// - Otherwise the next attempt is planned with `expiresAt = now + sessionLifetime` (its Idempotency-Key differs).
    public mutating func planCheckout(now: Date, sessionLifetime: TimeInterval, minimumValidity: TimeInterval = 60) -> CheckoutDecision {
        let status = status
        switch status {
        case .paid, .fulfilled, .refunded, .cancelled:
            return .notPayable(status)
        case .pending, .expired, .awaitingPayment:
            // Money is moving (a delayed method settling) or was taken with the wrong amount: another session
            // could charge twice.
            if processing || mismatched { return .notPayable(status) }
        }
        var next = 1
        if let latest = checkout {
            let session = sessions.first { $0.id == latest.id }
            let open = session.map { !$0.expired && !$0.completed } ?? false
            if open && latest.expiresAt.timeIntervalSince(now) >= minimumValidity { return .reuse(latest) }
            next = latest.attempt + 1
        }
        if let planned = plannedCheckout, planned.attempt >= next {
            if planned.expiresAt.timeIntervalSince(now) >= Self.stripeMinimumSessionLifetime + minimumValidity { return .create(planned) }
            next = planned.attempt + 1
        }
        // Whole seconds, as Stripe is sent it (`expires_at` is a Unix time).
        let expiresAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + sessionLifetime).rounded(.down))
        let planned = PlannedCheckout(attempt: next, expiresAt: expiresAt)
        plannedCheckout = planned
        return .create(planned)
    }
}
