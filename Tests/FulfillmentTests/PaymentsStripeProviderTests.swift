import AsyncHTTPClient
import Foundation
import HTTPIntegration
import HTTPTypes
import Hummingbird
import InterchangeTesting
import NIOCore
import Resilience
import StripeSimulator
import Synchronization
import Testing

@testable import FulfillmentPayments

/// The Stripe adapter. Refunds run against Interchange's Stripe simulator (a payment intent made by paying a
/// Checkout session there). The simulator has no `POST /v1/payment_intents` (it makes intents only when a Checkout
/// session is paid), so the charge is tested (1) against the simulator for what it answers today — Stripe's 404
/// for an unrecognized URL, a rejection, not a charge — and (2) against a scripted server answering in Stripe's
/// documented PaymentIntent shapes, for the wire format, the idempotency key across retries and declines.
@Suite(.timeLimit(.minutes(1)))
struct PaymentsStripeProviderTests {
    static let key = "sk_test_interchange"

    /// The simulator on a loopback server, mounted at `/sim/stripe` as `interchange up` mounts it.
    static func withSimulator(_ body: @Sendable (String) async throws -> Void) async throws {
        let address = Mutex("http://127.0.0.1:0")
        let logger = LoopbackServer.quietLogger
        let engine = try await StripeSimulator.makeDeliveryEngine(databasePath: nil, logger: logger)
        let simulator = StripeSimulator(
            configuration: .init(basePath: StripeSimulator.embeddedBasePath, publicBaseURL: { address.withLock { $0 } }),
            engine: engine,
            logger: logger
        )
        try await simulator.prepare()
        let router = Router(context: BasicRequestContext.self)
        try simulator.addRoutes(to: router)
        try await LoopbackServer.run(router, services: simulator.services) { server in
            address.withLock { $0 = server.baseURL }
            try await body(server.baseURL + StripeSimulator.embeddedBasePath)
        }
    }

    static func post(_ url: String, form: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
    }

    static func get(_ url: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
    }

    /// A payment intent of `amount` cents, made the only way the simulator makes one: a paid Checkout session.
    static func paidIntent(at base: String, amount: Int) async throws -> String {
        let session = try await post(
            base + "/v1/checkout/sessions",
            form: "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=\(amount)"
                + "&line_items[0][price_data][product_data][name]=Order&line_items[0][quantity]=1&success_url=http://127.0.0.1/ok"
        )
        let id = try #require(session["id"] as? String)
        let paid = try await post(base + "/_sim/checkout/sessions/\(id)/pay", form: "card=4242424242424242")
        #expect(paid["outcome"] as? String == "succeeded")
        let intent = try #require(paid["payment_intent"] as? [String: Any])
        return try #require(intent["id"] as? String)
    }

    static func provider(base: String, policy: HostPolicy = StripePaymentProvider.defaultPolicy) throws -> StripePaymentProvider {
        try StripePaymentProvider(configuration: .init(secretKey: key, policy: policy), apiBase: { base }, logger: LoopbackServer.quietLogger)
    }

    @Test func aRefundAtTheSimulatorIsMadeOnceHoweverOftenItIsAsked() async throws {
        try await Self.withSimulator { base in
            let intent = try await Self.paidIntent(at: base, amount: 1450)
            let stripe = try Self.provider(base: base)
            let request = RefundRequest(orderID: "o-stripe-1", providerPaymentID: intent, amountCents: 1450)
            let first = try await stripe.refund(request)
            let again = try await stripe.refund(request)
            try await stripe.shutdown()
            #expect(first.refundID.hasPrefix("re_"))
            #expect(first.amountCents == 1450)
            #expect(again == first)
            let refunds = try await Self.get(base + "/v1/refunds?payment_intent=\(intent)")
            let data = try #require(refunds["data"] as? [[String: Any]])
            #expect(data.count == 1)
            #expect((data.first?["metadata"] as? [String: Any])?["order_id"] as? String == "o-stripe-1")
        }
    }

    @Test func aRefundOfAnUnknownIntentIsRejectedNotRetried() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base)
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.refund(RefundRequest(orderID: "o-x", providerPaymentID: "pi_missing", amountCents: 100))
            }
            try await stripe.shutdown()
            #expect(error?.code == .rejected)
        }
    }

    @Test func theSimulatorCannotCreateAPaymentIntentSoAChargeThereIsRejected() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base)
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.charge(ChargeRequest(orderID: "o-sim", userID: "u-1", amountCents: 100, currency: "usd"))
            }
            try await stripe.shutdown()
            #expect(error?.code == .rejected)
            #expect(error?.message.contains("404") == true)
        }
    }

    @Test func aChargeCreatesAndConfirmsOnePaymentIntentAcrossRetriesWithTheOrdersKey() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/v1/payment_intents",
                .status(503),
                .json(#"{"id":"pi_123","object":"payment_intent","status":"succeeded","amount":1450,"currency":"usd"}"#)
            )
            let stripe = try Self.provider(
                base: server.baseURL,
                policy: HostPolicy(
                    name: "stripe",
                    retry: RetryPolicy(
                        maxAttempts: 3,
                        backoff: try .exponential(initial: .milliseconds(1), maxDelay: .milliseconds(5), jitter: .none),
                        retryableStatuses: [503]
                    )
                )
            )
            let request = ChargeRequest(orderID: "o-42", userID: "u-1", amountCents: 1450, currency: "usd")
            #expect(try await stripe.charge(request) == .charged(.init(providerPaymentID: "pi_123")))
            // The handler's own retry (after a lost answer) sends the same key again.
            #expect(try await stripe.charge(request) == .charged(.init(providerPaymentID: "pi_123")))
            try await stripe.shutdown()
            let calls = server.requests(to: "/v1/payment_intents")
            #expect(calls.count == 3)
            #expect(Set(calls.map { $0.headers[HTTPField.Name("Idempotency-Key")!] }) == ["interchange-fulfillment-charge-o-42"])
            #expect(calls.allSatisfy { $0.headers[.authorization] == "Bearer \(Self.key)" })
            let form = try #require(calls.first?.body)
            for field in [
                "amount=1450", "currency=usd", "payment_method=pm_card_visa", "confirm=true", "metadata%5Border_id%5D=o-42",
                "automatic_payment_methods%5Ballow_redirects%5D=never",
            ] {
                #expect(form.contains(field), "missing \(field) in \(form)")
            }
        }
    }

    @Test func aCardErrorIsADeclineWithStripesDeclineCode() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/v1/payment_intents",
                .json(
                    #"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}"#,
                    status: .init(code: 402)
                )
            )
            let stripe = try Self.provider(base: server.baseURL)
            let outcome = try await stripe.charge(ChargeRequest(orderID: "o-43", userID: "u-1", amountCents: 100, currency: "usd"))
            try await stripe.shutdown()
            #expect(outcome == .declined(.init(code: "insufficient_funds", message: "Your card has insufficient funds.")))
        }
    }
}
