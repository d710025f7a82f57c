import Foundation
import Persistence
import SQLKit

/// Reading and writing one order's rows, inside a caller's transaction.
extension ShopStore {
    /// An order's lifecycle, read under the order's row lock.
    struct LockedOrder {
        var id: String
        var lifecycle: OrderLifecycle
    }

    /// Reads the order's lifecycle and locks its row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
    /// `BEGIN IMMEDIATE` already holds the database's write lock).
    static func lockOrder(_ sql: any SQLDatabase, id: String) async throws -> LockedOrder? {
        let row = try await sql.select().columns("id", "lifecycle").from("shop_orders").where("id", .equal, id).for(.update).first()
        guard let row else { return nil }
        let reader = try StoredRow(row, table: "shop_orders")
        return LockedOrder(id: reader.id, lifecycle: try reader.decodeJSON("lifecycle", as: OrderLifecycle.self))
    }

    /// Writes what the lifecycle now says (status, payment status, flags, facts), its sessions into `shop_payments`,
    /// and appends `entries` to the timeline.
    static func save(_ sql: any SQLDatabase, _ order: LockedOrder, entries: [TimelineEntry], eventID: String?, at date: Date) async throws {
        let lifecycle = order.lifecycle
        let timestamp = date.millisecondsSince1970
        try await sql.update("shop_orders")
            .set("status", to: SQLBind(lifecycle.status.rawValue))
            .set("payment_status", to: SQLBind(lifecycle.paymentStatus.rawValue))
            .set("flags", to: SQLBind(try json(lifecycle.flags)))
            .set("lifecycle", to: SQLBind(try json(lifecycle)))
            .set("updated_at", to: SQLBind(timestamp))
            .where("id", .equal, order.id)
            .run()
        for session in lifecycle.sessions {
            try await sql.insert(into: "shop_payments")
                .columns(
                    "session_id",
                    "order_id",
                    "attempt",
                    "url",
                    "expires_at",
                    "payment_intent_id",
                    "amount",
                    "currency",
                    "session_status",
                    "updated_at"
                )
                .values(
                    SQLBind(session.id),
                    SQLBind(order.id),
                    SQLBind(session.attempt),
                    SQLBind(session.url),
                    SQLBind(session.expiresAt?.millisecondsSince1970),
                    SQLBind(session.paymentIntentID),
                    SQLBind(lifecycle.amountTotal),
                    SQLBind(lifecycle.currency),
                    SQLBind(session.status),
                    SQLBind(timestamp)
                )
                .onConflict(with: ["session_id"]) {
                    $0.set(excludedValueOf: "attempt").set(excludedValueOf: "url").set(excludedValueOf: "expires_at")
                        .set(excludedValueOf: "payment_intent_id").set(excludedValueOf: "session_status").set(excludedValueOf: "updated_at")
                }
                .run()
        }
        try await appendTimeline(sql, orderID: order.id, entries: entries, eventID: eventID)
    }

    static func appendTimeline(_ sql: any SQLDatabase, orderID: String, entries: [TimelineEntry], eventID: String?) async throws {
        guard !entries.isEmpty else { return }
        let last = try await sql.raw("SELECT COALESCE(MAX(seq), -1) AS last FROM shop_order_timeline WHERE order_id = \(bind: orderID)").first()
        var seq = try (last?.decode(column: "last", as: Int.self) ?? -1) + 1
        for entry in entries {
            try await sql.insert(into: "shop_order_timeline")
                .columns("order_id", "seq", "at", "kind", "message", "from_status", "to_status", "event_id")
                .values(
                    SQLBind(orderID),
                    SQLBind(seq),
                    SQLBind(entry.at.millisecondsSince1970),
                    SQLBind(entry.kind),
                    SQLBind(entry.message),
                    SQLBind(entry.from?.rawValue),
                    SQLBind(entry.to?.rawValue),
                    SQLBind(eventID)
                )
                .run()
            seq += 1
        }
    }

    /// The whole order: its row, lines and timeline.
    ///
    /// - Throws: ``UnreadableRowError`` naming table, row and column when a stored row cannot be read.
    static func loadOrder(_ sql: any SQLDatabase, id: String) async throws -> Order? {
        let row = try await sql.select()
            .columns("id", "status", "payment_status", "currency", "amount_total", "flags", "lifecycle", "created_at", "updated_at")
            .from("shop_orders").where("id", .equal, id).first()
        guard let row else { return nil }
        let reader = try StoredRow(row, table: "shop_orders")
        let lineRows = try await sql.select()
            .columns("order_id", "line_index", "product_id", "name", "unit_amount", "quantity", "amount")
            .from("shop_order_lines").where("order_id", .equal, id).orderBy("line_index").all()
        let timelineRows = try await sql.select()
            .columns("order_id", "seq", "at", "kind", "message", "from_status", "to_status")
            .from("shop_order_timeline").where("order_id", .equal, id).orderBy("seq").all()
        return Order(
            id: reader.id,
            status: try reader.decodeRawValue("status", as: OrderStatus.self),
            paymentStatus: try reader.decodeRawValue("payment_status", as: PaymentStatus.self),
            currency: try reader.decode("currency"),
            amountTotal: try reader.decode("amount_total"),
            lines: try lineRows.map(line),
            checkout: try reader.decodeJSON("lifecycle", as: OrderLifecycle.self).checkout,
            flags: try reader.decodeJSON("flags", as: [String].self),
            createdAt: try reader.decodeDate("created_at"),
            updatedAt: try reader.decodeDate("updated_at"),
            timeline: try timelineRows.map(timelineEntry)
        )
    }

    private static func line(_ row: any SQLRow) throws -> OrderLine {
        let reader = try StoredRow(row, table: "shop_order_lines", idColumn: "order_id")
        return OrderLine(
            productID: try reader.decode("product_id"),
            name: try reader.decode("name"),
            unitAmount: try reader.decode("unit_amount"),
            quantity: try reader.decode("quantity"),
            amount: try reader.decode("amount")
        )
    }

    private static func timelineEntry(_ row: any SQLRow) throws -> TimelineEntry {
        let reader = try StoredRow(row, table: "shop_order_timeline", idColumn: "order_id")
        func status(_ column: String) throws -> OrderStatus? {
            guard let raw = try reader.decode(column, as: String?.self) else { return nil }
            guard let status = OrderStatus(rawValue: raw) else {
                throw UnreadableRowError(table: reader.table, row: reader.id, column: column, reason: "'\(raw)' is not a known OrderStatus")
            }
            return status
        }
        return TimelineEntry(
            at: try reader.decodeDate("at"),
            kind: try reader.decode("kind"),
            message: try reader.decode("message"),
            from: try status("from_status"),
            to: try status("to_status")
        )
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
