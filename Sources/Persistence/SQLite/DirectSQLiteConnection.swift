import NIOCore
import NIOPosix
import SQLiteNIO
import VaporCSQLite

/// One SQLite connection driven by plain blocking calls, its prepared statements kept, and the thread its users'
/// tasks run on (``SQLiteThread``).
///
/// The library is the one sqlite-nio vendors (`VaporCSQLite`, symbols prefixed `sqlite_nio_`): one copy of SQLite
/// per process, so its file locks stay coherent with any connection sqlite-nio opens. sqlite-nio itself hands
/// every statement to a thread pool and the result back (two thread switches per statement, and with its
/// `EventLoopFuture` API one more per row); this type is what Interchange uses instead, for the same file format
/// and the same values (`SQLiteData`, decoded by sqlite-kit's `SQLiteDataDecoder`).
///
/// Not thread-safe by itself: ``SQLiteConnections`` and ``SQLiteWriter`` lend it to one task at a time.
final class DirectSQLiteConnection: @unchecked Sendable {
    let thread: SQLiteThread
    /// The event loop SQLKit's `EventLoopFuture` API is answered on.
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Prepared statements kept per connection; past this the cache is emptied and refilled.
    static let statementCacheLimit = 256

    /// Opens (creating when missing) the database file at `path` and applies `pragmas`, in order.
    init(path: String, pragmas: [String], threadName: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(handle)
            throw DirectSQLiteError(code: status, message: message)
        }
        self.handle = handle
        self.thread = SQLiteThread(name: threadName)
        do {
            for pragma in pragmas { try execute(pragma, []) { _ in } }
        } catch {
            close()
            throw error
        }
    }

    /// Runs one statement with `binds` for its `?` placeholders, handing each result row to `onRow`.
    func execute(_ sql: String, _ binds: [SQLiteData], onRow: (DirectSQLiteRow) throws -> Void) throws {
        guard let handle else { throw DirectSQLiteError(code: SQLITE_MISUSE, message: "the connection is closed") }
        let statement = try prepared(sql, on: handle)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            try check(bind(value, at: Int32(index + 1), of: statement), on: handle)
        }
        var columns: DirectSQLiteRow.Columns?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw error(status, on: handle) }
            let names = columns ?? Self.columns(of: statement)
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.names.count)
            for index in 0..<Int32(names.names.count) { values.append(try value(at: index, of: statement)) }
            try onRow(DirectSQLiteRow(columns: names, values: values))
        }
    }

    /// Finalizes the statements, closes the file and lets the thread end.
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
        thread.stop()
    }

    private func prepared(_ sql: String, on handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.statementCacheLimit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll(keepingCapacity: true)
        }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK else { throw error(status, on: handle) }
        // Whitespace or a comment alone prepares to no statement.
        guard let statement else {
            throw DirectSQLiteError(code: SQLITE_MISUSE, message: "'\(sql.prefix(80))' holds no statement")
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteData, at index: Int32, of statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let value): sqlite_nio_sqlite3_bind_int64(statement, index, Int64(value))
        case .float(let value): sqlite_nio_sqlite3_bind_double(statement, index, value)
        case .text(let value):
            sqlite_nio_sqlite3_bind_text64(statement, index, value, UInt64(value.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let value):
            value.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), Self.transient)
            }
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private func value(at index: Int32, of statement: OpaquePointer) throws -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, index) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }

    private static func columns(of statement: OpaquePointer) -> DirectSQLiteRow.Columns {
        let count = sqlite_nio_sqlite3_column_count(statement)
        return DirectSQLiteRow.Columns(names: (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) })
    }

    private func check(_ status: Int32, on handle: OpaquePointer) throws {
        guard status == SQLITE_OK else { throw error(status, on: handle) }
    }

    private func error(_ status: Int32, on handle: OpaquePointer) -> DirectSQLiteError {
        DirectSQLiteError(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An error SQLite reported: its (extended) result code, the code's name and SQLite's message.
struct DirectSQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { "\(String(cString: sqlite_nio_sqlite3_errstr(code))) (\(code)): \(message)" }
}
