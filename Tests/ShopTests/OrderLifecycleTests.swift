import Foundation
import Testing

@testable import Shop

@Suite("OrderLifecycle")
struct OrderLifecycleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    /// The session lifetime the tests plan with.
    let day: TimeInterval = 24 * 3600

    func session(_ id: String = "cs_1", attempt: Int = 1, expiresIn: TimeInterval = 1800) -> CheckoutSessionRef {
        CheckoutSessionRef(id: id, url: "https://checkout.test/\(id)", expiresAt: start.addingTimeInterval(expiresIn), attempt: attempt)
    }

    func awaiting() -> OrderLifecycle {
        var lifecycle = OrderLifecycle(amountTotal: 2500, currency: "usd")
        _ = lifecycle.recordSession(session(), at: start)
        return lifecycle
    }

    func entries(_ outcome: OrderLifecycle.Outcome) -> [TimelineEntry] {
        guard case .applied(let entries) = outcome else { return [] }
        return entries
    }

    @Test("the transitions table is the one in the docs")
    func transitionsTable() {
        #expect(
            OrderLifecycle.transitions == [
                .pending: [.awaitingPayment],
                .awaitingPayment: [.paid, .expired, .cancelled],
                .expired: [.awaitingPayment],
                .paid: [.fulfilled, .refunded],
                .fulfilled: [.refunded],
                .cancelled: [.paid],
                .refunded: [],
            ]
        )
        #expect(Set(OrderLifecycle.transitions.keys) == Set(OrderStatus.allCases))
        #expect(OrderLifecycle.isReachable(from: .awaitingPayment, to: .refunded))
        #expect(OrderLifecycle.isReachable(from: .expired, to: .paid))
        #expect(!OrderLifecycle.isReachable(from: .paid, to: .expired))
        #expect(!OrderLifecycle.isReachable(from: .refunded, to: .paid))
        #expect(!OrderLifecycle.isReachable(from: .paid, to: .awaitingPayment))
        #expect(!OrderLifecycle.isReachable(from: .paid, to: .paid))
    }

    @Test("a new order is pending and unpaid; recording a session moves it to awaiting_payment, once")
    func sessionRecorded() {
        var lifecycle = OrderLifecycle(amountTotal: 2500, currency: "usd")
        #expect(lifecycle.status == .pending)
        #expect(lifecycle.paymentStatus == .unpaid)
        let entries = lifecycle.recordSession(session(), at: start)
        #expect(entries.map(\.kind) == ["status.changed"])
        #expect(entries.first?.from == .pending && entries.first?.to == .awaitingPayment)
        #expect(lifecycle.checkout == session())
        #expect(lifecycle.recordSession(session(), at: start).isEmpty)
    }

    @Test("a completed, paid session of the order's amount pays the order")
    func paid() {
        var lifecycle = awaiting()
        let outcome = lifecycle.apply(
            .sessionCompleted(sessionID: "cs_1", paymentIntentID: "pi_1", paid: true, amount: 2500, currency: "usd"),
            eventID: "evt_1",
            at: start
        )
        #expect(entries(outcome).map(\.kind) == ["status.changed"])
        #expect(entries(outcome).first?.to == .paid)
        #expect(lifecycle.status == .paid)
        #expect(lifecycle.paymentStatus == .paid)
        #expect(lifecycle.paymentIntentIDs == ["pi_1"])
        #expect(lifecycle.sessions.first?.paymentIntentID == "pi_1")
    }

    @Test("the same event id again has no effect")
    func duplicateEvent() {
        var lifecycle = awaiting()
        let event = PaymentEvent.paymentFailed(paymentIntentID: "pi_1", reason: "card_declined: generic_decline")
        _ = lifecycle.apply(event, eventID: "evt_1", at: start)
        let before = lifecycle
        #expect(lifecycle.apply(event, eventID: "evt_1", at: start) == .duplicate)
        #expect(lifecycle == before)
    }

    @Test("an amount or currency other than the order's flags amount_mismatch and does not pay the order", arguments: [(2499, "usd"), (2500, "eur")])
    func mismatch(amount: Int, currency: String) {
        var lifecycle = awaiting()
        let outcome = lifecycle.apply(
            .sessionCompleted(sessionID: "cs_1", paymentIntentID: "pi_1", paid: true, amount: amount, currency: currency),
            eventID: "evt_1",
            at: start
        )
        #expect(lifecycle.status == .awaitingPayment)
        #expect(lifecycle.paymentStatus == .unpaid)
        #expect(lifecycle.flags == [OrderFlag.amountMismatch])
        #expect(entries(outcome).map(\.kind) == ["flag.added", "event.recorded"])
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .notPayable(.awaitingPayment))
    }

    @Test("a declined card sets payment failed and leaves the order awaiting payment on the same session")
    func declined() {
        var lifecycle = awaiting()
        let outcome = lifecycle.apply(
            .paymentFailed(paymentIntentID: "pi_1", reason: "card_declined: insufficient_funds"),
            eventID: "evt_1",
            at: start
        )
        #expect(lifecycle.status == .awaitingPayment)
        #expect(lifecycle.paymentStatus == .failed)
        #expect(entries(outcome).map(\.kind) == ["payment.failed"])
        #expect(entries(outcome).first?.message.contains("insufficient_funds") == true)
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .reuse(session()))
    }

    @Test("an expiry after the payment is rejected: recorded, not applied")
    func expiryAfterPaymentRejected() {
        var lifecycle = awaiting()
        _ = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_1", at: start)
        let outcome = lifecycle.apply(.sessionExpired(sessionID: "cs_1"), eventID: "evt_2", at: start)
        #expect(lifecycle.status == .paid)
        let entry = entries(outcome).first
        #expect(entry?.kind == "transition.rejected")
        #expect(entry?.from == .paid)
        #expect(entry?.to == .expired)
    }

    @Test("a decline or a failed delayed payment after the payment is rejected")
    func failuresAfterPaymentRejected() {
        var lifecycle = awaiting()
        _ = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_1", at: start)
        let declined = entries(lifecycle.apply(.paymentFailed(paymentIntentID: "pi_1", reason: "card_declined"), eventID: "evt_2", at: start))
        let failed = entries(lifecycle.apply(.asyncPaymentFailed(sessionID: "cs_1", paymentIntentID: "pi_1"), eventID: "evt_3", at: start))
        #expect(declined.map(\.kind) == ["transition.rejected"])
        #expect(declined.first?.to == .awaitingPayment)
        #expect(failed.map(\.kind) == ["transition.rejected"])
        #expect(failed.first?.to == .cancelled)
        #expect(lifecycle.status == .paid)
        #expect(lifecycle.paymentStatus == .paid)
    }

    @Test("fulfilment is allowed from paid only")
    func fulfilment() {
        var lifecycle = awaiting()
        let rejected = lifecycle.recordFulfillment(at: start)
        #expect(rejected.map(\.kind) == ["transition.rejected"])
        #expect(lifecycle.status == .awaitingPayment)
        _ = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_1", at: start)
        let applied = lifecycle.recordFulfillment(at: start)
        #expect(applied.first?.from == .paid && applied.first?.to == .fulfilled)
        #expect(lifecycle.status == .fulfilled)
        _ = lifecycle.apply(
            .chargeRefunded(chargeID: "ch_1", paymentIntentID: "pi_1", amount: 2500, amountRefunded: 2500, fullyRefunded: true, currency: "usd"),
            eventID: "evt_2",
            at: start
        )
        #expect(lifecycle.status == .refunded)
        #expect(lifecycle.paymentStatus == .refunded)
    }

    @Test("a partial refund is a timeline entry; the order stays paid")
    func partialRefund() {
        var lifecycle = awaiting()
        _ = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_1", at: start)
        let outcome = lifecycle.apply(
            .chargeRefunded(chargeID: "ch_1", paymentIntentID: "pi_1", amount: 2500, amountRefunded: 1000, fullyRefunded: false, currency: "usd"),
            eventID: "evt_2",
            at: start
        )
        #expect(entries(outcome).map(\.kind) == ["refund.partial"])
        #expect(lifecycle.status == .paid)
        #expect(lifecycle.amountRefunded == 1000)
    }

    @Test("a refund seen before its payment is kept, and applied once the payment is known")
    func refundBeforePayment() {
        var lifecycle = awaiting()
        let early = lifecycle.apply(
            .chargeRefunded(chargeID: "ch_1", paymentIntentID: "pi_1", amount: 2500, amountRefunded: 2500, fullyRefunded: true, currency: "usd"),
            eventID: "evt_2",
            at: start
        )
        #expect(entries(early).map(\.kind) == ["refund.deferred"])
        #expect(lifecycle.status == .awaitingPayment)
        let paid = lifecycle.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_1", at: start)
        #expect(entries(paid).first?.from == .awaitingPayment && entries(paid).first?.to == .refunded)
        #expect(lifecycle.status == .refunded)
    }

    @Test("an expired session expires the order; checking out again opens attempt 2, which can be paid")
    func expiredThenSecondSession() {
        var lifecycle = awaiting()
        _ = lifecycle.apply(.sessionExpired(sessionID: "cs_1"), eventID: "evt_1", at: start)
        #expect(lifecycle.status == .expired)
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .create(.init(attempt: 2, expiresAt: start.addingTimeInterval(day))))
        let entries = lifecycle.recordSession(session("cs_2", attempt: 2), at: start)
        #expect(entries.first?.from == .expired && entries.first?.to == .awaitingPayment)
        #expect(lifecycle.checkout?.id == "cs_2")
        _ = lifecycle.apply(
            .sessionCompleted(sessionID: "cs_2", paymentIntentID: "pi_2", paid: true, amount: 2500, currency: "usd"),
            eventID: "evt_2",
            at: start
        )
        #expect(lifecycle.status == .paid)
    }

    @Test("checkout reuses an open session valid for another minute, and plans the next attempt after that")
    func checkoutDecisions() {
        var lifecycle = OrderLifecycle(amountTotal: 2500, currency: "usd")
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .create(.init(attempt: 1, expiresAt: start.addingTimeInterval(day))))
        _ = lifecycle.recordSession(session(expiresIn: 1800), at: start)
        #expect(lifecycle.plannedCheckout == nil)
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .reuse(session(expiresIn: 1800)))
        #expect(lifecycle.planCheckout(now: start.addingTimeInterval(1740), sessionLifetime: day) == .reuse(session(expiresIn: 1800)))
        let second = OrderLifecycle.PlannedCheckout(attempt: 2, expiresAt: start.addingTimeInterval(1741 + day))
        #expect(lifecycle.planCheckout(now: start.addingTimeInterval(1741), sessionLifetime: day) == .create(second))
        // Later calls plan the same attempt 2 with its stored expiry, not a new one from their own clock.
        #expect(lifecycle.planCheckout(now: start.addingTimeInterval(4000), sessionLifetime: day) == .create(second))
    }

    @Test("a planned attempt keeps its expiry across hours and a JSON round trip, until Stripe's 30 minutes are near")
    func plannedAttemptExpiry() throws {
        var lifecycle = OrderLifecycle(amountTotal: 2500, currency: "usd")
        let first = OrderLifecycle.PlannedCheckout(attempt: 1, expiresAt: start.addingTimeInterval(day))
        #expect(lifecycle.planCheckout(now: start, sessionLifetime: day) == .create(first))
        var stored = try JSONDecoder().decode(OrderLifecycle.self, from: try JSONEncoder().encode(lifecycle))
        #expect(stored.plannedCheckout == first)
        #expect(stored.planCheckout(now: start.addingTimeInterval(2 * 3600), sessionLifetime: day) == .create(first))
        let lastMoment = start.addingTimeInterval(day - OrderLifecycle.stripeMinimumSessionLifetime - 60)
        #expect(stored.planCheckout(now: lastMoment, sessionLifetime: day) == .create(first))
        let tooLate = lastMoment.addingTimeInterval(1)
        let second = OrderLifecycle.PlannedCheckout(attempt: 2, expiresAt: tooLate.addingTimeInterval(day))
        #expect(stored.planCheckout(now: tooLate, sessionLifetime: day) == .create(second))
        #expect(stored.plannedCheckout == second)
        #expect(stored.planCheckout(now: tooLate.addingTimeInterval(2 * 3600), sessionLifetime: day) == .create(second))
    }

    @Test("a lifecycle stored before attempts were planned decodes with no plan")
    func decodesWithoutAPlan() throws {
        let lifecycle = awaiting()
        // What shop-1 rows hold: the facts without a `plannedCheckout` key.
        let json = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(lifecycle)) as? [String: Any])
        #expect(json["plannedCheckout"] == nil && json["sessions"] != nil)
        let decoded = try JSONDecoder().decode(OrderLifecycle.self, from: try JSONSerialization.data(withJSONObject: json))
        #expect(decoded == lifecycle)
        #expect(decoded.plannedCheckout == nil)
    }

    @Test("checkout is refused while a delayed payment processes, and once paid or cancelled")
    func notPayable() {
        var processing = awaiting()
        _ = processing.apply(
            .sessionCompleted(sessionID: "cs_1", paymentIntentID: "pi_1", paid: false, amount: 2500, currency: "usd"),
            eventID: "evt_1",
            at: start
        )
        #expect(processing.paymentStatus == .processing)
        #expect(processing.planCheckout(now: start, sessionLifetime: day) == .notPayable(.awaitingPayment))
        var cancelled = processing
        _ = cancelled.apply(.asyncPaymentFailed(sessionID: "cs_1", paymentIntentID: "pi_1"), eventID: "evt_2", at: start)
        #expect(cancelled.planCheckout(now: start, sessionLifetime: day) == .notPayable(.cancelled))
        var paid = processing
        _ = paid.apply(.paymentSucceeded(paymentIntentID: "pi_1", amount: 2500, currency: "usd"), eventID: "evt_3", at: start)
        #expect(paid.planCheckout(now: start, sessionLifetime: day) == .notPayable(.paid))
    }

    @Test("the lifecycle survives a JSON round trip unchanged")
    func codable() throws {
        var lifecycle = awaiting()
        _ = lifecycle.apply(.paymentFailed(paymentIntentID: "pi_1", reason: "card_declined"), eventID: "evt_1", at: start)
        let decoded = try JSONDecoder().decode(OrderLifecycle.self, from: try JSONEncoder().encode(lifecycle))
        #expect(decoded == lifecycle)
        #expect(decoded.status == lifecycle.status)
    }
}
