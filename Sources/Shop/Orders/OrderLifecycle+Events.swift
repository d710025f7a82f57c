import Foundation

extension OrderLifecycle {
    /// What folding in an event did.
    public enum Outcome: Sendable, Hashable {
        /// The event id was folded in before: nothing changed.
        case duplicate
        /// Folded in; the timeline entries say what it changed, or why it changed nothing.
        case applied([TimelineEntry])
    }

    /// Folds a payment event into the facts; returns the timeline entries it adds.
    ///
    /// A fact whose status cannot be reached from the current one (an expiry after the payment, a decline after the
    /// payment) is kept but changes nothing, and is recorded as `transition.rejected`.
    public mutating func apply(_ event: PaymentEvent, eventID: String, at date: Date) -> Outcome {
        guard eventIDs.insert(eventID).inserted else { return .duplicate }
        let before = status
        let wasMismatched = mismatched
        let target = fold(event)
        var entries: [TimelineEntry] = []
        if mismatched && !wasMismatched {
            entries.append(
                TimelineEntry(
                    at: date,
                    kind: "flag.added",
                    message: "\(OrderFlag.amountMismatch): \(event.summary) does not match the order's \(amountTotal) \(currency); not marked paid"
                )
            )
        }
        entries.append(describe(event, before: before, target: target, at: date))
        return .applied(entries)
    }

    /// Records the checkout session the shop opened; a pending or expired order moves to `awaiting_payment`.
    /// Recording the same session again adds nothing.
    public mutating func recordSession(_ session: CheckoutSessionRef, at date: Date) -> [TimelineEntry] {
        if let known = sessions.first(where: { $0.id == session.id }), known.attempt == session.attempt {
            return []  // recorded already (concurrent checkout calls share one session through its Idempotency-Key)
        }
        let before = status
        let index = sessionIndex(session.id)
        sessions[index].attempt = session.attempt
        sessions[index].url = session.url
        sessions[index].expiresAt = session.expiresAt
        if let planned = plannedCheckout, planned.attempt <= session.attempt { plannedCheckout = nil }
        let message = "checkout session \(session.id) created (attempt \(session.attempt))"
        let after = status
        if after != before {
            return [TimelineEntry(at: date, kind: "status.changed", message: message, from: before, to: after)]
        }
        return [TimelineEntry(at: date, kind: "checkout.created", message: message)]
    }

    /// Marks a paid order fulfilled; in any other status the step is rejected (recorded, not applied).
    public mutating func recordFulfillment(at date: Date) -> [TimelineEntry] {
        let before = status
        guard before == .paid else {
            return [
                TimelineEntry(
                    at: date,
                    kind: "transition.rejected",
                    message: "fulfilment rejected: the order is \(before.rawValue)",
                    from: before,
                    to: .fulfilled
                )
            ]
        }
        fulfilled = true
        return [TimelineEntry(at: date, kind: "status.changed", message: "order fulfilled", from: before, to: status)]
    }

    /// Adds the event's facts; returns the status the event asks for on its own (nil: none, e.g. a partial refund).
    private mutating func fold(_ event: PaymentEvent) -> OrderStatus? {
        paymentActivity = true
        switch event {
        case .sessionCompleted(let sessionID, let paymentIntentID, let paid, let amount, let currency):
            completeSession(sessionID, paymentIntentID: paymentIntentID)
            guard paid else {
                processing = true
                return .awaitingPayment
            }
            recordSuccess(amount: amount, currency: currency)
            return .paid
        case .asyncPaymentSucceeded(let sessionID, let paymentIntentID, let amount, let currency):
            completeSession(sessionID, paymentIntentID: paymentIntentID)
            recordSuccess(amount: amount, currency: currency)
            return .paid
        case .asyncPaymentFailed(let sessionID, let paymentIntentID):
            completeSession(sessionID, paymentIntentID: paymentIntentID)
            asyncFailed = true
            return .cancelled
        case .sessionExpired(let sessionID):
            sessions[sessionIndex(sessionID)].expired = true
            return .expired
        case .paymentSucceeded(let paymentIntentID, let amount, let currency):
            paymentIntentIDs.insert(paymentIntentID)
            recordSuccess(amount: amount, currency: currency)
            return .paid
        case .paymentFailed(let paymentIntentID, _):
            paymentIntentIDs.insert(paymentIntentID)
            declined = true
            return .awaitingPayment
        case .chargeRefunded(_, let paymentIntentID, _, let refunded, let full, _):
            if let paymentIntentID { paymentIntentIDs.insert(paymentIntentID) }
            amountRefunded = max(amountRefunded, refunded)
            fullyRefunded = fullyRefunded || full
            return full ? .refunded : nil
        }
    }

    private mutating func completeSession(_ sessionID: String, paymentIntentID: String?) {
        let index = sessionIndex(sessionID)
        sessions[index].completed = true
        if let paymentIntentID {
            sessions[index].paymentIntentID = paymentIntentID
            paymentIntentIDs.insert(paymentIntentID)
        }
    }

    private mutating func recordSuccess(amount: Int, currency: String) {
        if amount == amountTotal && currency.lowercased() == self.currency.lowercased() {
            succeeded = true
        } else {
            mismatched = true
        }
    }

    /// The timeline entry for an event that moved the order from `before` to the current status, or did not.
    private func describe(_ event: PaymentEvent, before: OrderStatus, target: OrderStatus?, at date: Date) -> TimelineEntry {
        let after = status
        if after != before {
            return TimelineEntry(at: date, kind: "status.changed", message: event.summary, from: before, to: after)
        }
        if let target, target != after, !Self.isReachable(from: after, to: target) {
            return TimelineEntry(
                at: date,
                kind: "transition.rejected",
                message: "\(event.summary): rejected, the order is \(after.rawValue)",
                from: after,
                to: target
            )
        }
        switch event {
        case .paymentFailed:
            return TimelineEntry(at: date, kind: "payment.failed", message: event.summary)
        case .chargeRefunded(_, _, _, _, let full, _) where !full:
            return TimelineEntry(at: date, kind: "refund.partial", message: event.summary)
        case .chargeRefunded where !isPaid:
            return TimelineEntry(at: date, kind: "refund.deferred", message: "\(event.summary): kept until the payment is known")
        default:
            return TimelineEntry(at: date, kind: "event.recorded", message: event.summary)
        }
    }
}
