import Foundation
import InterchangeTesting
import Messaging
import Persistence
import SQLKit
import Sagas
import Testing

/// The orchestrator end to end, on both databases: a 3-step saga (reserve → charge → local confirm) whose
/// participants are consumers written in the test, over an EmbeddedTransport; deadlines on a ManualClock.
@Suite(.timeLimit(.minutes(1)))
struct SagaOrchestratorTests {
    @Test(arguments: TestDatabase.kinds)
    func aSagaWhoseStepsSucceedConfirmsTheOrder(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            let harness = SagaHarness(database: database, clock: ManualClock())
            let relay = harness.makeRelay()
            let orchestrator = harness.makeOrchestrator(relay: relay)
            try await harness.running(orchestrator, relay: relay) {
                try await harness.placeOrder("o-1", orchestrator: orchestrator, relay: relay)
                let saga = try await harness.saga("o-1", orchestrator, "completed") { $0.status.isTerminal }
                #expect(saga.status == .completed)
            }
            #expect(try await harness.orderStatus("o-1") == "CONFIRMED")
            #expect(harness.receivedCommands() == ["reserve#1", "charge#1"])
            // The timeline is in saga_log too, row for row.
            let timeline = try await database.withConnection { sql in try await SagaStore().timeline(id: "o-1", in: sql) }
            #expect(timeline.map(\.kind) == [.started, .executing, .succeeded, .executing, .succeeded, .executing, .succeeded, .completed])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aDeclinedChargeReleasesTheReservationAndCancelsTheOrder(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            let harness = SagaHarness(database: database, clock: ManualClock(), answers: ["charge": .fail("card declined")])
            let relay = harness.makeRelay()
            let orchestrator = harness.makeOrchestrator(relay: relay)
            try await harness.running(orchestrator, relay: relay) {
                try await harness.placeOrder("o-2", orchestrator: orchestrator, relay: relay)
                let saga = try await harness.saga("o-2", orchestrator, "ended") { $0.status.isTerminal }
                #expect(saga.status == .compensated)
                #expect(saga.reason == "charge failed: card declined")
                #expect(saga.phase(of: "reserve") == .compensated)
                #expect(saga.phase(of: "charge") == .failed(reason: "card declined"))
            }
            #expect(try await harness.orderStatus("o-2") == "CANCELLED")
            // The declined charge did nothing, so it is not refunded; the reservation is released once.
            #expect(harness.receivedCommands() == ["reserve#1", "charge#1", "release#1"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aChargeThatNeverAnswersIsRetriedThenRefundedAndReleased(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            let clock = ManualClock()
            let harness = SagaHarness(database: database, clock: clock, answers: ["charge": .silent])
            let relay = harness.makeRelay()
            let orchestrator = harness.makeOrchestrator(relay: relay)
            try await harness.running(orchestrator, relay: relay) {
                try await harness.placeOrder("o-3", orchestrator: orchestrator, relay: relay)
                _ = try await harness.saga("o-3", orchestrator, "charging") { $0.phase(of: "charge") == .executing(attempt: 1) }
                try await harness.eventually("charge#1 received") { harness.receivedCommands().contains("charge#1") }
                // Nothing happens before the deadline…
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(29))
                try await clock.waitForSleepers(1)
                #expect(try await orchestrator.record(id: "o-3")?.instance.phase(of: "charge") == .executing(attempt: 1))
                // …the deadline passes: attempt 2 (same command), then it too times out.
                clock.advance(by: .seconds(2))
                _ = try await harness.saga("o-3", orchestrator, "charge attempt 2") { $0.phase(of: "charge") == .executing(attempt: 2) }
                try await harness.eventually("charge#2 received") { harness.receivedCommands().contains("charge#2") }
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(31))
                let saga = try await harness.saga("o-3", orchestrator, "ended") { $0.status.isTerminal }
                #expect(saga.status == .compensated)
                #expect(saga.reason == "charge timed out after 2 attempts")
            }
            #expect(try await harness.orderStatus("o-3") == "CANCELLED")
            // The timed-out charge may have happened: refunded first, then the reservation released.
            #expect(harness.receivedCommands() == ["reserve#1", "charge#1", "charge#2", "refund#1", "release#1"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aNewOrchestratorOverTheSameTablesFinishesAHalfDoneSaga(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            // Process 1: the reservation succeeds, the charge's answer is lost (the participant stays silent), and
            // the process goes away with the saga waiting for it.
            let first = SagaHarness(database: database, clock: ManualClock(), answers: ["charge": .silent])
            let firstRelay = first.makeRelay()
            let firstOrchestrator = first.makeOrchestrator(relay: firstRelay)
            try await first.running(firstOrchestrator, relay: firstRelay) {
                try await first.placeOrder("o-4", orchestrator: firstOrchestrator, relay: firstRelay)
                _ = try await first.saga("o-4", firstOrchestrator, "charging") { $0.phase(of: "charge") == .executing(attempt: 1) }
                try await first.eventually("charge#1 received") { first.receivedCommands().contains("charge#1") }
            }
            // Process 2: new objects, nothing shared but the database (the clock starts at the same wall time).
            let clock = ManualClock()
            let second = SagaHarness(database: database, clock: clock)
            let relay = second.makeRelay()
            let orchestrator = second.makeOrchestrator(relay: relay)
            try await second.running(orchestrator, relay: relay) {
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(31))  // the stored deadline passes: the charge is sent again
                let saga = try await second.saga("o-4", orchestrator, "ended") { $0.status.isTerminal }
                #expect(saga.status == .completed)
            }
            #expect(try await second.orderStatus("o-4") == "CONFIRMED")
            #expect(first.receivedCommands() == ["reserve#1", "charge#1"])
            #expect(second.receivedCommands() == ["charge#2"])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aDuplicatedReplyHasOneEffect(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await SagaHarness.migrate(database)
            let harness = SagaHarness(database: database, clock: ManualClock(), answers: ["reserve": .succeedTwice, "charge": .succeedTwice])
            let relay = harness.makeRelay()
            let orchestrator = harness.makeOrchestrator(relay: relay)
            try await harness.running(orchestrator, relay: relay) {
                try await harness.placeOrder("o-5", orchestrator: orchestrator, relay: relay)
                let saga = try await harness.saga("o-5", orchestrator, "ended") { $0.status.isTerminal }
                #expect(saga.status == .completed)
                // Both copies were delivered and settled (the second one skipped by the inbox).
                try await harness.eventually("replies settled") { try await harness.transport.pendingDeliveries(group: "test.orders") == 0 }
            }
            #expect(harness.receivedCommands() == ["reserve#1", "charge#1"])
            let sent = try await database.withConnection { sql in
                try await sql.raw("SELECT type FROM messaging_outbox ORDER BY seq").all().map { try $0.decode(column: "type", as: String.self) }
            }
            #expect(sent == ["test.command.reserve", "test.command.charge"])
            let inboxRows = try await database.withConnection { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM messaging_inbox WHERE consumer = 'test.orders'").first()!.decode(
                    column: "n",
                    as: Int.self
                )
            }
            #expect(inboxRows == 2)
        }
    }
}
