import Foundation
import InterchangeCore
import InterchangeTesting
import Persistence
import SQLKit
import Synchronization
import Testing

@Suite("Database: SQLite and PostgreSQL behind one API", .timeLimit(.minutes(1)))
struct DatabaseTests {
    static let migrations = [
        Migration("test-1") { sql, _ in
            try await sql.create(table: "items").column("id", type: .text, .primaryKey(autoIncrement: false)).column("n", type: .bigint, .notNull)
                .run()
        }
    ]

    @Test("migrations apply once, even from several callers at the same time", arguments: TestDatabase.kinds)
    func migrations(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await database.migrate(Self.migrations) } }
                try await group.waitForAll()
            }
            let applied = try await database.withConnection { sql in
                try await sql.select().column("id").from("interchange_migrations").all().count
            }
            #expect(applied == 1)
        }
    }

    @Test("a transaction commits together or not at all", arguments: TestDatabase.kinds)
    func transactions(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Self.migrations)
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.transaction { sql in
                    try await sql.insert(into: "items").columns("id", "n").values(SQLBind("a"), SQLBind(1)).run()
                    throw Abort()
                }
            }
            try await database.transaction { sql in
                try await sql.insert(into: "items").columns("id", "n").values(SQLBind("b"), SQLBind(2)).run()
                try await sql.insert(into: "items").columns("id", "n").values(SQLBind("c"), SQLBind(3)).run()
            }
            let ids = try await database.withConnection { sql in
                try await sql.select().column("id").from("items").orderBy("id").all().map { try $0.decode(column: "id", as: String.self) }
            }
            #expect(ids == ["b", "c"])
        }
    }

    @Test("concurrent writers do not lose updates", arguments: TestDatabase.kinds)
    func concurrentWriters(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Self.migrations)
            try await database.withConnection { sql in
                try await sql.insert(into: "items").columns("id", "n").values(SQLBind("counter"), SQLBind(0)).run()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await database.transaction { sql in
                            try await sql.raw("UPDATE items SET n = n + 1 WHERE id = 'counter'").run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let value = try await database.withConnection { sql in
                try await sql.select().column("n").from("items").where("id", .equal, "counter").first()?.decode(column: "n", as: Int.self)
            }
            #expect(value == 50)
        }
    }

    @Test("database URLs are parsed, and bad ones name the field")
    func urls() throws {
        #expect(try Database.Location(url: "sqlite:./data/x.sqlite") == .sqlite(path: "./data/x.sqlite"))
        #expect(try Database.Location(url: "postgres://u:secret@db:5432/app") == .postgres(url: "postgres://u:secret@db:5432/app"))
        #expect(try Database.Location(url: "postgres://u:secret@db:5432/app").description == "postgres://u:REDACTED@db:5432/app")
        #expect { try Database.Location(url: "mysql://x") } throws: { ($0 as? ConfigurationError)?.field == "database.url" }
    }

    @Test("an unreachable PostgreSQL server is a configuration error naming database.url")
    func unreachable() async throws {
        await #expect {
            _ = try await Database.open(.postgres(url: "postgres://postgres@127.0.0.1:1/x?sslmode=disable"), logger: .init(label: "t"))
        } throws: { ($0 as? ConfigurationError)?.field == "database.url" }
    }

    /// A test or a server path that throws past `shutdown()` must not take the process down: async-kit's pool traps
    /// when it is deinitialized open. The release happens in a child process (an exit test), so the trap, if it
    /// came back, fails this test instead of the whole run.
    @Test("a database released without shutdown() is closed in the background, not a crash")
    func releasedOpen() async throws {
        await #expect(processExitsWith: .success) {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("released-\(UUID().uuidString).sqlite").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            var database: Database? = try await Database.open(.sqlite(path: path), logger: .init(label: "t"))
            _ = try await database?.withConnection { sql in try await sql.raw("SELECT 1").all() }
            database = nil  // deinit runs here, open
            #expect(database == nil)
        }
    }
}
