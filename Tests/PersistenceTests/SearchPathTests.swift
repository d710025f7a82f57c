import Foundation
import InterchangeCore
import InterchangeTesting
import Persistence
import SQLKit
import Testing

/// One PostgreSQL database, one schema per service: `search_path` in the URL (`…/app?search_path=orders`).
@Suite("Database: a schema per service with search_path", .timeLimit(.minutes(1)))
struct SearchPathTests {
    /// The same migration two services run, creating a table of the same name (as the outbox migration does).
    static let migrations = [
        Migration("outbox-like-1") { sql, _ in
            try await sql.create(table: "outbox").column("id", type: .text, .primaryKey(autoIncrement: false)).run()
        }
    ]

    @Test("search_path names the schemas, in order; without it there is none")
    func parsed() throws {
        let location = try Database.Location(url: "postgres://u:secret@db:5432/app?sslmode=disable&search_path=orders")
        #expect(location.searchPath == ["orders"])
        #expect(location.description == "postgres://u:REDACTED@db:5432/app?sslmode=disable&search_path=orders")
        #expect(try Database.Location(url: "postgres://u@db/app?search_path=orders_2,public").searchPath == ["orders_2", "public"])
        #expect(try Database.Location(url: "postgres://u@db/app").searchPath == nil)
        #expect(try Database.Location(url: "sqlite:./x.sqlite").searchPath == nil)
    }

    @Test(
        "a search_path that is not a list of plain schema names is a configuration error naming the field",
        arguments: [
            "", "orders,", "Orders", "9lives", "pg_orders", "orders;drop", "a%20b", "%22orders%22", String(repeating: "s", count: 64),
            "orders&search_path=inventory",
        ]
    )
    func refused(value: String) throws {
        let url = "postgres://u:secret@db/app?search_path=" + value
        #expect {
            try Database.Location(url: url, field: "orders.database")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "orders.database" && error.reason.contains("search_path") && !error.reason.contains("secret")
        }
    }

    @Test("a bad search_path given straight to open is refused before connecting, naming database.url")
    func refusedByOpen() async throws {
        await #expect {
            _ = try await Database.open(.postgres(url: "postgres://postgres@127.0.0.1:1/x?search_path=Bad-Name"), logger: .init(label: "t"))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "database.url" && error.reason.contains("search_path")
        }
    }

    @Test("two services on one database each get their own schema, created if missing: same table names, no collision")
    func schemasPerService() async throws {
        try await TestDatabase.with(.postgres) { database in
            let base = try #require(URLComponents(string: Self.url(of: database)))
            let orders = try await Database.open(.postgres(url: Self.url(base, searchPath: "orders")), logger: .init(label: "t"))
            let inventory = try await Database.open(.postgres(url: Self.url(base, searchPath: "inventory")), logger: .init(label: "t"))
            try await orders.migrate(Self.migrations)
            try await inventory.migrate(Self.migrations)
            try await orders.withConnection { sql in try await sql.insert(into: "outbox").columns("id").values(SQLBind("o-1")).run() }
            try await inventory.withConnection { sql in
                try await sql.insert(into: "outbox").columns("id").values(SQLBind("i-1")).values(SQLBind("i-2")).run()
            }

            #expect(try await Self.ids(in: orders) == ["o-1"])
            #expect(try await Self.ids(in: inventory) == ["i-1", "i-2"])
            // Where the tables are, seen from a connection without search_path: in each schema, none in public.
            let tables = try await database.withConnection { sql in
                try await sql.raw(
                    """
                    SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
                    WHERE table_name IN ('outbox', 'interchange_migrations') ORDER BY name
                    """
                ).all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(
                tables == ["inventory.interchange_migrations", "inventory.outbox", "orders.interchange_migrations", "orders.outbox"]
            )
            try await orders.shutdown()
            try await inventory.shutdown()
        }
    }

    @Test("several processes opening the same new schema at once all succeed")
    func concurrentCreation() async throws {
        try await TestDatabase.with(.postgres) { database in
            let url = Self.url(try #require(URLComponents(string: Self.url(of: database))), searchPath: "payments")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let opened = try await Database.open(.postgres(url: url), maxConnections: 1, logger: .init(label: "t"))
                        try await opened.shutdown()
                    }
                }
                try await group.waitForAll()
            }
            let count = try await database.withConnection { sql in
                try await sql.raw("SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = 'payments'").first()?
                    .decode(column: "n", as: Int.self)
            }
            #expect(count == 1)
        }
    }

    static func url(of database: Database) -> String {
        guard case .postgres(let url) = database.location else { preconditionFailure("a PostgreSQL test database") }
        return url
    }

    static func url(_ base: URLComponents, searchPath: String) -> String {
        var components = base
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "search_path", value: searchPath)]
        return components.string!
    }

    static func ids(in database: Database) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.select().column("id").from("outbox").orderBy("id").all().map { try $0.decode(column: "id", as: String.self) }
        }
    }
}
