@preconcurrency import AsyncKit
import Foundation
import InterchangeCore
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

/// A SQL database: SQLite by default (one file, no server), PostgreSQL when configured — one SQLKit API for both,
/// so every query in Interchange is written once.
///
/// ```swift
/// let database = try await Database.open(.sqlite(path: "./.interchange/webhooks.sqlite"), logger: logger)
/// try await database.migrate(WebhookMigrations.all)
/// try await database.transaction { sql in
///     try await sql.insert(into: "webhook_messages").columns("id", "payload").values(SQLBind(id), SQLBind(payload)).run()
/// }
/// try await database.shutdown()
/// ```
///
/// SQLite connections run in WAL mode with `synchronous=NORMAL` (durable across process crashes, tens of
/// thousands of commits a second) and a busy timeout, so concurrent writers wait instead of failing;
/// transactions begin `IMMEDIATE` so two writers never deadlock upgrading their locks.
/// Built on vapor/sql-kit, sqlite-kit and postgres-kit, pooled by async-kit.
public final class Database: Sendable {
    /// Where the data lives.
    public enum Location: Sendable, Hashable, CustomStringConvertible {
        case sqlite(path: String)
        case postgres(url: String)

        /// Parses `sqlite:PATH`, `sqlite://PATH` or a `postgres://` / `postgresql://` URL.
        ///
        /// A PostgreSQL URL may name the schema its tables live in with `search_path`
        /// (`postgres://u@db/app?search_path=orders`): one database, one schema per service. See ``searchPath``.
        ///
        /// - Throws: ``ConfigurationError`` naming `field` when the URL is neither, or its `search_path` is not a
        ///   list of schema names.
        public init(url: String, field: String = "database.url") throws {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                guard URL(string: url)?.host?.isEmpty == false else {
                    throw ConfigurationError(field: field, reason: "'\(Self.redacted(url))' is not a valid postgres:// URL")
                }
                _ = try Self.searchPath(ofPostgresURL: url, field: field)
                self = .postgres(url: url)
            } else if url.hasPrefix("sqlite://") {
                self = .sqlite(path: String(url.dropFirst("sqlite://".count)))
            } else if url.hasPrefix("sqlite:") {
                self = .sqlite(path: String(url.dropFirst("sqlite:".count)))
            } else {
                throw ConfigurationError(field: field, reason: "'\(Self.redacted(url))' must start with sqlite: or postgres://")
            }
        }

        public var description: String {
            switch self {
            case .sqlite(let path): "sqlite:\(path)"
            case .postgres(let url): Self.redacted(url)
            }
        }

        /// PostgreSQL: the schemas of the URL's `search_path` query option, in order, or nil when it has none (the
        /// server's default, `"$user", public`). Every connection of the pool sets it, and ``Database/open(_:maxConnections:logger:)``
        /// creates the first schema — where new tables go — when it is missing. SQLite: nil.
        public var searchPath: [String]? {
            guard case .postgres(let url) = self else { return nil }
            return try? Self.searchPath(ofPostgresURL: url, field: "database.url")
        }

        /// The `search_path` of a PostgreSQL URL: comma-separated schema names, each 1–63 bytes of lowercase ASCII
        /// letters, digits and `_`, not starting with a digit nor with `pg_` (reserved by PostgreSQL). Lowercase
        /// only, so the schema is the one `psql` means when it is written without quotes.
        static func searchPath(ofPostgresURL url: String, field: String) throws -> [String]? {
            let items = (URLComponents(string: url)?.queryItems ?? []).filter { $0.name == "search_path" }
            guard let item = items.first else { return nil }
            guard items.count == 1 else {
                throw ConfigurationError(field: field, reason: "'\(redacted(url))' gives search_path \(items.count) times; give it once")
            }
            let value = item.value ?? ""
            let names = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            for name in names {
                let bytes = Array(name.utf8)
                let valid =
                    (1...63).contains(bytes.count)
                    && bytes.allSatisfy {
                        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                            || $0 == UInt8(ascii: "_")
                    }
                    && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0])
                    && !name.hasPrefix("pg_")
                guard valid else {
                    throw ConfigurationError(
                        field: field,
                        reason: "search_path '\(value.prefix(80))' must be schema names separated by commas, each 1–63 lowercase letters, "
                            + "digits or '_', not starting with a digit or 'pg_' (got '\(name.prefix(80))')"
                    )
                }
            }
            return names
        }

        /// The URL with any password hidden.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "REDACTED"
            return components.string ?? url
        }
    }

    public enum Dialect: Sendable, Hashable {
        case sqlite
        case postgres
    }

    // @unchecked: EventLoopGroupConnectionPool is not annotated, but guards all its state with its own lock and
    // hands each event loop's pool only to that loop; async-kit documents it as safe to share across threads.
    private enum Pool: @unchecked Sendable {
        case sqlite(SQLiteConnections, SQLiteWriter)
        case postgres(EventLoopGroupConnectionPool<PostgresConnectionSource>)
    }

    public let location: Location
    public let dialect: Dialect
    private let pool: Pool
    private let logger: Logger
    /// SQLite: the turns this process's transactions take (``SerialAccess``, the writer's) instead of sleeping in the
    /// busy handler. PostgreSQL takes none: an idle one.
    var transactions: SerialAccess {
        if case .sqlite(_, let writer) = pool { return writer.turns }
        return Self.noTurns
    }
    private static let noTurns = SerialAccess()
    private let isShutDown = Atomic<Bool>(false)

    private init(location: Location, pool: Pool, logger: Logger) {
        self.location = location
        self.pool = pool
        self.logger = logger
        switch pool {
        case .sqlite: dialect = .sqlite
        case .postgres: dialect = .postgres
        }
    }

    /// Opens a pool of connections to `location` and checks that it answers.
    ///
    /// - Throws: ``ConfigurationError`` naming `database.url` when the location is unusable (a directory that
    ///   cannot be created, a server that refuses the connection).
    public static func open(_ location: Location, maxConnections: Int = 4, logger: Logger) async throws -> Database {
        let group = MultiThreadedEventLoopGroup.singleton
        let perLoop = max(1, maxConnections / max(1, group.makeIterator().reduce(0) { count, _ in count + 1 }))
        let database: Database
        switch location {
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ConfigurationError(field: "database.url", reason: "cannot create directory '\(directory)': \(error.localizedDescription)")
            }
            // Each connection has a thread of its own (SQLiteConnections, SQLiteWriter), so a statement waiting for
            // the write lock (busy_timeout) blocks only its connection's thread.
            let writer: SQLiteWriter
            do {
                writer = try SQLiteWriter(path: path, pragmas: sqlitePragmas, logger: logger)
            } catch {
                throw ConfigurationError(field: "database.url", reason: "cannot open \(location): \(String(describing: error))")
            }
            database = Database(
                location: location,
                pool: .sqlite(SQLiteConnections(path: path, limit: maxConnections, pragmas: sqlitePragmas, logger: logger), writer),
                logger: logger
            )
        case .postgres(let url):
            var configuration: SQLPostgresConfiguration
            do {
                configuration = try SQLPostgresConfiguration(url: url)
            } catch {
                throw ConfigurationError(field: "database.url", reason: "'\(Location.redacted(url))' is not a usable PostgreSQL URL: \(error)")
            }
            // postgres-kit sets it on every new connection (`SET search_path TO "a","b"`, quoted).
            configuration.searchPath = try Location.searchPath(ofPostgresURL: url, field: "database.url")
            database = Database(
                location: location,
                pool: .postgres(
                    EventLoopGroupConnectionPool(
                        source: PostgresConnectionSource(sqlConfiguration: configuration),
                        maxConnectionsPerEventLoop: perLoop,
                        pruneInterval: nil,
                        logger: logger,
                        on: group
                    )
                ),
                logger: logger
            )
        }
        do {
            try await database.withConnection { sql in try await sql.raw("SELECT 1").run() }
        } catch {
            try? await database.shutdown()
            throw ConfigurationError(field: "database.url", reason: "cannot connect to \(location): \(String(describing: error))")
        }
        if let schema = location.searchPath?.first {
            do {
                try await database.createSchema(schema)
            } catch {
                try? await database.shutdown()
                throw ConfigurationError(
                    field: "database.url",
                    reason: "cannot create schema \(schema) of search_path on \(location): \(String(describing: error))"
                )
            }
        }
        return database
    }

    /// `CREATE SCHEMA IF NOT EXISTS`, under a transaction-scoped advisory lock: two processes creating the same
    /// schema at once would otherwise race on `pg_namespace`'s unique index, and one of them fail.
    private func createSchema(_ name: String) async throws {
        try await transaction { sql in
            try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Self.schemaLockKey))").run()
            try await sql.raw("CREATE SCHEMA IF NOT EXISTS \(ident: name)").run()
        }
    }

    /// The advisory lock schema creators take (an arbitrary constant: "ichschem" in ASCII).
    static let schemaLockKey: Int64 = 0x6963_6873_6368_656D

    /// Runs `body` with one connection from the pool.
    public func withConnection<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch pool {
        case .sqlite(let connections, _):
            return try await connections.withConnection(body)
        case .postgres(let pool):
            return try await pool.withConnection(logger: logger) { connection in
                connection.eventLoop.makeFutureWithTask { try await body(connection.sql(queryLogLevel: .trace)) }
            }.get()
        }
    }

    /// Runs `body` — statements that write — with one connection. On SQLite it takes its turn with this process's
    /// transactions (``transaction(_:)``) instead of colliding with them and sleeping in SQLite's busy handler; on
    /// PostgreSQL it is ``withConnection(_:)``. For a write that is one statement (a batch of rows, say).
    public func write<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard case .sqlite(_, let writer) = pool else { return try await withConnection(body) }
        return try await writer.run(body)
    }

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled back when it throws.
    ///
    /// On SQLite, the transactions of this process run one at a time, in arrival order: SQLite has one writer, and a
    /// `BEGIN IMMEDIATE` that finds another transaction writing sleeps in the busy handler (up to 100 ms a nap)
    /// instead of queueing; they all run on one connection, the process's writer (`SQLiteWriter`). (Do not start a
    /// transaction inside another's body: on SQLite it fails at once — SQLite does not nest transactions; on
    /// PostgreSQL it is a second, independent transaction.) On PostgreSQL transactions run side by side.
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard case .sqlite(_, let writer) = pool else { return try await withConnection { try await Self.run(body, on: $0, begin: "BEGIN") } }
        return try await writer.run { try await Self.run(body, on: $0, begin: "BEGIN IMMEDIATE") }
    }

    private static func run<R: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> R,
        on sql: any SQLDatabase,
        begin: String
    ) async throws -> R {
        try await sql.raw(SQLQueryString(begin)).run()
        do {
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Closes every connection. Call it once the database is no longer used; a database released open is closed
    /// in the background with a warning (see `deinit`).
    public func shutdown() async throws {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try await Self.close(pool)
    }

    private static func close(_ pool: Pool) async throws {
        switch pool {
        case .sqlite(let connections, let writer):
            connections.close()
            await writer.close()
        case .postgres(let pool): try await pool.shutdownAsync()
        }
    }

    /// A database released without ``shutdown()`` — a code path that threw past it — is closed in the background
    /// rather than left to async-kit's pool, which traps when it is deinitialized open and takes the whole process
    /// (a server, or every test in a `swift test` run) down with it. The task holds the pool until it is closed.
    deinit {
        guard !isShutDown.load(ordering: .acquiring) else { return }
        logger.warning(
            "a database was released without shutdown(); closing its connections",
            metadata: ["database": "\(location.description)"]
        )
        let pool = pool
        Task { try? await Self.close(pool) }
    }
}

/// How every SQLite connection is tuned: a busy timeout (first, so that a connection opened while another one
/// switches the file to WAL waits for it instead of failing), WAL journal, `synchronous=NORMAL`, foreign keys.
let sqlitePragmas = ["PRAGMA busy_timeout = 10000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"]
