import Foundation
import HTTPTypes
import HummingbirdTesting
import InterchangeTesting
import NIOCore
import StripeSimulator
import Testing

@Suite(.timeLimit(.minutes(1)))
struct MountingTests {
    @Test func underABasePathTheAPIThePageAndTheControlsMoveWithIt() async throws {
        try await SimulatorHarness.with(basePath: "/sim/stripe/") { harness in
            try await harness.test { client in
                let response = try await client.stripe(
                    .post,
                    "/sim/stripe/v1/checkout/sessions",
                    "mode=payment&success_url=http%3A%2F%2Fx.test%2F&line_items[0][price_data][currency]=usd"
                        + "&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=1"
                )
                #expect(response.status == .ok)
                let id = try #require(try response.json["id"]?.string)
                #expect(try response.json["url"]?.string == "http://127.0.0.1:9/sim/stripe/checkout/pay/\(id)")
                let page = try await client.execute(uri: "/sim/stripe/checkout/pay/\(id)", method: .get)
                #expect(page.text.contains("action=\"/sim/stripe/checkout/pay/\(id)\""))
                #expect(try await client.execute(uri: "/sim/stripe/_sim/payments/settle", method: .post).status == .ok)
                #expect(try await client.stripe(.get, "/v1/checkout/sessions/\(id)").status == .notFound)
                let unknown = try await client.stripe(.get, "/sim/stripe/v1/nothing")
                #expect(try unknown.json["error"]?["message"]?.string?.hasPrefix("Unrecognized request URL (GET: /v1/nothing).") == true)
            }
        }
    }

    @Test func aBodyOverTheLimitIsRefusedBeforeAnythingIsParsed() async throws {
        try await SimulatorHarness.with(maxBodySize: 1024) { harness in
            try await harness.test { client in
                let response = try await client.stripe(.post, "/v1/customers", "description=" + String(repeating: "x", count: 2048))
                #expect(response.status == .contentTooLarge)
                #expect(try response.json["error"]?["type"]?.string == "invalid_request_error")
                #expect(try await client.stripe(.get, "/v1/customers").json["data"]?.array.isEmpty == true)
            }
        }
    }

    @Test func webhookEndpointsSurviveARestartOnTheSameDatabase() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stripe-sim-restart-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let id = try await SimulatorHarness.with(databasePath: path) { harness in
            let id = LockedValue<String?>(nil)
            try await harness.test { client in
                let created = try await client.stripe(
                    .post,
                    "/v1/webhook_endpoints",
                    "url=http%3A%2F%2F127.0.0.1%3A1%2Fhook&enabled_events[]=checkout.session.completed&description=shop"
                )
                id.withLock { $0 = try? created.json["id"]?.string }
            }
            return try #require(id.value)
        }
        try await SimulatorHarness.with(databasePath: path) { harness in
            try await harness.test { client in
                let listed = try await client.stripe(.get, "/v1/webhook_endpoints").json["data"]?.array ?? []
                #expect(listed.compactMap { $0["id"]?.string } == [id])
                #expect(listed.first?["enabled_events"]?.array.compactMap(\.string) == ["checkout.session.completed"])
                #expect(listed.first?["description"]?.string == "shop")
                #expect(try await client.stripe(.get, "/v1/checkout/sessions").json["data"]?.array.isEmpty == true, "objects do not survive")
            }
        }
    }
}
