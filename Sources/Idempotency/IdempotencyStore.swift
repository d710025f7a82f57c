import Foundation
import InterchangeCore
import Persistence
import SQLKit

/// Idempotency keys in the database (`idempotency_keys`), written once for SQLite and PostgreSQL with SQLKit.
///
/// Every write that decides who executes is atomic in the database itself, so any number of processes may share
/// the table: a first use is an `INSERT … ON CONFLICT DO NOTHING` (exactly one concurrent insert wins), and
/// taking over an expired or abandoned key is an `UPDATE … WHERE execution_id = <the run that was read>`
/// (exactly one taker wins). A run only completes or releases its own record.
///
/// ```swift
/// try await database.migrate(IdempotencyStore.migrations)
/// let store = IdempotencyStore(database: database)
/// let purged = try await store.purgeExpired(retention: .seconds(86_400))
/// ```
public final class IdempotencyStore: Sendable {
    static let table = "idempotency_keys"

    public let database: Database
    /// The clock that stamps and ages records; tests pass a manual one.
    public let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    /// The store's table.
    public static let migrations: [Migration] = [
        Migration("idempotency-1") { sql, _ in
            try await sql.create(table: table)
                .column("scope", type: .text, .notNull)
                .column("idempotency_key", type: .text, .notNull)
                .column("fingerprint", type: .text, .notNull)
                .column("execution_id", type: .text, .notNull)
                .column("state", type: .text, .notNull)
                .column("started_at", type: .bigint, .notNull)
                .column("completed_at", type: .bigint)
                .column("response_status", type: .int)
                .column("response_headers", type: .text)
                .column("response_body", type: .blob)
                .primaryKey("scope", "idempotency_key")
                .run()
            try await sql.create(index: "idempotency_keys_started_at").on(table).column("started_at").run()
        }
    ]

    private static let columns = [
        "scope", "idempotency_key", "fingerprint", "execution_id", "state", "started_at", "completed_at",
        "response_status", "response_headers", "response_body",
    ]

    /// The record of `key` in `scope`, if any.
    ///
    /// - Throws: ``UnreadableRowError`` naming the column when a stored row cannot be read.
    public func find(scope: String, key: String) async throws -> IdempotencyRecord? {
        let row = try await database.withConnection { sql in
            try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
                .where("scope", .equal, scope).where("idempotency_key", .equal, key)
                .first()
        }
        return try row.map { try Self.record(from: $0) }
    }

    /// Claims an unused key for a new run; false when the key is already stored (another run got there first).
    public func insertStarted(scope: String, key: String, fingerprint: String, executionID: String, at date: Date) async throws -> Bool {
        let inserted = try await database.withConnection { sql in
            try await sql.insert(into: Self.table)
                .columns("scope", "idempotency_key", "fingerprint", "execution_id", "state", "started_at")
                .values(
                    SQLBind(scope),
                    SQLBind(key),
                    SQLBind(fingerprint),
                    SQLBind(executionID),
                    SQLBind("started"),
                    SQLBind(date.millisecondsSince1970)
                )
                .ignoringConflicts(with: ["scope", "idempotency_key"])
                .returning("execution_id")
                .first()
        }
        return inserted != nil
    }

    /// Takes over a key whose stored run is `previousExecutionID` (expired or abandoned) for a new run; false when
    /// the record changed since it was read (another request took it over, or it was released or purged).
    public func replaceStarted(
        scope: String,
        key: String,
        previousExecutionID: String,
        fingerprint: String,
        executionID: String,
        at date: Date
    ) async throws -> Bool {
        let replaced = try await database.withConnection { sql in
            try await sql.update(Self.table)
                .set("fingerprint", to: SQLBind(fingerprint))
                .set("execution_id", to: SQLBind(executionID))
                .set("state", to: SQLBind("started"))
                .set("started_at", to: SQLBind(date.millisecondsSince1970))
                .set("completed_at", to: SQLLiteral.null)
                .set("response_status", to: SQLLiteral.null)
                .set("response_headers", to: SQLLiteral.null)
                .set("response_body", to: SQLLiteral.null)
                .where("scope", .equal, scope).where("idempotency_key", .equal, key)
                .where("execution_id", .equal, previousExecutionID)
                .returning("execution_id")
                .first()
        }
        return replaced != nil
    }

    /// Stores the response of run `executionID` and marks the key completed; false when the record is no longer
    /// that run's (it was taken over after the lock timeout, or purged).
    @discardableResult
    public func complete(scope: String, key: String, executionID: String, response: StoredResponse, at date: Date) async throws -> Bool {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        let updated = try await database.withConnection { sql in
            try await sql.update(Self.table)
                .set("state", to: SQLBind("completed"))
                .set("completed_at", to: SQLBind(date.millisecondsSince1970))
                .set("response_status", to: SQLBind(response.status))
                .set("response_headers", to: SQLBind(headers))
                .set("response_body", to: SQLBind(Data(response.body)))
                .where("scope", .equal, scope).where("idempotency_key", .equal, key)
                .where("execution_id", .equal, executionID)
                .returning("execution_id")
                .first()
        }
        return updated != nil
    }

    /// Deletes run `executionID`'s record so the key may be used again (its handler failed).
    public func release(scope: String, key: String, executionID: String) async throws {
        try await database.withConnection { sql in
            try await sql.delete(from: Self.table)
                .where("scope", .equal, scope).where("idempotency_key", .equal, key)
                .where("execution_id", .equal, executionID)
                .run()
        }
    }

    /// Deletes every record that began `retention` ago or longer (what a request would treat as expired), `batchSize` rows per statement (so a large
    /// backlog never holds the write lock for long), and returns how many it deleted.
    @discardableResult
    public func purgeExpired(retention: Duration, batchSize: Int = 1000) async throws -> Int {
        precondition(batchSize > 0, "batchSize must be positive")
        let cutoff = now().millisecondsSince1970 - retention.milliseconds
        var total = 0
        while true {
            let deleted = try await database.withConnection { sql in
                try await sql.raw(
                    """
                    DELETE FROM idempotency_keys WHERE (scope, idempotency_key) IN (
                        SELECT scope, idempotency_key FROM idempotency_keys WHERE started_at <= \(bind: cutoff) LIMIT \(bind: batchSize)
                    )
                    RETURNING idempotency_key
                    """
                ).all().count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    /// How many keys are in each state (for tests and health).
    public func counts() async throws -> [String: Int] {
        try await database.withConnection { sql in
            let rows = try await sql.raw("SELECT state, COUNT(*) AS n FROM idempotency_keys GROUP BY state").all()
            var counts: [String: Int] = [:]
            for row in rows { counts[try row.decode(column: "state", as: String.self)] = try row.decode(column: "n", as: Int.self) }
            return counts
        }
    }

    private static func record(from row: any SQLRow) throws -> IdempotencyRecord {
        let reader = try StoredRow(row, table: table, idColumn: "idempotency_key")
        let state = try reader.decode("state", as: String.self)
        var record = IdempotencyRecord(
            scope: try reader.decode("scope"),
            key: reader.id,
            fingerprint: try reader.decode("fingerprint"),
            executionID: try reader.decode("execution_id"),
            startedAt: try reader.decodeDate("started_at"),
            completedAt: try reader.decodeDateIfPresent("completed_at")
        )
        switch state {
        case "started":
            break
        case "completed":
            record.response = StoredResponse(
                status: try reader.decode("response_status", as: Int.self),
                headers: try reader.decodeJSON("response_headers", as: [StoredResponse.Header].self),
                body: Array(try reader.decode("response_body", as: Data.self))
            )
        default:
            throw UnreadableRowError(table: table, row: reader.id, column: "state", reason: "'\(state)' is not started or completed")
        }
        return record
    }
}
