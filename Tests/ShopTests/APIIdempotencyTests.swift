import Foundation
import HTTPTypes
import Hummingbird
import InterchangeTesting
import ServiceRuntime
import Synchronization
import Testing

@testable import Shop

/// `POST /shop/api/orders` behind the idempotency middleware, as `ShopComponent.addRoutes` mounts it, with a gate
/// between the middleware and the handler so concurrent requests overlap for real.
@Suite(.timeLimit(.minutes(1)))
struct APIIdempotencyTests {
    /// Holds every order creation that reaches the handler at `gate`, counting them.
    struct HeldCreations: RouterMiddleware {
        typealias Context = BasicRequestContext
        let gate: Gate
        let executions: CallCounter

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            if request.method == .post && request.uri.path == "/shop/api/orders" {
                _ = executions.increment()
                await gate.wait()
            }
            return try await next(request, context)
        }
    }

    /// The shop's API routes with `HeldCreations` inside the idempotency middleware.
    static func withHeldShop<T: Sendable>(
        _ kind: TestDatabase.Kind,
        _ body: @Sendable (_ baseURL: String, _ gate: Gate, _ executions: CallCounter, _ shop: ShopComponent) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { database in
            let shop = try await ShopComponent.make(
                configuration: ShopConfiguration(),
                database: database,
                selfBaseURL: { "http://127.0.0.1:9" },
                logger: LoopbackServer.quietLogger,
                closesDatabase: false
            )
            let gate = Gate()
            let executions = CallCounter()
            let router = Router(context: BasicRequestContext.self)
            router.add(middleware: ProblemMiddleware())
            let api = router.group().add(middleware: shop.idempotency).add(middleware: HeldCreations(gate: gate, executions: executions))
            let checkout = shop.checkout
            try ShopAPI(store: shop.store, checkout: { checkout }).registerHandlers(on: api)
            return try await LoopbackServer.run(router, services: shop.services) { server in
                defer { gate.open() }
                return try await body(server.baseURL, gate, executions, shop)
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func fiftyConcurrentCreationsWithOneKeyMakeOneOrder(kind: TestDatabase.Kind) async throws {
        try await Self.withHeldShop(kind) { baseURL, gate, executions, shop in
            let product = try await shop.store.products()[0].id
            let body = #"{"lines":[{"productId":"\#(product)","quantity":2}]}"#
            let key = "order-\(UUID().uuidString)"
            let first = LockedValue<[ShopHarness.Answer]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let answer = try await ShopHarness.request(
                            .post,
                            baseURL + "/shop/api/orders",
                            body: body,
                            headers: [("Idempotency-Key", key)]
                        )
                        first.withLock { $0.append(answer) }
                    }
                }
                // One request holds the key inside the handler; the other 49 are answered while it is held.
                try await gate.waitForWaiters(1)
                try await waitUntil("49 requests were answered while the first is held") { first.withLock { $0.count } == 49 }
                #expect(first.withLock { $0.allSatisfy { $0.status == 409 } })
                #expect(first.withLock { $0.allSatisfy { $0.header("Retry-After") == "1" } })
                gate.open()
                try await group.waitForAll()
            }
            let answers = first.withLock { $0 }
            let created = try #require(answers.first { $0.status == 201 })
            #expect(answers.filter { $0.status == 409 }.count == 49)
            let orderID = try #require(try created.json()["id"] as? String)

            // The 49 retry with the same key: each gets the first answer, replayed.
            try await withThrowingTaskGroup(of: ShopHarness.Answer.self) { group in
                for _ in 0..<49 {
                    group.addTask {
                        try await ShopHarness.request(.post, baseURL + "/shop/api/orders", body: body, headers: [("Idempotency-Key", key)])
                    }
                }
                for try await replay in group {
                    #expect(replay.status == 201)
                    #expect(replay.header("Idempotent-Replayed") == "true")
                    #expect(replay.header("Location") == "/shop/api/orders/\(orderID)")
                    #expect(try replay.json()["id"] as? String == orderID)
                }
            }
            #expect(executions.count == 1)
            let orders = try await shop.store.database.withConnection { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM shop_orders").first()?.decode(column: "n", as: Int.self)
            }
            #expect(orders == 1)
        }
    }

    @Test func theSameKeyForAnotherOrderIs422AndCreatesNothing() async throws {
        try await Self.withHeldShop(.sqlite) { baseURL, gate, _, shop in
            gate.open()
            let products = try await shop.store.products()
            let key = "order-\(UUID().uuidString)"
            let one = #"{"lines":[{"productId":"\#(products[0].id)","quantity":1}]}"#
            let two = #"{"lines":[{"productId":"\#(products[0].id)","quantity":2}]}"#
            #expect(try await ShopHarness.request(.post, baseURL + "/shop/api/orders", body: one, headers: [("Idempotency-Key", key)]).status == 201)
            let reused = try await ShopHarness.request(.post, baseURL + "/shop/api/orders", body: two, headers: [("Idempotency-Key", key)])
            #expect(reused.status == 422)
            #expect(reused.header("Content-Type") == "application/problem+json")
            let orders = try await shop.store.database.withConnection { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM shop_orders").first()?.decode(column: "n", as: Int.self)
            }
            #expect(orders == 1)
        }
    }

    @Test func keysOfDifferentClientsNeverMeet() {
        let anonymous = Request(head: .init(method: .post, scheme: "http", authority: "x", path: "/shop/api/orders"), body: .init(buffer: .init()))
        let withCredential = Request(
            head: .init(
                method: .post,
                scheme: "http",
                authority: "x",
                path: "/shop/api/orders",
                headerFields: [.authorization: "Bearer secret-token"]
            ),
            body: .init(buffer: .init())
        )
        #expect(OrderCreationIdempotency.scope(of: anonymous) == "anonymous")
        let scope = OrderCreationIdempotency.scope(of: withCredential)
        #expect(scope.hasPrefix("authorization:"))
        #expect(!scope.contains("secret-token"))
    }
}
