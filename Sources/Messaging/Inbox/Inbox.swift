import Foundation
import Persistence
import SQLKit

/// The inbox: which events a consumer has already handled, by the event's (`source`, `id`), so a redelivered event —
/// delivery is at least once — has exactly one effect.
///
/// The row is written in the handler's own transaction, together with the handler's writes: either both commit (the
/// effect happened and is recorded) or neither does (the event comes again and is handled then).
///
/// ```swift
/// let inbox = Inbox(consumer: "billing")
/// try await database.migrate(Inbox.migrations)
/// let consumer = bus.consumer(subscription) { event, _ in
///     _ = try await database.handleOnce(event, inbox: inbox) { sql in
///         try await sql.insert(into: "invoices").columns("order_id").values(SQLBind(event.subject)).run()
///     }
/// }
/// ```
public struct Inbox: Sendable {
    /// The `messaging_inbox` table: primary key (`consumer`, `source`, `event_id`), and `handled_at`.
    public static let migrations: [Migration] = [
        Migration("messaging-inbox-1") { sql, _ in
            try await sql.create(table: "messaging_inbox")
                .column("consumer", type: .text, .notNull)
                .column("source", type: .text, .notNull)
                .column("event_id", type: .text, .notNull)
                .column("handled_at", type: .bigint, .notNull)
                .primaryKey("consumer", "source", "event_id")
                .run()
        }
    ]

    /// The consumer whose handled events this inbox records (usually the consumer group's name).
    public let consumer: String
    private let now: @Sendable () -> Date

    public init(consumer: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.consumer = consumer
        self.now = now
    }

    /// Records `event` as handled by this consumer on `sql` (the handler's open transaction); false when it was
    /// already: skip the effect.
    ///
    /// Concurrent claims of one event are safe: the primary key decides. On PostgreSQL the second insert waits for
    /// the first transaction and then finds the row (or, if the first rolled back, takes it).
    public func claim(_ event: CloudEvent, in sql: any SQLDatabase) async throws -> Bool {
        let values: [any Encodable & Sendable] = [consumer, event.source, event.id, now().millisecondsSince1970]
        let inserted = try await sql.raw(
            """
            INSERT INTO messaging_inbox (consumer, source, event_id, handled_at) VALUES (\(binds: values))
            ON CONFLICT (consumer, source, event_id) DO NOTHING RETURNING consumer
            """
        ).first()
        return inserted != nil
    }

    /// Deletes this consumer's records older than `date` (keep them longer than any redelivery can take).
    public func prune(handledBefore date: Date, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            "DELETE FROM messaging_inbox WHERE consumer = \(bind: consumer) AND handled_at < \(bind: date.millisecondsSince1970)"
        ).run()
    }
}

extension Database {
    /// Runs `body` in a transaction once per event per inbox: the inbox row and `body`'s writes commit together.
    /// Returns nil, without running `body`, when `inbox` has already handled `event`; when `body` throws, nothing
    /// is recorded and the error is rethrown (the delivery is retried).
    public func handleOnce<R: Sendable>(
        _ event: CloudEvent,
        inbox: Inbox,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R
    ) async throws -> R? {
        try await transaction { sql in
            guard try await inbox.claim(event, in: sql) else { return nil }
            return try await body(sql)
        }
    }
}
