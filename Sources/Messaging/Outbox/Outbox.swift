import Foundation
import Persistence
import SQLKit

/// The transactional outbox: events written into the service's own database in the same transaction as the state
/// change they announce, so an event is published if and only if the change committed. ``OutboxRelay`` moves them
/// to a transport.
///
/// ```swift
/// let outbox = Outbox()
/// try await database.migrate(Outbox.migrations)
/// try await database.transaction { sql in
///     try await sql.insert(into: "orders").columns("id", "total").values(SQLBind(order.id), SQLBind(order.total)).run()
///     try await outbox.append([try CloudEvent(source: "/orders", type: "com.example.order.created", subject: order.id,
///                                             json: OrderCreated(orderID: order.id))], in: sql)
/// }
/// relay.wake()   // publish now rather than at the next poll
/// ```
///
/// Each row's `seq` (autoincrement) is the publishing order. Events of one aggregate (`subject`) keep their order as
/// long as their writers commit in the order they append, which transactions that update the aggregate's own row do.
public struct Outbox: Sendable {
    /// The `messaging_outbox` table: `seq` (publishing order), the event's id, source, type and subject for operators,
    /// `payload` (the event in structured JSON, ``CloudEvent/jsonEncoded()``), `created_at`, and `sent_at` (null until
    /// the relay published it); a partial index keeps the unsent rows cheap to find however many sent ones are kept.
    public static let migrations: [Migration] = [
        Migration("messaging-outbox-1") { sql, dialect in
            let seq = dialect == .postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY AUTOINCREMENT"
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            try await sql.raw(
                """
                CREATE TABLE messaging_outbox (
                    \(unsafeRaw: seq),
                    event_id TEXT NOT NULL,
                    source TEXT NOT NULL,
                    type TEXT NOT NULL,
                    subject TEXT,
                    payload \(unsafeRaw: blob) NOT NULL,
                    created_at BIGINT NOT NULL,
                    sent_at BIGINT
                )
                """
            ).run()
            try await sql.raw("CREATE INDEX messaging_outbox_unsent ON messaging_outbox (seq) WHERE sent_at IS NULL").run()
        }
    ]

    private let now: @Sendable () -> Date

    /// - Parameter now: the time stored as `created_at`.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Rows per INSERT statement: well under SQLite's bind limit (32 766) and PostgreSQL's (65 535).
    static let rowsPerStatement = 500

    /// Writes `events`, in order, on `sql` — the caller's open transaction — so they commit or roll back with it.
    ///
    /// - Throws: ``CloudEventValidationError`` naming the attribute of the first invalid event (nothing is written).
    public func append(_ events: [CloudEvent], in sql: any SQLDatabase) async throws {
        guard !events.isEmpty else { return }
        let createdAt = now().millisecondsSince1970
        var rows: [SQLQueryString] = []
        rows.reserveCapacity(events.count)
        for event in events {
            try event.validate()
            let values: [any Encodable & Sendable] = [event.id, event.source, event.type, event.subject, try event.jsonEncoded(), createdAt]
            rows.append("(\(binds: values))")
        }
        for start in stride(from: 0, to: rows.count, by: Self.rowsPerStatement) {
            var query: SQLQueryString = "INSERT INTO messaging_outbox (event_id, source, type, subject, payload, created_at) VALUES "
            query += rows[start..<min(start + Self.rowsPerStatement, rows.count)].joined(separator: ", ")
            try await sql.raw(query).run()
        }
    }

    /// Events not yet published (for `/health` and tests).
    public static func unsentCount(in sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM messaging_outbox WHERE sent_at IS NULL").first()?.decode(column: "n", as: Int.self) ?? 0
    }
}
