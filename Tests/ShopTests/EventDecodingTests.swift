import Foundation
import Testing

@testable import Shop

/// Stripe event payloads shaped as Stripe (and the simulator) send them, with fields the shop does not read.
enum StripeEventFixture {
    static func envelope(id: String, type: String, object: [String: Any]) -> Data {
        let event: [String: Any] = [
            "id": id, "object": "event", "api_version": "2024-06-20", "created": 1_800_000_000, "livemode": false,
            "pending_webhooks": 1, "request": ["id": NSNull(), "idempotency_key": NSNull()], "type": type,
            "data": ["object": object],
        ]
        // Only dictionaries, strings, numbers, booleans and NSNull: serialization cannot fail.
        return (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
    }

    static func session(
        _ id: String,
        orderID: String?,
        paymentIntent: String?,
        status: String = "complete",
        paymentStatus: String = "paid",
        amount: Int,
        currency: String = "usd"
    ) -> [String: Any] {
        [
            "id": id, "object": "checkout.session", "amount_subtotal": amount, "amount_total": amount, "currency": currency,
            "client_reference_id": orderID ?? NSNull(), "created": 1_800_000_000, "expires_at": 1_800_001_800,
            "metadata": orderID.map { ["order_id": $0] } ?? [:], "mode": "payment", "payment_intent": paymentIntent ?? NSNull(),
            "payment_status": paymentStatus, "status": status, "success_url": "http://127.0.0.1/shop/success.html",
            "cancel_url": "http://127.0.0.1/shop/cancel.html", "url": NSNull(), "livemode": false, "customer": NSNull(),
            "customer_details": NSNull(),
        ]
    }

    static func paymentIntent(_ id: String, orderID: String?, status: String, amount: Int, declineCode: String? = nil) -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "object": "payment_intent", "amount": amount, "amount_received": status == "succeeded" ? amount : 0,
            "currency": "usd", "metadata": orderID.map { ["order_id": $0] } ?? [:], "status": status, "livemode": false,
            "last_payment_error": NSNull(),
        ]
        if let declineCode {
            object["last_payment_error"] = [
                "type": "card_error", "code": "card_declined", "decline_code": declineCode, "message": "Your card was declined.",
            ]
        }
        return object
    }

    static func charge(_ id: String, paymentIntent: String?, orderID: String?, amount: Int, refunded: Int) -> [String: Any] {
        [
            "id": id, "object": "charge", "amount": amount, "amount_refunded": refunded, "refunded": refunded >= amount,
            "currency": "usd", "payment_intent": paymentIntent ?? NSNull(), "metadata": orderID.map { ["order_id": $0] } ?? [:],
            "paid": true, "status": "succeeded",
        ]
    }
}

@Suite("StripeEvent decoding")
struct EventDecodingTests {
    @Test("a checkout.session.completed event decodes into the session fields and a paid completion")
    func sessionCompleted() throws {
        let json = StripeEventFixture.envelope(
            id: "evt_1",
            type: "checkout.session.completed",
            object: StripeEventFixture.session("cs_test_1", orderID: "ord_1", paymentIntent: "pi_1", amount: 2500)
        )
        let event = try StripeEvent(json: json)
        #expect(event.id == "evt_1")
        #expect(event.type == "checkout.session.completed")
        #expect(event.created == Date(timeIntervalSince1970: 1_800_000_000))
        guard case .checkoutSession(let session) = event.object else {
            Issue.record("expected a session, got \(event.object)")
            return
        }
        #expect(session.paymentStatus == "paid")
        #expect(session.clientReferenceID == "ord_1")
        #expect(event.orderReference == OrderReference(orderID: "ord_1", paymentIntentID: "pi_1", sessionID: "cs_test_1"))
        #expect(
            try event.paymentEvent()
                == .sessionCompleted(sessionID: "cs_test_1", paymentIntentID: "pi_1", paid: true, amount: 2500, currency: "usd")
        )
    }

    @Test("an unpaid completion (delayed payment method) is a processing completion")
    func unpaidCompletion() throws {
        let json = StripeEventFixture.envelope(
            id: "evt_1",
            type: "checkout.session.completed",
            object: StripeEventFixture.session("cs_1", orderID: "ord_1", paymentIntent: "pi_1", paymentStatus: "unpaid", amount: 2500)
        )
        #expect(
            try StripeEvent(json: json).paymentEvent()
                == .sessionCompleted(sessionID: "cs_1", paymentIntentID: "pi_1", paid: false, amount: 2500, currency: "usd")
        )
    }

    @Test("an expanded payment_intent object is read as its id")
    func expandedPaymentIntent() throws {
        var object = StripeEventFixture.session("cs_1", orderID: nil, paymentIntent: nil, amount: 2500)
        object["payment_intent"] = StripeEventFixture.paymentIntent("pi_9", orderID: nil, status: "succeeded", amount: 2500)
        let event = try StripeEvent(json: StripeEventFixture.envelope(id: "evt_1", type: "checkout.session.completed", object: object))
        #expect(event.orderReference == OrderReference(orderID: nil, paymentIntentID: "pi_9", sessionID: "cs_1"))
    }

    @Test("a payment_intent.payment_failed event carries the decline code")
    func paymentFailed() throws {
        let json = StripeEventFixture.envelope(
            id: "evt_2",
            type: "payment_intent.payment_failed",
            object: StripeEventFixture.paymentIntent(
                "pi_1",
                orderID: "ord_1",
                status: "requires_payment_method",
                amount: 2500,
                declineCode: "insufficient_funds"
            )
        )
        let event = try StripeEvent(json: json)
        #expect(try event.paymentEvent() == .paymentFailed(paymentIntentID: "pi_1", reason: "card_declined: insufficient_funds"))
        #expect(event.orderReference == OrderReference(orderID: "ord_1", paymentIntentID: "pi_1"))
    }

    @Test("a charge.refunded event carries the refunded total and whether it is full")
    func chargeRefunded() throws {
        let json = StripeEventFixture.envelope(
            id: "evt_3",
            type: "charge.refunded",
            object: StripeEventFixture.charge("ch_1", paymentIntent: "pi_1", orderID: "ord_1", amount: 2500, refunded: 1000)
        )
        let event = try StripeEvent(json: json)
        #expect(
            try event.paymentEvent()
                == .chargeRefunded(
                    chargeID: "ch_1",
                    paymentIntentID: "pi_1",
                    amount: 2500,
                    amountRefunded: 1000,
                    fullyRefunded: false,
                    currency: "usd"
                )
        )
    }

    @Test("an event type the shop does not handle decodes, and asks nothing of the lifecycle")
    func unhandledType() throws {
        let json = StripeEventFixture.envelope(id: "evt_4", type: "customer.created", object: ["id": "cus_1", "object": "customer"])
        let event = try StripeEvent(json: json)
        #expect(event.object == .other(objectType: "customer"))
        #expect(try event.paymentEvent() == nil)
    }

    @Test("a missing field is an error naming its JSON path")
    func missingField() {
        var object = StripeEventFixture.charge("ch_1", paymentIntent: "pi_1", orderID: nil, amount: 2500, refunded: 2500)
        object["amount_refunded"] = nil
        let json = StripeEventFixture.envelope(id: "evt_5", type: "charge.refunded", object: object)
        #expect(throws: StripeEventDecodingError(field: "data.object.amount_refunded", reason: "is missing")) { try StripeEvent(json: json) }
    }

    @Test("a handled type with the wrong object, or a body that is not an event, is an error")
    func wrongShapes() throws {
        let wrongObject = StripeEventFixture.envelope(
            id: "evt_6",
            type: "charge.refunded",
            object: StripeEventFixture.paymentIntent("pi_1", orderID: nil, status: "succeeded", amount: 1)
        )
        #expect(throws: StripeEventDecodingError.self) { try StripeEvent(json: wrongObject).paymentEvent() }
        #expect(throws: StripeEventDecodingError.self) { try StripeEvent(json: Data(#"{"id":"x","object":"charge"}"#.utf8)) }
        #expect(throws: StripeEventDecodingError.self) { try StripeEvent(json: Data("not json".utf8)) }
    }
}
