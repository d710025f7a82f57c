import Logging
import SQLKit
import Synchronization

/// Up to `limit` connections to one SQLite file, opened when first needed, each lent to one task at a time; a
/// task that finds all of them lent waits for the next one returned, in arrival order.
///
/// ``withConnection(_:)`` runs its body on the lent connection's own thread (``SQLiteThread``), where SQLKit's
/// statements run as blocking calls (``DirectSQLiteDatabase``).
final class SQLiteConnections: Sendable {
    private struct State {
        var idle: [DirectSQLiteConnection] = []
        var opened = 0
        var waiters: [CheckedContinuation<Handoff, Never>] = []
        var closed = false
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the database has been shut down" }
    }

    let path: String
    let limit: Int
    private let pragmas: [String]
    private let logger: Logger
    private let state = Mutex(State())

    /// How many tasks wait for a connection.
    var waiting: Int { state.withLock { $0.waiters.count } }
    /// How many connections are open (lent or idle).
    var opened: Int { state.withLock { $0.opened } }

    init(path: String, limit: Int, pragmas: [String], logger: Logger) {
        self.path = path
        self.limit = max(1, limit)
        self.pragmas = pragmas
        self.logger = logger
    }

    func withConnection<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let connection = try await acquire()
        defer { release(connection) }
        let sql = DirectSQLiteDatabase(connection: connection, logger: logger)
        return try await withTaskExecutorPreference(connection.thread) { try await body(sql) }
    }

    /// Closes the idle connections at once and the lent ones when they are returned; waiting tasks fail.
    func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.resume(returning: .closed) }
    }

    /// What a waiting task is handed: a connection, the room to open one (an open failed), or the end.
    private enum Handoff {
        case lent(DirectSQLiteConnection)
        case open
        case closed
    }

    /// A connection, the room to open one, or the end — nil when the caller must wait (then it is queued).
    private func grant(queueing continuation: CheckedContinuation<Handoff, Never>? = nil) -> Handoff? {
        state.withLock { state in
            if state.closed { return .closed }
            if let connection = state.idle.popLast() { return .lent(connection) }
            if state.opened < limit {
                state.opened += 1
                return .open
            }
            if let continuation { state.waiters.append(continuation) }
            return nil
        }
    }

    private func acquire() async throws -> DirectSQLiteConnection {
        let handoff: Handoff
        if let now = grant() {
            handoff = now
        } else {
            handoff = await withCheckedContinuation { continuation in
                if let now = grant(queueing: continuation) { continuation.resume(returning: now) }
            }
        }
        switch handoff {
        case .lent(let connection): return connection
        case .closed: throw Closed()
        case .open:
            do {
                let number = state.withLock { $0.opened }
                return try DirectSQLiteConnection(path: path, pragmas: pragmas, threadName: "sqlite-\(number)")
            } catch {
                // The room goes to the next waiter, who tries again (and reports its own error).
                let waiter = state.withLock { state -> CheckedContinuation<Handoff, Never>? in
                    state.opened -= 1
                    guard !state.waiters.isEmpty else { return nil }
                    state.opened += 1
                    return state.waiters.removeFirst()
                }
                waiter?.resume(returning: .open)
                throw error
            }
        }
    }

    private func release(_ connection: DirectSQLiteConnection) {
        let next = state.withLock { state -> CheckedContinuation<Handoff, Never>?? in
            if state.closed { return .none }
            guard !state.waiters.isEmpty else {
                state.idle.append(connection)
                return .some(nil)
            }
            return .some(state.waiters.removeFirst())
        }
        switch next {
        case .none: connection.close()
        case .some(nil): break
        case .some(let waiter?): waiter.resume(returning: .lent(connection))
        }
    }
}
