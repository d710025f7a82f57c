import Foundation
import InterchangeTesting
import Persistence
import SQLKit
import Sagas
import Testing

/// SagaStore on both databases: what is saved is what is loaded, versions are checked, deadlines are found.
@Suite(.timeLimit(.minutes(1)))
struct SagaStoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let definition = SagaDefinition(name: "store-test") {
        SagaStep("a", timeout: .seconds(10))
        SagaStep("b", timeout: .milliseconds(1500))
    }

    @Test(arguments: TestDatabase.kinds)
    func anInstanceIsLoadedAsItWasSavedWithItsTimelineAsRows(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(SagaStore.migrations)
            let store = SagaStore()
            let started = SagaInstance.start(id: "s-1", definition: Self.definition, at: Self.t0).0
            try await database.transaction { sql in
                let record = try await store.insert(started, context: #"{"order":"o-1"}"#, at: Self.t0, in: sql)
                #expect(record.version == 1)
            }
            var next = started
            _ = next.apply(.succeeded(step: "a", messageID: "m1"), at: Self.t0.addingTimeInterval(1))
            let saga = next
            try await database.transaction { sql in
                let loaded = try #require(try await store.load(id: "s-1", lockingRow: true, in: sql))
                let saved = try await store.save(saga, replacing: loaded, at: Self.t0.addingTimeInterval(1), in: sql)
                #expect(saved.version == 2)
            }
            let loaded = try #require(try await database.withConnection { sql in try await store.load(id: "s-1", in: sql) })
            #expect(loaded.instance == saga)
            #expect(loaded.version == 2)
            #expect(loaded.context == #"{"order":"o-1"}"#)
            let timeline = try await database.withConnection { sql in try await store.timeline(id: "s-1", in: sql) }
            #expect(timeline.map(\.kind) == saga.log.map(\.kind))
            #expect(timeline.map(\.step) == saga.log.map(\.step))
            #expect(timeline.map(\.at) == saga.log.map(\.at))
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aSaveOverAStaleVersionIsRefusedAndWritesNothing(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(SagaStore.migrations)
            let store = SagaStore()
            let (saga, _) = SagaInstance.start(id: "s-2", definition: Self.definition, at: Self.t0)
            let stale = try await database.transaction { sql in try await store.insert(saga, context: nil, at: Self.t0, in: sql) }
            var firstChange = saga
            _ = firstChange.apply(.succeeded(step: "a", messageID: "m1"), at: Self.t0)
            let first = firstChange
            try await database.transaction { sql in _ = try await store.save(first, replacing: stale, at: Self.t0, in: sql) }
            var secondChange = saga
            _ = secondChange.apply(.failed(step: "a", reason: "no", messageID: "m2"), at: Self.t0)
            let second = secondChange
            await #expect {
                try await database.transaction { sql in _ = try await store.save(second, replacing: stale, at: Self.t0, in: sql) }
            } throws: { error in
                guard let error = error as? SagaStoreError else { return false }
                return SagaStoreError.versionConflict ~= error && error.sagaID == "s-2"
            }
            let loaded = try #require(try await database.withConnection { sql in try await store.load(id: "s-2", in: sql) })
            #expect(loaded.instance == first)
            let rows = try await database.withConnection { sql in try await store.timeline(id: "s-2", in: sql) }
            #expect(rows.count == first.log.count)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aSecondInsertOfOneIdIsRefused(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(SagaStore.migrations)
            let (saga, _) = SagaInstance.start(id: "s-3", definition: Self.definition, at: Self.t0)
            try await database.transaction { sql in _ = try await SagaStore().insert(saga, context: nil, at: Self.t0, in: sql) }
            await #expect(throws: SagaStoreError.self) {
                try await database.transaction { sql in _ = try await SagaStore().insert(saga, context: nil, at: Self.t0, in: sql) }
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func dueDeadlinesAreTheOnesPassedForThatDefinitionEarliestFirst(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(SagaStore.migrations)
            let store = SagaStore()
            let other = SagaDefinition(name: "other") { SagaStep("x", timeout: .seconds(1)) }
            try await database.transaction { sql in
                // late: deadline t0+10 s; early: step b at t0+1.5 s (a succeeded at t0); done: completed (no deadline).
                try await store.insert(SagaInstance.start(id: "late", definition: Self.definition, at: Self.t0).0, context: nil, at: Self.t0, in: sql)
                var early = SagaInstance.start(id: "early", definition: Self.definition, at: Self.t0).0
                _ = early.apply(.succeeded(step: "a", messageID: "m"), at: Self.t0)
                try await store.insert(early, context: nil, at: Self.t0, in: sql)
                var done = early
                _ = done.apply(.succeeded(step: "b", messageID: "m2"), at: Self.t0)
                #expect(done.deadline == nil)
                try await store.insert(
                    SagaInstance.start(id: "foreign", definition: other, at: Self.t0).0,
                    context: nil,
                    at: Self.t0,
                    in: sql
                )
            }
            func due(_ seconds: Double) async throws -> [String] {
                try await database.withConnection { sql in
                    try await store.dueDeadlines(definition: "store-test", at: Self.t0.addingTimeInterval(seconds), in: sql)
                }
            }
            #expect(try await due(1.4) == [])
            #expect(try await due(1.5) == ["early"])
            #expect(try await due(10) == ["early", "late"])
            let next = try await database.withConnection { sql in try await store.nextDeadline(definition: "store-test", in: sql) }
            #expect(next == Self.t0.addingTimeInterval(1.5))
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func anUnreadableStateNamesTheTableRowAndColumn(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(SagaStore.migrations)
            let (saga, _) = SagaInstance.start(id: "s-4", definition: Self.definition, at: Self.t0)
            try await database.transaction { sql in
                _ = try await SagaStore().insert(saga, context: nil, at: Self.t0, in: sql)
                try await sql.raw("UPDATE sagas SET state = '{\"broken\": true}' WHERE id = 's-4'").run()
            }
            await #expect {
                _ = try await database.withConnection { sql in try await SagaStore().load(id: "s-4", in: sql) }
            } throws: { error in
                guard let error = error as? UnreadableRowError else { return false }
                return error.table == "sagas" && error.row == "s-4" && error.column == "state"
            }
        }
    }
}
