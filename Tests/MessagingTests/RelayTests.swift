import Foundation
import InterchangeTesting
import Messaging
import Persistence
import SQLKit
import ServiceLifecycle
import Testing

@Suite("Outbox relay", .timeLimit(.minutes(1)))
struct RelayTests {
    func append(_ numbers: Range<Int>, to database: Database) async throws {
        try await database.transaction { sql in try await Outbox().append(numbers.map { orderEvent($0) }, in: sql) }
    }

    func unsent(_ database: Database) async throws -> Int {
        try await database.withConnection { sql in try await Outbox.unsentCount(in: sql) }
    }

    @Test("publishes in seq order, in batches, and marks the rows sent", arguments: TestDatabase.kinds)
    func publishesInOrder(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            try await append(0..<300, to: database)
            try await append(300..<600, to: database)
            let transport = RecordingTransport()
            let relay = OutboxRelay(database: database, transport: transport, configuration: .init(batchSize: 256), logger: testLogger())
            #expect(try await relay.relayOnce() == 256)
            #expect(try await relay.relayOnce() == 256)
            #expect(try await relay.relayOnce() == 88)
            #expect(try await relay.relayOnce() == 0)
            #expect(transport.ids == (0..<600).map { "evt-\($0)" })
            #expect(transport.batchSizes == [256, 256, 88])
            #expect(transport.events[5] == orderEvent(5))
            #expect(try await unsent(database) == 0)
        }
    }

    @Test("a failed publish marks nothing, and the next run publishes the same batch again (at least once)", arguments: TestDatabase.kinds)
    func failedPublishIsRetried(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            try await append(0..<10, to: database)
            let transport = RecordingTransport()
            transport.failNext(1)
            let relay = OutboxRelay(database: database, transport: transport, logger: testLogger())
            await #expect(throws: RecordingTransport.Refused.self) { try await relay.relayOnce() }
            #expect(try await unsent(database) == 10)
            #expect(try await relay.relayOnce() == 10)
            #expect(transport.ids == (0..<10).map { "evt-\($0)" })
            #expect(try await unsent(database) == 0)
        }
    }

    @Test("a relay started after a restart publishes what the previous one left, and nothing it had sent", arguments: TestDatabase.kinds)
    func survivesRestart(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            try await append(0..<25, to: database)
            let before = RecordingTransport()
            #expect(
                try await OutboxRelay(database: database, transport: before, configuration: .init(batchSize: 10), logger: testLogger()).relayOnce()
                    == 10
            )
            // A second process: its own pool on the same database, a new relay.
            let reopened = try await Database.open(database.location, logger: testLogger())
            let after = RecordingTransport()
            let relay = OutboxRelay(database: reopened, transport: after, configuration: .init(batchSize: 10), logger: testLogger())
            while try await relay.relayOnce() > 0 {}
            try await reopened.shutdown()
            #expect(before.ids == (0..<10).map { "evt-\($0)" })
            #expect(after.ids == (10..<25).map { "evt-\($0)" })
        }
    }

    @Test("the running relay publishes on wake() without waiting for its poll, and stops on cancellation", arguments: TestDatabase.kinds)
    func runsAndWakes(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            let clock = ManualClock()
            let transport = RecordingTransport()
            let relay = OutboxRelay(
                database: database,
                transport: transport,
                configuration: .init(pollInterval: .seconds(3600)),
                clock: clock,
                logger: testLogger()
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await relay.run() }
                try await clock.waitForSleepers(1)  // idle: the outbox is empty
                try await append(0..<5, to: database)
                relay.wake()
                try await waitUntil("the relay published the 5 events") { transport.ids.count == 5 }
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(clock.now.offset == .zero)  // no poll interval passed: the wake-up did it
            #expect(try await unsent(database) == 0)
        }
    }

    @Test("graceful shutdown of its ServiceGroup ends the running relay", arguments: TestDatabase.kinds)
    func shutsDownGracefully(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            let clock = ManualClock()
            let transport = RecordingTransport()
            let relay = OutboxRelay(database: database, transport: transport, clock: clock, logger: testLogger())
            let group = ServiceGroup(services: [relay], logger: testLogger())
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await clock.waitForSleepers(1)
                try await append(0..<3, to: database)
                relay.wake()
                try await waitUntil("published") { transport.ids.count == 3 }
                try await clock.waitForSleepers(1)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()  // returns: the relay left its wait and ended
            }
            #expect(try await unsent(database) == 0)
        }
    }

    @Test(
        "two relays racing on one outbox (PostgreSQL: two pools; SQLite: in one process) publish every event exactly once, in order",
        arguments: TestDatabase.kinds
    )
    func twoRelaysRacing(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            try await append(0..<2000, to: database)
            let transport = RecordingTransport()
            let gate = Gate()
            transport.holdFirstPublish.withLock { $0 = gate }
            let second = try await Database.open(database.location, logger: testLogger())
            let relays = [database, second].map {
                OutboxRelay(database: $0, transport: transport, configuration: .init(batchSize: 50), logger: testLogger())
            }
            let counts = LockedValue<[Int]>([0, 0])
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Relay 0 takes the first batch and is held inside publish, holding the outbox's lock …
                group.addTask { _ = try await relays[0].relayOnce() }
                try await waitUntil("relay 0 is publishing its first batch") { transport.calls.count == 1 }
                // … so relay 1, running at the same moment, publishes nothing.
                #expect(try await relays[1].relayOnce() == 0)
                #expect(transport.calls.count == 1)
                gate.open()
                try await group.waitForAll()
                // Then both drain the rest, side by side.
                for index in 0..<2 {
                    group.addTask {
                        while try await unsent(relays[index].database) > 0 {
                            let published = try await relays[index].relayOnce()
                            counts.withLock { $0[index] += published }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await second.shutdown()
            #expect(transport.ids == (0..<2000).map { "evt-\($0)" })  // each once, in seq order
            #expect(transport.concurrency.peak == 1)  // never two publishes at once
        }
    }
}
