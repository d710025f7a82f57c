import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import StripeSimulator
import Testing

@Suite(.timeLimit(.minutes(1)))
struct CheckoutSessionTests {
    @Test func aCreatedSessionHasStripesShapeAndCanBeRetrieved() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let session = try await client.createSession()
                let id = try #require(session["id"]?.string)
                #expect(id.hasPrefix("cs_test_"))
                #expect(session["object"]?.string == "checkout.session")
                #expect(session["amount_total"]?.int == 1500)
                #expect(session["amount_subtotal"]?.int == 1500)
                #expect(session["currency"]?.string == "usd")
                #expect(session["status"]?.string == "open")
                #expect(session["payment_status"]?.string == "unpaid")
                #expect(session["mode"]?.string == "payment")
                #expect(session["client_reference_id"]?.string == "ord_1")
                #expect(session["metadata"]?["order_id"]?.string == "ord_1")
                #expect(session["livemode"]?.bool == false)
                #expect(session.isNull("payment_intent"))
                #expect(session.isNull("customer"))
                #expect(session["url"]?.string == "http://127.0.0.1:9/checkout/pay/\(id)")
                #expect(session["success_url"]?.string == "http://shop.test/success?session_id={CHECKOUT_SESSION_ID}")
                #expect(session["expires_at"]?.int == Int(harness.clock.date.timeIntervalSince1970) + 24 * 3600)

                let retrieved = try await client.stripe(.get, "/v1/checkout/sessions/\(id)")
                #expect(retrieved.status == .ok)
                #expect(try retrieved.json["id"]?.string == id)
                #expect(retrieved.header("Request-Id")?.hasPrefix("req_") == true)
            }
        }
    }
}
