import Foundation
import FulfillmentEvents
import InterchangeCore
import Persistence
import SQLKit
import Sagas

/// The orders service's own table — `fulfillment_orders`, one row per order with its lines, status and reason — in
/// one SQL implementation for SQLite and PostgreSQL, beside the `Sagas` engine's tables (`sagas`, `saga_log`: each
/// order's saga, its timeline and deadline) in the same database, so an order's status and its saga commit together.
///
/// ```swift
/// let store = OrdersStore(database: database)
/// try await store.prepare()
/// let order = try await store.order(id: "ord_…")
/// ```
public struct OrdersStore: Sendable {
    public let database: Database
    public let now: @Sendable () -> Date

    static let table = "fulfillment_orders"
    /// The columns of an order, named (never `*`): an SQLite connection opened before a migration dropped columns
    /// reads a `SELECT *` row with the old column list over the new values (seen: `created_at` read as null).
    static let columns = ["id", "user_id", "lines", "total_cents", "currency", "status", "reason", "saga_style", "created_at", "updated_at"]

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    /// The schema, oldest first, the saga engine's tables (``SagaStore/migrations``) included where the orders table
    /// moved into them. Amounts in cents; times in milliseconds since 1970.
    public static let migrations: [Migration] = [ordersTableMigration] + SagaStore.migrations + [sagaTablesMigration]

    /// The first layout: the saga kept in the orders table.
    static let ordersTableMigration =
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

    /// Where the sagas are kept (the `Sagas` engine's tables, in orders' database).
    static let sagas = SagaStore()

    /// Moves the saga out of `fulfillment_orders` into the `Sagas` engine's tables: every saga, finished or not, is
    /// carried over as it was (replies held for a later step are held by the instance now, choreographed sagas get
    /// their definition's own name), then the columns go. Needs ``SagaStore/migrations`` first.
    static let sagaTablesMigration = Migration("fulfillment-orders-2-saga-tables") { sql, _ in
        let rows = try await sql.select().columns(OrdersStore.columns + ["saga", "saga_pending"]).from(OrdersStore.table).all()
        for row in rows {
            let order = try OrdersStore.order(row)
            let reader = try StoredRow(row, table: OrdersStore.table)
            var state = try reader.decode("saga", as: String.self)
            var instance: SagaInstance
            do {
                // Both styles ran under one definition name then; the tracker's sagas have their own now.
                if order.sagaStyle == .choreography, var object = try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any] {
                    object["definition"] = OrderSagaDefinition.choreographed
                    state = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                }
                instance = try JSONDecoder().decode(SagaInstance.self, from: Data(state.utf8))
            } catch {
                throw UnreadableRowError(table: OrdersStore.table, row: order.id, column: "saga", reason: "is not a saga instance's JSON: \(error)")
            }
            let date = order.updatedAt
            for input in try reader.decodeJSON("saga_pending", as: [SagaInput].self) { _ = instance.apply(input, at: date) }
            let context = String(decoding: try JSONEncoder().encode(OrderSagaContext(order)), as: UTF8.self)
            try await OrdersStore.sagas.insert(instance, context: context, at: date, in: sql)
        }
        try await sql.drop(index: "fulfillment_orders_deadline").run()
        for column in ["saga", "saga_pending", "saga_deadline"] {
            try await sql.raw("ALTER TABLE \(ident: OrdersStore.table) DROP COLUMN \(ident: column)").run()
        }
    }

    /// Applies the migrations, the saga engine's included (safe from several processes at once).
    public func prepare() async throws {
        try await database.migrate(Self.migrations)
    }

    /// Inserts `order` on `sql` (the caller's transaction, which also starts its saga).
    func insert(_ order: Order, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table)
            .columns(Self.columns)
            .values(
                SQLBind(order.id),
                SQLBind(order.userId),
                SQLBind(try Self.json(order.lines)),
                SQLBind(order.totalCents),
                SQLBind(order.currency),
                SQLBind(order.status.rawValue),
                SQLBind(order.reason),
                SQLBind(order.sagaStyle.rawValue),
                SQLBind(order.createdAt.millisecondsSince1970),
                SQLBind(order.updatedAt.millisecondsSince1970)
            )
            .run()
    }

    /// The order; nil when there is none.
    ///
    /// - Throws: ``UnreadableRowError`` when its row cannot be read.
    public func order(id: String) async throws -> Order? {
        try await database.withConnection { sql in try await self.order(id: id, in: sql) }
    }

    /// The order, read on `sql` (inside a transaction: what it wrote so far).
    func order(id: String, in sql: any SQLDatabase) async throws -> Order? {
        try await sql.select().columns(Self.columns).from(Self.table).where("id", .equal, id).first().map(Self.order)
    }

    /// The order with its saga; nil when there is none.
    public func orderWithSaga(id: String) async throws -> (Order, SagaInstance)? {
        try await database.withConnection { sql in
            guard let order = try await self.order(id: id, in: sql) else { return nil }
            guard let saga = try await Self.sagas.load(id: id, in: sql) else {
                throw UnreadableRowError(table: "sagas", row: id, column: "id", reason: "order \(id) has no saga")
            }
            return (order, saga.instance)
        }
    }

    /// Writes the order's status (and reason: nil unless cancelled), stamping `updated_at`, on `sql` — the saga's
    /// transaction.
    func setStatus(_ status: OrderStatus, reason: String? = nil, of id: String, at date: Date, in sql: any SQLDatabase) async throws {
        try await sql.update(Self.table)
            .set("status", to: SQLBind(status.rawValue))
            .set("reason", to: SQLBind(reason))
            .set("updated_at", to: SQLBind(date.millisecondsSince1970))
            .where("id", .equal, id)
            .run()
    }

    /// The most recent orders, newest first; only `userId`'s when given.
    public func orders(userId: String? = nil, limit: Int = 100) async throws -> [Order] {
        let rows = try await database.withConnection { sql in
            var query = sql.select().columns(Self.columns).from(Self.table)
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

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
