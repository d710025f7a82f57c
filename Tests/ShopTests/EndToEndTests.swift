import Foundation
import InterchangeTesting
import Testing

@testable import Shop

/// The whole flow through the real Stripe simulator, on SQLite and PostgreSQL: the shop registers its webhook
/// endpoint with the simulator, an order is created and checked out, the buyer pays with a test card through the
/// simulator's control, the simulator's delivery engine signs and delivers the events, the inbox processor applies
/// them — and the order says so.
@Suite(.timeLimit(.minutes(1)))
struct EndToEndTests {
    /// Polls the order (bounded) until `condition` holds; the last order read.
    static func waitForOrder(
        _ shop: ShopHarness,
        _ id: String,
        _ description: String,
        until condition: @escaping @Sendable ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while true {
            let order = try await shop.order(id)
            if condition(order) { return order }
            guard clock.now < deadline else { throw HarnessError("timed out after 30 s waiting until \(description) (last: \(order))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func pay(_ shop: ShopHarness, session: String, card: String) async throws -> [String: Any] {
        let answer = try await shop.request(
            .post,
            "/sim/stripe/_sim/checkout/sessions/\(session)/pay",
            body: "card=\(card)",
            contentType: "application/x-www-form-urlencoded"
        )
        guard answer.status == 200 else { throw HarnessError("paying answered \(answer.status): \(answer.text)") }
        return try answer.json()
    }

    static func checkout(_ shop: ShopHarness) async throws -> (order: String, session: String, url: String) {
        let registration = try #require(shop.shop.registration)
        try await waitUntil("the shop registered its webhook endpoint with the simulator") { registration.isRegistered }
        let order = try await shop.createOrder([(try await shop.productID(0), 2), (try await shop.productID(1), 1)])
        let id = try #require(order["id"] as? String)
        let checkout = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
        #expect(checkout.status == 200, "\(checkout.text)")
        let json = try checkout.json()
        return (id, try #require(json["sessionId"] as? String), try #require(json["url"] as? String))
    }

    @Test(arguments: TestDatabase.kinds)
    func anOrderPaidWith4242IsPaidOnceTheWebhookLands(kind: TestDatabase.Kind) async throws {
        try await ShopHarness.run(kind) { shop in
            let (id, session, url) = try await Self.checkout(shop)
            #expect(url.hasPrefix(shop.baseURL + "/sim/stripe/checkout/pay/\(session)"))
            #expect(try await shop.order(id)["status"] as? String == "awaiting_payment")

            let payment = try await Self.pay(shop, session: session, card: "4242424242424242")
            #expect(payment["outcome"] as? String == "succeeded")

            let paid = try await Self.waitForOrder(shop, id, "the order is paid") { $0["status"] as? String == "paid" }
            #expect(paid["paymentStatus"] as? String == "paid")
            #expect((paid["flags"] as? [String])?.isEmpty == true)
            let timeline = paid["timeline"] as? [[String: Any]] ?? []
            #expect(timeline.filter { $0["to"] as? String == "paid" && $0["kind"] as? String != "transition.rejected" }.count == 1)
            // Every event the simulator sent was stored once and processed.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(20))
            var counts = try await shop.shop.inbox.counts()
            while Set(counts.keys) != ["processed"], clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                counts = try await shop.shop.inbox.counts()
            }
            #expect(Set(counts.keys) == ["processed"], "\(counts)")
            #expect((counts["processed"] ?? 0) >= 2)  // checkout.session.completed and payment_intent.succeeded at least
            // Checking out a paid order is refused.
            let again = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            #expect(again.status == 409)
            #expect(again.header("Content-Type") == "application/problem+json")
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aDeclinedCardLeavesTheOrderAwaitingPaymentWithTheFailureShown(kind: TestDatabase.Kind) async throws {
        try await ShopHarness.run(kind) { shop in
            let (id, session, _) = try await Self.checkout(shop)
            let payment = try await Self.pay(shop, session: session, card: "4000000000000002")
            #expect(payment["outcome"] as? String == "declined")
            let failed = try await Self.waitForOrder(shop, id, "the decline is recorded") { $0["paymentStatus"] as? String == "failed" }
            #expect(failed["status"] as? String == "awaiting_payment")
            // The session is still open: checking out again hands out the same one, and 4242 then pays it.
            let again = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            #expect(try again.json()["sessionId"] as? String == session)
            _ = try await Self.pay(shop, session: session, card: "4242424242424242")
            _ = try await Self.waitForOrder(shop, id, "the order is paid") { $0["status"] as? String == "paid" }
        }
    }
}
