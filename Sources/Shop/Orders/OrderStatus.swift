/// Where an order is in its life (see ``OrderLifecycle`` for the transitions).
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Created; no checkout session yet.
    case pending
    /// A checkout session is open (or a payment is processing, or a card was declined and the session is still open).
    case awaitingPayment = "awaiting_payment"
    /// A payment of the order's amount and currency succeeded.
    case paid
    /// Paid and handed over.
    case fulfilled
    /// The payment failed for good (a delayed payment method failed).
    case cancelled
    /// Every checkout session expired unpaid; checking out again opens a new one.
    case expired
    /// The payment was refunded in full.
    case refunded
}

/// What is known about the money for an order.
public enum PaymentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case unpaid
    /// A delayed payment method is settling.
    case processing
    case paid
    /// The last attempt was declined, or a delayed payment failed.
    case failed
    /// Refunded in full.
    case refunded
}
