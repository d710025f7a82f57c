import Foundation
import Persistence
import SQLKit

/// The payments service's own tables (SQLite or PostgreSQL through `Persistence`): `payments` (one per order),
/// `payment_orders` (what `order.created` said) and `payment_tombstones` (orders refunded or cancelled: a later
/// charge for them is refused). Every write takes the caller's transaction (`sql`), so it commits with the inbox row
/// and the outbox rows of the handler that made it.
public struct PaymentStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Oldest first. Amounts are cents; times are milliseconds since 1970.
    public static let migrations: [Migration] = [
        Migration("fulfillment-payments-1") { sql, _ in
            try await sql.create(table: "payments")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("order_id", type: .text, .notNull, .unique)
                .column("user_id", type: .text, .notNull)
                .column("amount_cents", type: .bigint, .notNull)
                .column("currency", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("provider", type: .text, .notNull)
                .column("provider_payment_id", type: .text)
                .column("refund_id", type: .text)
                .column("refunded_cents", type: .bigint, .notNull)
                .column("reason", type: .text)
                .column("decline_code", type: .text)
                .column("created_at", type: .bigint, .notNull)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.create(index: "payments_created").on("payments").column("created_at").run()
            try await sql.create(table: "payment_orders")
                .column("order_id", type: .text, .primaryKey(autoIncrement: false))
                .column("user_id", type: .text, .notNull)
                .column("amount_cents", type: .bigint, .notNull)
                .column("currency", type: .text, .notNull)
                .column("saga_style", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            // One row per order the handlers touched, locked first by each of them (an upsert takes the row lock on
            // PostgreSQL), so a charge and a refund of one order never interleave.
            try await sql.create(table: "payment_order_locks")
                .column("order_id", type: .text, .primaryKey(autoIncrement: false))
                .run()
            try await sql.create(table: "payment_tombstones")
                .column("order_id", type: .text, .primaryKey(autoIncrement: false))
                .column("reason", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
        }
    ]

    /// Migrates the tables (and the inbox and outbox the handlers write in the same database).
    public func prepare() async throws {
        try await database.migrate(Self.migrations)
    }

    public func ping() async throws {
        try await database.withConnection { sql in _ = try await sql.raw("SELECT 1 AS one").all() }
    }

    // MARK: Reads

    public func payment(id: String) async throws -> Payment? {
        try await database.withConnection { sql in
            try await sql.raw("SELECT * FROM payments WHERE id = \(bind: id)").first().map(Self.payment)
        }
    }

    /// Newest first; with `orderID`, that order's.
    public func payments(orderID: String? = nil, limit: Int = 100) async throws -> [Payment] {
        try await database.withConnection { sql in
            let rows: [any SQLRow]
            if let orderID {
                rows = try await sql.raw("SELECT * FROM payments WHERE order_id = \(bind: orderID)").all()
            } else {
                rows = try await sql.raw("SELECT * FROM payments ORDER BY created_at DESC, id LIMIT \(bind: limit)").all()
            }
            return try rows.map(Self.payment)
        }
    }

    public func payment(orderID: String, in sql: any SQLDatabase) async throws -> Payment? {
        try await sql.raw("SELECT * FROM payments WHERE order_id = \(bind: orderID)").first().map(Self.payment)
    }

    /// Every payment, for invariant checks.
    public func allPayments() async throws -> [Payment] {
        try await database.withConnection { sql in
            try await sql.raw("SELECT * FROM payments ORDER BY created_at, id").all().map(Self.payment)
        }
    }

    // MARK: Writes (in the caller's transaction)

    public func insert(_ payment: Payment, in sql: any SQLDatabase) async throws {
        let values: [any Encodable & Sendable] = [
            payment.id, payment.orderID, payment.userID, payment.amountCents, payment.currency, payment.status.rawValue, payment.provider,
            payment.providerPaymentID, payment.refundID, payment.refundedCents, payment.reason, payment.declineCode,
            payment.createdAt.millisecondsSince1970, payment.updatedAt.millisecondsSince1970,
        ]
        try await sql.raw(
            """
            INSERT INTO payments (id, order_id, user_id, amount_cents, currency, status, provider, provider_payment_id, refund_id,
                refunded_cents, reason, decline_code, created_at, updated_at) VALUES (\(binds: values))
            """
        ).run()
    }

    /// Takes `orderID`'s lock row for the rest of `sql`'s transaction (SQLite's transactions are serial already).
    public func lock(orderID: String, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO payment_order_locks (order_id) VALUES (\(bind: orderID))
            ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id
            """
        ).run()
    }

    /// Writes every column of `payment` (by id).
    public func update(_ payment: Payment, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            UPDATE payments SET status = \(bind: payment.status.rawValue), provider_payment_id = \(bind: payment.providerPaymentID),
                refund_id = \(bind: payment.refundID), refunded_cents = \(bind: payment.refundedCents), reason = \(bind: payment.reason),
                decline_code = \(bind: payment.declineCode), updated_at = \(bind: payment.updatedAt.millisecondsSince1970)
            WHERE id = \(bind: payment.id)
            """
        ).run()
    }

    /// Marks the charged payment `id` refunded.
    public func markRefunded(id: String, refundID: String, cents: Int, at date: Date, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            UPDATE payments SET status = \(bind: Payment.Status.refunded.rawValue), refund_id = \(bind: refundID),
                refunded_cents = \(bind: cents), updated_at = \(bind: date.millisecondsSince1970)
            WHERE id = \(bind: id) AND status = \(bind: Payment.Status.charged.rawValue)
            """
        ).run()
    }

    /// Records that `orderID` was refunded or cancelled; false when it already was.
    @discardableResult
    public func tombstone(orderID: String, reason: String, at date: Date, in sql: any SQLDatabase) async throws -> Bool {
        let values: [any Encodable & Sendable] = [orderID, reason, date.millisecondsSince1970]
        return try await sql.raw(
            """
            INSERT INTO payment_tombstones (order_id, reason, created_at) VALUES (\(binds: values))
            ON CONFLICT (order_id) DO NOTHING RETURNING order_id
            """
        ).first() != nil
    }

    /// Why `orderID` was closed (refunded or cancelled), or nil when it is not.
    public func tombstone(orderID: String, in sql: any SQLDatabase) async throws -> String? {
        try await sql.raw("SELECT reason FROM payment_tombstones WHERE order_id = \(bind: orderID)").first()?.decode(
            column: "reason",
            as: String.self
        )
    }

    /// Remembers what `order.created` said (the first time; a redelivery changes nothing).
    public func remember(_ order: PaymentOrder, at date: Date, in sql: any SQLDatabase) async throws {
        let values: [any Encodable & Sendable] = [
            order.orderID, order.userID, order.amountCents, order.currency, order.sagaStyle, date.millisecondsSince1970,
        ]
        try await sql.raw(
            """
            INSERT INTO payment_orders (order_id, user_id, amount_cents, currency, saga_style, created_at) VALUES (\(binds: values))
            ON CONFLICT (order_id) DO NOTHING
            """
        ).run()
    }

    public func order(orderID: String, in sql: any SQLDatabase) async throws -> PaymentOrder? {
        guard let row = try await sql.raw("SELECT * FROM payment_orders WHERE order_id = \(bind: orderID)").first() else { return nil }
        let reader = try StoredRow(row, table: "payment_orders", idColumn: "order_id")
        return PaymentOrder(
            orderID: reader.id,
            userID: try reader.decode("user_id"),
            amountCents: try reader.decode("amount_cents"),
            currency: try reader.decode("currency"),
            sagaStyle: try reader.decode("saga_style")
        )
    }

    static func payment(_ row: any SQLRow) throws -> Payment {
        let reader = try StoredRow(row, table: "payments")
        return Payment(
            id: reader.id,
            orderID: try reader.decode("order_id"),
            userID: try reader.decode("user_id"),
            amountCents: try reader.decode("amount_cents"),
            currency: try reader.decode("currency"),
            status: try reader.decodeRawValue("status", as: Payment.Status.self),
            provider: try reader.decode("provider"),
            providerPaymentID: try reader.decode("provider_payment_id"),
            refundID: try reader.decode("refund_id"),
            refundedCents: try reader.decode("refunded_cents"),
            reason: try reader.decode("reason"),
            declineCode: try reader.decode("decline_code"),
            createdAt: try reader.decodeDate("created_at"),
            updatedAt: try reader.decodeDate("updated_at")
        )
    }
}
