import Foundation
import FulfillmentEvents
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit
import Sagas
import Testing

@testable import FulfillmentOrders

/// A database written by the orders service before it ran on the `Sagas` engine (the saga as JSON columns of
/// `fulfillment_orders`, early replies in `saga_pending`) still opens: every saga is carried over into the `sagas`
/// tables — finished ones with their timeline, sagas in flight with their deadline and held replies — and goes on.
@Suite(.timeLimit(.minutes(1)))
struct SagaLayoutMigrationTests {
    static let configuration = OrdersConfiguration(reserveTimeout: .seconds(10), chargeTimeout: .seconds(20), stepMaxAttempts: 3)
    /// Before the port both styles ran under this one name.
    static let oldName = "fulfillment.place-order"

    /// The instance as the old layout stored it: the old definition name, and no `held` key.
    static func oldJSON(_ instance: SagaInstance) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(instance)) as? [String: Any])
        object.removeValue(forKey: "held")
        object["definition"] = oldName
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// Inserts an order row of the old layout.
    static func insertOld(
        _ id: String,
        style: FulfillmentSagaStyle,
        status: OrderStatus,
        saga: SagaInstance,
        pending: [SagaInput],
        at date: Date,
        in sql: any SQLDatabase
    ) async throws {
        let lines = String(decoding: try JSONEncoder().encode([OrderLine(sku: "SKU-APPLE", quantity: 2, unitPriceCents: 120)]), as: UTF8.self)
        let values: [any Encodable & Sendable] = [
            id, "u_ada", lines, 240, "usd", status.rawValue, style.rawValue, try oldJSON(saga),
            String(decoding: try JSONEncoder().encode(pending), as: UTF8.self), saga.deadline?.at.millisecondsSince1970,
            date.millisecondsSince1970, date.millisecondsSince1970,
        ]
        try await sql.raw(
            """
            INSERT INTO fulfillment_orders (id, user_id, lines, total_cents, currency, status, saga_style, saga, saga_pending,
                saga_deadline, created_at, updated_at) VALUES (\(binds: values))
            """
        ).run()
    }

    @Test(arguments: TestDatabase.kinds)
    func ordersWrittenUnderTheOldLayoutAreCarriedOverAndTheirSagasGoOn(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock()
            let t0 = clock.date
            // The database as an earlier version left it.
            try await database.migrate(Outbox.migrations + Array(OrdersStore.migrations.prefix(1)))
            let choreographed = SagaDefinition(
                name: Self.oldName,
                steps: OrderSagaDefinition.definition(Self.configuration, style: .choreography).steps
            )
            let orchestrated = SagaDefinition(
                name: Self.oldName,
                steps: OrderSagaDefinition.definition(Self.configuration, style: .orchestration).steps
            )
            // In flight, choreographed: payments answered before inventory, so its reply waits in saga_pending.
            let (reserving, _) = SagaInstance.start(id: "ord_old1", definition: choreographed, at: t0)
            // In flight, orchestrated: charging, its deadline 20 s away.
            var (charging, _) = SagaInstance.start(id: "ord_old2", definition: orchestrated, at: t0)
            _ = charging.apply(.succeeded(step: "reserve-inventory", messageID: "old-r2"), at: t0)
            // Finished.
            var (confirmed, _) = SagaInstance.start(id: "ord_old3", definition: orchestrated, at: t0)
            _ = confirmed.apply(.succeeded(step: "reserve-inventory", messageID: "old-r3"), at: t0)
            _ = confirmed.apply(.succeeded(step: "charge-payment", messageID: "old-c3"), at: t0)
            _ = confirmed.apply(.succeeded(step: "confirm", messageID: "confirm:ord_old3"), at: t0)
            #expect(confirmed.status == .completed)
            try await database.transaction { [charging, confirmed] sql in
                let early: [SagaInput] = [.succeeded(step: "charge-payment", messageID: "old-c1")]
                try await Self.insertOld("ord_old1", style: .choreography, status: .reserving, saga: reserving, pending: early, at: t0, in: sql)
                try await Self.insertOld("ord_old2", style: .orchestration, status: .charging, saga: charging, pending: [], at: t0, in: sql)
                try await Self.insertOld("ord_old3", style: .orchestration, status: .confirmed, saga: confirmed, pending: [], at: t0, in: sql)
            }

            // This version opens it.
            let store = OrdersStore(database: database, now: clock.dateProvider)
            try await store.prepare()
            try await store.prepare()  // a second start (another process) finds nothing to do
            let saga = OrderSaga(
                store: store,
                outbox: Outbox(now: clock.dateProvider),
                configuration: Self.configuration,
                now: clock.dateProvider,
                logger: Logger(label: "test")
            )
            // The saga columns are gone from the orders table.
            for column in ["saga", "saga_pending", "saga_deadline"] {
                await #expect(throws: (any Error).self, "column \(column)") {
                    try await database.withConnection { sql in
                        try await sql.select().column(column).from(OrdersStore.table).all()
                    }
                }
            }

            // The finished one: its timeline as it was, under the orchestrated definition.
            let (order3, saga3) = try #require(try await store.orderWithSaga(id: "ord_old3"))
            #expect(order3.status == .confirmed)
            #expect(saga3.definition == OrderSagaDefinition.orchestrated)
            #expect(saga3.log == confirmed.log)

            // The choreographed one: its own definition's name, the early payment held by the instance now.
            let (_, saga1) = try #require(try await store.orderWithSaga(id: "ord_old1"))
            #expect(saga1.definition == OrderSagaDefinition.choreographed)
            #expect(saga1.held == [.succeeded(step: "charge-payment", messageID: "old-c1")])
            let order1 = try await database.transaction { sql in
                try await saga.apply(.succeeded(step: "reserve-inventory", messageID: "new-r1"), toOrder: "ord_old1", in: sql)
            }
            #expect(order1?.status == .confirmed)

            // The orchestrated one: its deadline moved with it and fires (charge attempt 2 sent).
            #expect(try await saga.fireDueDeadlines() == 0)
            clock.advance(by: .seconds(21))
            #expect(try await saga.fireDueDeadlines() == 1)
            let (order2, saga2) = try #require(try await store.orderWithSaga(id: "ord_old2"))
            #expect(order2.status == .charging)
            #expect(saga2.phase(of: "charge-payment") == .executing(attempt: 2))
            let sent = try await database.withConnection { sql in
                try await sql.raw("SELECT type FROM messaging_outbox ORDER BY seq").all().map { try $0.decode(column: "type", as: String.self) }
            }
            #expect(sent == [OrderConfirmed.type, ChargePayment.type])
        }
    }
}
