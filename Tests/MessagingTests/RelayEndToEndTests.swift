import Foundation
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit
import ServiceLifecycle
import Testing

@Suite("Outbox → relay → embedded log → consumer → inbox", .timeLimit(.minutes(1)))
struct RelayEndToEndTests {
    @Test(
        "every committed event has exactly one effect, also when the relay publishes some again (a crash before marking sent)",
        arguments: TestDatabase.kinds
    )
    func exactlyOneEffect(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { service in
            try await TestDatabase.with(kind) { broker in
                try await service.migrate(Outbox.migrations + Inbox.migrations)
                try await service.withConnection { sql in
                    try await sql.create(table: "invoices").column("order_number", type: .int, .notNull).run()
                }
                try await broker.migrate(EmbeddedTransport.migrations)
                let transport = EmbeddedTransport(database: broker, logger: testLogger())
                let relay = OutboxRelay(database: service, transport: transport, logger: testLogger())
                let inbox = Inbox(consumer: "billing")
                let deliveries = CallCounter()
                // One inbox transaction per delivery, one consumer: PostgreSQL's round trips make it the slower one.
                let count = kind == .sqlite ? 2000 : 600
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await relay.run() }
                    group.addTask {
                        try await transport.consume(Subscription(group: "billing", bindings: ["com.example.order.*"])) { delivery in
                            deliveries.increment()
                            do {
                                _ = try await service.handleOnce(delivery.event, inbox: inbox) { sql in
                                    let order = try delivery.event.decodeData(as: OrderPlaced.self)
                                    try await sql.insert(into: "invoices").columns("order_number").values(SQLBind(order.number)).run()
                                }
                                return .ack
                            } catch {
                                return .retry(reason: String(describing: error))
                            }
                        }
                    }
                    // The service's own transactions, 100 events each.
                    for start in stride(from: 0, to: count, by: 100) {
                        try await service.transaction { sql in try await Outbox().append((start..<start + 100).map { orderEvent($0) }, in: sql) }
                        relay.wake()
                    }
                    // A relay that died after publishing and before marking sent publishes the batch again.
                    try await transport.publish((0..<300).map { orderEvent($0) })
                    try await waitUntilAsync("every order invoiced and the duplicates seen", timeout: .seconds(45)) {
                        let invoiced = try await service.withConnection { sql in
                            try await sql.raw("SELECT COUNT(*) AS n FROM invoices").first()?.decode(column: "n", as: Int.self) ?? 0
                        }
                        return invoiced >= count && deliveries.count >= count + 300
                    }
                    group.cancelAll()
                    try await group.waitForAll()
                }
                let elapsed = ContinuousClock.now - started
                let numbers = try await service.withConnection { sql in
                    try await sql.raw("SELECT order_number FROM invoices ORDER BY order_number").all().map {
                        try $0.decode(column: "order_number", as: Int.self)
                    }
                }
                #expect(numbers == Array(0..<count))
                #expect(try await service.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 0)
                print("end to end (\(kind), debug build, inbox per event): \(count) events in \(elapsed)")
            }
        }
    }
}
