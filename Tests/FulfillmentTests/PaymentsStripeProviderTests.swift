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

/// The Stripe adapter against Interchange's Stripe simulator, over real HTTP: charges are PaymentIntents created and
/// confirmed there with a Stripe test payment method, declines come from Stripe's decline test methods, refunds
/// refund those intents. A scripted server stands in only for what the simulator never answers — a 5xx, a slow
/// answer (see each test).
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
        // Every provider the body makes is shut down however the body ends: an HTTP client dropped without its
        // shutdown is a fatal error that would take the whole test process down with one failed expectation.
        let created = CreatedProviders()
        do {
            try await Self.$created.withValue(created) {
                try await LoopbackServer.run(router, services: simulator.services) { server in
                    address.withLock { $0 = server.baseURL }
                    try await body(server.baseURL + StripeSimulator.embeddedBasePath)
                }
            }
        } catch {
            await created.shutDownAll()
            throw error
        }
        await created.shutDownAll()
    }

    /// The providers made inside one ``withSimulator(_:)`` body.
    final class CreatedProviders: Sendable {
        let providers = Mutex<[StripePaymentProvider]>([])

        /// Shuts down each provider (one already shut down by the test answers an error, ignored).
        func shutDownAll() async {
            for provider in providers.withLock({ $0 }) { try? await provider.shutdown() }
        }
    }

    @TaskLocal static var created: CreatedProviders?

    static func get(_ url: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
    }

    /// The simulator's payment intents, newest first.
    static func intents(at base: String) async throws -> [[String: Any]] {
        try #require(try await get(base + "/v1/payment_intents?limit=100")["data"] as? [[String: Any]])
    }

    static func provider(
        base: String,
        paymentMethod: String = "pm_card_visa",
        policy: HostPolicy = StripePaymentProvider.defaultPolicy
    ) throws -> StripePaymentProvider {
        let provider = try StripePaymentProvider(
            configuration: .init(secretKey: key, paymentMethod: paymentMethod, policy: policy),
            apiBase: { base },
            logger: LoopbackServer.quietLogger
        )
        created?.providers.withLock { $0.append(provider) }
        return provider
    }

    @Test func aChargeIsOneSucceededPaymentIntentHoweverOftenItIsAsked() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base)
            let request = ChargeRequest(orderID: "o-stripe-1", userID: "u-1", amountCents: 1450, currency: "usd")
            let first = try await stripe.charge(request)
            // The handler's retry after a lost answer, and the lookup before refunding a timed-out charge.
            let again = try await stripe.charge(request)
            let found = try await stripe.findCharge(request)
            try await stripe.shutdown()

            guard case .charged(let charge) = first else {
                Issue.record("not charged: \(first)")
                return
            }
            #expect(charge.providerPaymentID.hasPrefix("pi_"))
            #expect(again == first)
            #expect(found == first)
            let intents = try await Self.intents(at: base)
            #expect(intents.count == 1)
            let intent = try #require(intents.first)
            #expect(intent["id"] as? String == charge.providerPaymentID)
            #expect(intent["status"] as? String == "succeeded")
            #expect(intent["amount"] as? Int == 1450)
            #expect(intent["description"] as? String == "Interchange order o-stripe-1")
            #expect((intent["metadata"] as? [String: Any])?["order_id"] as? String == "o-stripe-1")
            #expect((intent["metadata"] as? [String: Any])?["user_id"] as? String == "u-1")
            let charges = try #require(try await Self.get(base + "/v1/charges?payment_intent=\(charge.providerPaymentID)")["data"] as? [Any])
            #expect(charges.count == 1)
        }
    }

    @Test(
        arguments: [
            ("pm_card_chargeDeclined", "generic_decline"),
            ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
            ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ]
    )
    func aConfiguredDeclinePaymentMethodIsADeclineWithStripesCode(paymentMethod: String, code: String) async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base, paymentMethod: paymentMethod)
            let request = ChargeRequest(orderID: "o-declined", userID: "u-1", amountCents: 990, currency: "usd")
            let outcome = try await stripe.charge(request)
            let again = try await stripe.charge(request)
            try await stripe.shutdown()
            guard case .declined(let decline) = outcome else {
                Issue.record("not declined: \(outcome)")
                return
            }
            #expect(decline.code == code)
            #expect(!decline.message.isEmpty)
            #expect(again == outcome)
            let intents = try await Self.intents(at: base)
            #expect(intents.count == 1)
            #expect(intents.first?["status"] as? String == "requires_payment_method")
        }
    }

    @Test func theSameOrderChargedForAnotherAmountIsRejectedNotChargedTwice() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base)
            _ = try await stripe.charge(ChargeRequest(orderID: "o-stripe-2", userID: "u-1", amountCents: 1450, currency: "usd"))
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.charge(ChargeRequest(orderID: "o-stripe-2", userID: "u-1", amountCents: 9999, currency: "usd"))
            }
            try await stripe.shutdown()
            #expect(error?.code == .rejected)
            #expect(error?.message.contains("idempotency_error") == true)
            #expect(try await Self.intents(at: base).count == 1)
        }
    }

    @Test func aChargeIsRefundedOnceHoweverOftenTheRefundIsAsked() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base)
            let outcome = try await stripe.charge(ChargeRequest(orderID: "o-stripe-3", userID: "u-1", amountCents: 1450, currency: "usd"))
            guard case .charged(let charge) = outcome else {
                try await stripe.shutdown()
                Issue.record("not charged: \(outcome)")
                return
            }
            let request = RefundRequest(orderID: "o-stripe-3", providerPaymentID: charge.providerPaymentID, amountCents: 1450)
            let first = try await stripe.refund(request)
            let again = try await stripe.refund(request)
            try await stripe.shutdown()
            #expect(first.refundID.hasPrefix("re_"))
            #expect(first.amountCents == 1450)
            #expect(again == first)
            let refunds = try #require(
                try await Self.get(base + "/v1/refunds?payment_intent=\(charge.providerPaymentID)")["data"] as? [[String: Any]]
            )
            #expect(refunds.count == 1)
            #expect((refunds.first?["metadata"] as? [String: Any])?["order_id"] as? String == "o-stripe-3")
            let stored = try await Self.get(base + "/v1/charges?payment_intent=\(charge.providerPaymentID)")
            #expect((stored["data"] as? [[String: Any]])?.first?["refunded"] as? Bool == true)
        }
    }

    @Test func aRefundOfADeclinedOrUnknownIntentIsRejectedNotRetried() async throws {
        try await Self.withSimulator { base in
            let declining = try Self.provider(base: base, paymentMethod: "pm_card_chargeDeclined")
            _ = try await declining.charge(ChargeRequest(orderID: "o-stripe-4", userID: "u-1", amountCents: 100, currency: "usd"))
            try await declining.shutdown()
            let declinedIntent = try #require(try await Self.intents(at: base).first?["id"] as? String)
            let stripe = try Self.provider(base: base)
            for intent in [declinedIntent, "pi_missing"] {
                let error = await #expect(throws: PaymentProviderError.self) {
                    try await stripe.refund(RefundRequest(orderID: "o-\(intent)", providerPaymentID: intent, amountCents: 100))
                }
                #expect(error?.code == .rejected)
            }
            try await stripe.shutdown()
        }
    }

    @Test func aPaymentMethodStripeDoesNotKnowIsRejectedNamingIt() async throws {
        try await Self.withSimulator { base in
            let stripe = try Self.provider(base: base, paymentMethod: "pm_card_typo")
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.charge(ChargeRequest(orderID: "o-stripe-5", userID: "u-1", amountCents: 100, currency: "usd"))
            }
            try await stripe.shutdown()
            #expect(error?.code == .rejected)
            #expect(error?.message.contains("pm_card_typo") == true)
            #expect(try await Self.intents(at: base).isEmpty)
        }
    }

    // MARK: What the simulator cannot produce

    /// Scripted: the simulator never answers 5xx, so Stripe failing once (then answering) is played by a script. The
    /// adapter retries with the order's key and the same form — the key is what makes real Stripe answer the retry
    /// with the first intent.
    @Test func aRetryAfterA5xxSendsTheSameKeyAndForm() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/v1/payment_intents",
                .status(503),
                .json(#"{"id":"pi_123","object":"payment_intent","status":"succeeded","amount":1450,"currency":"usd"}"#)
            )
            let stripe = try Self.provider(base: server.baseURL, policy: Self.fastRetries(maxAttempts: 3))
            let request = ChargeRequest(orderID: "o-42", userID: "u-1", amountCents: 1450, currency: "usd")
            #expect(try await stripe.charge(request) == .charged(.init(providerPaymentID: "pi_123")))
            try await stripe.shutdown()
            let calls = server.requests(to: "/v1/payment_intents")
            #expect(calls.count == 2)
            #expect(Set(calls.map { $0.headers[HTTPField.Name("Idempotency-Key")!] }) == ["interchange-fulfillment-charge-o-42"])
            #expect(Set(calls.map(\.body)).count == 1)
            #expect(calls.allSatisfy { $0.headers[.authorization] == "Bearer \(Self.key)" })
        }
    }

    /// Scripted: Stripe answering 5xx through every retry (the simulator never does) leaves the outcome unknown.
    @Test func stripeStill5xxAfterTheRetriesIsUnavailable() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/v1/payment_intents", .status(500))
            let stripe = try Self.provider(base: server.baseURL, policy: Self.fastRetries(maxAttempts: 2))
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.charge(ChargeRequest(orderID: "o-43", userID: "u-1", amountCents: 100, currency: "usd"))
            }
            try await stripe.shutdown()
            #expect(error?.code == .unavailable)
            #expect(server.requests(to: "/v1/payment_intents").count == 2)
        }
    }

    /// Scripted: the simulator answers at once, so a Stripe slower than the attempt timeout is a script's delayed
    /// reply (300 ms against a 50 ms limit): a timeout, whose charge may exist.
    @Test func aStripeSlowerThanTheTimeoutIsATimeout() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/v1/payment_intents", .init(status: .ok, body: "{}", delay: .milliseconds(300)))
            let stripe = try Self.provider(
                base: server.baseURL,
                policy: HostPolicy(name: "stripe", retry: RetryPolicy(maxAttempts: 1), attemptTimeout: .milliseconds(50))
            )
            let error = await #expect(throws: PaymentProviderError.self) {
                try await stripe.charge(ChargeRequest(orderID: "o-44", userID: "u-1", amountCents: 100, currency: "usd"))
            }
            try await stripe.shutdown()
            #expect(error?.code == .timeout)
        }
    }

    static func fastRetries(maxAttempts: Int) throws -> HostPolicy {
        HostPolicy(
            name: "stripe",
            retry: RetryPolicy(
                maxAttempts: maxAttempts,
                backoff: try .exponential(initial: .milliseconds(1), maxDelay: .milliseconds(5), jitter: .none),
                retryableStatuses: Set(500...599)
            )
        )
    }
}
