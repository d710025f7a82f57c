import Foundation
import InterchangeCore
import Persistence
import SQLKit

/// The shop's data — catalog, orders and their lines, checkout sessions and payments, processed Stripe events,
/// order timelines, settings — in one SQL implementation for SQLite and PostgreSQL (SQLKit).
///
/// ```swift
/// let store = ShopStore(database: database)
/// try await store.prepare()                                   // migrate, seed the catalog
/// let order = try await store.createOrder(lines: [(productID: "prod_mug", quantity: 2)])
/// switch try await store.checkoutAttempt(orderID: order.id) {
/// case .reuse(let session): …                                 // hand out session.url again
/// case .create(let attempt, let expiresAt, let order): …      // open it (Idempotency-Key from order + attempt), then
///     _ = try await store.recordCheckoutSession(orderID: order.id, session: ref)
/// }
/// let outcome = try await store.apply(event: try StripeEvent(json: payload))
/// ```
///
/// Every change to an order runs in one transaction that locks the order's row (PostgreSQL `SELECT … FOR UPDATE`;
/// SQLite serializes writers with `BEGIN IMMEDIATE`), so concurrent events for one order never lose an update, and
/// an event id is inserted into `shop_stripe_events` first, so the same event applied twice has one effect.
public final class ShopStore: Sendable {
    /// Where the shop's tables live (SQLite or PostgreSQL); the caller opens it and closes it.
    public let database: Database
    /// The clock that stamps orders and timelines and decides whether a session is still open; tests pass a manual one.
    public let now: @Sendable () -> Date

    /// Test seam: runs inside ``apply(event:)``'s transaction right after the event id was claimed, so a test can
    /// hold that transaction open and make other deliveries of the event overlap with it for real.
    let afterEventClaimed: @Sendable (_ eventID: String) async -> Void

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
        self.afterEventClaimed = { _ in }
    }

    init(database: Database, now: @escaping @Sendable () -> Date, afterEventClaimed: @escaping @Sendable (_ eventID: String) async -> Void) {
        self.database = database
        self.now = now
        self.afterEventClaimed = afterEventClaimed
    }

    /// Migrates the schema and seeds the catalog when it is empty (safe to run from several processes at once).
    public func prepare() async throws {
        try await database.migrate(Self.migrations)
        try await database.transaction { sql in
            guard try await sql.select().column("id").from("shop_products").limit(1).first() == nil else { return }
            for (position, product) in ShopCatalog.seed.enumerated() {
                try await sql.insert(into: "shop_products")
                    .columns("id", "position", "name", "description", "unit_amount", "currency")
                    .values(
                        SQLBind(product.id),
                        SQLBind(position),
                        SQLBind(product.name),
                        SQLBind(product.description),
                        SQLBind(product.unitAmount),
                        SQLBind(product.currency)
                    )
                    .ignoringConflicts(with: ["id"])
                    .run()
            }
        }
    }

    /// The catalog, in display order.
    ///
    /// - Throws: ``UnreadableRowError`` when a stored product cannot be read.
    public func products() async throws -> [Product] {
        let rows = try await database.withConnection { sql in
            try await sql.select().columns("id", "name", "description", "unit_amount", "currency").from("shop_products")
                .orderBy("position").orderBy("id").all()
        }
        return try rows.map(Self.product)
    }

    /// A stored setting; nil when unset.
    public func setting(_ key: String) async throws -> String? {
        let row = try await database.withConnection { sql in
            try await sql.select().columns("key", "value").from("shop_settings").where("key", .equal, key).first()
        }
        return try row.map { try StoredRow($0, table: "shop_settings", idColumn: "key").decode("value", as: String.self) }
    }

    /// Stores a setting, replacing any value.
    public func setSetting(_ key: String, _ value: String) async throws {
        let timestamp = now().millisecondsSince1970
        try await database.withConnection { sql in
            try await sql.insert(into: "shop_settings")
                .columns("key", "value", "updated_at")
                .values(SQLBind(key), SQLBind(value), SQLBind(timestamp))
                .onConflict(with: ["key"]) { $0.set(excludedValueOf: "value").set(excludedValueOf: "updated_at") }
                .run()
        }
    }

    /// Asks the database `SELECT 1`: the shop's health check, and how a failed request tells an outage from a bug.
    ///
    /// - Throws: the database's error when it does not answer.
    public func ping() async throws {
        try await database.withConnection { sql in try await sql.raw("SELECT 1").run() }
    }

    static func product(_ row: any SQLRow) throws -> Product {
        let reader = try StoredRow(row, table: "shop_products")
        return Product(
            id: reader.id,
            name: try reader.decode("name"),
            description: try reader.decode("description"),
            unitAmount: try reader.decode("unit_amount"),
            currency: try reader.decode("currency")
        )
    }
}
