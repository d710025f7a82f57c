import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import NIOCore
import StripeSimulator
import Testing

extension TestClientProtocol {
    /// Pays through the hosted page, as a browser submits its form.
    func payOnPage(_ sessionID: String, card: String) async throws -> TestResponse {
        try await execute(
            uri: "/checkout/pay/\(sessionID)",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "card=\(card.replacingOccurrences(of: " ", with: "+"))")
        )
    }

    /// The types of the events recorded so far, oldest first.
    func eventTypes(_ filter: String = "") async throws -> [String] {
        let list = try await stripe(.get, "/v1/events", "limit=100" + filter).json
        return (list["data"]?.array ?? []).compactMap { $0["type"]?.string }.reversed()
    }
}

@Suite(.timeLimit(.minutes(1)))
struct TestCardTests {
    @Test func card4242PaysRedirectsToSuccessURLAndRecordsTheEvents() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                let paid = try await client.payOnPage(id, card: "4242 4242 4242 4242")
                #expect(paid.status == .seeOther)
                #expect(paid.header("Location") == "http://shop.test/success?session_id=\(id)")

                let session = try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json
                #expect(session["status"]?.string == "complete")
                #expect(session["payment_status"]?.string == "paid")
                let intentID = try #require(session["payment_intent"]?.string)
                #expect(intentID.hasPrefix("pi_"))
                #expect(session["customer_details"]?["email"]?.string != nil)

                let intent = try await client.stripe(.get, "/v1/payment_intents/\(intentID)", "expand[]=latest_charge").json
                #expect(intent["status"]?.string == "succeeded")
                #expect(intent["amount"]?.int == 1500)
                #expect(intent["metadata"]?["order_id"]?.string == "ord_1")
                #expect(intent["latest_charge"]?["object"]?.string == "charge")
                #expect(intent["latest_charge"]?["metadata"]?["order_id"]?.string == "ord_1")
                #expect(intent["latest_charge"]?["payment_intent"]?.string == intentID)

                #expect(
                    try await client.eventTypes() == [
                        "payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "checkout.session.completed",
                    ]
                )
                let completed = try #require(try await client.stripe(.get, "/v1/events", "type=checkout.session.completed").json["data"]?.array.first)
                #expect(completed["id"]?.string?.hasPrefix("evt_") == true)
                #expect(completed["api_version"]?.string == "2024-06-20")
                #expect(completed["data"]?["object"]?["payment_status"]?.string == "paid")
                #expect(completed["data"]?["object"]?["metadata"]?["order_id"]?.string == "ord_1")
                #expect(completed["request"]?.isNull("id") == true)
            }
        }
    }

    @Test(arguments: [
        ("4000 0000 0000 0002", "generic_decline", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
    ])
    func aDeclinedCardReShowsThePageWithAnAlertAndTheSessionStaysOpen(card: String, declineCode: String, message: String) async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                let page = try await client.payOnPage(id, card: card)
                #expect(page.status == .ok)
                #expect(page.text.contains("role=\"alert\">\(message)</p>"))
                #expect(page.text.contains("aria-invalid=\"true\""))

                let session = try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json
                #expect(session["status"]?.string == "open")
                #expect(session["payment_status"]?.string == "unpaid")
                #expect(session.isNull("payment_intent"))

                #expect(try await client.eventTypes() == ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"])
                let failed = try #require(try await client.stripe(.get, "/v1/events", "type=payment_intent.payment_failed").json["data"]?.array.first)
                let error = try #require(failed["data"]?["object"]?["last_payment_error"])
                #expect(error["code"]?.string == "card_declined")
                #expect(error["decline_code"]?.string == declineCode)
                #expect(failed["data"]?["object"]?["metadata"]?["order_id"]?.string == "ord_1")

                // The customer tries again with a good card: the same payment intent succeeds.
                let intentID = try #require(failed["data"]?["object"]?["id"]?.string)
                #expect(try await client.payOnPage(id, card: "4242424242424242").status == .seeOther)
                let paid = try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json
                #expect(paid["payment_intent"]?.string == intentID)
            }
        }
    }

    @Test func card3220CompletesUnpaidAndSettlesOnTheSettleControl() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                #expect(try await client.payOnPage(id, card: "4000000000003220").status == .seeOther)
                let processing = try await client.stripe(.get, "/v1/checkout/sessions/\(id)", "expand[]=payment_intent").json
                #expect(processing["status"]?.string == "complete")
                #expect(processing["payment_status"]?.string == "unpaid")
                #expect(processing["payment_intent"]?["status"]?.string == "processing")
                #expect(try await client.eventTypes() == ["payment_intent.created", "checkout.session.completed"])

                let settle = try await client.execute(uri: "/_sim/payments/settle", method: .post)
                #expect(settle.status == .ok)
                #expect(try settle.json["settled"]?.array.count == 1)
                let settled = try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json
                #expect(settled["payment_status"]?.string == "paid")
                #expect(
                    try await client.eventTypes() == [
                        "payment_intent.created", "checkout.session.completed", "charge.succeeded", "payment_intent.succeeded",
                        "checkout.session.async_payment_succeeded",
                    ]
                )
            }
        }
    }

    @Test func aDelayedPaymentCanFailThroughTheSettleControl() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                _ = try await client.payOnPage(id, card: "4000000000003220")
                let settle = try await client.execute(
                    uri: "/_sim/payments/settle",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "outcome=failed&session=\(id)")
                )
                #expect(settle.status == .ok)
                #expect(
                    try await client.eventTypes() == [
                        "payment_intent.created", "checkout.session.completed", "charge.failed", "payment_intent.payment_failed",
                        "checkout.session.async_payment_failed",
                    ]
                )
                #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["payment_status"]?.string == "unpaid")
            }
        }
    }

    @Test func thePayControlAnswersJSONWithTheOutcome() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                let declined = try await client.execute(
                    uri: "/_sim/checkout/sessions/\(id)/pay",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "card=4000000000000002")
                )
                #expect(try declined.json["outcome"]?.string == "declined")
                #expect(try declined.json["error"]?["decline_code"]?.string == "generic_decline")
                let paid = try await client.execute(
                    uri: "/_sim/checkout/sessions/\(id)/pay",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "card=4242424242424242")
                )
                #expect(try paid.json["outcome"]?.string == "succeeded")
                #expect(try paid.json["session"]?["payment_status"]?.string == "paid")
                let again = try await client.execute(
                    uri: "/_sim/checkout/sessions/\(id)/pay",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "card=4242424242424242")
                )
                #expect(again.status == .badRequest)
            }
        }
    }

    @Test func theHostedPageListsItemsTotalALabelledCardFieldAndTheCancelLink() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                let page = try await client.execute(uri: "/checkout/pay/\(id)", method: .get)
                #expect(page.status == .ok)
                #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
                let html = page.text
                #expect(html.contains("<html lang=\"en\">"))
                #expect(html.contains("Blue mug"))
                #expect(html.contains("$15.00"))
                #expect(html.contains("<label for=\"card\">Card number</label>"))
                #expect(html.contains("<button type=\"submit\">Pay $15.00</button>"))
                #expect(html.contains("<a href=\"http://shop.test/cancel\">Back / cancel</a>"))
                #expect(!html.contains("http://cdn") && !html.contains("https://"))
                #expect(try await client.execute(uri: "/checkout/pay/cs_test_unknown", method: .get).status == .notFound)
            }
        }
    }

    @Test func theHostedPageOfAClosedSessionSaysWhatBecameOfItAndTakesNoPayment() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let paid = try #require(try await client.createSession(order: "a")["id"]?.string)
                _ = try await client.payOnPage(paid, card: "4242424242424242")
                let paidPage = try await client.execute(uri: "/checkout/pay/\(paid)", method: .get).text
                #expect(paidPage.contains("role=\"status\">This checkout session is complete"))
                #expect(!paidPage.contains("<form"))
                let again = try await client.payOnPage(paid, card: "4242424242424242")
                #expect(again.status == .ok)
                #expect(try await client.eventTypes("&type=payment_intent.succeeded").count == 1, "a second payment is not taken")

                let expired = try #require(try await client.createSession(order: "b")["id"]?.string)
                _ = try await client.stripe(.post, "/v1/checkout/sessions/\(expired)/expire")
                let expiredPage = try await client.execute(uri: "/checkout/pay/\(expired)", method: .get).text
                #expect(expiredPage.contains("has expired"))
                #expect(!expiredPage.contains("<form"))
            }
        }
    }

    @Test func aRefundOfAPaidSessionRecordsChargeRefunded() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                _ = try await client.payOnPage(id, card: "4242424242424242")
                let intent = try #require(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["payment_intent"]?.string)

                let partial = try await client.stripe(.post, "/v1/refunds", "payment_intent=\(intent)&amount=500")
                #expect(partial.status == .ok, "\(partial.text)")
                #expect(try partial.json["id"]?.string?.hasPrefix("re_") == true)
                #expect(try partial.json["amount"]?.int == 500)
                #expect(try partial.json["status"]?.string == "succeeded")
                let chargeID = try #require(try partial.json["charge"]?.string)

                let rest = try await client.stripe(.post, "/v1/refunds", "charge=\(chargeID)")
                #expect(try rest.json["amount"]?.int == 1000)
                let refundID = try #require(try rest.json["id"]?.string)
                #expect(try await client.stripe(.get, "/v1/refunds/\(refundID)").json["charge"]?.string == chargeID)

                let tooMuch = try await client.stripe(.post, "/v1/refunds", "charge=\(chargeID)")
                #expect(try tooMuch.json["error"]?["code"]?.string == "charge_already_refunded")

                #expect(try await client.eventTypes("&type=refund.created").count == 2)
                let refunded = try await client.stripe(.get, "/v1/events", "type=charge.refunded").json["data"]?.array ?? []
                #expect(refunded.count == 2)
                let latest = try #require(refunded.first?["data"]?["object"])
                #expect(latest["amount_refunded"]?.int == 1500)
                #expect(latest["refunded"]?.bool == true)
                #expect(latest["payment_intent"]?.string == intent)
                #expect(latest["metadata"]?["order_id"]?.string == "ord_1")

                let missing = try await client.stripe(.post, "/v1/refunds", "amount=100")
                #expect(try missing.json["error"]?["code"]?.string == "parameter_missing")
            }
        }
    }

    @Test func eventsFilterByTypeAndByWildcard() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                _ = try await client.payOnPage(id, card: "4242424242424242")
                #expect(try await client.eventTypes("&type=payment_intent.succeeded") == ["payment_intent.succeeded"])
                #expect(try await client.eventTypes("&type=checkout.session.*") == ["checkout.session.completed"])
                #expect(
                    try await client.eventTypes("&types[]=charge.succeeded&types[]=checkout.session.completed") == [
                        "charge.succeeded", "checkout.session.completed",
                    ]
                )
                let event = try #require(try await client.stripe(.get, "/v1/events").json["data"]?.array.first?["id"]?.string)
                #expect(try await client.stripe(.get, "/v1/events/\(event)").json["object"]?.string == "event")
            }
        }
    }

    @Test func customersAreCreatedAndRetrievedAndASessionCanNameOne() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let created = try await client.stripe(.post, "/v1/customers", "email=ada%40example.com&name=Ada&metadata[tier]=gold").json
                let id = try #require(created["id"]?.string)
                #expect(id.hasPrefix("cus_"))
                #expect(try await client.stripe(.get, "/v1/customers/\(id)").json["email"]?.string == "ada@example.com")
                #expect(try await client.eventTypes() == ["customer.created"])
                let session = try await client.createSession(extra: "&customer=\(id)")
                #expect(session["customer"]?.string == id)
                let unknown = try await client.stripe(
                    .post,
                    "/v1/checkout/sessions",
                    "mode=payment&success_url=http%3A%2F%2Fx.test%2F&customer=cus_nope&line_items[0][price_data][currency]=usd"
                        + "&line_items[0][price_data][unit_amount]=1&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1"
                )
                #expect(try unknown.json["error"]?["code"]?.string == "resource_missing")
                #expect(try unknown.json["error"]?["param"]?.string == "customer")
            }
        }
    }
}
