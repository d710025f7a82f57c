import Logging
import SQLKit

/// The one connection through which this process writes to an SQLite file, and the turns its writers take.
///
/// SQLite has one writer at a time, so the process's writers take turns (``SerialAccess``) — and they take them on
/// this connection's thread: a writer moves to the thread first and waits for its turn there, so the turn passes
/// from one transaction to the next with no thread switch, and a transaction holds it only while it runs (with the
/// turn taken before the move, the switches in and out were a third of the time the busiest database was held).
///
/// A write started inside another (the same task, holding the turn) runs at once on the same connection, inside
/// the outer one's transaction if it has one. Reads that need no turn use the pool (``SQLiteConnections``).
final class SQLiteWriter: Sendable {
    let turns = SerialAccess()
    private let connection: DirectSQLiteConnection
    private let logger: Logger

    init(path: String, pragmas: [String], logger: Logger) throws {
        self.connection = try DirectSQLiteConnection(path: path, pragmas: pragmas, threadName: "sqlite-writer")
        self.logger = logger
    }

    /// Runs `body` with the write connection, in turn.
    func run<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let sql = DirectSQLiteDatabase(connection: connection, logger: logger)
        return try await withTaskExecutorPreference(connection.thread) {
            try await turns.run { try await body(sql) }
        }
    }

    /// Closes the connection once the writer holding the turn, if any, is done; later writes fail.
    func close() async {
        try? await withTaskExecutorPreference(connection.thread) {
            try await turns.run { [connection] in connection.close() }
        }
    }
}
