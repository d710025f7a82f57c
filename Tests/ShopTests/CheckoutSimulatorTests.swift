import Foundation
import HTTPIntegration
import InterchangeTesting
import Resilience
import StripeSimulator
import Synchronization
import Testing

@testable import Shop

/// Checkout through the real Stripe simulator: concurrent calls open one session, and Stripe being unreachable
/// is a 503 problem that leaves the order payable.
@Suite(.timeLimit(.minutes(1)))
struct CheckoutSimulatorTests {
    /// The sessions the simulator holds.
    static func sessionsAtSimulator(_ shop: ShopHarness) async throws -> [[String: Any]] {
        let answer = try await shop.request(
            .get,
            "/sim/stripe/v1/checkout/sessions?limit=100",
            headers: [("Authorization", "Bearer \(ShopConfiguration.simulatorSecretKey)")]
        )
        guard answer.status == 200 else { throw HarnessError("listing sessions answered \(answer.status): \(answer.text)") }
        return try #require(try answer.json()["data"] as? [[String: Any]])
    }

    @Test func fiftyConcurrentCheckoutCallsOpenOneSession() async throws {
        try await ShopHarness.run { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 2)])
            let id = try #require(order["id"] as? String)
            let sessions = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let answer = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
                        guard answer.status == 200 else { throw HarnessError("checkout answered \(answer.status): \(answer.text)") }
                        return try #require(try answer.json()["sessionId"] as? String)
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(sessions.count == 50)
            #expect(Set(sessions).count == 1)
            let atSimulator = try await Self.sessionsAtSimulator(shop)
            #expect(atSimulator.count == 1)
            #expect(atSimulator.first?["id"] as? String == sessions.first)
            #expect(atSimulator.first?["client_reference_id"] as? String == id)
            #expect(atSimulator.first?["amount_total"] as? Int == order["amountTotal"] as? Int)
        }
    }

    @Test func twoProcessesCheckingOutOneOrderOpenOneSession() async throws {
        try await ShopHarness.run { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 1)])
            let id = try #require(order["id"] as? String)
            // A second process: its own Stripe client and single flight, the same database — only the
            // Idempotency-Key keeps the two from opening two sessions.
            let stripe = try StripeCheckoutClient(
                configuration: .init(secretKey: ShopConfiguration.simulatorSecretKey),
                apiBase: { shop.baseURL + ShopConfiguration.defaultSimulatorPath }
            )
            let other = try OrderCheckout(store: shop.shop.store, stripe: stripe, shopBaseURL: { shop.baseURL }, logger: LoopbackServer.quietLogger)
            let first = shop.shop.checkout
            let sessions = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<20 {
                    group.addTask { try await (index.isMultiple(of: 2) ? first : other).session(forOrder: id).id }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            try await stripe.shutdown()
            #expect(Set(sessions).count == 1)
            #expect(try await Self.sessionsAtSimulator(shop).count == 1)
        }
    }

    @Test func aCheckoutRetriedHoursAfterACrashGetsTheSessionStripeOpenedForTheAttempt() async throws {
        let clock = ManualClock()
        try await ShopHarness.run(now: clock.dateProvider) { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 1)])
            let id = try #require(order["id"] as? String)
            // A process that plans attempt 1, gets the session from Stripe, and dies before recording it.
            struct Crash: Error {}
            let opened = Mutex<CheckoutSessionRef?>(nil)
            let stripe = try StripeCheckoutClient(
                configuration: .init(secretKey: ShopConfiguration.simulatorSecretKey),
                apiBase: { shop.baseURL + ShopConfiguration.defaultSimulatorPath },
                logger: LoopbackServer.quietLogger,
                now: clock.dateProvider
            )
            let crashing = try OrderCheckout(
                store: shop.shop.store,
                stripe: stripe,
                shopBaseURL: { shop.baseURL },
                logger: LoopbackServer.quietLogger,
                afterSessionOpened: { session in
                    opened.withLock { $0 = session }
                    throw Crash()
                }
            )
            await #expect(throws: Crash.self) { try await crashing.session(forOrder: id) }
            try await stripe.shutdown()
            let lost = try #require(opened.withLock { $0 })
            #expect(try await shop.order(id)["checkout"] == nil)
            #expect(try await Self.sessionsAtSimulator(shop).count == 1)

            // Two hours later (another hour, so nothing derived from the clock matches) the shop checks out again.
            clock.advance(by: .seconds(2 * 3600))
            let answer = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            #expect(answer.status == 200, "\(answer.text)")
            #expect(try answer.json()["sessionId"] as? String == lost.id)
            #expect(try await Self.sessionsAtSimulator(shop).map { $0["id"] as? String } == [lost.id])
            let after = try await shop.order(id)
            #expect(after["status"] as? String == "awaiting_payment")
            #expect((after["checkout"] as? [String: Any])?["sessionId"] as? String == lost.id)
        }
    }

    @Test func stripeUnreachableIsA503ProblemAndTheOrderStaysPayable() async throws {
        // Port 1 on loopback: nothing listens, every connection is refused.
        var configuration = ShopConfiguration(stripeAPIBase: "http://127.0.0.1:1")
        configuration.stripePolicy.retry.backoff = try .constant(.milliseconds(10))
        try await ShopHarness.run(configuration: configuration) { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 1)])
            let id = try #require(order["id"] as? String)
            let answer = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            #expect(answer.status == 503)
            #expect(answer.header("Content-Type") == "application/problem+json")
            #expect(answer.header("Retry-After") != nil)
            let problem = try answer.json()
            #expect(problem["upstream"] as? String == "stripe")
            #expect(problem["type"] as? String == "https://interchange.dev/problems/upstream-failure")

            let after = try await shop.order(id)
            #expect(after["status"] as? String == "pending")
            #expect(after["checkout"] == nil)
            let kinds = (after["timeline"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
            #expect(kinds.contains("checkout.failed"))

            // Stripe is back (the simulator on this server): the same order checks out.
            let stripe = try StripeCheckoutClient(
                configuration: .init(secretKey: ShopConfiguration.simulatorSecretKey),
                apiBase: { shop.baseURL + ShopConfiguration.defaultSimulatorPath }
            )
            let recovered = try OrderCheckout(
                store: shop.shop.store,
                stripe: stripe,
                shopBaseURL: { shop.baseURL },
                logger: LoopbackServer.quietLogger
            )
            let session = try await recovered.session(forOrder: id)
            try await stripe.shutdown()
            #expect(session.id.hasPrefix("cs_"))
            #expect(try await shop.order(id)["status"] as? String == "awaiting_payment")
        }
    }

    @Test func anOpenCircuitIsA503WithoutCallingStripe() async throws {
        var configuration = ShopConfiguration(stripeAPIBase: "http://127.0.0.1:1")
        configuration.stripePolicy.retry = .disabled
        configuration.stripePolicy.circuitBreaker = .init(
            failureRateThreshold: 50,
            slidingWindow: .countBased(size: 2),
            minimumNumberOfCalls: 2,
            waitDurationInOpenState: .seconds(60),
            permittedCallsInHalfOpenState: 1
        )
        try await ShopHarness.run(configuration: configuration, simulator: false) { shop in
            let order = try await shop.createOrder([(try await shop.productID(), 1)])
            let id = try #require(order["id"] as? String)
            for _ in 0..<2 { #expect(try await shop.request(.post, "/shop/api/orders/\(id)/checkout").status == 503) }
            let breaker = try #require(shop.shop.checkout.stripe.circuitBreaker())
            #expect(breaker.state == .open)
            let answer = try await shop.request(.post, "/shop/api/orders/\(id)/checkout")
            #expect(answer.status == 503)
            #expect((try answer.json()["detail"] as? String)?.contains("circuit is open") == true)
            #expect(Int(answer.header("Retry-After") ?? "") ?? 0 > 1)
            #expect(try await shop.order(id)["status"] as? String == "pending")
        }
    }
}
