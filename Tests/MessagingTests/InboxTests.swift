import Foundation
import InterchangeTesting
import Messaging
import Persistence
import SQLKit
import Testing

@Suite("Inbox: one effect per event and consumer", .timeLimit(.minutes(1)))
struct InboxTests {
    func prepare(_ database: Database) async throws {
        try await database.migrate(Inbox.migrations)
        try await database.withConnection { sql in
            try await sql.create(table: "effects").column("event_id", type: .text, .notNull).column("consumer", type: .text, .notNull).run()
        }
    }

    func effects(_ database: Database) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT consumer, event_id FROM effects ORDER BY consumer, event_id").all().map {
                "\(try $0.decode(column: "consumer", as: String.self)):\(try $0.decode(column: "event_id", as: String.self))"
            }
        }
    }

    func handle(_ event: CloudEvent, _ inbox: Inbox, _ database: Database) async throws -> Bool? {
        try await database.handleOnce(event, inbox: inbox) { sql in
            try await sql.insert(into: "effects").columns("event_id", "consumer").values(SQLBind(event.id), SQLBind(inbox.consumer)).run()
            return true
        }
    }

    @Test("a claim is granted once per consumer and event (source and id)", arguments: TestDatabase.kinds)
    func claimsOnce(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await prepare(database)
            let billing = Inbox(consumer: "billing")
            let event = orderEvent(1)
            var moved = event
            moved.source = "/other"
            let otherSource = moved
            let claims = try await database.transaction { sql in
                [
                    try await billing.claim(event, in: sql),
                    try await billing.claim(event, in: sql),
                    try await billing.claim(otherSource, in: sql),
                    try await Inbox(consumer: "shipping").claim(event, in: sql),
                ]
            }
            #expect(claims == [true, false, true, true])
        }
    }

    @Test("redelivered three times, the handler has one effect; another consumer has its own", arguments: TestDatabase.kinds)
    func redeliveryHasOneEffect(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await prepare(database)
            let event = orderEvent(7)
            var results: [Bool?] = []
            for _ in 0..<3 { results.append(try await handle(event, Inbox(consumer: "billing"), database)) }
            results.append(try await handle(event, Inbox(consumer: "shipping"), database))
            #expect(results == [true, nil, nil, true])
            #expect(try await effects(database) == ["billing:evt-7", "shipping:evt-7"])
        }
    }

    @Test("a handler that throws records nothing, so the redelivery runs it", arguments: TestDatabase.kinds)
    func failedHandlerIsNotRecorded(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await prepare(database)
            let inbox = Inbox(consumer: "billing")
            let event = orderEvent(3)
            struct Failed: Error {}
            await #expect(throws: Failed.self) {
                _ = try await database.handleOnce(event, inbox: inbox) { sql in
                    try await sql.insert(into: "effects").columns("event_id", "consumer").values(SQLBind(event.id), SQLBind("billing")).run()
                    throw Failed()
                }
            }
            #expect(try await effects(database) == [])
            #expect(try await handle(event, inbox, database) == true)
            #expect(try await effects(database) == ["billing:evt-3"])
        }
    }

    @Test("the same event handled by 8 deliveries at once has one effect", arguments: TestDatabase.kinds)
    func concurrentDuplicates(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await prepare(database)
            let inbox = Inbox(consumer: "billing")
            let event = orderEvent(9)
            let handled = CallCounter()
            let probe = ConcurrencyProbe()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        probe.enter()
                        defer { probe.leave() }
                        if try await handle(event, inbox, database) == true { handled.increment() }
                    }
                }
                try await group.waitForAll()
            }
            #expect(handled.count == 1)
            #expect(probe.peak > 1)
            #expect(try await effects(database) == ["billing:evt-9"])
        }
    }
}
