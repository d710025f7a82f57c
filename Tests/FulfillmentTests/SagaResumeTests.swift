import Foundation
import FulfillmentEvents
import Hummingbird
import InterchangeTesting
import Messaging
import Persistence
import ServiceRuntime
import Testing

@testable import FulfillmentOrders

/// A saga lives in the orders database only: a new orders service on the same database — the process restarted
/// between two steps — takes the next reply and the pending deadline from the tables.
@Suite(.timeLimit(.minutes(1)))
struct SagaResumeTests {
    @Test(arguments: TestDatabase.kinds)
    func aRestartedOrdersServiceContinuesTheSagaFromItsTables(kind: TestDatabase.Kind) async throws {
        try await ScriptedHTTPServer.withServer { upstream in
            UpstreamStandIn.script(upstream, users: ["u_ada"], stock: [(sku: "SKU-APPLE", priceCents: 120, currency: "usd")])
            try await TestDatabase.with(kind) { database in
                try await database.migrate(EmbeddedTransport.migrations)
                let clock = ManualClock()
                let transport = EmbeddedTransport(database: database, logger: LoopbackServer.quietLogger)
                let configuration = OrdersConfiguration(
                    usersBaseURL: upstream.baseURL,
                    inventoryBaseURL: upstream.baseURL,
                    reserveTimeout: .seconds(10),
                    chargeTimeout: .seconds(20),
                    stepMaxAttempts: 2
                )
                func start() async throws -> OrdersComponent {
                    try await OrdersComponent.make(
                        database: database,
                        transport: transport,
                        configuration: configuration,
                        logger: LoopbackServer.quietLogger,
                        now: clock.dateProvider,
                        clock: clock,
                        closesDatabase: false
                    )
                }
                // First life: the order is placed, inventory answers; then the process is gone.
                let first = try await start()
                let router = Router(context: BasicRequestContext.self)
                router.add(middleware: ProblemMiddleware())
                try first.addRoutes(to: router)
                let id: String = try await LoopbackServer.run(router, services: first.services) { server in
                    let harness = OrdersHarness(baseURL: server.baseURL, orders: first, transport: transport)
                    let placed = try await harness.request(
                        .POST,
                        "/orders/api/orders",
                        json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#
                    )
                    let id = try #require(placed.body?["id"] as? String)
                    let reserved = try InventoryReserved(
                        orderId: id,
                        reservationId: "res_1",
                        lines: [StockLine(sku: "SKU-APPLE", quantity: 1)],
                        expiresAt: Date()
                    )
                    .cloudEvent(from: .inventory)
                    #expect(await first.consumer.handle(Delivery(event: reserved, attempt: 1)) == .ack)
                    return id
                }
                // Second life: a new component on the same tables; the charge's deadline and the replies carry on.
                let second = try await start()
                #expect(try await second.store.order(id: id)?.status == .charging)
                clock.advance(by: .seconds(21))
                #expect(try await second.fireDueDeadlines() == 1, "the deadline written by the first process fires")
                let processed = try PaymentProcessed(orderId: id, paymentId: "pay_1", amountCents: 120, currency: "usd").cloudEvent(from: .payments)
                #expect(await second.consumer.handle(Delivery(event: processed, attempt: 1)) == .ack)
                let (order, saga) = try #require(try await second.orderWithSaga(id: id))
                #expect(order.status == .confirmed)
                #expect(saga.log.filter { $0.step == "charge-payment" && $0.kind == .executing }.map(\.attempt) == [1, 2])
                // The InventoryReserved redelivered to the new process is recognised by the inbox.
                let again = try InventoryReserved(orderId: id, reservationId: "res_1", lines: [], expiresAt: Date()).cloudEvent(from: .inventory)
                #expect(await second.consumer.handle(Delivery(event: again, attempt: 1)) == .ack)
                #expect(try await second.store.order(id: id)?.status == .confirmed)
                // The first process's http client is closed by its services' shutdown; close the second's.
                try await LoopbackServer.run(Router(context: BasicRequestContext.self), services: second.services) { _ in }
            }
        }
    }
}
