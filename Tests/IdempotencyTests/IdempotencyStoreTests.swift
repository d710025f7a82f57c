import Foundation
import Idempotency
import InterchangeTesting
import Persistence
import SQLKit
import Testing

@Suite("IdempotencyStore", .timeLimit(.minutes(1)))
struct IdempotencyStoreTests {
    @Test("only one of two claims of an unused key wins, and only the run holding a key completes it", arguments: TestDatabase.kinds)
    func claims(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(IdempotencyStore.migrations)
            let clock = ManualClock()
            let store = IdempotencyStore(database: database, now: clock.dateProvider)
            #expect(try await store.insertStarted(scope: "s", key: "k", fingerprint: "f", executionID: "e1", at: clock.date))
            #expect(try await !store.insertStarted(scope: "s", key: "k", fingerprint: "f", executionID: "e2", at: clock.date))
            // A takeover names the run it read; a second taker with the same stale read loses.
            #expect(
                try await store.replaceStarted(scope: "s", key: "k", previousExecutionID: "e1", fingerprint: "f", executionID: "e3", at: clock.date)
            )
            #expect(
                try await !store.replaceStarted(scope: "s", key: "k", previousExecutionID: "e1", fingerprint: "f", executionID: "e4", at: clock.date)
            )
            let response = StoredResponse(status: 201, headers: [.init(name: "Location", value: "/x")], body: Array("ok".utf8))
            #expect(
                try await !store.complete(
                    scope: "s",
                    key: "k",
                    fingerprint: "f",
                    executionID: "e1",
                    startedAt: clock.date,
                    response: response,
                    at: clock.date
                )
            )
            #expect(
                try await store.complete(
                    scope: "s",
                    key: "k",
                    fingerprint: "f",
                    executionID: "e3",
                    startedAt: clock.date,
                    response: response,
                    at: clock.date
                )
            )
            let record = try #require(try await store.find(scope: "s", key: "k"))
            #expect(record.response == response && record.executionID == "e3" && record.completedAt == clock.date)
            // A release by a run that no longer holds the key deletes nothing.
            try await store.release(scope: "s", key: "k", executionID: "e1")
            #expect(try await store.counts() == ["completed": 1])
        }
    }

    @Test("a stored row in an unknown state is an error naming table, row and column", arguments: TestDatabase.kinds)
    func unreadableRow(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(IdempotencyStore.migrations)
            let store = IdempotencyStore(database: database)
            _ = try await store.insertStarted(scope: "s", key: "k", fingerprint: "f", executionID: "e1", at: Date())
            try await database.withConnection { sql in
                try await sql.update("idempotency_keys").set("state", to: SQLBind("finished")).run()
            }
            await #expect(
                throws: UnreadableRowError(table: "idempotency_keys", row: "k", column: "state", reason: "'finished' is not started or completed")
            ) {
                _ = try await store.find(scope: "s", key: "k")
            }
        }
    }

    @Test("the purger deletes expired keys when it runs and stops when cancelled", arguments: TestDatabase.kinds)
    func purger(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(IdempotencyStore.migrations)
            let clock = ManualClock()
            let store = IdempotencyStore(database: database, now: clock.dateProvider)
            _ = try await store.insertStarted(scope: "s", key: "old", fingerprint: "f", executionID: "e1", at: clock.date)
            clock.advance(by: .seconds(86_400))
            _ = try await store.insertStarted(scope: "s", key: "new", fingerprint: "f", executionID: "e2", at: clock.date)
            let purger = IdempotencyKeyPurger(store: store, retention: .seconds(86_400), interval: .seconds(600), clock: clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await purger.run() }
                // It purges, then sleeps for its interval.
                try await clock.waitForSleepers(1)
                #expect(try await store.find(scope: "s", key: "old") == nil)
                #expect(try await store.find(scope: "s", key: "new") != nil)
                clock.advance(by: .seconds(86_400))
                try await waitUntil("the second round purged the newer key") { clock.sleeperCount == 1 && clock.sleeps.count == 2 }
                #expect(try await store.counts().isEmpty)
                group.cancelAll()
            }
        }
    }
}
