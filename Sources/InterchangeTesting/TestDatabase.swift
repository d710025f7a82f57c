import Foundation
import Logging
import Persistence

/// A fresh, empty database for one test: a temporary SQLite file, or a new database on the PostgreSQL server
/// `make test` starts (its URL in `INTERCHANGE_TEST_POSTGRES_URL`).
///
/// ```swift
/// @Test(arguments: TestDatabase.kinds)
/// func recordsOnce(kind: TestDatabase.Kind) async throws {
///     try await TestDatabase.with(kind) { database in … }
/// }
/// ```
///
/// Without `INTERCHANGE_TEST_POSTGRES_URL`, ``kinds`` is SQLite only — unless `INTERCHANGE_REQUIRE_POSTGRES=1`
/// (set by `make test`), in which case PostgreSQL stays in and fails loudly rather than being skipped.
public enum TestDatabase {
    public enum Kind: String, Sendable, CustomStringConvertible, CaseIterable {
        case sqlite
        case postgres
        public var description: String { rawValue }
    }

    /// The kinds to test against here.
    public static var kinds: [Kind] {
        let environment = ProcessInfo.processInfo.environment
        if environment["INTERCHANGE_TEST_POSTGRES_URL"] != nil || environment["INTERCHANGE_REQUIRE_POSTGRES"] == "1" {
            return [.sqlite, .postgres]
        }
        return [.sqlite]
    }

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
            guard let base = ProcessInfo.processInfo.environment["INTERCHANGE_TEST_POSTGRES_URL"] else {
                throw TestDatabaseError("INTERCHANGE_REQUIRE_POSTGRES=1 but INTERCHANGE_TEST_POSTGRES_URL is not set; run the tests with `make test`")
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
}
