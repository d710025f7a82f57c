import Foundation
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit
import Sagas
import Synchronization
import Testing

/// The choreography tracker, and the one-transaction guarantee shared with the orchestrator, on both databases.
@Suite(.timeLimit(.minutes(1)))
struct SagaTrackerTests {
    static let definition = SagaDefinition(name: "tracked") {
        SagaStep("reserve", timeout: .seconds(10), maxAttempts: 1)
        SagaStep("charge", timeout: .seconds(30), maxAttempts: 1)
        SagaStep("confirm", timeout: .seconds(5), maxAttempts: 1, compensates: false)
    }

    static func outboxTypes(_ database: Database) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT type FROM messaging_outbox ORDER BY seq").all().map { try $0.decode(column: "type", as: String.self) }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func theTrackerRecordsStepsAndHandsEveryActionButDeadlinesToItsReaction(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations + SagaStore.migrations)
            let clock = ManualClock()
            let handed = Mutex<[SagaAction]>([])
            let tracker = SagaTracker(
                definition: Self.definition,
                context: TestOrder.self,
                database: database,
                clock: clock,
                now: clock.dateProvider,
                logger: SagaHarness.logger
            ) { action, saga in
                handed.withLock { $0.append(action) }
                if case .compensate("charge", 1) = action {
                    return [try CloudEvent(source: "/test/orders", type: "test.order.cancelled", subject: saga.sagaID, json: saga.context)]
                }
                return .none
            }
            _ = try await database.transaction { sql in
                try await tracker.start(id: "c-1", context: TestOrder(id: "c-1", amountCents: 100), in: sql)
            }
            try await tracker.record(.succeeded(step: "reserve", messageID: "inventory.reserved:1"), for: "c-1")
            let executes: [SagaAction] = [.execute(step: "reserve", attempt: 1), .execute(step: "charge", attempt: 1)]
            #expect(handed.withLock { $0 } == executes)  // the participants' steps: the reaction answers .none
            #expect(try await Self.outboxTypes(database) == [])
            // Nobody charged within 30 s: the tracker notices and the closure announces the cancellation.
            clock.advance(by: .seconds(31))
            #expect(try await tracker.fireDueDeadlines() == 1)
            #expect(handed.withLock { $0 } == executes + [.compensate(step: "charge", attempt: 1)])
            #expect(try await Self.outboxTypes(database) == ["test.order.cancelled"])
            // The participants compensate on their own and say so.
            try await tracker.record(.compensated(step: "charge", messageID: "payment.refunded:1"), for: "c-1")
            let saga = try await tracker.record(.compensated(step: "reserve", messageID: "inventory.released:1"), for: "c-1")
            #expect(saga.status == .compensated)
            #expect(
                handed.withLock { $0 } == executes + [
                    .compensate(step: "charge", attempt: 1), .compensate(step: "reserve", attempt: 1),
                    .compensated(reason: "charge timed out after 1 attempts"),
                ]
            )
            // The timeline shows the steps the participants took, although nothing was sent for them.
            let timeline = try await database.withConnection { sql in try await SagaStore().timeline(id: "c-1", in: sql) }
            #expect(timeline.filter { $0.kind == .executing }.map(\.step) == ["reserve", "charge"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aReplyThatOvertakesTheOneBeforeIsHeldAndALocalStepIsDoneByTheReaction(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations + SagaStore.migrations)
            let tracker = SagaTracker(definition: Self.definition, context: TestOrder.self, database: database, logger: SagaHarness.logger) {
                action,
                saga in
                guard case .execute("confirm", _) = action else { return .none }
                let confirmed = try CloudEvent(source: "/test/orders", type: "test.order.confirmed", subject: saga.sagaID, json: saga.context)
                return .local(.succeeded(step: "confirm", messageID: "confirm:\(saga.sagaID)"), publishing: [confirmed])
            }
            _ = try await database.transaction { sql in
                try await tracker.start(id: "c-2", context: TestOrder(id: "c-2", amountCents: 100), in: sql)
            }
            // payments reacted to inventory's event before orders saw it: the charge's success comes first.
            var saga = try await tracker.record(.succeeded(step: "charge", messageID: "payment.processed:2"), for: "c-2")
            #expect(saga.status == .running)
            #expect(saga.phase(of: "charge") == .pending)
            #expect(saga.held == [.succeeded(step: "charge", messageID: "payment.processed:2")])
            #expect(saga.log.last?.kind == .held)
            #expect(try await Self.outboxTypes(database) == [])
            // inventory's event arrives: reserve succeeds, the held charge applies, the local confirm runs.
            saga = try await tracker.record(.succeeded(step: "reserve", messageID: "inventory.reserved:2"), for: "c-2")
            #expect(saga.status == .completed)
            #expect(saga.held.isEmpty)
            #expect(try await Self.outboxTypes(database) == ["test.order.confirmed"])
            #expect(saga.log.filter { $0.kind == .succeeded }.map(\.step) == ["reserve", "charge", "confirm"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func whenTheExecutorFailsNeitherTheStateNorTheCommandsAreWritten(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations + SagaStore.migrations)
            struct ExecutorFailed: Error {}
            let orchestrator = SagaOrchestrator(
                definition: Self.definition,
                context: TestOrder.self,
                database: database,
                logger: SagaHarness.logger
            ) { action, saga in
                switch action {
                case .execute(let step, _):
                    return [try CloudEvent(source: "/test/orders", type: "test.command.\(step)", subject: saga.sagaID, json: saga.context)]
                case .compensate: throw ExecutorFailed()
                default: return .none
                }
            }
            _ = try await database.transaction { sql in
                try await orchestrator.start(id: "t-1", context: TestOrder(id: "t-1", amountCents: 100), in: sql)
            }
            let before = try #require(try await orchestrator.record(id: "t-1"))
            try await orchestrator.apply(.succeeded(step: "reserve", messageID: "m1"), to: "t-1")
            let middle = try #require(try await orchestrator.record(id: "t-1"))
            #expect(middle.version == before.version + 1)
            await #expect(throws: ExecutorFailed.self) {
                try await orchestrator.apply(.failed(step: "charge", reason: "declined", messageID: "m2"), to: "t-1")
            }
            let after = try #require(try await orchestrator.record(id: "t-1"))
            #expect(after == middle)
            #expect(try await Self.outboxTypes(database) == ["test.command.reserve", "test.command.charge"])
            // The reply was not consumed: delivered again (once the executor works), it applies.
            #expect(after.instance.phase(of: "charge") == .executing(attempt: 1))
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aCancelFromOutsideCompensatesWhatWasDoneEndToEnd(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            let harness = SagaHarness(database: database, clock: ManualClock(), answers: ["charge": .silent])
            let relay = harness.makeRelay()
            let orchestrator = harness.makeOrchestrator(relay: relay)
            try await harness.running(orchestrator, relay: relay) {
                try await harness.placeOrder("x-1", orchestrator: orchestrator, relay: relay)
                try await harness.eventually("charge#1 received") { harness.receivedCommands().contains("charge#1") }
                try await orchestrator.apply(.cancel(reason: "customer asked"), to: "x-1")
                let saga = try await harness.saga("x-1", orchestrator, "ended") { $0.status.isTerminal }
                #expect(saga.status == .compensated)
                #expect(saga.reason == "cancelled: customer asked")
            }
            #expect(try await harness.orderStatus("x-1") == "CANCELLED")
            // The charge was in flight at the cancel: refunded, then the reservation released.
            #expect(harness.receivedCommands() == ["reserve#1", "charge#1", "refund#1", "release#1"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func concurrentRepliesToOneSagaAreAppliedOneAfterAnother(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations + SagaStore.migrations)
            let orchestrator = SagaOrchestrator(
                definition: Self.definition,
                context: TestOrder.self,
                database: database,
                logger: SagaHarness.logger
            ) { action, saga in
                guard case .execute(let step, _) = action else { return .none }
                return [try CloudEvent(source: "/test/orders", type: "test.command.\(step)", subject: saga.sagaID, json: saga.context)]
            }
            _ = try await database.transaction { sql in
                try await orchestrator.start(id: "p-1", context: TestOrder(id: "p-1", amountCents: 100), in: sql)
            }
            // Ten distinct replies for the same step at once (PostgreSQL: they meet at the row lock).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask { try await orchestrator.apply(.succeeded(step: "reserve", messageID: "m\(index)"), to: "p-1") }
                }
                try await group.waitForAll()
            }
            let record = try #require(try await orchestrator.record(id: "p-1"))
            #expect(record.version == 11)  // every reply saved once: none lost to a version conflict
            #expect(record.instance.phase(of: "charge") == .executing(attempt: 1))
            #expect(record.instance.log.filter { $0.kind == .ignored }.count == 9)
            #expect(try await Self.outboxTypes(database) == ["test.command.reserve", "test.command.charge"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aSagaWhoseExecutorFailsDoesNotHoldUpOtherDeadlines(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations + SagaStore.migrations)
            struct ExecutorFailed: Error {}
            let clock = ManualClock()
            let definition = try SagaDefinition(name: "retried") {
                SagaStep("reserve", timeout: .seconds(10), maxAttempts: 2, retryDelay: try .constant(.zero))
            }
            let orchestrator = SagaOrchestrator(
                definition: definition,
                context: TestOrder.self,
                database: database,
                clock: clock,
                now: clock.dateProvider,
                logger: SagaHarness.logger
            ) { action, saga in
                if case .execute(_, 2) = action, saga.sagaID == "bad" { throw ExecutorFailed() }
                return .none
            }
            for id in ["bad", "good"] {
                _ = try await database.transaction { sql in try await orchestrator.start(id: id, context: TestOrder(id: id, amountCents: 1), in: sql)
                }
            }
            clock.advance(by: .seconds(10))
            #expect(try await orchestrator.fireDueDeadlines() == 1)
            #expect(try await orchestrator.record(id: "good")?.instance.phase(of: "reserve") == .executing(attempt: 2))
            #expect(try await orchestrator.record(id: "bad")?.instance.phase(of: "reserve") == .executing(attempt: 1))
            #expect(try await orchestrator.fireDueDeadlines() == 0)  // still due, still failing: tried again, no loop
        }
    }
}
