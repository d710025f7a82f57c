import Foundation
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit
import Testing

/// A real process killed with SIGKILL — no cleanup, no flush — at the two moments a transactional outbox exists for,
/// then the survivor's view after a restart on the same files. The child processes are Swift Testing exit tests.
@Suite(.timeLimit(.minutes(1)))
struct CrashRecoveryTests {
    private static let type = "com.example.order.created"

    private static func logger() -> Logger {
        var logger = Logger(label: "test.crash")
        logger.logLevel = .error
        return logger
    }

    /// The order and its events committed together; a process that dies right after the commit has published nothing.
    private static func commitOrderWithEvents(directory: String) async throws -> Database {
        let database = try await Database.open(.sqlite(path: directory + "/orders.sqlite"), logger: logger())
        try await database.migrate(Outbox.migrations)
        try await database.withConnection { sql in try await sql.raw("CREATE TABLE orders (id TEXT PRIMARY KEY)").run() }
        try await database.transaction { sql in
            try await sql.raw("INSERT INTO orders (id) VALUES ('o_1')").run()
            try await Outbox().append(
                (1...3).map { CloudEvent(id: "evt_\($0)", source: "/orders", type: type, subject: "o_1") },
                in: sql
            )
        }
        return database
    }

    /// Runs a consumer of `group` until it has handled `count` events (bounded), and returns the ids it was given,
    /// with their effects recorded through the inbox in `effects`.
    private static func consume(
        _ transport: EmbeddedTransport,
        group: String,
        count: Int,
        effects: Database
    ) async throws -> [String] {
        let seen = LockedValue<[String]>([])
        let inbox = Inbox(consumer: group)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await transport.consume(Subscription(group: group, bindings: [TopicPattern(type)])) { delivery in
                    seen.append(delivery.event.id)
                    do {
                        _ = try await effects.handleOnce(delivery.event, inbox: inbox) { sql in
                            try await sql.raw("INSERT INTO effects (consumer, event_id) VALUES (\(bind: group), \(bind: delivery.event.id))").run()
                        }
                        return .ack
                    } catch {
                        return .retry(reason: "\(error)")
                    }
                }
            }
            try await waitUntil("\(group) handled \(count) deliveries") { seen.value.count >= count }
            tasks.cancelAll()
        }
        return seen.value
    }

    private static func effectsDatabase(_ directory: String) async throws -> Database {
        let database = try await Database.open(.sqlite(path: directory + "/effects.sqlite"), logger: logger())
        try await database.migrate(Inbox.migrations)
        try await database.withConnection { sql in
            try await sql.raw("CREATE TABLE IF NOT EXISTS effects (consumer TEXT NOT NULL, event_id TEXT NOT NULL)").run()
        }
        return database
    }

    private static func effects(_ database: Database, consumer: String) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT event_id FROM effects WHERE consumer = \(bind: consumer) ORDER BY event_id").all()
                .map { try $0.decode(column: "event_id", as: String.self) }
        }
    }

    @Test func killedAfterTheCommitAndBeforeThePublishTheEventsArePublishedAfterTheRestartOncePerConsumer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            let database = try await CrashRecoveryTests.commitOrderWithEvents(directory: directory)
            // Still open (a pool that is deinitialized open traps): the process dies holding it, as a crash would.
            withExtendedLifetime(database) { _ = kill(getpid(), SIGKILL) }
        }

        // The restart: the order is there, and so are its events, unsent.
        let database = try await Database.open(.sqlite(path: directory + "/orders.sqlite"), logger: Self.logger())
        #expect(try await database.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 3)
        let transport = try await EmbeddedTransport.open(dataDirectory: directory, logger: Self.logger())
        let relay = OutboxRelay(database: database, transport: transport, logger: Self.logger())
        #expect(try await relay.relayOnce() == 3)
        #expect(try await relay.relayOnce() == 0, "rows marked sent are not published again")

        let effects = try await Self.effectsDatabase(directory)
        for group in ["inventory", "payments"] {
            let delivered = try await Self.consume(transport, group: group, count: 3, effects: effects)
            #expect(delivered.sorted() == ["evt_1", "evt_2", "evt_3"], "\(group) got each event once")
            #expect(try await Self.effects(effects, consumer: group) == ["evt_1", "evt_2", "evt_3"])
        }
        try await effects.shutdown()
        try await transport.shutdown()
        try await database.shutdown()
    }

    /// The other window: the transport holds the batch but the relay dies before marking it sent. After the restart
    /// the batch is published again (at least once); the consumer's inbox turns the duplicates into one effect.
    @Test func killedAfterThePublishAndBeforeMarkingSentTheEventsComeTwiceWithOneEffect() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String] in
            let database = try await CrashRecoveryTests.commitOrderWithEvents(directory: directory)
            let store = try await EmbeddedTransport.open(dataDirectory: directory, logger: CrashRecoveryTests.logger())
            let relay = OutboxRelay(database: database, transport: DiesAfterPublishing(store), logger: CrashRecoveryTests.logger())
            _ = try await relay.relayOnce()
        }

        let database = try await Database.open(.sqlite(path: directory + "/orders.sqlite"), logger: Self.logger())
        #expect(try await database.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 3, "the dead relay marked nothing")
        let transport = try await EmbeddedTransport.open(dataDirectory: directory, logger: Self.logger())
        let relay = OutboxRelay(database: database, transport: transport, logger: Self.logger())
        #expect(try await relay.relayOnce() == 3)

        let effects = try await Self.effectsDatabase(directory)
        let delivered = try await Self.consume(transport, group: "inventory", count: 6, effects: effects)
        #expect(delivered.sorted() == ["evt_1", "evt_1", "evt_2", "evt_2", "evt_3", "evt_3"], "published twice: at least once")
        #expect(try await Self.effects(effects, consumer: "inventory") == ["evt_1", "evt_2", "evt_3"], "one effect each")
        try await effects.shutdown()
        try await transport.shutdown()
        try await database.shutdown()
    }
}

/// A transport that publishes for real, then kills its process before the caller hears back.
private struct DiesAfterPublishing: EventTransport {
    let transport: EmbeddedTransport
    init(_ transport: EmbeddedTransport) { self.transport = transport }

    func publish(_ events: [CloudEvent]) async throws {
        try await transport.publish(events)
        kill(getpid(), SIGKILL)
    }

    func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        try await transport.consume(subscription, handle: handle)
    }
}
