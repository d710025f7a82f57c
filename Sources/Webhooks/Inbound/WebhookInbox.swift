import Foundation
import InterchangeCore
import Logging
import Persistence
import SQLKit

/// A durable record of every webhook event received, so a duplicate — retried by the sender, or delivered
/// twice at the same moment — has exactly one effect.
///
/// Receiving is two steps, so the sender gets its `2xx` fast and nothing is lost:
/// 1. ``record(source:eventID:eventType:payload:)`` inserts the event (a unique key on source and id decides
///    who is first, atomically, in SQLite and PostgreSQL alike) — then the receiver acknowledges;
/// 2. ``InboxProcessor`` claims recorded events with a lease and runs your handler; a process that dies
///    mid-handler leaves the lease to expire and the event is processed again, so handlers must be idempotent
///    (at-least-once processing, exactly-once acceptance).
public final class WebhookInbox: Sendable {
    /// What happened to a received event.
    public enum RecordOutcome: Sendable, Hashable {
        /// First time this event was seen; it is stored and will be processed.
        case accepted
        /// Seen before; nothing was changed.
        case duplicate
    }

    /// An event waiting for, or being given to, a handler.
    public struct Event: Sendable, Hashable {
        public var source: String
        public var id: String
        public var type: String?
        public var payload: Data
        public var receivedAt: Date
        /// Times a handler has been given this event before (0 the first time).
        public var previousAttempts: Int
    }

    public let database: Database
    private let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
        // SQLite has one writer: one batch at a time. PostgreSQL writes on several connections at once.
        self.records = BatchingQueue(maxBatchSize: 64, maxConcurrentBatches: database.dialect == .sqlite ? 1 : 2) { entries in
            try await Self.insert(entries, database: database)
        }
    }

    private struct Entry: Sendable {
        var source, eventID: String
        var eventType: String?
        var payload: Data
        var receivedAt: Int64
    }

    /// Group-committed inserts: the deliveries that arrive while one insert runs are stored by the next.
    private let records: BatchingQueue<Entry, RecordOutcome>

    /// The inbox's tables.
    public static let migrations: [Migration] = [
        Migration("webhooks-inbox-1") { sql, dialect in
            try await sql.create(table: "webhook_inbox")
                .column("source", type: .text, .notNull)
                .column("event_id", type: .text, .notNull)
                .column("event_type", type: .text)
                .column("payload", type: .blob, .notNull)
                .column("received_at", type: .bigint, .notNull)
                .column("status", type: .text, .notNull)
                .column("attempts", type: .int, .notNull)
                .column("available_at", type: .bigint, .notNull)
                .column("processed_at", type: .bigint)
                .column("last_error", type: .text)
                .primaryKey("source", "event_id")
                .run()
            try await sql.create(index: "webhook_inbox_pending").on("webhook_inbox").column("status").column("available_at").run()
        }
    ]

    /// Stores the event unless an event with the same source and id is already stored.
    ///
    /// Concurrent calls with the same id are safe: exactly one returns ``RecordOutcome/accepted``. Calls that arrive
    /// together are written as one multi-row insert (``BatchingQueue``); each returns once its event is durable.
    public func record(source: String, eventID: String, eventType: String?, payload: Data) async throws -> RecordOutcome {
        try await records.submit(
            Entry(source: source, eventID: eventID, eventType: eventType, payload: payload, receivedAt: now().millisecondsSince1970)
        )
    }

    /// One `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING`: an event is accepted when its row comes
    /// back; the same event twice in one batch is accepted once (the first), a duplicate after that. Raw SQL: the
    /// statement is the same for every batch of a size, and SQLKit's builders cost as much CPU as SQLite running it.
    private static func insert(_ entries: [Entry], database: Database) async throws -> [RecordOutcome] {
        var query: SQLQueryString = """
            INSERT INTO webhook_inbox (source, event_id, event_type, payload, received_at, status, attempts, available_at) VALUES 
            """
        query += entries.map { entry -> SQLQueryString in
            let values: [any Encodable & Sendable] = [
                entry.source, entry.eventID, entry.eventType, entry.payload, entry.receivedAt, "received", 0, entry.receivedAt,
            ]
            return "(\(binds: values))"
        }.joined(separator: ", ")
        query += " ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id"
        let statement = query
        var inserted = try await database.write { sql in
            var inserted = Set<[String]>()
            for row in try await sql.raw(statement).all() {
                inserted.insert([try row.decode(column: "source", as: String.self), try row.decode(column: "event_id", as: String.self)])
            }
            return inserted
        }
        return entries.map { entry in inserted.remove([entry.source, entry.eventID]) != nil ? .accepted : .duplicate }
    }

    /// Claims up to `limit` events that are due, hiding them from other claimers for `lease`.
    public func claim(limit: Int, lease: Duration) async throws -> [Event] {
        let timestamp = now().millisecondsSince1970
        let leaseUntil = timestamp + lease.milliseconds
        let dialect = database.dialect
        return try await database.withConnection { sql in
            let lock = dialect == .postgres ? SQLRaw(" FOR UPDATE SKIP LOCKED") : SQLRaw("")
            let rows = try await sql.raw(
                """
                UPDATE webhook_inbox SET status = 'processing', available_at = \(bind: leaseUntil)
                WHERE (source, event_id) IN (
                    SELECT source, event_id FROM webhook_inbox
                    WHERE status IN ('received', 'processing') AND available_at <= \(bind: timestamp)
                    ORDER BY available_at LIMIT \(bind: limit)\(lock)
                )
                RETURNING source, event_id, event_type, payload, received_at, attempts
                """
            ).all()
            return try rows.map { row in
                Event(
                    source: try row.decode(column: "source", as: String.self),
                    id: try row.decode(column: "event_id", as: String.self),
                    type: try row.decode(column: "event_type", as: String?.self),
                    payload: try row.decode(column: "payload", as: Data.self),
                    receivedAt: Date(millisecondsSince1970: try row.decode(column: "received_at", as: Int64.self)),
                    previousAttempts: try row.decode(column: "attempts", as: Int.self)
                )
            }
        }
    }

    /// Marks a claimed event done.
    public func markProcessed(_ event: Event) async throws {
        let timestamp = now().millisecondsSince1970
        try await database.withConnection { sql in
            try await sql.update("webhook_inbox")
                .set("status", to: SQLBind("processed"))
                .set("processed_at", to: SQLBind(timestamp))
                .set("attempts", to: SQLBind(event.previousAttempts + 1))
                .where("source", .equal, event.source).where("event_id", .equal, event.id)
                .run()
        }
    }

    /// Gives a claimed event back after a handler failed: retried at `retryAt`, or given up on (`failed`) when nil.
    public func markFailed(_ event: Event, error: String, retryAt: Date?) async throws {
        try await database.withConnection { sql in
            try await sql.update("webhook_inbox")
                .set("status", to: SQLBind(retryAt == nil ? "failed" : "received"))
                .set("available_at", to: SQLBind(retryAt?.millisecondsSince1970 ?? Int64.max))
                .set("attempts", to: SQLBind(event.previousAttempts + 1))
                .set("last_error", to: SQLBind(String(error.prefix(1000))))
                .where("source", .equal, event.source).where("event_id", .equal, event.id)
                .run()
        }
    }

    /// How many events are in each status (for `/health` and tests).
    public func counts() async throws -> [String: Int] {
        try await database.withConnection { sql in
            let rows = try await sql.raw("SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status").all()
            var counts: [String: Int] = [:]
            for row in rows { counts[try row.decode(column: "status", as: String.self)] = try row.decode(column: "n", as: Int.self) }
            return counts
        }
    }
}
