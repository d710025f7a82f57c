extension PaymentEvent {
    /// One line for the order's timeline.
    public var summary: String {
        switch self {
        case .sessionCompleted(let sessionID, _, let paid, let amount, let currency):
            paid
                ? "checkout session \(sessionID) completed: paid \(amount) \(currency)"
                : "checkout session \(sessionID) completed: payment of \(amount) \(currency) processing"
        case .asyncPaymentSucceeded(let sessionID, _, let amount, let currency):
            "delayed payment of checkout session \(sessionID) succeeded: \(amount) \(currency)"
        case .asyncPaymentFailed(let sessionID, _):
            "delayed payment of checkout session \(sessionID) failed"
        case .sessionExpired(let sessionID):
            "checkout session \(sessionID) expired"
        case .paymentSucceeded(let paymentIntentID, let amount, let currency):
            "payment \(paymentIntentID) succeeded: \(amount) \(currency)"
        case .paymentFailed(let paymentIntentID, let reason):
            "payment \(paymentIntentID) failed: \(reason)"
        case .chargeRefunded(let chargeID, _, let amount, let refunded, let full, let currency):
            full
                ? "charge \(chargeID) refunded in full (\(refunded) of \(amount) \(currency))"
                : "charge \(chargeID) refunded in part (\(refunded) of \(amount) \(currency))"
        }
    }
}
