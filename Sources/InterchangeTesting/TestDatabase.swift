import Foundation
import Logging
import Persistence

/// A fresh, empty database for one test: a temporary SQLite file, or a new database on the PostgreSQL server
/// whose URL is in `INTERCHANGE_TEST_POSTGRES_URL` (`make test` starts one and sets it).
///
/// ```swift
/// @Test(arguments: TestDatabase.kinds)
/// func recordsOnce(kind: TestDatabase.Kind) async throws {
///     try await TestDatabase.with(kind) { database in … }
/// }
/// ```
///
/// ``kinds`` always holds both databases, so no PostgreSQL variant is dropped silently:
/// - with `INTERCHANGE_TEST_POSTGRES_URL` set, the PostgreSQL variants run against that server;
/// - without it, every PostgreSQL variant fails, saying how to run it (``TestDatabaseError/postgresNotConfigured``);
/// - a developer without PostgreSQL opts out explicitly with `INTERCHANGE_SKIP_POSTGRES=1`: ``kinds`` is then
///   SQLite only, and one warning line on standard error says the PostgreSQL variants were skipped.
public enum TestDatabase {
    public enum Kind: String, Sendable, CustomStringConvertible, CaseIterable {
        case sqlite
        case postgres
        public var description: String { rawValue }
    }

    /// The kinds to test against here: SQLite and PostgreSQL, unless `INTERCHANGE_SKIP_POSTGRES=1`.
    public static var kinds: [Kind] { resolvedKinds }

    /// Read once, so the opt-out's warning is printed once per test run, not once per test.
    private static let resolvedKinds: [Kind] = {
        guard ProcessInfo.processInfo.environment["INTERCHANGE_SKIP_POSTGRES"] == "1" else { return [.sqlite, .postgres] }
        FileHandle.standardError.write(
            Data("warning: INTERCHANGE_SKIP_POSTGRES=1: the PostgreSQL variants of the database tests are skipped; only SQLite runs\n".utf8)
        )
        return [.sqlite]
    }()

    /// Runs `body` with a new, empty database of `kind`, and removes it afterwards.
    public static func with<T: Sendable>(_ kind: Kind, _ body: (Database) async throws -> T) async throws -> T {
        var logger = Logger(label: "test.database")
        logger.logLevel = .error
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try await Database.open(.sqlite(path: directory.appendingPathComponent("test.sqlite").path), logger: logger)
            return try await run(database, body)
        case .postgres:
            guard let base = ProcessInfo.processInfo.environment["INTERCHANGE_TEST_POSTGRES_URL"], !base.isEmpty else {
                throw TestDatabaseError.postgresNotConfigured
            }
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            let admin = try await Database.open(.postgres(url: base), maxConnections: 1, logger: logger)
            do {
                try await admin.withConnection { sql in try await sql.raw("CREATE DATABASE \(unsafeRaw: String(name))").run() }
            } catch {
                try? await admin.shutdown()
                throw error
            }
            var components = URLComponents(string: base)!
            components.path = "/\(name)"
            let result: Result<T, any Error>
            do {
                let database = try await Database.open(.postgres(url: components.string!), logger: logger)
                result = .success(try await run(database, body))
            } catch {
                result = .failure(error)
            }
            try? await admin.withConnection { sql in try await sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: String(name)) WITH (FORCE)").run() }
            try? await admin.shutdown()
            return try result.get()
        }
    }

    private static func run<T: Sendable>(_ database: Database, _ body: (Database) async throws -> T) async throws -> T {
        do {
            let result = try await body(database)
            try await database.shutdown()
            return result
        } catch {
            try? await database.shutdown()
            throw error
        }
    }
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// A PostgreSQL variant ran without a server to run on.
    public static let postgresNotConfigured = TestDatabaseError(
        "INTERCHANGE_TEST_POSTGRES_URL is not set, so this PostgreSQL variant cannot run. Run the tests with `make test` "
            + "(it starts a throwaway PostgreSQL and sets the URL), or set INTERCHANGE_TEST_POSTGRES_URL="
            + "postgres://USER@HOST:PORT/postgres?sslmode=disable to a server where the user may create databases, "
            + "or skip the PostgreSQL variants explicitly with INTERCHANGE_SKIP_POSTGRES=1."
    )
}
