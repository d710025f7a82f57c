import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import StripeSimulator
import Testing

extension TestClientProtocol {
    /// `POST /v1/payment_intents` for `amount` usd cents with `extra` (form-encoded) appended.
    func createPaymentIntent(amount: Int = 1450, _ extra: String = "", idempotencyKey: String? = nil) async throws -> TestResponse {
        try await stripe(.post, "/v1/payment_intents", "amount=\(amount)&currency=usd" + extra, idempotencyKey: idempotencyKey)
    }

    /// The types of the events recorded so far, oldest first.
    func eventTypes() async throws -> [String] {
        try await stripe(.get, "/v1/events", "limit=100").json["data"]?.array.compactMap { $0["type"]?.string }.reversed() ?? []
    }
}

/// What a server-side integration sends: a test payment method, confirmed at once, no redirects.
private let confirmNow =
    "&payment_method=pm_card_visa&confirm=true&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never"

@Suite(.timeLimit(.minutes(1)))
struct PaymentIntentTests {
    @Test func anIntentConfirmedAtOnceWithTheVisaTestMethodSucceedsWithOneCharge() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.createPaymentIntent(
                    confirmNow + "&metadata[order_id]=o-1&description=Order+o-1",
                    idempotencyKey: "charge-o-1"
                )
                #expect(response.status == .ok, "\(response.text)")
                let intent = try response.json
                let id = try #require(intent["id"]?.string)
                #expect(id.hasPrefix("pi_"))
                #expect(intent["object"]?.string == "payment_intent")
                #expect(intent["status"]?.string == "succeeded")
                #expect(intent["amount"]?.int == 1450)
                #expect(intent["amount_received"]?.int == 1450)
                #expect(intent["currency"]?.string == "usd")
                #expect(intent["description"]?.string == "Order o-1")
                #expect(intent["metadata"]?["order_id"]?.string == "o-1")
                #expect(intent["automatic_payment_methods"]?["allow_redirects"]?.string == "never")
                #expect(intent["capture_method"]?.string == "automatic_async")
                #expect(intent.isNull("last_payment_error"))
                // Stripe answers a test method with a fresh payment method of that card.
                let method = try #require(intent["payment_method"]?.string)
                #expect(method.hasPrefix("pm_") && method != "pm_card_visa")

                let chargeID = try #require(intent["latest_charge"]?.string)
                let charge = try await client.stripe(.get, "/v1/charges/\(chargeID)").json
                #expect(charge["status"]?.string == "succeeded")
                #expect(charge["paid"]?.bool == true)
                #expect(charge["payment_intent"]?.string == id)
                #expect(charge["payment_method"]?.string == method)
                #expect(charge["payment_method_details"]?["card"]?["last4"]?.string == "4242")
                #expect(charge["metadata"]?["order_id"]?.string == "o-1")

                let retrieved = try await client.stripe(.get, "/v1/payment_intents/\(id)", "expand[]=latest_charge&expand[]=payment_method")
                #expect(try retrieved.json["latest_charge"]?["id"]?.string == chargeID)
                #expect(try retrieved.json["payment_method"]?["card"]?["brand"]?.string == "visa")

                #expect(try await client.eventTypes() == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"])
                let succeeded = try await client.stripe(.get, "/v1/events", "type=payment_intent.succeeded").json["data"]?.array.first
                #expect(succeeded?["request"]?["idempotency_key"]?.string == "charge-o-1")
                #expect(succeeded?["data"]?["object"]?["id"]?.string == id)
            }
        }
    }

    @Test(
        arguments: [
            ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
            ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
            ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
            ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
            ("pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"),
            ("pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
            ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
            ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
            ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
            ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_declined", "card_velocity_exceeded"),
        ]
    )
    func eachDeclineTestMethodIsA402CardErrorLeavingTheIntentRequiringAPaymentMethod(
        method: String,
        code: String,
        declineCode: String
    ) async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.createPaymentIntent(
                    "&payment_method=\(method)&confirm=true&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never"
                )
                #expect(response.status.code == 402, "\(response.text)")
                let error = try #require(try response.json["error"])
                #expect(error["type"]?.string == "card_error")
                #expect(error["code"]?.string == code)
                #expect(error["decline_code"]?.string == declineCode)
                #expect(error["message"]?.string?.isEmpty == false)
                let intent = try #require(error["payment_intent"])
                let id = try #require(intent["id"]?.string)
                #expect(intent["status"]?.string == "requires_payment_method")
                #expect(intent.isNull("payment_method"))
                #expect(intent["last_payment_error"]?["decline_code"]?.string == declineCode)
                #expect(intent["last_payment_error"]?["payment_method"]?["id"]?.string == error["payment_method"]?["id"]?.string)
                let chargeID = try #require(error["charge"]?.string)
                #expect(intent["latest_charge"]?.string == chargeID)

                let stored = try await client.stripe(.get, "/v1/payment_intents/\(id)").json
                #expect(stored["status"]?.string == "requires_payment_method")
                #expect(stored["last_payment_error"]?["code"]?.string == code)
                let charge = try await client.stripe(.get, "/v1/charges/\(chargeID)").json
                #expect(charge["status"]?.string == "failed")
                #expect(charge["failure_code"]?.string == code)
                #expect(try await client.eventTypes() == ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"])
            }
        }
    }

    @Test func anIntentCreatedWithoutConfirmingIsConfirmedLater() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let bare = try await client.createPaymentIntent().json
                #expect(bare["status"]?.string == "requires_payment_method")
                #expect(bare["automatic_payment_methods"]?["enabled"]?.bool == true)
                let bareID = try #require(bare["id"]?.string)
                let missing = try await client.stripe(.post, "/v1/payment_intents/\(bareID)/confirm")
                #expect(missing.status == .badRequest)
                #expect(try missing.json["error"]?["param"]?.string == "payment_method")

                let created = try await client.createPaymentIntent("&payment_method=pm_card_mastercard").json
                #expect(created["status"]?.string == "requires_confirmation")
                let id = try #require(created["id"]?.string)
                // Automatic payment methods allow redirects by default: Stripe wants a return_url to confirm.
                let noReturn = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm")
                #expect(noReturn.status == .badRequest)
                #expect(try noReturn.json["error"]?["param"]?.string == "return_url")
                #expect(try await client.stripe(.get, "/v1/payment_intents/\(id)").json["status"]?.string == "requires_confirmation")

                let confirmed = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "return_url=https%3A%2F%2Fshop.test%2Fdone")
                #expect(confirmed.status == .ok, "\(confirmed.text)")
                #expect(try confirmed.json["status"]?.string == "succeeded")
                let chargeID = try #require(try confirmed.json["latest_charge"]?.string)
                let charge = try await client.stripe(.get, "/v1/charges/\(chargeID)").json
                #expect(charge["payment_method_details"]?["card"]?["brand"]?.string == "mastercard")

                let again = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "return_url=https%3A%2F%2Fshop.test%2Fdone")
                #expect(again.status == .badRequest)
                #expect(try again.json["error"]?["code"]?.string == "payment_intent_unexpected_state")
            }
        }
    }

    @Test func aDeclinedIntentCanBeConfirmedAgainWithAnotherPaymentMethod() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let declined = try await client.createPaymentIntent(
                    "&payment_method=pm_card_chargeDeclinedInsufficientFunds&confirm=true&payment_method_types[]=card"
                )
                #expect(declined.status.code == 402)
                let id = try #require(try declined.json["error"]?["payment_intent"]?["id"]?.string)
                let retried = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "payment_method=pm_card_visa")
                #expect(retried.status == .ok, "\(retried.text)")
                #expect(try retried.json["status"]?.string == "succeeded")
                #expect(try retried.json.isNull("last_payment_error"))
                let charges = try await client.stripe(.get, "/v1/charges", "payment_intent=\(id)").json["data"]?.array ?? []
                #expect(charges.compactMap { $0["status"]?.string } == ["succeeded", "failed"])
            }
        }
    }

    @Test func anOpenIntentIsCanceledOnceAndThenCannotBeConfirmed() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createPaymentIntent("&payment_method=pm_card_visa").json["id"]?.string)
                let canceled = try await client.stripe(.post, "/v1/payment_intents/\(id)/cancel", "cancellation_reason=requested_by_customer")
                #expect(canceled.status == .ok, "\(canceled.text)")
                #expect(try canceled.json["status"]?.string == "canceled")
                #expect(try canceled.json["cancellation_reason"]?.string == "requested_by_customer")
                #expect(try canceled.json["canceled_at"]?.int == Int(harness.clock.date.timeIntervalSince1970))

                let twice = try await client.stripe(.post, "/v1/payment_intents/\(id)/cancel")
                #expect(twice.status == .badRequest)
                #expect(try twice.json["error"]?["code"]?.string == "payment_intent_unexpected_state")
                let confirm = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "payment_method=pm_card_visa")
                #expect(confirm.status == .badRequest)
                #expect(try confirm.json["error"]?["message"]?.string?.contains("status of canceled") == true)
                #expect(try await client.eventTypes() == ["payment_intent.created", "payment_intent.canceled"])

                let succeeded = try #require(try await client.createPaymentIntent(confirmNow).json["id"]?.string)
                let late = try await client.stripe(.post, "/v1/payment_intents/\(succeeded)/cancel")
                #expect(late.status == .badRequest)
                #expect(try late.json["error"]?["message"]?.string?.contains("status of succeeded") == true)
            }
        }
    }

    @Test func theSameKeyAndParametersReplayTheIntentAndADeclineAlike() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let first = try await client.createPaymentIntent(confirmNow, idempotencyKey: "charge-o-2")
                let replay = try await client.createPaymentIntent(confirmNow, idempotencyKey: "charge-o-2")
                #expect(replay.status == .ok)
                #expect(replay.header("Idempotent-Replayed") == "true")
                #expect(try replay.json["id"]?.string == first.json["id"]?.string)

                let declined = "&payment_method=pm_card_chargeDeclined&confirm=true&payment_method_types[]=card"
                let firstDecline = try await client.createPaymentIntent(declined, idempotencyKey: "charge-o-3")
                let replayedDecline = try await client.createPaymentIntent(declined, idempotencyKey: "charge-o-3")
                #expect(firstDecline.status.code == 402)
                #expect(replayedDecline.status.code == 402)
                #expect(replayedDecline.header("Idempotent-Replayed") == "true")
                #expect(replayedDecline.text == firstDecline.text)

                let listed = try await client.stripe(.get, "/v1/payment_intents").json["data"]?.array ?? []
                #expect(listed.count == 2)
                #expect(try await client.stripe(.get, "/v1/charges").json["data"]?.array.count == 2)
            }
        }
    }

    @Test func theSameKeyWithOtherParametersIsAnIdempotencyError() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                _ = try await client.createPaymentIntent(amount: 1450, confirmNow, idempotencyKey: "charge-o-4")
                let other = try await client.createPaymentIntent(amount: 999, confirmNow, idempotencyKey: "charge-o-4")
                #expect(other.status == .badRequest)
                #expect(try other.json["error"]?["type"]?.string == "idempotency_error")
                #expect(try await client.stripe(.get, "/v1/payment_intents").json["data"]?.array.count == 1)
            }
        }
    }

    @Test func aSucceededIntentIsRefundedOnceInFullAndADeclinedOneCannotBe() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createPaymentIntent(confirmNow).json["id"]?.string)
                let refund = try await client.stripe(.post, "/v1/refunds", "payment_intent=\(id)&metadata[order_id]=o-5")
                #expect(refund.status == .ok, "\(refund.text)")
                #expect(try refund.json["amount"]?.int == 1450)
                #expect(try refund.json["payment_intent"]?.string == id)
                let chargeID = try #require(try refund.json["charge"]?.string)
                let charge = try await client.stripe(.get, "/v1/charges/\(chargeID)").json
                #expect(charge["refunded"]?.bool == true)
                #expect(charge["amount_refunded"]?.int == 1450)
                let again = try await client.stripe(.post, "/v1/refunds", "payment_intent=\(id)")
                #expect(try again.json["error"]?["code"]?.string == "charge_already_refunded")

                let declined = try await client.createPaymentIntent("&payment_method=pm_card_chargeDeclined&confirm=true&payment_method_types[]=card")
                let declinedID = try #require(try declined.json["error"]?["payment_intent"]?["id"]?.string)
                let refused = try await client.stripe(.post, "/v1/refunds", "payment_intent=\(declinedID)")
                #expect(refused.status == .badRequest)
                #expect(try refused.json["error"]?["param"]?.string == "payment_intent")
            }
        }
    }

    @Test func listsAreNewestFirstWithLimitAndStartingAfterAndFilterByCustomer() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let customer = try #require(try await client.stripe(.post, "/v1/customers", "email=a%40shop.test").json["id"]?.string)
                var ids: [String] = []
                for index in 0..<3 {
                    let extra = index == 0 ? "&customer=\(customer)" : ""
                    ids.append(try #require(try await client.createPaymentIntent(amount: 100 + index, extra).json["id"]?.string))
                }
                let page = try await client.stripe(.get, "/v1/payment_intents", "limit=2").json
                #expect(page["has_more"]?.bool == true)
                #expect(page["data"]?.array.compactMap { $0["id"]?.string } == [ids[2], ids[1]])
                let rest = try await client.stripe(.get, "/v1/payment_intents", "limit=2&starting_after=\(ids[1])").json
                #expect(rest["data"]?.array.compactMap { $0["id"]?.string } == [ids[0]])
                #expect(rest["has_more"]?.bool == false)
                let mine = try await client.stripe(.get, "/v1/payment_intents", "customer=\(customer)").json
                #expect(mine["data"]?.array.compactMap { $0["id"]?.string } == [ids[0]])
            }
        }
    }

    @Test(
        arguments: [
            ("currency=usd", "amount", "parameter_missing"),
            ("amount=0&currency=usd", "amount", "parameter_invalid_integer"),
            ("amount=12.5&currency=usd", "amount", "parameter_invalid_integer"),
            ("amount=100000000&currency=usd", "amount", "amount_too_large"),
            ("amount=100", "currency", "parameter_missing"),
            ("amount=100&currency=dollars", "currency", nil),
            ("amount=100&currency=usd&payment_method=pm_card_nope", "payment_method", "resource_missing"),
            ("amount=100&currency=usd&confirm=yes", "confirm", nil),
            ("amount=100&currency=usd&confirm=true", "payment_method", "payment_intent_unexpected_state"),
            ("amount=100&currency=usd&payment_method=pm_card_visa&confirm=true", "return_url", nil),
            (
                "amount=100&currency=usd&payment_method_types[]=card&automatic_payment_methods[enabled]=true", "automatic_payment_methods",
                "parameters_exclusive"
            ),
            ("amount=100&currency=usd&payment_method_types[]=sepa_debit", "payment_method_types[0]", nil),
            ("amount=100&currency=usd&automatic_payment_methods[allow_redirects]=never", "automatic_payment_methods[enabled]", "parameter_missing"),
            (
                "amount=100&currency=usd&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=often",
                "automatic_payment_methods[allow_redirects]", nil
            ),
            ("amount=100&currency=usd&capture_method=manual", "capture_method", nil),
            ("amount=100&currency=usd&customer=cus_missing", "customer", "resource_missing"),
            ("amount=100&currency=usd&receipt_email=not-an-email", "receipt_email", "email_invalid"),
            ("amount=100&currency=usd&source=tok_visa", "source", "parameter_unknown"),
        ] as [(String, String, String?)]
    )
    func badInputIsStripesInvalidRequestErrorNamingTheParam(form: String, param: String, code: String?) async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let response = try await client.stripe(.post, "/v1/payment_intents", form)
                #expect(response.status == .badRequest, "\(response.text)")
                let error = try #require(try response.json["error"])
                #expect(error["type"]?.string == "invalid_request_error")
                #expect(error["param"]?.string == param)
                if let code { #expect(error["code"]?.string == code) }
                #expect(try await client.stripe(.get, "/v1/payment_intents").json["data"]?.array.isEmpty == true)
            }
        }
    }

    @Test func confirmAndCancelNameTheirBadParametersAndAnUnknownIntentIs404() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let id = try #require(try await client.createPaymentIntent().json["id"]?.string)
                let reason = try await client.stripe(.post, "/v1/payment_intents/\(id)/cancel", "cancellation_reason=bored")
                #expect(try reason.json["error"]?["param"]?.string == "cancellation_reason")
                let url = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "payment_method=pm_card_visa&return_url=nowhere")
                #expect(try url.json["error"]?["param"]?.string == "return_url")
                let unknown = try await client.stripe(.post, "/v1/payment_intents/\(id)/confirm", "amount=5")
                #expect(try unknown.json["error"]?["param"]?.string == "amount")
                #expect(try await client.stripe(.get, "/v1/payment_intents/\(id)").json["status"]?.string == "requires_payment_method")

                for path in ["/v1/payment_intents/pi_missing/confirm", "/v1/payment_intents/pi_missing/cancel"] {
                    let missing = try await client.stripe(.post, path)
                    #expect(missing.status == .notFound)
                    #expect(try missing.json["error"]?["code"]?.string == "resource_missing")
                }
            }
        }
    }

    @Test func aCheckoutSessionsIntentIsNotConfirmedThroughTheAPI() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let session = try #require(try await client.createSession()["id"]?.string)
                let paid = try await client.execute(
                    uri: "/_sim/checkout/sessions/\(session)/pay",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: .init(string: "card=4000000000000002")
                )
                let intent = try #require(try paid.json["payment_intent"]?["id"]?.string)
                let confirm = try await client.stripe(.post, "/v1/payment_intents/\(intent)/confirm", "payment_method=pm_card_visa")
                #expect(confirm.status == .badRequest)
                #expect(try confirm.json["error"]?["message"]?.string?.contains(session) == true)
            }
        }
    }
}
