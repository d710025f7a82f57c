import Foundation
import InterchangeTesting
import Testing
import WebhooksInbound
import WebhooksSigning

@testable import Shop

/// `POST /shop/webhooks/stripe`: only correctly signed deliveries are stored, and a delivery repeated — in turn or
/// twenty at once — has one effect on the order.
@Suite(.timeLimit(.minutes(1)))
struct APIWebhookTests {
    static let secret = "whsec_shop_tests_current"
    static let previousSecret = "whsec_shop_tests_previous"

    /// The shop with two accepted secrets (a rotation), processing only when the test says so, and an order that
    /// awaits payment through a session opened at the simulator.
    static func withAwaitingOrder<T: Sendable>(
        _ body: @Sendable (_ shop: ShopHarness, _ order: [String: Any], _ sessionID: String) async throws -> T
    ) async throws -> T {
        let configuration = ShopConfiguration(stripeWebhookSecrets: [secret, previousSecret], processesWebhooks: false)
        return try await ShopHarness.run(configuration: configuration) { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 2)])
            let id = try #require(order["id"] as? String)
            let checkout = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            let sessionID = try #require(try checkout.json()["sessionId"] as? String)
            return try await body(shop, try await shop.order(id), sessionID)
        }
    }

    static func completedEvent(order: [String: Any], sessionID: String, eventID: String = "evt_\(UUID().uuidString.prefix(12))") -> Data {
        let id = order["id"] as? String ?? ""
        let amount = order["amountTotal"] as? Int ?? 0
        let json = """
            {"id":"\(eventID)","object":"event","api_version":"2024-06-20","created":\(Int(Date().timeIntervalSince1970)),"livemode":false,\
            "pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed",\
            "data":{"object":{"id":"\(sessionID)","object":"checkout.session","amount_subtotal":\(amount),"amount_total":\(amount),\
            "currency":"usd","client_reference_id":"\(id)","metadata":{"order_id":"\(id)"},"mode":"payment",\
            "payment_intent":"pi_test_webhook","payment_status":"paid","status":"complete","livemode":false}}}
            """
        return Data(json.utf8)
    }

    static func signature(_ payload: Data, secret: String = secret, at timestamp: Date = Date()) throws -> String {
        let headers = try WebhookSigner(scheme: .stripe).sign(payload: payload, secrets: [secret], timestamp: timestamp)
        return try #require(headers.fields.first { $0.name.lowercased() == "stripe-signature" }?.value)
    }

    static func deliver(_ shop: ShopHarness, _ payload: Data, signature: String?) async throws -> ShopHarness.Answer {
        try await shop.request(
            .post,
            ShopComponent.webhookPath,
            body: String(decoding: payload, as: UTF8.self),
            headers: signature.map { [("Stripe-Signature", $0)] } ?? []
        )
    }

    /// Runs the inbox once, as the processor service would.
    static func process(_ shop: ShopHarness) async {
        let processor = InboxProcessor(inbox: shop.shop.inbox, handler: StripeEventHandler(store: shop.shop.store).handler)
        while await processor.processDue() > 0 {}
    }

    static func paidTransitions(_ order: [String: Any]) -> Int {
        (order["timeline"] as? [[String: Any]] ?? []).filter { ($0["to"] as? String) == "paid" && ($0["kind"] as? String) != "transition.rejected" }
            .count
    }

    enum Tampering: String, CaseIterable, CustomStringConvertible {
        case tamperedBody, wrongSecret, oldTimestamp, missingHeader, futureTimestamp
        var description: String { rawValue }
    }

    @Test(arguments: Tampering.allCases)
    func aBadSignatureIsA400AndChangesNothing(_ tampering: Tampering) async throws {
        try await Self.withAwaitingOrder { shop, order, sessionID in
            let payload = Self.completedEvent(order: order, sessionID: sessionID)
            let answer: ShopHarness.Answer
            switch tampering {
            case .tamperedBody:
                let tampered = Data(String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "\"paid\"", with: "\"paid \"").utf8)
                answer = try await Self.deliver(shop, tampered, signature: try Self.signature(payload))
            case .wrongSecret:
                answer = try await Self.deliver(shop, payload, signature: try Self.signature(payload, secret: "whsec_someone_else"))
            case .oldTimestamp:
                answer = try await Self.deliver(shop, payload, signature: try Self.signature(payload, at: Date().addingTimeInterval(-3600)))
            case .futureTimestamp:
                answer = try await Self.deliver(shop, payload, signature: try Self.signature(payload, at: Date().addingTimeInterval(3600)))
            case .missingHeader:
                answer = try await Self.deliver(shop, payload, signature: nil)
            }
            #expect(answer.status == 400, "\(answer.text)")
            #expect(answer.header("Content-Type") == "application/problem+json")
            #expect(try answer.json()["type"] as? String == "https://interchange.dev/problems/webhook-signature")
            #expect(try await shop.count("webhook_inbox") == 0)
            await Self.process(shop)
            let after = try await shop.order(order["id"] as? String ?? "")
            #expect(after["status"] as? String == "awaiting_payment")
            #expect(after["paymentStatus"] as? String == "unpaid")
        }
    }

    @Test func eitherSecretOfARotationIsAccepted() async throws {
        try await Self.withAwaitingOrder { shop, order, sessionID in
            let first = Self.completedEvent(order: order, sessionID: sessionID)
            let signedWithPrevious = try await Self.deliver(shop, first, signature: try Self.signature(first, secret: Self.previousSecret))
            #expect(signedWithPrevious.status == 200)
            let second = Self.completedEvent(order: order, sessionID: sessionID)
            let signedWithCurrent = try await Self.deliver(shop, second, signature: try Self.signature(second))
            #expect(signedWithCurrent.status == 200)
            #expect(try await shop.count("webhook_inbox") == 2)
        }
    }

    @Test func theSameEventTwiceHasOneEffect() async throws {
        try await Self.withAwaitingOrder { shop, order, sessionID in
            let payload = Self.completedEvent(order: order, sessionID: sessionID)
            let first = try await Self.deliver(shop, payload, signature: try Self.signature(payload))
            #expect(first.status == 200)
            #expect(try first.json()["duplicate"] as? Bool == false)
            let second = try await Self.deliver(shop, payload, signature: try Self.signature(payload))
            #expect(second.status == 200)
            #expect(try second.json()["duplicate"] as? Bool == true)
            await Self.process(shop)
            // Once more after processing: the inbox and the store both know the event.
            #expect(try await Self.deliver(shop, payload, signature: try Self.signature(payload)).status == 200)
            await Self.process(shop)
            let after = try await shop.order(order["id"] as? String ?? "")
            #expect(after["status"] as? String == "paid")
            #expect(after["paymentStatus"] as? String == "paid")
            #expect(Self.paidTransitions(after) == 1)
            #expect(try await shop.count("webhook_inbox") == 1)
        }
    }

    @Test func twentyConcurrentDeliveriesOfOneEventHaveOneEffect() async throws {
        try await Self.withAwaitingOrder { shop, order, sessionID in
            let payload = Self.completedEvent(order: order, sessionID: sessionID)
            let signature = try Self.signature(payload)
            let duplicates = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let answer = try await Self.deliver(shop, payload, signature: signature)
                        guard answer.status == 200 else { throw HarnessError("delivery answered \(answer.status): \(answer.text)") }
                        return try #require(try answer.json()["duplicate"] as? Bool)
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(duplicates.filter { !$0 }.count == 1)
            #expect(duplicates.filter { $0 }.count == 19)
            await Self.process(shop)
            let after = try await shop.order(order["id"] as? String ?? "")
            #expect(after["status"] as? String == "paid")
            #expect(Self.paidTransitions(after) == 1)
            #expect(try await shop.count("webhook_inbox") == 1)
        }
    }
}
