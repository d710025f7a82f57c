import Foundation
import Persistence
import SQLKit

/// Where saga instances live, in the service's own database beside its outbox, so a saga's state and the commands
/// it sends commit together.
///
/// Tables:
/// - `sagas`: one row per instance — `id` (unique across definitions), `definition`, `status`, `version` (optimistic
///   locking: every save checks and increments it), `state` (the whole ``SagaInstance`` as JSON), `context` (the
///   caller's JSON, e.g. the order), `deadline_at` (ms, null when nothing is awaited; indexed for the scanner),
///   `created_at`, `updated_at`.
/// - `saga_log`: the timeline as rows (`saga_id`, `seq`, `step`, `kind`, `attempt`, `at`, `detail`), appended on every
///   save, for operators and SQL queries; the `state` column holds the same entries for replay.
///
/// Every method runs on the `sql` it is given — the caller's open transaction.
public struct SagaStore: Sendable {
    public static let migrations: [Migration] = [
        Migration("sagas-1") { sql, _ in
            try await sql.create(table: "sagas")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("definition", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("version", type: .bigint, .notNull)
                .column("state", type: .text, .notNull)
                .column("context", type: .text)
                .column("deadline_at", type: .bigint)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.raw("CREATE INDEX sagas_due ON sagas (definition, deadline_at) WHERE deadline_at IS NOT NULL").run()
            try await sql.create(table: "saga_log")
                .column("saga_id", type: .text, .notNull)
                .column("seq", type: .bigint, .notNull)
                .column("step", type: .text)
                .column("kind", type: .text, .notNull)
                .column("attempt", type: .bigint)
                .column("at", type: .bigint, .notNull)
                .column("detail", type: .text)
                .primaryKey("saga_id", "seq")
                .run()
        }
    ]

    /// An instance as stored.
    public struct Record: Sendable, Hashable {
        public var instance: SagaInstance
        /// Incremented by every save; ``SagaStore/save(_:replacing:at:in:)`` checks it.
        public var version: Int64
        /// The caller's JSON stored with the saga (``SagaOrchestrator``'s context).
        public var context: String?
        public var createdAt: Date
        public var updatedAt: Date
    }

    public init() {}

    /// Inserts a new instance (version 1) with its log.
    ///
    /// - Throws: ``SagaStoreError/alreadyExists`` when an instance with this id exists.
    @discardableResult
    public func insert(_ instance: SagaInstance, context: String?, at date: Date, in sql: any SQLDatabase) async throws -> Record {
        let state = try Self.encode(instance)
        let now = date.millisecondsSince1970
        let values: [any Encodable & Sendable] = [
            instance.id, instance.definition, instance.status.rawValue, Int64(1), state, context, Self.deadlineColumn(instance), now, now,
        ]
        let inserted = try await sql.raw(
            """
            INSERT INTO sagas (id, definition, status, version, state, context, deadline_at, created_at, updated_at)
            VALUES (\(binds: values)) ON CONFLICT (id) DO NOTHING RETURNING id
            """
        ).first()
        guard inserted != nil else { throw SagaStoreError(code: .alreadyExists, sagaID: instance.id) }
        try await appendLog(instance, from: 0, in: sql)
        return Record(instance: instance, version: 1, context: context, createdAt: date, updatedAt: date)
    }

    /// The instance `id`, or nil. With `lockingRow` on PostgreSQL the row is locked (`FOR UPDATE`) until the
    /// transaction ends, so concurrent inputs to one saga queue instead of failing their version check; SQLite
    /// transactions are serial anyway.
    ///
    /// - Throws: `UnreadableRowError` naming the table, row and column when the stored state cannot be read.
    public func load(id: String, lockingRow: Bool = false, in sql: any SQLDatabase) async throws -> Record? {
        var query: SQLQueryString = "SELECT id, version, state, context, created_at, updated_at FROM sagas WHERE id = \(bind: id)"
        if lockingRow && sql.dialect.name == "postgresql" { query += " FOR UPDATE" }
        guard let row = try await sql.raw(query).first() else { return nil }
        let stored = try StoredRow(row, table: "sagas")
        return Record(
            instance: try stored.decodeJSON("state", as: SagaInstance.self),
            version: try stored.decode("version", as: Int64.self),
            context: try stored.decode("context", as: String?.self),
            createdAt: try stored.decodeDate("created_at"),
            updatedAt: try stored.decodeDate("updated_at")
        )
    }

    /// Saves `instance` over `record` (the version loaded) and appends its new log entries; returns the new record.
    ///
    /// - Throws: ``SagaStoreError/versionConflict`` when the row is no longer at `record.version` (another writer
    ///   saved it since it was loaded): nothing is written; load again and re-apply.
    @discardableResult
    public func save(_ instance: SagaInstance, replacing record: Record, at date: Date, in sql: any SQLDatabase) async throws -> Record {
        precondition(instance.id == record.instance.id, "saving saga \(instance.id) over the record of \(record.instance.id)")
        let updated = try await sql.raw(
            """
            UPDATE sagas SET status = \(bind: instance.status.rawValue), version = \(bind: record.version + 1),
                state = \(bind: try Self.encode(instance)), deadline_at = \(bind: Self.deadlineColumn(instance)),
                updated_at = \(bind: date.millisecondsSince1970)
            WHERE id = \(bind: instance.id) AND version = \(bind: record.version) RETURNING id
            """
        ).first()
        guard updated != nil else { throw SagaStoreError(code: .versionConflict, sagaID: instance.id) }
        try await appendLog(instance, from: record.instance.log.count, in: sql)
        var saved = record
        saved.instance = instance
        saved.version += 1
        saved.updatedAt = date
        return saved
    }

    /// Ids of `definition`'s instances whose deadline has passed at `date`, earliest first.
    public func dueDeadlines(definition: String, at date: Date, limit: Int = 100, in sql: any SQLDatabase) async throws -> [String] {
        try await sql.raw(
            """
            SELECT id FROM sagas WHERE definition = \(bind: definition) AND deadline_at IS NOT NULL
                AND deadline_at <= \(bind: date.millisecondsSince1970) ORDER BY deadline_at LIMIT \(bind: limit)
            """
        ).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// The earliest pending deadline of `definition`'s instances (nil when none is pending).
    public func nextDeadline(definition: String, in sql: any SQLDatabase) async throws -> Date? {
        try await sql.raw("SELECT MIN(deadline_at) AS due FROM sagas WHERE definition = \(bind: definition) AND deadline_at IS NOT NULL")
            .first()?.decode(column: "due", as: Int64?.self).map(Date.init(millisecondsSince1970:))
    }

    /// The timeline of saga `id` from `saga_log`, in order.
    public func timeline(id: String, in sql: any SQLDatabase) async throws -> [SagaLogEntry] {
        try await sql.raw("SELECT seq, step, kind, attempt, at, detail FROM saga_log WHERE saga_id = \(bind: id) ORDER BY seq").all().map { row in
            let seq = try row.decode(column: "seq", as: Int64.self)
            let kind = try row.decode(column: "kind", as: String.self)
            guard let known = SagaLogEntry.Kind(rawValue: kind) else {
                throw UnreadableRowError(table: "saga_log", row: "\(id)#\(seq)", column: "kind", reason: "'\(kind)' is not a known kind")
            }
            return SagaLogEntry(
                step: try row.decode(column: "step", as: String?.self),
                kind: known,
                attempt: try row.decode(column: "attempt", as: Int?.self),
                at: Date(millisecondsSince1970: try row.decode(column: "at", as: Int64.self)),
                detail: try row.decode(column: "detail", as: String?.self)
            )
        }
    }

    /// How many instances of `definition` are in each status (for `/health`, metrics and tests).
    public func countByStatus(definition: String, in sql: any SQLDatabase) async throws -> [SagaInstance.Status: Int] {
        var counts: [SagaInstance.Status: Int] = [:]
        for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM sagas WHERE definition = \(bind: definition) GROUP BY status").all() {
            let raw = try row.decode(column: "status", as: String.self)
            guard let status = SagaInstance.Status(rawValue: raw) else {
                throw UnreadableRowError(table: "sagas", row: "?", column: "status", reason: "'\(raw)' is not a known status")
            }
            counts[status] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    private func appendLog(_ instance: SagaInstance, from start: Int, in sql: any SQLDatabase) async throws {
        let entries = instance.log[start...]
        guard !entries.isEmpty else { return }
        var rows: [SQLQueryString] = []
        for (offset, entry) in zip(entries.indices, entries) {
            let values: [any Encodable & Sendable] = [
                instance.id, Int64(offset), entry.step, entry.kind.rawValue, entry.attempt.map(Int64.init), entry.at.millisecondsSince1970,
                entry.detail,
            ]
            rows.append("(\(binds: values))")
        }
        var query: SQLQueryString = "INSERT INTO saga_log (saga_id, seq, step, kind, attempt, at, detail) VALUES "
        query += rows.joined(separator: ", ")
        try await sql.raw(query).run()
    }

    /// Rounded up to the millisecond, so a row found due (`deadline_at <= now`) is due for the instance too.
    private static func deadlineColumn(_ instance: SagaInstance) -> Int64? {
        instance.deadline.map { Int64(($0.at.timeIntervalSince1970 * 1000).rounded(.up)) }
    }

    private static func encode(_ instance: SagaInstance) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(instance), as: UTF8.self)
    }
}

/// A saga store operation that could not be done, and why.
public struct SagaStoreError: Error, Hashable, CustomStringConvertible {
    enum Code: Hashable {
        case alreadyExists, versionConflict, notFound
        /// The saga runs under another definition (the engine it was given to is not its own).
        case otherDefinition(String)
    }

    let code: Code
    /// The saga concerned.
    public let sagaID: String

    init(code: Code, sagaID: String) {
        self.code = code
        self.sagaID = sagaID
    }

    /// An instance with this id exists already (a second start).
    public static let alreadyExists = SagaStoreError(code: .alreadyExists, sagaID: "")
    /// Another writer saved the instance after it was loaded.
    public static let versionConflict = SagaStoreError(code: .versionConflict, sagaID: "")
    /// No instance has this id.
    public static let notFound = SagaStoreError(code: .notFound, sagaID: "")

    /// Matches the kind of error, whatever the saga: `catch let error as SagaStoreError where error ~= .versionConflict`.
    public static func ~= (pattern: SagaStoreError, error: SagaStoreError) -> Bool { pattern.code == error.code }

    /// The saga is not of the engine's definition (it was started by another orchestrator or tracker).
    public static func otherDefinition(_ name: String) -> SagaStoreError { SagaStoreError(code: .otherDefinition(name), sagaID: "") }

    public var description: String {
        switch code {
        case .alreadyExists: "saga '\(sagaID)' already exists"
        case .versionConflict: "saga '\(sagaID)' was saved by another writer since it was loaded (version conflict); load it again"
        case .notFound: "no saga '\(sagaID)'"
        case .otherDefinition(let name): "saga '\(sagaID)' runs under definition '\(name)', not this engine's"
        }
    }
}
