import Foundation
import Persistence
import SQLKit

/// A Stripe event the store has processed (`shop_stripe_events`).
public struct ProcessedStripeEvent: Sendable, Hashable {
    /// What processing did.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case applied
        case ignored
        case orderNotFound = "order_not_found"
    }

    public var eventID: String
    public var type: String
    public var orderID: String?
    public var outcome: Outcome
    public var processedAt: Date
}

extension ShopStore {
    /// Applies a Stripe event in one transaction: records its id (a second delivery is ``EventOutcome/duplicate(eventID:)``),
    /// finds the order — by metadata `order_id` or `client_reference_id`, else by payment intent, else by session —
    /// folds the event into its ``OrderLifecycle`` and writes status, payments and timeline.
    ///
    /// Concurrent deliveries of one event have one effect: the event id's insert decides (on PostgreSQL the second
    /// insert waits for the first transaction and then conflicts; SQLite runs one writing transaction at a time).
    ///
    /// - Throws: ``StripeEventDecodingError`` when a handled event lacks what it needs (nothing is recorded, so it can
    ///   be retried); database errors; ``UnreadableRowError``.
    public func apply(event: StripeEvent) async throws -> EventOutcome {
        let date = now()
        let paymentEvent = try event.paymentEvent()
        return try await database.transaction { sql in
            let claimed = try await sql.insert(into: "shop_stripe_events")
                .columns("event_id", "event_type", "order_id", "outcome", "created_at", "processed_at")
                .values(
                    SQLBind(event.id),
                    SQLBind(event.type),
                    SQLBind(String?.none),
                    SQLBind(ProcessedStripeEvent.Outcome.applied.rawValue),
                    SQLBind(event.created.millisecondsSince1970),
                    SQLBind(date.millisecondsSince1970)
                )
                .ignoringConflicts(with: ["event_id"])
                .returning("event_id")
                .first()
            guard claimed != nil else { return .duplicate(eventID: event.id) }
            await self.afterEventClaimed(event.id)
            guard let paymentEvent else {
                try await Self.markEvent(sql, event.id, outcome: .ignored, orderID: nil)
                return .ignored(eventID: event.id, type: event.type)
            }
            guard let orderID = try await Self.findOrderID(sql, event.orderReference),
                var locked = try await Self.lockOrder(sql, id: orderID)
            else {
                try await Self.markEvent(sql, event.id, outcome: .orderNotFound, orderID: nil)
                return .orderNotFound(eventID: event.id)
            }
            try await Self.markEvent(sql, event.id, outcome: .applied, orderID: orderID)
            switch locked.lifecycle.apply(paymentEvent, eventID: event.id, at: date) {
            case .duplicate:
                // Only if shop_stripe_events lost the id while the order kept it: the facts are unchanged.
                return .duplicate(eventID: event.id)
            case .applied(let entries):
                try await Self.save(sql, locked, entries: entries, eventID: event.id, at: date)
                return .applied(orderID: orderID, entries: entries)
            }
        }
    }

    /// The record of a processed event; nil when the event was never processed.
    ///
    /// - Throws: ``UnreadableRowError`` when the stored row cannot be read.
    public func processedEvent(id: String) async throws -> ProcessedStripeEvent? {
        let row = try await database.withConnection { sql in
            try await sql.select().columns("event_id", "event_type", "order_id", "outcome", "processed_at")
                .from("shop_stripe_events").where("event_id", .equal, id).first()
        }
        guard let row else { return nil }
        let reader = try StoredRow(row, table: "shop_stripe_events", idColumn: "event_id")
        return ProcessedStripeEvent(
            eventID: reader.id,
            type: try reader.decode("event_type"),
            orderID: try reader.decode("order_id"),
            outcome: try reader.decodeRawValue("outcome"),
            processedAt: try reader.decodeDate("processed_at")
        )
    }

    private static func markEvent(_ sql: any SQLDatabase, _ eventID: String, outcome: ProcessedStripeEvent.Outcome, orderID: String?) async throws {
        try await sql.update("shop_stripe_events")
            .set("outcome", to: SQLBind(outcome.rawValue))
            .set("order_id", to: SQLBind(orderID))
            .where("event_id", .equal, eventID)
            .run()
    }

    /// The order an event is about: its `order_id` if that order exists, else the order of its payment intent,
    /// else the order of its session.
    private static func findOrderID(_ sql: any SQLDatabase, _ reference: OrderReference) async throws -> String? {
        if let orderID = reference.orderID,
            try await sql.select().column("id").from("shop_orders").where("id", .equal, orderID).first() != nil
        {
            return orderID
        }
        for (column, value) in [("payment_intent_id", reference.paymentIntentID), ("session_id", reference.sessionID)] {
            guard let value else { continue }
            let row = try await sql.select().columns("session_id", "order_id").from("shop_payments").where(
                SQLIdentifier(column),
                .equal,
                SQLBind(value)
            )
            .limit(1).first()
            if let row { return try StoredRow(row, table: "shop_payments", idColumn: "session_id").decode("order_id", as: String.self) }
        }
        return nil
    }
}
