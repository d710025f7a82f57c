import Foundation
import SQLKit

/// One schema change, applied once, in order, and recorded in `interchange_migrations`.
///
/// Write the SQL both databases accept (SQLKit's builders do that); branch on `dialect` for what differs.
public struct Migration: Sendable {
    public var id: String
    public var apply: @Sendable (_ sql: any SQLDatabase, _ dialect: Database.Dialect) async throws -> Void

    public init(_ id: String, apply: @escaping @Sendable (_ sql: any SQLDatabase, _ dialect: Database.Dialect) async throws -> Void) {
        self.id = id
        self.apply = apply
    }
}

extension Database {
    /// Applies the migrations not yet applied, each in its own transaction with its record.
    ///
    /// Safe to run from several processes at once: each transaction first takes the migration lock (SQLite's
    /// write lock through `BEGIN IMMEDIATE`; a transaction-scoped advisory lock on PostgreSQL, where even
    /// concurrent `CREATE TABLE IF NOT EXISTS` can fail), then skips a migration another process recorded.
    public func migrate(_ migrations: [Migration]) async throws {
        let dialect = self.dialect
        for migration in migrations {
            try await transaction { sql in
                if dialect == .postgres {
                    try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Self.migrationLockKey))").run()
                }
                try await sql.create(table: "interchange_migrations")
                    .ifNotExists()
                    .column("id", type: .text, .primaryKey(autoIncrement: false))
                    .column("applied_at", type: .bigint, .notNull)
                    .run()
                let applied = try await sql.select().column("id").from("interchange_migrations").where("id", .equal, migration.id).first() != nil
                if applied { return }
                try await sql.insert(into: "interchange_migrations")
                    .columns("id", "applied_at")
                    .values(SQLBind(migration.id), SQLBind(Int64(Date().timeIntervalSince1970 * 1000)))
                    .run()
                try await migration.apply(sql, dialect)
            }
        }
    }

    /// The advisory lock every migrator takes on PostgreSQL (an arbitrary constant: "interchg" in ASCII).
    static let migrationLockKey: Int64 = 0x696E_7465_7263_6867
}
