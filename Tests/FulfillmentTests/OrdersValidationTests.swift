import Foundation
import InterchangeTesting
import Testing

@testable import FulfillmentOrders

/// Placing an order validates everything before any saga starts: each refusal is problem+json naming the field,
/// and leaves no order, no saga and no event behind.
@Suite(.timeLimit(.minutes(1)))
struct OrdersValidationTests {
    static let stock = [(sku: "SKU-APPLE", priceCents: 120, currency: "usd"), (sku: "SKU-PEAR", priceCents: 90, currency: "usd")]

    /// Runs `body` against the orders service with a users/inventory stand-in that knows `u_ada` and two SKUs.
    func withOrders(_ kind: TestDatabase.Kind, _ body: @Sendable (OrdersHarness, ScriptedHTTPServer) async throws -> Void) async throws {
        try await ScriptedHTTPServer.withServer { upstream in
            UpstreamStandIn.script(upstream, users: ["u_ada"], stock: Self.stock + [(sku: "SKU-EURO", priceCents: 100, currency: "eur")])
            try await OrdersHarness.run(kind, upstreamBaseURL: upstream.baseURL) { harness in
                try await body(harness, upstream)
            }
        }
    }

    /// Asserts nothing was stored or sent.
    func expectNothingStarted(_ harness: OrdersHarness) async throws {
        #expect(try await harness.count("fulfillment_orders") == 0)
        #expect(try await harness.count("messaging_outbox") == 0)
    }

    @Test(arguments: [
        (#"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":0}]}"#, "lines[0].quantity"),
        (#"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1},{"sku":"SKU-PEAR","quantity":-3}]}"#, "lines[1].quantity"),
        (#"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":10001}]}"#, "lines[0].quantity"),
        (#"{"userId":"u_ada","lines":[]}"#, "lines"),
        (#"{"userId":"u ada","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#, "userId"),
        (#"{"userId":"u_ada","lines":[{"sku":"SKU/../x","quantity":1}]}"#, "lines[0].sku"),
        (#"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1},{"sku":"SKU-EURO","quantity":1}]}"#, "lines[1].sku"),
    ])
    func anInvalidOrderIsA400NamingTheField(body: String, field: String) async throws {
        try await withOrders(.sqlite) { harness, upstream in
            let response = try await harness.request(.POST, "/orders/api/orders", json: body)
            #expect(response.status == 400, "\(response.text)")
            #expect(response.body?["field"] as? String == field, "\(response.text)")
            #expect((response.body?["detail"] as? String)?.hasPrefix(field) == true)
            try await expectNothingStarted(harness)
        }
    }

    @Test func quantityAndShapeAreCheckedBeforeUsersOrInventoryIsAsked() async throws {
        try await withOrders(.sqlite) { harness, upstream in
            let response = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":0}]}"#
            )
            #expect(response.status == 400)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func anUnknownUserIsA404NamingUserId(kind: TestDatabase.Kind) async throws {
        try await withOrders(kind) { harness, upstream in
            let response = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_nobody","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#
            )
            #expect(response.status == 404, "\(response.text)")
            #expect(response.body?["field"] as? String == "userId")
            #expect(upstream.requests(to: "/users/api/users/u_nobody").count == 1)
            #expect(upstream.requests.allSatisfy { !$0.path.hasPrefix("/inventory/") }, "no SKU is looked up for an unknown user")
            try await expectNothingStarted(harness)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func anUnknownSKUIsA404NamingTheLine(kind: TestDatabase.Kind) async throws {
        try await withOrders(kind) { harness, _ in
            let response = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1},{"sku":"SKU-NOPE","quantity":2}]}"#
            )
            #expect(response.status == 404, "\(response.text)")
            #expect(response.body?["field"] as? String == "lines[1].sku")
            try await expectNothingStarted(harness)
        }
    }

    @Test func aMalformedBodyIsA400() async throws {
        try await withOrders(.sqlite) { harness, _ in
            let missing = try await harness.request(.POST, "/orders/api/orders", json: #"{"lines":[{"sku":"SKU-APPLE","quantity":1}]}"#)
            #expect(missing.status == 400, "\(missing.text)")
            #expect(missing.body?["field"] as? String == "userId", "\(missing.text)")
            let wrongType = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":"two"}]}"#
            )
            #expect(wrongType.status == 400, "\(wrongType.text)")
            let notJSON = try await harness.request(.POST, "/orders/api/orders", json: "{")
            #expect(notJSON.status == 400, "\(notJSON.text)")
            try await expectNothingStarted(harness)
        }
    }

    @Test func anUnreachableInventoryIsA503NamingIt() async throws {
        // A port nothing listens on: users and inventory both unreachable; users is asked first.
        let closed = try await ScriptedHTTPServer.withServer { $0.baseURL }
        try await OrdersHarness.run(.sqlite, upstreamBaseURL: closed) { harness in
            let response = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#
            )
            #expect(response.status == 503, "\(response.text)")
            #expect(response.body?["upstream"] as? String == "users")
            try await expectNothingStarted(harness)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aValidOrderIsAcceptedPricedByInventoryAndStartsItsSagaWithItsEventsInTheOutbox(kind: TestDatabase.Kind) async throws {
        try await withOrders(kind) { harness, _ in
            let response = try await harness.request(
                .POST,
                "/orders/api/orders",
                json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":2},{"sku":"SKU-PEAR","quantity":1}]}"#
            )
            #expect(response.status == 202, "\(response.text)")
            let id = try #require(response.body?["id"] as? String)
            #expect(["PENDING", "RESERVING"].contains(response.body?["status"] as? String))
            let order = try await harness.request(.GET, "/orders/api/orders/\(id)")
            #expect(order.status == 200)
            #expect(order.body?["totalCents"] as? Int == 2 * 120 + 90)
            #expect(order.body?["currency"] as? String == "usd")
            #expect(order.body?["status"] as? String == "RESERVING")
            let saga = try #require(order.body?["saga"] as? [String: Any])
            #expect(saga["style"] as? String == "orchestration")
            #expect(saga["status"] as? String == "running")
            let kinds = (saga["timeline"] as? [[String: Any]])?.map { $0["kind"] as? String }
            #expect(kinds == ["started", "executing"])
            #expect(
                try await harness.outboxTypes() == [
                    "com.interchange.fulfillment.order.created", "com.interchange.fulfillment.command.reserve-inventory",
                ]
            )
            let list = try await harness.request(.GET, "/orders/api/orders?userId=u_ada")
            #expect((list.body?["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        }
    }

    @Test func unknownAndMalformedOrderIdsAreNamed() async throws {
        try await withOrders(.sqlite) { harness, _ in
            let unknown = try await harness.request(.GET, "/orders/api/orders/ord_nothing")
            #expect(unknown.status == 404)
            #expect(unknown.body?["parameter"] as? String == "orderId")
            let malformed = try await harness.request(.POST, "/orders/api/orders/nope/cancel")
            #expect(malformed.status == 400)
            #expect(malformed.body?["parameter"] as? String == "orderId")
            let limit = try await harness.request(.GET, "/orders/api/orders?limit=0")
            #expect(limit.status == 400)
            #expect(limit.body?["parameter"] as? String == "limit")
        }
    }

    @Test func theDocumentIsServedAndItsStatusesAreTheStoresStatuses() async throws {
        try await withOrders(.sqlite) { harness, _ in
            let document = try await harness.request(.GET, "/orders/api/openapi.yaml")
            #expect(document.status == 200)
            #expect(document.text.contains("operationId: placeOrder"))
        }
        #expect(OrderStatus.allCases.map(\.rawValue) == Components.Schemas.OrderStatus.allCases.map(\.rawValue))
    }
}
