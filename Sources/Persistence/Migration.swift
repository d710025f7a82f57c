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
    /// Applies the migrations not yet applied, each in its own transaction.
    ///
    /// Safe to run from several processes at once: a migration that another process applied first is skipped
    /// (the record insert conflicts and the transaction rolls back).
    public func migrate(_ migrations: [Migration]) async throws {
        try await withConnection { sql in
            try await sql.create(table: "interchange_migrations")
                .ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("applied_at", type: .bigint, .notNull)
                .run()
        }
        let dialect = self.dialect
        for migration in migrations {
            let applied = try await withConnection { sql in
                try await sql.select().column("id").from("interchange_migrations").where("id", .equal, migration.id).first() != nil
            }
            if applied { continue }
            do {
                try await transaction { sql in
                    try await sql.insert(into: "interchange_migrations")
                        .columns("id", "applied_at")
                        .values(SQLBind(migration.id), SQLBind(Int64(Date().timeIntervalSince1970 * 1000)))
                        .run()
                    try await migration.apply(sql, dialect)
                }
            } catch {
                let appliedByOther = try await withConnection { sql in
                    try await sql.select().column("id").from("interchange_migrations").where("id", .equal, migration.id).first() != nil
                }
                if !appliedByOther { throw error }
            }
        }
    }
}
