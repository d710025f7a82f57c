import Foundation
import InterchangeTesting
import Logging
import Messaging
import Persistence
import Resilience
import SQLKit
import Sagas
import ServiceLifecycle
import Synchronization

/// The order a test saga carries as its context.
struct TestOrder: Codable, Sendable, Hashable {
    var id: String
    var amountCents: Int
}

/// A 3-step saga over an EmbeddedTransport, with participants written here: "inventory" answers
/// `test.command.reserve` / `test.command.release`, "payments" answers `test.command.charge` / `test.command.refund`;
/// the third step, `confirm`, is local (the orders table, in the saga's transaction).
///
/// Replies are events `test.reply.<step>.<succeeded|failed|compensated>` whose subject is the saga id; the orders
/// consumer feeds them to the orchestrator inside `Database.handleOnce`, so the inbox row, the saga's new state and
/// its next command commit together.
final class SagaHarness: Sendable {
    enum Answer: Sendable {
        case succeed
        case fail(String)
        /// Never answer (the step times out).
        case silent
        /// Answer twice with the same event id (a duplicated delivery).
        case succeedTwice
    }

    static let definition = SagaDefinition(name: "test-order") {
        SagaStep("reserve", timeout: .seconds(10), maxAttempts: 2, retryDelay: try! .constant(.zero))
        SagaStep("charge", timeout: .seconds(30), maxAttempts: 2, retryDelay: try! .constant(.zero))
        SagaStep("confirm", timeout: .seconds(5), maxAttempts: 1, compensates: false)
    }

    static let logger: Logger = {
        var logger = Logger(label: "test.sagas")
        logger.logLevel = .error
        return logger
    }()

    let database: Database
    let transport: EmbeddedTransport
    let bus: EventBus
    let clock: ManualClock
    /// Commands each participant received, in order: "charge#1", "refund#1", … (command type and attempt).
    let received = Mutex<[String]>([])
    /// How each command type is answered (by step name or compensation name).
    let answers: Mutex<[String: Answer]>

    init(database: Database, clock: ManualClock, answers: [String: Answer] = [:]) {
        self.database = database
        self.clock = clock
        self.answers = Mutex(answers)
        transport = EmbeddedTransport(database: database, configuration: .init(pollInterval: .milliseconds(10)), logger: Self.logger)
        bus = EventBus(transport: transport, logger: Self.logger)
    }

    static func migrate(_ database: Database) async throws {
        try await database.migrate(EmbeddedTransport.migrations + Outbox.migrations + Inbox.migrations + SagaStore.migrations)
        try await database.migrate([
            Migration("test-orders-1") { sql, _ in
                try await sql.create(table: "test_orders").column("id", type: .text, .primaryKey(autoIncrement: false))
                    .column("status", type: .text, .notNull).run()
            }
        ])
    }

    func receivedCommands() -> [String] { received.withLock { $0 } }

    /// A new orchestrator over the harness's database (a "new process" after a crash is just another one of these).
    func makeOrchestrator(relay: OutboxRelay) -> SagaOrchestrator<TestOrder> {
        SagaOrchestrator(
            definition: Self.definition,
            context: TestOrder.self,
            database: database,
            configuration: .init(pollInterval: .seconds(1)),
            clock: clock,
            now: clock.dateProvider,
            relay: relay,
            logger: Self.logger
        ) { action, saga in
            func command(_ name: String, attempt: Int) throws -> CloudEvent {
                try CloudEvent(
                    source: "/test/orders",
                    type: "test.command.\(name)",
                    subject: saga.sagaID,
                    extensions: ["attempt": .integer(attempt)],
                    json: saga.context
                )
            }
            switch action {
            case .execute("reserve", let attempt): return [try command("reserve", attempt: attempt)]
            case .compensate("reserve", let attempt): return [try command("release", attempt: attempt)]
            case .execute("charge", let attempt): return [try command("charge", attempt: attempt)]
            case .compensate("charge", let attempt): return [try command("refund", attempt: attempt)]
            case .execute("confirm", _):
                try await saga.sql.update("test_orders").set("status", to: "CONFIRMED").where("id", .equal, saga.sagaID).run()
                return .local(.succeeded(step: "confirm", messageID: "confirm:\(saga.sagaID)"))
            case .compensated:
                try await saga.sql.update("test_orders").set("status", to: "CANCELLED").where("id", .equal, saga.sagaID).run()
                return .none
            default:
                return .none
            }
        }
    }

    /// The orders service's consumer of the replies.
    func ordersConsumer(_ orchestrator: SagaOrchestrator<TestOrder>, relay: OutboxRelay) -> EventConsumer {
        let inbox = Inbox(consumer: "test.orders")
        let database = database
        return bus.consumer(
            Subscription(group: "test.orders", bindings: ["test.reply.#"], maxAttempts: 20, retryDelay: try! .constant(.milliseconds(10)))
        ) {
            event,
            _ in
            // test.reply.<step>.<outcome>
            let words = event.type.split(separator: ".").map(String.init)
            guard words.count == 4, let sagaID = event.subject else { throw PoisonEvent(reason: "not a reply: \(event.type)") }
            let input: SagaInput
            switch words[3] {
            case "succeeded": input = .succeeded(step: words[2], messageID: event.id)
            case "failed": input = .failed(step: words[2], reason: (try? event.decodeData(as: String.self)) ?? "?", messageID: event.id)
            case "compensated": input = .compensated(step: words[2], messageID: event.id)
            default: throw PoisonEvent(reason: "unknown outcome \(words[3])")
            }
            _ = try await database.handleOnce(event, inbox: inbox) { sql in try await orchestrator.apply(input, to: sagaID, in: sql) }
            relay.wake()
        }
    }

    /// Both participants in one consumer group: they answer by publishing straight to the bus.
    func participants() -> EventConsumer {
        bus.consumer(Subscription(group: "test.participants", bindings: ["test.command.*"], retryDelay: try! .constant(.milliseconds(10)))) {
            [self] event, _ in
            let name = String(event.type.split(separator: ".").last ?? "")
            let attempt = event.extensions["attempt"]?.description ?? "?"
            received.withLock { $0.append("\(name)#\(attempt)") }
            let (step, success) =
                switch name {
                case "release": ("reserve", "compensated")
                case "refund": ("charge", "compensated")
                default: (name, "succeeded")
                }
            let answer = answers.withLock { $0[name] } ?? .succeed
            func reply(_ outcome: String, id: String = CloudEvent.newID(), data: String = "ok") throws -> CloudEvent {
                try CloudEvent(id: id, source: "/test/\(name)", type: "test.reply.\(step).\(outcome)", subject: event.subject, json: data)
            }
            switch answer {
            case .succeed: try await bus.publish(try reply(success))
            case .fail(let reason): try await bus.publish(try reply("failed", data: reason))
            case .silent: break
            case .succeedTwice:
                let once = try reply(success)
                try await bus.publish([once, once])
            }
        }
    }

    /// Places an order and starts its saga in one transaction.
    func placeOrder(_ id: String, orchestrator: SagaOrchestrator<TestOrder>, relay: OutboxRelay) async throws {
        try await database.transaction { sql in
            try await sql.insert(into: "test_orders").columns("id", "status").values(SQLBind(id), SQLBind("PENDING")).run()
            try await orchestrator.start(id: id, context: TestOrder(id: id, amountCents: 1200), in: sql)
        }
        relay.wake()
    }

    func orderStatus(_ id: String) async throws -> String? {
        try await database.withConnection { sql in
            try await sql.select().column("status").from("test_orders").where("id", .equal, id).first()?.decode(column: "status", as: String.self)
        }
    }

    /// Runs the orders side (relay, orchestrator, consumer) and the participants until `body` returns, then shuts down.
    func running<T: Sendable>(
        _ orchestrator: SagaOrchestrator<TestOrder>,
        relay: OutboxRelay,
        participants running: Bool = true,
        _ body: () async throws -> T
    ) async throws -> T {
        var services: [any Service] = [relay, orchestrator, ordersConsumer(orchestrator, relay: relay)]
        if running { services.append(participants()) }
        let group = ServiceGroup(configuration: .init(services: services, logger: Self.logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                tasks.cancelAll()
                throw error
            }
        }
    }

    func makeRelay() -> OutboxRelay {
        OutboxRelay(database: database, transport: transport, configuration: .init(pollInterval: .milliseconds(10)), logger: Self.logger)
    }

    /// Polls `condition` (every 5 ms, real time) until it holds; fails after `timeout`.
    func eventually(_ description: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                throw EventuallyTimedOut(description: "timed out after \(timeout) waiting until \(description)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until saga `id` satisfies `condition`.
    func saga(
        _ id: String,
        _ orchestrator: SagaOrchestrator<TestOrder>,
        _ description: String,
        until condition: @escaping (SagaInstance) -> Bool
    ) async throws -> SagaInstance {
        try await eventually("saga \(id): \(description)") {
            guard let instance = try await orchestrator.record(id: id)?.instance else { return false }
            return condition(instance)
        }
        return try await orchestrator.record(id: id)!.instance
    }
}

struct EventuallyTimedOut: Error, CustomStringConvertible {
    var description: String
}
