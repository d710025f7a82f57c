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
/// Claims and completions are group-committed (``BatchingQueue``): concurrent first uses become one multi-row
/// `INSERT`, concurrent completions one multi-row upsert — one statement instead of one per request. Completed
/// records are also kept in a bounded in-process cache (``replayCacheBytes``): a completed record never changes
/// until it expires, so a retry that lands on the same process is answered without a query. The cache never
/// decides alone whether a run executes: anything but an unexpired completed record goes to the database.
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

    /// Completed responses kept in memory for replays (bytes of bodies and headers, at most; 0 turns it off).
    public let replayCacheBytes: Int
    private let cache: CompletedRecordCache
    private let claims: BatchingQueue<Claim, Bool>
    private let completions: BatchingQueue<Completion, Bool>

    public init(database: Database, replayCacheBytes: Int = 16 * 1024 * 1024, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
        self.replayCacheBytes = replayCacheBytes
        self.cache = CompletedRecordCache(capacityBytes: replayCacheBytes)
        // SQLite has one writer: one batch at a time. PostgreSQL writes on several connections at once.
        let concurrentBatches = database.dialect == .sqlite ? 1 : 2
        self.claims = BatchingQueue(maxBatchSize: 64, maxConcurrentBatches: concurrentBatches) { claims in
            try await Self.insertStarted(claims, database: database)
        }
        self.completions = BatchingQueue(maxBatchSize: 64, maxConcurrentBatches: concurrentBatches) { completions in
            try await Self.complete(completions, database: database)
        }
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

    /// The record of `key` in `scope`, if any, read from the database (a completed one is then kept in the cache).
    ///
    /// - Throws: ``UnreadableRowError`` naming the column when a stored row cannot be read.
    public func find(scope: String, key: String) async throws -> IdempotencyRecord? {
        let row = try await database.withConnection { sql in
            try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from(Self.table)
                .where("scope", .equal, scope).where("idempotency_key", .equal, key)
                .first()
        }
        let record = try row.map { try Self.record(from: $0) }
        if let record, record.response != nil { cache.insert(record) }
        return record
    }

    /// A completed record kept in memory, if any (no query).
    public func cachedRecord(scope: String, key: String) -> IdempotencyRecord? {
        cache.record(scope: scope, key: key)
    }

    /// Claims an unused key for a new run; false when the key is already stored (another run got there first).
    public func insertStarted(scope: String, key: String, fingerprint: String, executionID: String, at date: Date) async throws -> Bool {
        try await claims.submit(
            Claim(scope: scope, key: key, fingerprint: fingerprint, executionID: executionID, startedAt: date.millisecondsSince1970)
        )
    }

    private struct Claim: Sendable {
        var scope, key, fingerprint, executionID: String
        var startedAt: Int64
    }

    /// One `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING execution_id`: a claim won when its own
    /// (unique, random) execution id comes back. Two claims of one key in one batch: the first row wins.
    private static func insertStarted(_ claims: [Claim], database: Database) async throws -> [Bool] {
        // Raw SQL: the statement is the same for every batch of a size, and building it with SQLKit's builders
        // cost as much CPU as SQLite spent running it.
        var query: SQLQueryString = "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, execution_id, state, started_at) VALUES "
        query += claims.map { claim -> SQLQueryString in
            "(\(binds: [claim.scope, claim.key, claim.fingerprint, claim.executionID, "started", claim.startedAt]))"
        }.joined(separator: ", ")
        query += " ON CONFLICT (scope, idempotency_key) DO NOTHING RETURNING execution_id"
        let statement = query
        let won = try await database.write { sql in
            let rows = try await sql.raw(statement).all()
            return Set(try rows.map { try $0.decode(column: "execution_id", as: String.self) })
        }
        return claims.map { won.contains($0.executionID) }
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
        cache.remove(scope: scope, key: key)
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
    /// that run's (it was taken over after the lock timeout). A record purged meanwhile is written again, as the
    /// run's own.
    @discardableResult
    public func complete(
        scope: String,
        key: String,
        fingerprint: String,
        executionID: String,
        startedAt: Date,
        response: StoredResponse,
        at date: Date
    ) async throws -> Bool {
        let completion = Completion(
            scope: scope,
            key: key,
            fingerprint: fingerprint,
            executionID: executionID,
            startedAt: startedAt.millisecondsSince1970,
            completedAt: date.millisecondsSince1970,
            status: response.status,
            headers: String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self),
            body: Data(response.body)
        )
        let kept = try await completions.submit(completion)
        if kept {
            var record = IdempotencyRecord(
                scope: scope,
                key: key,
                fingerprint: fingerprint,
                executionID: executionID,
                startedAt: Date(millisecondsSince1970: completion.startedAt),
                completedAt: Date(millisecondsSince1970: completion.completedAt)
            )
            record.response = response
            cache.insert(record)
        }
        return kept
    }

    private struct Completion: Sendable {
        var scope, key, fingerprint, executionID: String
        var startedAt, completedAt: Int64
        var status: Int
        var headers: String
        var body: Data
    }

    /// Multi-row upserts `… ON CONFLICT (scope, idempotency_key) DO UPDATE … WHERE execution_id = excluded.execution_id
    /// RETURNING execution_id`: a completion is kept when its run still owns the record. A statement may touch a row
    /// only once, so a batch holding one key twice (a run and its taker) is written in two statements.
    private static func complete(_ completions: [Completion], database: Database) async throws -> [Bool] {
        var groups: [[Completion]] = []
        for completion in completions {
            if let index = groups.firstIndex(where: { group in !group.contains { $0.scope == completion.scope && $0.key == completion.key } }) {
                groups[index].append(completion)
            } else {
                groups.append([completion])
            }
        }
        let statements = groups
        let queries = statements.map { group -> SQLQueryString in
            var query: SQLQueryString = """
                INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, execution_id, state, started_at, completed_at, \
                response_status, response_headers, response_body) VALUES 
                """
            query += group.map { completion -> SQLQueryString in
                let values: [any Encodable & Sendable] = [
                    completion.scope, completion.key, completion.fingerprint, completion.executionID, "completed",
                    completion.startedAt, completion.completedAt, completion.status, completion.headers, completion.body,
                ]
                return "(\(binds: values))"
            }.joined(separator: ", ")
            query += """
                 ON CONFLICT (scope, idempotency_key) DO UPDATE SET state = excluded.state, completed_at = excluded.completed_at, \
                response_status = excluded.response_status, response_headers = excluded.response_headers, \
                response_body = excluded.response_body WHERE idempotency_keys.execution_id = excluded.execution_id \
                RETURNING execution_id
                """
            return query
        }
        let kept = try await database.write { sql in
            var kept = Set<String>()
            for query in queries {
                for row in try await sql.raw(query).all() { kept.insert(try row.decode(column: "execution_id", as: String.self)) }
            }
            return kept
        }
        return completions.map { kept.contains($0.executionID) }
    }

    /// Deletes run `executionID`'s record so the key may be used again (its handler failed).
    public func release(scope: String, key: String, executionID: String) async throws {
        cache.remove(scope: scope, key: key)
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
        cache.removeAll(startedBefore: Date(millisecondsSince1970: cutoff + 1))
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
