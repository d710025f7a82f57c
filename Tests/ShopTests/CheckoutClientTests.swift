import Foundation
import HTTPIntegration
import HTTPTypes
import Hummingbird
import InterchangeTesting
import NIOCore
import Testing

@testable import Shop

/// `StripeCheckoutClient` and `OrderCheckout` against a scripted Stripe on a loopback server: the exact form sent,
/// prices from the store, headers, what is retried and what is not, and that the key is never logged.
@Suite(.timeLimit(.minutes(1)))
struct CheckoutClientTests {
    struct Recorded: Sendable {
        var headers: HTTPFields
        var body: String

        /// The form fields in order, percent-decoded.
        var fields: [(String, String)] {
            body.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
        }
    }

    /// A scripted `POST /v1/checkout/sessions`: answers `statuses` in turn (then 200), recording each request.
    static func withScriptedStripe<T: Sendable>(
        statuses: [(Int, String)] = [],
        _ body: @Sendable (_ baseURL: String, _ recorded: LockedValue<[Recorded]>) async throws -> T
    ) async throws -> T {
        let recorded = LockedValue<[Recorded]>([])
        let script = LockedValue(statuses)
        let router = Router()
        router.post("/v1/checkout/sessions") { request, _ -> Response in
            var request = request
            let text = String(buffer: try await request.collectBody(upTo: 1 << 20))
            recorded.append(Recorded(headers: request.headers, body: text))
            if let (status, reply) = script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                return Response(
                    status: .init(code: status),
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: reply))
                )
            }
            let expiresAt = Recorded(headers: [:], body: text).fields.first { $0.0 == "expires_at" }?.1 ?? "0"
            let session =
                #"{"id":"cs_test_scripted","object":"checkout.session","url":"https://checkout.example/pay/cs_test_scripted","expires_at":\#(expiresAt)}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: session)))
        }
        return try await LoopbackServer.run(router) { server in try await body(server.baseURL, recorded) }
    }

    static func withCheckout<T: Sendable>(
        stripeBase: String,
        key: String = "sk_test_scripted_0123456789",
        logs: LogCapture? = nil,
        _ body: @Sendable (OrderCheckout, ShopStore) async throws -> T
    ) async throws -> T {
        let logger = logs?.logger(level: .trace) ?? LoopbackServer.quietLogger
        return try await TestDatabase.with(.sqlite) { database in
            let store = ShopStore(database: database)
            try await store.prepare()
            var policy = StripeCheckoutClient.defaultPolicy
            policy.retry.backoff = try .constant(.milliseconds(10))
            let stripe = try StripeCheckoutClient(configuration: .init(secretKey: key, policy: policy), apiBase: { stripeBase }, logger: logger)
            let checkout = try OrderCheckout(store: store, stripe: stripe, shopBaseURL: { "https://shop.example" }, logger: logger)
            do {
                let result = try await body(checkout, store)
                try await stripe.shutdown()
                return result
            } catch {
                try? await stripe.shutdown()
                throw error
            }
        }
    }

    @Test func theSessionIsCreatedWithTheStoredLinesAndPricesAsAForm() async throws {
        try await Self.withScriptedStripe { base, recorded in
            try await Self.withCheckout(stripeBase: base) { checkout, store in
                let products = try await store.products()
                let order = try await store.createOrder(lines: [(productID: products[0].id, quantity: 2), (productID: products[1].id, quantity: 1)])
                let before = Date()
                let session = try await checkout.session(forOrder: order.id)
                let after = Date()
                #expect(session.id == "cs_test_scripted")
                #expect(session.attempt == 1)

                let request = try #require(recorded.value.first)
                #expect(request.headers[.contentType] == "application/x-www-form-urlencoded")
                #expect(request.headers[.authorization] == "Bearer sk_test_scripted_0123456789")
                #expect(request.headers[HTTPField.Name("Stripe-Version")!] == "2024-06-20")
                #expect(request.headers[HTTPField.Name("Idempotency-Key")!] == "interchange-checkout-\(order.id)-1")
                let fields = request.fields
                let expiresAt = try #require(fields.first { $0.0 == "expires_at" }.flatMap { TimeInterval($0.1) })
                // The session lifetime (24 h) from when the attempt was planned, in whole seconds.
                #expect(expiresAt >= (before.timeIntervalSince1970 + 24 * 3600).rounded(.down))
                #expect(expiresAt <= after.timeIntervalSince1970 + 24 * 3600)
                let expected: [(String, String)] = [
                    ("mode", "payment"),
                    ("success_url", "https://shop.example/shop/success.html?order=\(order.id)&session_id={CHECKOUT_SESSION_ID}"),
                    ("cancel_url", "https://shop.example/shop/cancel.html?order=\(order.id)"),
                    ("client_reference_id", order.id),
                    ("metadata[order_id]", order.id),
                    ("payment_intent_data[metadata][order_id]", order.id),
                    ("expires_at", "\(Int(expiresAt))"),
                    ("line_items[0][price_data][currency]", "usd"),
                    ("line_items[0][price_data][unit_amount]", "\(products[0].unitAmount)"),
                    ("line_items[0][price_data][product_data][name]", products[0].name),
                    ("line_items[0][quantity]", "2"),
                    ("line_items[1][price_data][currency]", "usd"),
                    ("line_items[1][price_data][unit_amount]", "\(products[1].unitAmount)"),
                    ("line_items[1][price_data][product_data][name]", products[1].name),
                    ("line_items[1][quantity]", "1"),
                ]
                #expect(fields.map(\.0) == expected.map(\.0))
                #expect(fields.map(\.1) == expected.map(\.1))

                let stored = try #require(try await store.order(id: order.id))
                #expect(stored.status == .awaitingPayment)
                #expect(stored.checkout?.id == "cs_test_scripted")
                // An open session is handed out again, without asking Stripe.
                #expect(try await checkout.session(forOrder: order.id).id == "cs_test_scripted")
                #expect(recorded.value.count == 1)
            }
        }
    }

    @Test(arguments: [409, 429, 500, 503])
    func aRetryableAnswerIsRetriedWithTheSameKeyAndBody(status: Int) async throws {
        let error = #"{"error":{"type":"api_error","message":"try again"}}"#
        try await Self.withScriptedStripe(statuses: [(status, error)]) { base, recorded in
            try await Self.withCheckout(stripeBase: base) { checkout, store in
                let order = try await store.createOrder(lines: [(productID: try await store.products()[0].id, quantity: 1)])
                #expect(try await checkout.session(forOrder: order.id).id == "cs_test_scripted")
                let requests = recorded.value
                #expect(requests.count == 2)
                #expect(Set(requests.map { $0.headers[HTTPField.Name("Idempotency-Key")!] }).count == 1)
                #expect(Set(requests.map(\.body)).count == 1)
            }
        }
    }

    @Test func aRefusalIsNotRetriedAndLeavesTheOrderPayable() async throws {
        let refusal =
            #"{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","param":"expires_at","message":"Invalid integer"}}"#
        try await Self.withScriptedStripe(statuses: [(400, refusal)]) { base, recorded in
            try await Self.withCheckout(stripeBase: base) { checkout, store in
                let order = try await store.createOrder(lines: [(productID: try await store.products()[0].id, quantity: 1)])
                let error = try await #require(throws: StripeRequestError.self) { try await checkout.session(forOrder: order.id) }
                #expect(error.code == .rejected)
                #expect(error.status == 400)
                #expect(error.param == "expires_at")
                #expect(recorded.value.count == 1)
                let stored = try #require(try await store.order(id: order.id))
                #expect(stored.status == .pending)
                #expect(stored.timeline.contains { $0.kind == "checkout.failed" })
                // Payable: the next call opens the session.
                #expect(try await checkout.session(forOrder: order.id).id == "cs_test_scripted")
            }
        }
    }

    @Test func theSecretKeyIsNeverLogged() async throws {
        let key = "sk_test_never_in_a_log_4242"
        let logs = LogCapture()
        let refusal = #"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: \#(key)"}}"#
        try await Self.withScriptedStripe(statuses: [(401, refusal)]) { base, _ in
            try await Self.withCheckout(stripeBase: base, key: key, logs: logs) { checkout, store in
                let order = try await store.createOrder(lines: [(productID: try await store.products()[0].id, quantity: 1)])
                let error = try await #require(throws: StripeRequestError.self) { try await checkout.session(forOrder: order.id) }
                #expect(!error.description.contains(key))
                let problem = ShopAPI.problem(error)
                #expect(problem.problem.status == 502)
                #expect(!(problem.problem.detail ?? "").contains(key))
                _ = try await checkout.session(forOrder: order.id)
                let timeline = try #require(try await store.order(id: order.id)).timeline
                #expect(!timeline.contains { $0.message.contains(key) })
            }
        }
        #expect(!logs.records.isEmpty)
        #expect(!logs.text.contains(key))
        #expect(!logs.text.contains("never_in_a_log"))
    }
}
