import Foundation
import InterchangeTesting
import Messaging
import Persistence
import SQLKit
import Testing

@Suite("Transactional outbox", .timeLimit(.minutes(1)))
struct OutboxTests {
    @Test("appended events commit with the caller's transaction and vanish with its rollback", arguments: TestDatabase.kinds)
    func writesInTheCallersTransaction(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            let outbox = Outbox()
            try await database.transaction { sql in
                try await outbox.append([orderEvent(1), orderEvent(2)], in: sql)
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.transaction { sql in
                    try await outbox.append([orderEvent(3)], in: sql)
                    throw Abort()
                }
            }
            let rows = try await database.withConnection { sql in
                try await sql.raw("SELECT event_id, type, subject, payload FROM messaging_outbox ORDER BY seq").all()
            }
            #expect(try rows.map { try $0.decode(column: "event_id", as: String.self) } == ["evt-1", "evt-2"])
            // The payload is the event in structured JSON, read back whole.
            let stored = try CloudEvent(jsonEncoded: try rows[0].decode(column: "payload", as: Data.self))
            #expect(stored == orderEvent(1))
            #expect(try await database.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 2)
        }
    }

    @Test("an invalid event is refused naming the attribute, and none of the batch is written", arguments: TestDatabase.kinds)
    func refusesInvalidEvents(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            var untyped = orderEvent(2)
            untyped.type = ""
            let invalid = untyped
            let error = await #expect(throws: CloudEventValidationError.self) {
                try await database.transaction { sql in try await Outbox().append([orderEvent(1), invalid], in: sql) }
            }
            #expect(error?.attribute == "type")
            #expect(try await database.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 0)
        }
    }
}
