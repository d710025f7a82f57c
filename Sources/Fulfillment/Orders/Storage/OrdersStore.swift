import Foundation
import FulfillmentEvents
import InterchangeCore
import Persistence
import SQLKit
import Sagas

/// The orders service's own table — `fulfillment_orders`, one row per order with its lines and its saga (the `Sagas`
/// state machine's ``SagaInstance``, its timeline included) as JSON — in one SQL implementation for SQLite and
/// PostgreSQL. The saga is written in the same transaction as the outbox rows its actions produce, and
/// `saga_deadline` (the instance's pending deadline) is a column so the scanner finds due ones by index.
///
/// ```swift
/// let store = OrdersStore(database: database)
/// try await store.prepare()
/// let order = try await store.database.transaction { sql in try await store.insert(newOrder, in: sql) }
/// ```
public struct OrdersStore: Sendable {
    public let database: Database
    public let now: @Sendable () -> Date

    static let table = "fulfillment_orders"

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    /// The schema, oldest first. Amounts in cents; times in milliseconds since 1970.
    public static let migrations: [Migration] = [
        Migration("fulfillment-orders-1") { sql, _ in
            try await sql.create(table: OrdersStore.table)
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("user_id", type: .text, .notNull)
                .column("lines", type: .text, .notNull)
                .column("total_cents", type: .bigint, .notNull)
                .column("currency", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("reason", type: .text)
                .column("saga_style", type: .text, .notNull)
                // The SagaInstance as JSON, the replies that arrived before their step (JSON [SagaInput]), and the
                // instance's pending deadline (ms) for the scanner.
                .column("saga", type: .text, .notNull)
                .column("saga_pending", type: .text, .notNull)
                .column("saga_deadline", type: .bigint)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.create(index: "fulfillment_orders_created").on(OrdersStore.table).column("created_at").run()
            try await sql.create(index: "fulfillment_orders_user").on(OrdersStore.table).column("user_id").run()
            try await sql.create(index: "fulfillment_orders_deadline").on(OrdersStore.table).column("saga_deadline").run()
        }
    ]

    /// Applies the migrations (safe from several processes at once).
    public func prepare() async throws {
        try await database.migrate(Self.migrations)
    }

    /// Inserts `order` with its saga on `sql` (the caller's transaction, which also appends the saga's first events).
    func insert(_ order: Order, saga: SagaRecord, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table)
            .columns(
                "id",
                "user_id",
                "lines",
                "total_cents",
                "currency",
                "status",
                "reason",
                "saga_style",
                "saga",
                "saga_pending",
                "saga_deadline",
                "created_at",
                "updated_at"
            )
            .values(
                SQLBind(order.id),
                SQLBind(order.userId),
                SQLBind(try Self.json(order.lines)),
                SQLBind(order.totalCents),
                SQLBind(order.currency),
                SQLBind(order.status.rawValue),
                SQLBind(order.reason),
                SQLBind(order.sagaStyle.rawValue),
                SQLBind(try Self.json(saga.instance)),
                SQLBind(try Self.json(saga.pending)),
                SQLBind(saga.instance.deadline?.at.millisecondsSince1970),
                SQLBind(order.createdAt.millisecondsSince1970),
                SQLBind(order.updatedAt.millisecondsSince1970)
            )
            .run()
    }

    /// The order; nil when there is none.
    ///
    /// - Throws: ``UnreadableRowError`` when its row cannot be read.
    public func order(id: String) async throws -> Order? {
        let row = try await database.withConnection { sql in try await sql.select().column("*").from(Self.table).where("id", .equal, id).first() }
        return try row.map(Self.order)
    }

    /// The order, its row locked until `sql`'s transaction ends (PostgreSQL `FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`
    /// already holds the write lock), so two updates of one order never interleave.
    func lockOrder(id: String, in sql: any SQLDatabase) async throws -> (Order, SagaRecord)? {
        let row = try await sql.select().column("*").from(Self.table).where("id", .equal, id).for(.update).first()
        return try row.map { row in (try Self.order(row), try Self.saga(row)) }
    }

    /// The order with its saga; nil when there is none.
    public func orderWithSaga(id: String) async throws -> (Order, SagaInstance)? {
        let row = try await database.withConnection { sql in try await sql.select().column("*").from(Self.table).where("id", .equal, id).first() }
        return try row.map { row in (try Self.order(row), try Self.saga(row).instance) }
    }

    /// Ids of orders whose saga deadline is at or before `date`, earliest first.
    func dueDeadlines(at date: Date, limit: Int) async throws -> [String] {
        let rows = try await database.withConnection { sql in
            try await sql.select().column("id").from(Self.table)
                .where("saga_deadline", .isNot, SQLLiteral.null)
                .where("saga_deadline", .lessThanOrEqual, SQLBind(date.millisecondsSince1970))
                .orderBy("saga_deadline").limit(limit).all()
        }
        return try rows.map { try $0.decode(column: "id", as: String.self) }
    }

    /// Writes the order's status, reason and saga, stamping `updated_at`.
    func save(_ order: Order, saga: SagaRecord, in sql: any SQLDatabase) async throws {
        try await sql.update(Self.table)
            .set("status", to: SQLBind(order.status.rawValue))
            .set("reason", to: SQLBind(order.reason))
            .set("saga", to: SQLBind(try Self.json(saga.instance)))
            .set("saga_pending", to: SQLBind(try Self.json(saga.pending)))
            .set("saga_deadline", to: SQLBind(saga.instance.deadline?.at.millisecondsSince1970))
            .set("updated_at", to: SQLBind(order.updatedAt.millisecondsSince1970))
            .where("id", .equal, order.id)
            .run()
    }

    /// The most recent orders, newest first; only `userId`'s when given.
    public func orders(userId: String? = nil, limit: Int = 100) async throws -> [Order] {
        let rows = try await database.withConnection { sql in
            var query = sql.select().column("*").from(Self.table)
            if let userId { query = query.where("user_id", .equal, userId) }
            return try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).all()
        }
        return try rows.map(Self.order)
    }

    /// Asks the database `SELECT 1`.
    public func ping() async throws {
        try await database.withConnection { sql in try await sql.raw("SELECT 1").run() }
    }

    static func order(_ row: any SQLRow) throws -> Order {
        let reader = try StoredRow(row, table: table)
        return Order(
            id: reader.id,
            userId: try reader.decode("user_id"),
            lines: try reader.decodeJSON("lines", as: [OrderLine].self),
            totalCents: try reader.decode("total_cents"),
            currency: try reader.decode("currency"),
            status: try reader.decodeRawValue("status", as: OrderStatus.self),
            reason: try reader.decode("reason", as: String?.self),
            sagaStyle: try reader.decodeRawValue("saga_style", as: FulfillmentSagaStyle.self),
            createdAt: try reader.decodeDate("created_at"),
            updatedAt: try reader.decodeDate("updated_at")
        )
    }

    static func saga(_ row: any SQLRow) throws -> SagaRecord {
        let reader = try StoredRow(row, table: table)
        return SagaRecord(
            instance: try reader.decodeJSON("saga", as: SagaInstance.self),
            pending: try reader.decodeJSON("saga_pending", as: [SagaInput].self)
        )
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
