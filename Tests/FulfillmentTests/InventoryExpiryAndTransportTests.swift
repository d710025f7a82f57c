import Foundation
import FulfillmentEvents
import FulfillmentInventory
import InterchangeTesting
import Logging
import Messaging
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Inventory: expiry on a manual clock, and the service on a real EmbeddedTransport", .timeLimit(.minutes(1)))
struct InventoryExpiryAndTransportTests {
    @Test("an expired reservation releases itself and emits inventory.released; an unexpired or sold one stays", arguments: TestDatabase.kinds)
    func expiryReleases(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await InventoryHarness.with(kind, clock: clock) { inventory, _ in
            _ = try await inventory.handler.handle(try InventoryHandlerTests.reserve("o-exp", [("SKU-PLUM", 3)], expiresIn: 60))
            _ = try await inventory.handler.handle(try InventoryHandlerTests.reserve("o-long", [("SKU-PLUM", 1)], expiresIn: 600))
            _ = try await inventory.handler.handle(try InventoryHandlerTests.reserve("o-sold", [("SKU-PLUM", 2)], expiresIn: 60))
            _ = try await inventory.handler.handle(try InventoryHandlerTests.command(OrderConfirmed(orderId: "o-sold")))
            #expect(try await inventory.level("SKU-PLUM") == (4, 4))

            clock.advance(by: .seconds(59))
            #expect(try await inventory.expiry.releaseExpired().isEmpty)
            clock.advance(by: .seconds(1))
            let released = try await inventory.expiry.releaseExpired()
            #expect(released.map(\.subject) == ["o-exp"])
            #expect(try released.first?.decodeData(as: InventoryReleased.self).reservationId != nil)
            #expect(try await inventory.level("SKU-PLUM") == (7, 1))
            #expect(try await inventory.expiry.releaseExpired().isEmpty, "released once")
            // The order's late confirmation finds nothing held: no sale, stock unchanged.
            _ = try await inventory.handler.handle(try InventoryHandlerTests.command(OrderConfirmed(orderId: "o-exp")))
            #expect(try await inventory.level("SKU-PLUM") == (7, 1))
            #expect(try await InventoryHarness.outbox(inventory).filter { $0.type == InventoryReleased.type }.count == 1)
        }
    }

    @Test("the expiry service scans on its clock: advancing past the interval releases what expired")
    func expiryServiceRunsOnTheClock() async throws {
        let clock = ManualClock()
        try await InventoryHarness.with(.sqlite, configuration: .init(expiryScanInterval: .seconds(5)), clock: clock) { inventory, _ in
            _ = try await inventory.handler.handle(try InventoryHandlerTests.reserve("o-svc", [("SKU-PEAR", 5)], expiresIn: 3))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await inventory.expiry.run() }
                try await clock.waitForSleepers(1)
                #expect(try await inventory.level("SKU-PEAR") == (45, 5))
                clock.advance(by: .seconds(5))
                let deadline = ContinuousClock.now.advanced(by: .seconds(10))
                var level = try await inventory.level("SKU-PEAR")
                while level != (50, 0), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                    level = try await inventory.level("SKU-PEAR")
                }
                #expect(level == (50, 0), "the expired reservation was released within 10 s")
                group.cancelAll()
            }
        }
    }

    @Test("a command whose data breaks its schema is a dead letter with the reason, and the events after it are handled")
    func malformedCommandIsDeadLettered() async throws {
        try await InventoryHarness.with(.sqlite) { inventory, transport in
            let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: InventoryHarness.logger)
            let group = ServiceGroup(configuration: .init(services: inventory.services.map { .init(service: $0) }, logger: InventoryHarness.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let malformed = try CloudEvent(
                    source: "/fulfillment/orders",
                    type: ReserveInventory.type,
                    subject: "o-bad",
                    json: ["orderId": "o-bad", "expiresInSeconds": "soon"]
                )
                try await bus.publish([malformed, try InventoryHandlerTests.reserve("o-good", [("SKU-PEAR", 1)])])
                #expect(try await eventually { try await inventory.level("SKU-PEAR") == (49, 1) }, "the good command was handled")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let dead = try await transport.deadLetters(group: "fulfillment.inventory")
            #expect(dead.count == 1)
            #expect(dead.first?.event.subject == "o-bad")
            #expect(dead.first?.lastError.contains("data") == true, "\(dead.first?.lastError ?? "")")
            #expect(try await inventory.store.reservation(orderId: "o-bad") == nil)
        }
    }

    @Test(
        "through a real EmbeddedTransport: commands in, answers out of the relay; a duplicated delivery has one effect",
        arguments: TestDatabase.kinds
    )
    func endToEndOnTheEmbeddedTransport(kind: TestDatabase.Kind) async throws {
        try await InventoryHarness.with(kind) { inventory, transport in
            let received = Mutex<[CloudEvent]>([])
            let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: InventoryHarness.logger)
            let observer = bus.consumer(Subscription(group: "test.orders", bindings: ["com.interchange.fulfillment.inventory.#"])) { event, _ in
                received.withLock { $0.append(event) }
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: inventory.services.map { .init(service: $0) } + [.init(service: observer)],
                    logger: InventoryHarness.logger
                )
            )
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let reserve = try InventoryHandlerTests.reserve("o-bus", [("SKU-APPLE", 4)])
                // The same event twice (at-least-once delivery), then one the order cannot have.
                try await bus.publish([reserve, reserve, try InventoryHandlerTests.reserve("o-bus-2", [("SKU-RARE", 5)])])
                try await waitUntil("both answers arrived") { received.withLock { $0.count >= 2 } }
                try await bus.publish(try InventoryHandlerTests.command(ReleaseInventory(orderId: "o-bus")))
                try await waitUntil("the release was answered") { received.withLock { $0.count >= 3 } }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let events = received.withLock { $0 }
            #expect(events.map(\.type).sorted() == [InventoryReleased.type, InventoryReservationFailed.type, InventoryReserved.type].sorted())
            #expect(events.allSatisfy { $0.source == "/fulfillment/inventory" && $0.dataschema != nil })
            #expect(try await inventory.level("SKU-APPLE") == (100, 0))
            #expect(try await inventory.level("SKU-RARE") == (1, 0))
            #expect(try await inventory.store.reservation(orderId: "o-bus")?.status == .released)
        }
    }
}

@Suite("Inventory: two instances compete for one consumer group", .timeLimit(.minutes(1)))
struct InventoryCompetingInstancesTests {
    @Test("two instances on one database and one group: every order answered once, no oversell, duplicates absorbed", arguments: TestDatabase.kinds)
    func twoInstancesOneEffectEach(kind: TestDatabase.Kind) async throws {
        try await InventoryHarness.with(kind) { first, transport in
            let second = try await InventoryHarness.make(
                database: first.store.database,
                transport: transport,
                configuration: first.configuration,
                clock: nil
            )
            let received = Mutex<[CloudEvent]>([])
            let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: InventoryHarness.logger)
            let observer = bus.consumer(Subscription(group: "test.orders", bindings: ["com.interchange.fulfillment.inventory.#"])) { event, _ in
                received.withLock { $0.append(event) }
            }
            let services = (first.services + second.services).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
            let group = ServiceGroup(configuration: .init(services: services + [.init(service: observer)], logger: InventoryHarness.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var events: [CloudEvent] = []
                for index in 0..<20 {
                    let event = try InventoryHandlerTests.reserve("compete-\(index)", [("SKU-PLUM", 1)])
                    events += [event, event]  // every command delivered twice
                }
                try await bus.publish(events)
                try await waitUntil("20 answers arrived", timeout: .seconds(30)) { received.withLock { $0.count >= 20 } }
                // Until both groups are drained and the outbox is sent: any (wrong) second answer would have arrived.
                let deadline = ContinuousClock.now.advanced(by: .seconds(20))
                func settled() async throws -> Bool {
                    let unsent = try await first.store.database.withConnection { sql in try await Outbox.unsentCount(in: sql) }
                    let inventoryPending = try await transport.pendingDeliveries(group: "fulfillment.inventory")
                    let observerPending = try await transport.pendingDeliveries(group: "test.orders")
                    return unsent == 0 && inventoryPending == 0 && observerPending == 0
                }
                while try await !settled(), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await settled(), "everything delivered within 20 s")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let answers = received.withLock { $0 }
            #expect(answers.count == 20, "one answer per order, none for the duplicates")
            #expect(Set(answers.compactMap(\.subject)).count == 20)
            #expect(answers.filter { $0.type == InventoryReserved.type }.count == 10)
            #expect(try await first.level("SKU-PLUM") == (0, 10))
        }
    }
}
