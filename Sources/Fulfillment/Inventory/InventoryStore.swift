import Foundation
import FulfillmentEvents
import Persistence
import SQLKit

/// One SKU's stock and price.
public struct StockItem: Sendable, Hashable {
    public var sku: String
    public var name: String
    public var priceCents: Int
    public var currency: String
    /// Units that can be reserved now.
    public var available: Int
    /// Units held by reservations not yet confirmed or released.
    public var reserved: Int

    public init(sku: String, name: String, priceCents: Int, currency: String, available: Int, reserved: Int = 0) {
        self.sku = sku
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
        self.available = available
        self.reserved = reserved
    }

    /// The demo catalogue seeded into an empty database.
    public static let demo: [StockItem] = [
        StockItem(sku: "SKU-APPLE", name: "Apple", priceCents: 120, currency: "usd", available: 100),
        StockItem(sku: "SKU-PEAR", name: "Pear", priceCents: 90, currency: "usd", available: 50),
        StockItem(sku: "SKU-PLUM", name: "Plum", priceCents: 250, currency: "usd", available: 10),
        StockItem(sku: "SKU-RARE", name: "Rare truffle", priceCents: 9900, currency: "usd", available: 1),
    ]
}

/// Where an order's reservation is: `held` (counted in `reserved`), `sold` (confirmed: out of stock for good) or
/// `released` (given back — or, with no reservation id, released before anything was held: a later reserve for
/// the order is refused).
public enum ReservationStatus: String, Sendable, Hashable {
    case held, sold, released
}

/// One order's reservation as stored.
public struct Reservation: Sendable, Hashable {
    public var orderId: String
    public var reservationId: String?
    public var status: ReservationStatus
    public var lines: [StockLine]
    public var expiresAt: Date?
    /// Which style created it: commands drive orchestrated reservations, domain events choreographed ones.
    public var style: FulfillmentSagaStyle
}

/// Why a restock was refused.
public enum InventoryStoreError: Error, Hashable, CustomStringConvertible {
    case unknownSKU(String)
    public var description: String {
        switch self {
        case .unknownSKU(let sku): "no SKU \(sku)"
        }
    }
}

/// The inventory service's tables — `inventory_stock` and `inventory_reservations` — in its own database.
///
/// Every change of stock is a conditional `UPDATE` (`available >= quantity`) with `CHECK` constraints behind it, so
/// no interleaving of transactions makes stock negative; a multi-line reservation runs inside a savepoint and is
/// rolled back as a whole when one line cannot be had. The methods that take `sql` run in the caller's transaction
/// (the inbox claim and the outbox rows of the answer commit with them).
public struct InventoryStore: Sendable {
    public let database: Database
    private let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    public static let migrations: [Migration] = [
        Migration("fulfillment-inventory-1") { sql, _ in
            try await sql.raw(
                """
                CREATE TABLE inventory_stock (
                    sku TEXT PRIMARY KEY,
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
                    currency TEXT NOT NULL,
                    available BIGINT NOT NULL CHECK (available >= 0),
                    reserved BIGINT NOT NULL CHECK (reserved >= 0)
                )
                """
            ).run()
            try await sql.create(table: "inventory_reservations")
                .column("order_id", type: .text, .primaryKey(autoIncrement: false))
                .column("reservation_id", type: .text)
                .column("status", type: .text, .notNull)
                .column("style", type: .text, .notNull)
                .column("lines", type: .text, .notNull)
                .column("expires_at", type: .bigint)
                .column("updated_at", type: .bigint, .notNull)
                .run()
            try await sql.create(index: "inventory_reservations_due").on("inventory_reservations").column("status").column("expires_at").run()
        }
    ]

    /// Migrates and seeds the demo catalogue when the stock table is empty.
    public func prepare(seed: [StockItem] = StockItem.demo) async throws {
        try await database.migrate(Self.migrations)
        try await database.transaction { sql in
            let count = try await sql.raw("SELECT COUNT(*) AS n FROM inventory_stock").first()?.decode(column: "n", as: Int.self) ?? 0
            guard count == 0 else { return }
            for (position, item) in seed.enumerated() {
                try await sql.insert(into: "inventory_stock")
                    .columns("sku", "position", "name", "price_cents", "currency", "available", "reserved")
                    .values(
                        SQLBind(item.sku),
                        SQLBind(position),
                        SQLBind(item.name),
                        SQLBind(item.priceCents),
                        SQLBind(item.currency),
                        SQLBind(item.available),
                        SQLBind(item.reserved)
                    )
                    .run()
            }
        }
    }

    public func ping() async throws { _ = try await database.withConnection { sql in try await sql.raw("SELECT 1 AS one").all() } }

    // MARK: Stock

    public func stock() async throws -> [StockItem] {
        try await database.withConnection { sql in
            try await Self.stockQuery(sql).orderBy("position").all().map(Self.stockItem)
        }
    }

    public func stock(sku: String) async throws -> StockItem? {
        try await database.withConnection { sql in
            try await Self.stockQuery(sql).where("sku", .equal, SQLBind(sku)).first().map(Self.stockItem)
        }
    }

    /// Adds `quantity` to what is available; throws ``InventoryStoreError/unknownSKU(_:)``.
    public func restock(sku: String, quantity: Int) async throws -> StockItem {
        try await database.transaction { sql in
            let updated = try await sql.raw(
                "UPDATE inventory_stock SET available = available + \(bind: quantity) WHERE sku = \(bind: sku) RETURNING sku"
            ).first()
            guard updated != nil, let item = try await Self.stockQuery(sql).where("sku", .equal, SQLBind(sku)).first().map(Self.stockItem) else {
                throw InventoryStoreError.unknownSKU(sku)
            }
            return item
        }
    }

    // MARK: Reservations (in the caller's transaction)

    /// Reserves every line for the order, or nothing. Answers the same ``InventoryReserved`` again for an order that
    /// holds (or bought) its reservation, and refuses with reason `cancelled` an order released before.
    public func reserve(
        orderId: String,
        lines requested: [StockLine],
        expiresAt: Date,
        style: FulfillmentSagaStyle,
        in sql: any SQLDatabase
    ) async throws -> any FulfillmentMessage {
        if let existing = try await Self.reservation(orderId: orderId, in: sql) {
            switch existing.status {
            case .released:
                return InventoryReservationFailed(orderId: orderId, reason: InventoryReservationFailed.cancelled)
            case .held, .sold:
                return InventoryReserved(
                    orderId: orderId,
                    reservationId: existing.reservationId ?? "",
                    lines: existing.lines,
                    expiresAt: existing.expiresAt ?? expiresAt
                )
            }
        }
        guard !requested.isEmpty else { return InventoryReservationFailed(orderId: orderId, reason: InventoryReservationFailed.invalidQuantity) }
        if let bad = requested.first(where: { $0.quantity < 1 }) {
            return InventoryReservationFailed(orderId: orderId, reason: InventoryReservationFailed.invalidQuantity, sku: bad.sku)
        }
        // One line per SKU, in SKU order: two reservations lock rows in the same order, so they never deadlock.
        var merged: [String: Int] = [:]
        for line in requested { merged[line.sku, default: 0] += line.quantity }
        let lines = merged.sorted { $0.key < $1.key }.map { StockLine(sku: $0.key, quantity: $0.value) }

        try await sql.raw("SAVEPOINT inventory_reserve").run()
        for line in lines {
            let taken = try await sql.raw(
                """
                UPDATE inventory_stock SET available = available - \(bind: line.quantity), reserved = reserved + \(bind: line.quantity)
                WHERE sku = \(bind: line.sku) AND available >= \(bind: line.quantity) RETURNING sku
                """
            ).first()
            if taken == nil {
                try await sql.raw("ROLLBACK TO SAVEPOINT inventory_reserve").run()
                try await sql.raw("RELEASE SAVEPOINT inventory_reserve").run()
                let known = try await sql.select().column("sku").from("inventory_stock").where("sku", .equal, SQLBind(line.sku)).first() != nil
                return InventoryReservationFailed(
                    orderId: orderId,
                    reason: known ? InventoryReservationFailed.insufficientStock : InventoryReservationFailed.unknownSKU,
                    sku: line.sku
                )
            }
        }
        try await sql.raw("RELEASE SAVEPOINT inventory_reserve").run()
        let reservationId = "res_" + Self.randomHex(bytes: 12)
        let expires = Date(millisecondsSince1970: expiresAt.millisecondsSince1970)
        try await sql.insert(into: "inventory_reservations")
            .columns("order_id", "reservation_id", "status", "style", "lines", "expires_at", "updated_at")
            .values(
                SQLBind(orderId),
                SQLBind(reservationId),
                SQLBind(ReservationStatus.held.rawValue),
                SQLBind(style.rawValue),
                SQLBind(try Self.encode(lines)),
                SQLBind(expires.millisecondsSince1970),
                SQLBind(now().millisecondsSince1970)
            )
            .run()
        return InventoryReserved(orderId: orderId, reservationId: reservationId, lines: lines, expiresAt: expires)
    }

    /// Gives back what the order holds. An order with nothing held is recorded as released (so a later reserve is
    /// refused) and answered with no reservation id; a released one is answered again; a sold one stays sold.
    /// `onlyIfExpiredBy` releases only a held reservation that expired by then (the expiry scanner).
    public func release(
        orderId: String,
        style: FulfillmentSagaStyle,
        onlyIfExpiredBy: Date? = nil,
        in sql: any SQLDatabase
    ) async throws -> InventoryReleased? {
        guard let existing = try await Self.reservation(orderId: orderId, in: sql) else {
            if onlyIfExpiredBy != nil { return nil }
            try await sql.insert(into: "inventory_reservations")
                .columns("order_id", "status", "style", "lines", "updated_at")
                .values(
                    SQLBind(orderId),
                    SQLBind(ReservationStatus.released.rawValue),
                    SQLBind(style.rawValue),
                    SQLBind("[]"),
                    SQLBind(now().millisecondsSince1970)
                )
                .run()
            return InventoryReleased(orderId: orderId)
        }
        switch existing.status {
        case .released:
            return onlyIfExpiredBy == nil ? InventoryReleased(orderId: orderId, reservationId: existing.reservationId) : nil
        case .sold:
            return onlyIfExpiredBy == nil ? InventoryReleased(orderId: orderId) : nil
        case .held:
            if let cutoff = onlyIfExpiredBy, let expiresAt = existing.expiresAt, expiresAt > cutoff { return nil }
            let changed = try await sql.raw(
                """
                UPDATE inventory_reservations SET status = \(bind: ReservationStatus.released.rawValue), updated_at = \(bind: now().millisecondsSince1970)
                WHERE order_id = \(bind: orderId) AND status = \(bind: ReservationStatus.held.rawValue) RETURNING order_id
                """
            ).first()
            guard changed != nil else { return nil }
            for line in existing.lines {
                try await sql.raw(
                    """
                    UPDATE inventory_stock SET available = available + \(bind: line.quantity), reserved = reserved - \(bind: line.quantity)
                    WHERE sku = \(bind: line.sku)
                    """
                ).run()
            }
            return InventoryReleased(orderId: orderId, reservationId: existing.reservationId)
        }
    }

    /// Turns the order's held reservation into a sale: `reserved` drops, `available` stays reduced. Returns false
    /// when there was nothing held (already sold, released, or unknown).
    @discardableResult
    public func confirmSale(orderId: String, in sql: any SQLDatabase) async throws -> Bool {
        guard let existing = try await Self.reservation(orderId: orderId, in: sql), existing.status == .held else { return false }
        let changed = try await sql.raw(
            """
            UPDATE inventory_reservations SET status = \(bind: ReservationStatus.sold.rawValue), updated_at = \(bind: now().millisecondsSince1970)
            WHERE order_id = \(bind: orderId) AND status = \(bind: ReservationStatus.held.rawValue) RETURNING order_id
            """
        ).first()
        guard changed != nil else { return false }
        for line in existing.lines {
            try await sql.raw("UPDATE inventory_stock SET reserved = reserved - \(bind: line.quantity) WHERE sku = \(bind: line.sku)").run()
        }
        return true
    }

    /// The order's reservation, if any.
    public func reservation(orderId: String) async throws -> Reservation? {
        try await database.withConnection { sql in try await Self.reservation(orderId: orderId, in: sql) }
    }

    /// Orders whose held reservation expired by `date`, oldest first.
    public func expiredOrders(by date: Date, limit: Int = 100) async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.select().column("order_id").from("inventory_reservations")
                .where("status", .equal, SQLBind(ReservationStatus.held.rawValue))
                .where("expires_at", .lessThanOrEqual, SQLBind(date.millisecondsSince1970))
                .orderBy("expires_at").limit(limit).all()
                .map { try $0.decode(column: "order_id", as: String.self) }
        }
    }

    static func reservation(orderId: String, in sql: any SQLDatabase) async throws -> Reservation? {
        guard
            let row = try await sql.select().columns("order_id", "reservation_id", "status", "style", "lines", "expires_at")
                .from("inventory_reservations").where("order_id", .equal, SQLBind(orderId)).first()
        else { return nil }
        let stored = try StoredRow(row, table: "inventory_reservations", idColumn: "order_id")
        return Reservation(
            orderId: stored.id,
            reservationId: try stored.decode("reservation_id", as: String?.self),
            status: try stored.decodeRawValue("status"),
            lines: try stored.decodeJSON("lines"),
            expiresAt: try stored.decodeDateIfPresent("expires_at"),
            style: try stored.decodeRawValue("style")
        )
    }

    // MARK: Rows

    private static func stockQuery(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().columns("sku", "name", "price_cents", "currency", "available", "reserved").from("inventory_stock")
    }

    private static func stockItem(_ row: any SQLRow) throws -> StockItem {
        let stored = try StoredRow(row, table: "inventory_stock", idColumn: "sku")
        return StockItem(
            sku: stored.id,
            name: try stored.decode("name"),
            priceCents: try stored.decode("price_cents"),
            currency: try stored.decode("currency"),
            available: try stored.decode("available"),
            reserved: try stored.decode("reserved")
        )
    }

    private static func encode(_ lines: [StockLine]) throws -> String {
        String(decoding: try JSONEncoder().encode(lines), as: UTF8.self)
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
