import Foundation
import InterchangeTesting
import Logging
import SQLKit
import Testing

@testable import Persistence

/// Whether the caller runs on the lent connection's own thread.
private func onItsThread(_ sql: any SQLDatabase) -> Bool { (sql as? DirectSQLiteDatabase)?.connection.thread.isCurrent == true }

@Suite("SQLite connections: one thread each, lent one at a time", .timeLimit(.minutes(1)))
struct SQLiteConnectionsTests {
    static func withConnections<T>(limit: Int, _ body: (SQLiteConnections) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let connections = SQLiteConnections(
            path: directory.appendingPathComponent("test.sqlite").path,
            limit: limit,
            pragmas: sqlitePragmas,
            logger: Logger(label: "test")
        )
        defer { connections.close() }
        return try await body(connections)
    }

    @Test("a body and every statement it runs stay on the lent connection's own thread: no hop per statement")
    func bodyRunsOnTheConnectionsThread() async throws {
        try await Self.withConnections(limit: 1) { connections in
            let places = try await connections.withConnection { sql in
                var places = [onItsThread(sql)]
                try await sql.raw("CREATE TABLE t (n INTEGER)").run()
                places.append(onItsThread(sql))
                for n in 0..<5 {
                    try await sql.raw("INSERT INTO t (n) VALUES (\(bind: n))").run()
                    places.append(onItsThread(sql))
                }
                _ = try await sql.raw("SELECT n FROM t").all()
                places.append(onItsThread(sql))
                return places
            }
            #expect(places == [Bool](repeating: true, count: 8), "on the connection's thread, step by step: \(places)")
        }
    }

    @Test("values round-trip as SQLite stores them; a missing column is an error naming it")
    func values() async throws {
        try await Self.withConnections(limit: 1) { connections in
            let row = try await connections.withConnection { sql in
                try await sql.raw(
                    "SELECT \(bind: Int64.max) AS i, \(bind: 2.5) AS f, \(bind: "zwölf 🚀") AS t, \(bind: Data([0, 1, 255])) AS b, NULL AS z"
                ).first()
            }
            let values = try #require(row)
            #expect(values.allColumns == ["i", "f", "t", "b", "z"])
            #expect(try values.decode(column: "i", as: Int64.self) == .max)
            #expect(try values.decode(column: "f", as: Double.self) == 2.5)
            #expect(try values.decode(column: "t", as: String.self) == "zwölf 🚀")
            #expect(try values.decode(column: "b", as: Data.self) == Data([0, 1, 255]))
            #expect(try values.decodeNil(column: "z"))
            #expect(try values.decode(column: "z", as: String?.self) == nil)
            #expect(!values.contains(column: "nope"))
            #expect(throws: DirectSQLiteRow.MissingColumn.self) { try values.decode(column: "nope", as: Int.self) }
        }
    }

    @Test("a failed statement reports SQLite's error and code; the connection and its cached statements stay usable")
    func errors() async throws {
        try await Self.withConnections(limit: 1) { connections in
            let failure = try await connections.withConnection { sql in
                try await sql.raw("CREATE TABLE t (id TEXT PRIMARY KEY)").run()
                try await sql.raw("INSERT INTO t (id) VALUES (\(bind: "a"))").run()
                do {
                    try await sql.raw("INSERT INTO t (id) VALUES (\(bind: "a"))").run()
                    return nil as String?
                } catch {
                    return String(describing: error)
                }
            }
            let message = try #require(failure, "the duplicate key was accepted")
            #expect(message.contains("UNIQUE constraint failed: t.id"), "\(message)")
            #expect(message.contains("(1555)"), "the extended code names the primary key: \(message)")
            // The same cached statement, reset after its failure, runs again.
            let count = try await connections.withConnection { sql in
                try await sql.raw("INSERT INTO t (id) VALUES (\(bind: "b"))").run()
                return try await sql.raw("SELECT count(*) AS n FROM t").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 2)
        }
    }

    @Test("more distinct statements than the cache holds all run (the cache empties and refills)")
    func statementCacheOverflow() async throws {
        try await Self.withConnections(limit: 1) { connections in
            let sums = try await connections.withConnection { sql in
                var sums: [Int] = []
                for n in 0..<(DirectSQLiteConnection.statementCacheLimit + 10) {
                    let row = try await sql.raw("SELECT \(unsafeRaw: String(n)) + 1 AS v").first()
                    sums.append(try row?.decode(column: "v", as: Int.self) ?? -1)
                }
                return sums
            }
            #expect(sums == Array(1...(DirectSQLiteConnection.statementCacheLimit + 10)))
        }
    }

    @Test("no more than the limit are opened: the next caller waits for a connection to be returned, then gets it")
    func limitAndWaiting() async throws {
        try await Self.withConnections(limit: 2) { connections in
            let gate = Gate()
            let inside = ConcurrencyProbe()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await connections.withConnection { sql in
                            inside.enter()
                            defer { inside.leave() }
                            try await sql.raw("SELECT 1").run()
                            await gate.wait()
                        }
                    }
                }
                try await waitUntil("two hold connections and one waits") { connections.waiting == 1 && inside.current == 2 }
                #expect(connections.opened == 2)
                gate.open()
                try await group.waitForAll()
            }
            #expect(inside.peak == 2)
            #expect(connections.opened == 2)
        }
    }

    @Test("closing fails the waiting callers and later ones with a clear error; a lent connection closes when returned")
    func closing() async throws {
        try await Self.withConnections(limit: 1) { connections in
            let gate = Gate()
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await connections.withConnection { sql in
                        await gate.wait()
                        try await sql.raw("SELECT 1").run()  // still open while lent
                        return nil
                    }
                }
                try await waitUntil("the connection is lent") { connections.opened == 1 }
                group.addTask {
                    do {
                        return try await connections.withConnection { _ in "got a connection" }
                    } catch {
                        return String(describing: error)
                    }
                }
                try await waitUntil("a caller waits") { connections.waiting == 1 }
                connections.close()
                gate.open()
                var outcomes: [String?] = []
                for try await outcome in group { outcomes.append(outcome) }
                #expect(outcomes.compactMap { $0 } == ["the database has been shut down"])
            }
            await #expect(throws: SQLiteConnections.Closed.self) { try await connections.withConnection { _ in 1 } }
        }
    }

    @Test("a stopped thread hands later jobs to the global executor: a task preferring it still finishes")
    func stoppedThread() async throws {
        let thread = SQLiteThread(name: "sqlite-test")
        @Sendable func here() async -> Bool { thread.isCurrent }
        let before = await withTaskExecutorPreference(thread) { await here() }
        thread.stop()
        try await waitUntil("the thread has ended") { thread.hasEnded }
        let after = await withTaskExecutorPreference(thread) { await here() }
        #expect(before)
        #expect(!after)
    }
}
