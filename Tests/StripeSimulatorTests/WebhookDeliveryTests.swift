import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import NIOCore
import StripeSimulator
import Testing
import WebhooksOutbound
import WebhooksSigning

/// What a loopback receiver got: each request's body and headers.
struct ReceivedWebhook: Sendable {
    var body: Data
    var headers: HTTPFields
}

/// A receiver on 127.0.0.1 that records every POST to `/hook` and answers `statuses` in turn (200 after they run out).
func withReceiver<T: Sendable>(
    statuses: [HTTPResponse.Status] = [],
    _ body: (_ url: String, _ received: LockedValue<[ReceivedWebhook]>) async throws -> T
) async throws -> T {
    let received = LockedValue<[ReceivedWebhook]>([])
    let router = Router()
    router.post("hook") { request, _ -> Response in
        var request = request
        let bytes = try await request.collectBody(upTo: 1 << 20)
        let index = received.withLock { list -> Int in
            list.append(ReceivedWebhook(body: Data(buffer: bytes), headers: request.headers))
            return list.count - 1
        }
        return Response(status: index < statuses.count ? statuses[index] : .ok)
    }
    return try await LoopbackServer.run(router) { server in try await body(server.baseURL + "/hook", received) }
}

@Suite(.timeLimit(.minutes(1)))
struct WebhookDeliveryTests {
    @Test func aWebhookEndpointGetsAWhsecSecretShownOnlyAtCreationAndCanBeListedAndDeleted() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let created = try await client.stripe(
                    .post,
                    "/v1/webhook_endpoints",
                    "url=http%3A%2F%2F127.0.0.1%3A1%2Fhook&enabled_events[]=checkout.session.completed&description=shop"
                )
                #expect(created.status == .ok, "\(created.text)")
                let endpoint = try created.json
                let id = try #require(endpoint["id"]?.string)
                #expect(id.hasPrefix("we_"))
                #expect(endpoint["object"]?.string == "webhook_endpoint")
                #expect(endpoint["secret"]?.string?.hasPrefix("whsec_") == true)
                #expect(endpoint["enabled_events"]?.array.compactMap(\.string) == ["checkout.session.completed"])

                let listed = try await client.stripe(.get, "/v1/webhook_endpoints").json
                #expect(listed["data"]?.array.compactMap { $0["id"]?.string } == [id])
                #expect(listed["data"]?.array.first?["secret"] == nil)

                let deleted = try await client.stripe(.delete, "/v1/webhook_endpoints/\(id)").json
                #expect(deleted["deleted"]?.bool == true)
                #expect(try await client.stripe(.get, "/v1/webhook_endpoints/\(id)").status == .notFound)
                #expect(try await harness.engine.store.endpoints().isEmpty)

                let missing = try await client.stripe(.post, "/v1/webhook_endpoints", "url=http%3A%2F%2F127.0.0.1%3A1%2Fhook")
                #expect(try missing.json["error"]?["param"]?.string == "enabled_events")
            }
        }
    }

    @Test func eventsAreDeliveredSignedWithTheStripeSchemeToEndpointsThatAcceptTheirType() async throws {
        try await SimulatorHarness.with { harness in
            try await withReceiver { url, received in
                try await harness.test { client in
                    let encodedURL = url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let all = try await client.stripe(.post, "/v1/webhook_endpoints", "url=\(encodedURL)&enabled_events[0]=*").json
                    let secret = try #require(all["secret"]?.string)
                    // A second endpoint wants only refunds: it gets none of the payment's events.
                    _ = try await client.stripe(.post, "/v1/webhook_endpoints", "url=\(encodedURL)x&enabled_events[0]=charge.refunded")

                    let id = try #require(try await client.createSession()["id"]?.string)
                    _ = try await client.payOnPage(id, card: "4242424242424242")
                    // payment_intent.created, charge.succeeded, payment_intent.succeeded, checkout.session.completed.
                    #expect(await harness.engine.processDue() == 4)

                    let deliveries = received.value
                    #expect(deliveries.count == 4)
                    var types: [String] = []
                    for delivery in deliveries {
                        let verified = try WebhookSigner(scheme: .stripe).verify(
                            payload: delivery.body,
                            headers: delivery.headers,
                            secrets: [secret],
                            now: harness.clock.date
                        )
                        #expect(abs(verified.timestamp.timeIntervalSince(harness.clock.date)) < 2)
                        let event = try JSONObject(delivery.body)
                        #expect(event["object"]?.string == "event")
                        #expect(event["pending_webhooks"]?.int == 1)
                        types.append(event["type"]?.string ?? "")
                        // The same event is what GET /v1/events/{id} answers.
                        let stored = try await client.stripe(.get, "/v1/events/\(event["id"]?.string ?? "")")
                        #expect(stored.status == .ok)
                    }
                    #expect(Set(types) == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"])
                    #expect(throws: (any Error).self) {
                        try WebhookSigner(scheme: .stripe).verify(
                            payload: deliveries[0].body,
                            headers: deliveries[0].headers,
                            secrets: ["whsec_not_the_secret_at_all"],
                            now: harness.clock.date
                        )
                    }
                }
            }
        }
    }

    @Test func aReceiverThatAnswers500IsRetriedOnTheEnginesSchedule() async throws {
        try await SimulatorHarness.with(schedule: [.zero, .seconds(5)]) { harness in
            try await withReceiver(statuses: [.internalServerError]) { url, received in
                try await harness.test { client in
                    let encodedURL = url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    _ = try await client.stripe(.post, "/v1/webhook_endpoints", "url=\(encodedURL)&enabled_events[0]=checkout.session.expired")
                    let id = try #require(try await client.createSession()["id"]?.string)
                    _ = try await client.stripe(.post, "/v1/checkout/sessions/\(id)/expire")

                    #expect(await harness.engine.processDue() == 1)
                    #expect(received.value.count == 1)
                    #expect(await harness.engine.processDue() == 0, "the retry is not due before its delay")

                    harness.clock.advance(by: .seconds(5))
                    #expect(await harness.engine.processDue() == 1)
                    let bodies = received.value.map(\.body)
                    #expect(bodies.count == 2)
                    #expect(bodies[0] == bodies[1], "the retry carries the same event")
                    let delivery = try #require(try await harness.engine.store.deliveries(endpointID: nil, status: nil, limit: 10).first)
                    #expect(delivery.status == .succeeded)
                    #expect(delivery.attempts == 2)
                }
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct SweeperTests {
    /// Runs the simulator's sweeper (its only service here) beside `body`.
    func withSweeper(_ harness: SimulatorHarness, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in harness.simulator.services { group.addTask { try await service.run() } }
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    @Test func aDelayedPaymentSettlesAfterTheDelayOnTheInjectedClock() async throws {
        try await SimulatorHarness.with(settlementDelay: .seconds(30)) { harness in
            try await harness.test { client in
                let id = try #require(try await client.createSession()["id"]?.string)
                _ = try await client.payOnPage(id, card: "4000000000003220")
                try await withSweeper(harness) {
                    try await harness.clock.waitForSleepers(1)
                    harness.clock.advance(by: .seconds(29))
                    try await harness.clock.waitForSleepers(1)
                    #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["payment_status"]?.string == "unpaid")

                    harness.clock.advance(by: .seconds(1))
                    try await harness.clock.waitForSleepers(1)
                    #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["payment_status"]?.string == "paid")
                    #expect(
                        try await client.eventTypes() == [
                            "payment_intent.created", "checkout.session.completed", "charge.succeeded", "payment_intent.succeeded",
                            "checkout.session.async_payment_succeeded",
                        ]
                    )
                }
            }
        }
    }

    @Test func anOpenSessionExpiresAtExpiresAt() async throws {
        try await SimulatorHarness.with { harness in
            try await harness.test { client in
                let now = Int(harness.clock.date.timeIntervalSince1970)
                let id = try #require(try await client.createSession(extra: "&expires_at=\(now + 1800)")["id"]?.string)
                try await withSweeper(harness) {
                    try await harness.clock.waitForSleepers(1)
                    harness.clock.advance(by: .seconds(1799))
                    try await harness.clock.waitForSleepers(1)
                    #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["status"]?.string == "open")
                    harness.clock.advance(by: .seconds(1))
                    try await harness.clock.waitForSleepers(1)
                    #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").json["status"]?.string == "expired")
                    #expect(try await client.eventTypes() == ["checkout.session.expired"])
                }
            }
        }
    }
}
