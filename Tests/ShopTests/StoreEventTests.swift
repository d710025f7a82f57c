import Foundation
import InterchangeTesting
import Persistence
import SQLKit
import Testing
import WebhooksInbound

@testable import Shop

@Suite("ShopStore events", .timeLimit(.minutes(1)))
struct StoreEventTests {
    func event(_ id: String, _ type: String, _ object: [String: Any]) throws -> StripeEvent {
        try StripeEvent(json: StripeEventFixture.envelope(id: id, type: type, object: object))
    }

    /// An order with session `cs_1` recorded.
    func awaitingOrder(_ fixture: StoreFixture) async throws -> Order {
        let order = try await fixture.order()
        return try await fixture.store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_1"))
    }

    func paymentRow(_ store: ShopStore, session: String) async throws -> (paymentIntent: String?, status: String)? {
        let row = try await store.database.withConnection { sql in
            try await sql.select().columns("session_id", "payment_intent_id", "session_status").from("shop_payments")
                .where("session_id", .equal, session).first()
        }
        guard let row else { return nil }
        let reader = try StoredRow(row, table: "shop_payments", idColumn: "session_id")
        return (try reader.decode("payment_intent_id", as: String?.self), try reader.decode("session_status", as: String.self))
    }

    @Test("a paid completion pays the order, links the payment intent and records the event", arguments: TestDatabase.kinds)
    func paidCompletion(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await awaitingOrder(fixture)
            let outcome = try await fixture.store.apply(
                event: try event(
                    "evt_1",
                    "checkout.session.completed",
                    StripeEventFixture.session("cs_1", orderID: order.id, paymentIntent: "pi_1", amount: 6100)
                )
            )
            guard case .applied(order.id, let entries) = outcome else {
                Issue.record("expected applied, got \(outcome)")
                return
            }
            #expect(entries.map(\.kind) == ["status.changed"])
            let stored = try await fixture.store.order(id: order.id)
            #expect(stored?.status == .paid)
            #expect(stored?.paymentStatus == .paid)
            #expect(stored?.timeline.last == entries.last)
            let payment = try await paymentRow(fixture.store, session: "cs_1")
            #expect(payment?.paymentIntent == "pi_1")
            #expect(payment?.status == "complete")
            let processed = try await fixture.store.processedEvent(id: "evt_1")
            #expect(processed?.outcome == .applied)
            #expect(processed?.orderID == order.id)
        }
    }

    @Test("the same event applied twice has one effect", arguments: TestDatabase.kinds)
    func duplicateOnce(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await awaitingOrder(fixture)
            let declined = try event(
                "evt_1",
                "payment_intent.payment_failed",
                StripeEventFixture.paymentIntent(
                    "pi_1",
                    orderID: order.id,
                    status: "requires_payment_method",
                    amount: 6100,
                    declineCode: "generic_decline"
                )
            )
            _ = try await fixture.store.apply(event: declined)
            let once = try await fixture.store.order(id: order.id)
            #expect(try await fixture.store.apply(event: declined) == .duplicate(eventID: "evt_1"))
            let twice = try await fixture.store.order(id: order.id)
            #expect(twice == once)
            #expect(twice?.paymentStatus == .failed)
            #expect(twice?.status == .awaitingPayment)
            #expect(twice?.timeline.filter { $0.kind == "payment.failed" }.count == 1)
        }
    }

    @Test("an event finds its order by metadata order_id, client_reference_id, payment intent, or session", arguments: TestDatabase.kinds)
    func lookupPaths(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.store
            // metadata[order_id] (payment intent never seen before)
            let byMetadata = try await awaitingOrder(fixture)
            let viaMetadata = try await store.apply(
                event: try event(
                    "evt_m",
                    "payment_intent.succeeded",
                    StripeEventFixture.paymentIntent("pi_m", orderID: byMetadata.id, status: "succeeded", amount: 6100)
                )
            )
            #expect(viaMetadata.orderID == byMetadata.id)
            // client_reference_id only
            let byReference = try await awaitingOrder(fixture)
            var session = StripeEventFixture.session("cs_r", orderID: nil, paymentIntent: "pi_r", amount: 6100)
            session["client_reference_id"] = byReference.id
            #expect(try await store.apply(event: try event("evt_r", "checkout.session.completed", session)).orderID == byReference.id)
            // the payment intent, linked by an earlier session event; this event has no metadata
            let byIntent = try await awaitingOrder(fixture)
            _ = try await store.apply(
                event: try event(
                    "evt_i1",
                    "checkout.session.completed",
                    StripeEventFixture.session("cs_i", orderID: byIntent.id, paymentIntent: "pi_i", paymentStatus: "unpaid", amount: 6100)
                )
            )
            let viaIntent = try await store.apply(
                event: try event(
                    "evt_i2",
                    "payment_intent.succeeded",
                    StripeEventFixture.paymentIntent("pi_i", orderID: nil, status: "succeeded", amount: 6100)
                )
            )
            #expect(viaIntent.orderID == byIntent.id)
            // the session the shop recorded; the event has neither metadata nor client_reference_id
            let bySession = try await fixture.order()
            _ = try await store.recordCheckoutSession(orderID: bySession.id, session: fixture.session("cs_s"))
            let viaSession = try await store.apply(
                event: try event(
                    "evt_s",
                    "checkout.session.expired",
                    StripeEventFixture.session("cs_s", orderID: nil, paymentIntent: nil, status: "expired", paymentStatus: "unpaid", amount: 6100)
                )
            )
            #expect(viaSession.orderID == bySession.id)
            #expect(try await store.order(id: byMetadata.id)?.status == .paid)
            #expect(try await store.order(id: byReference.id)?.status == .paid)
            #expect(try await store.order(id: byIntent.id)?.status == .paid)
            #expect(try await store.order(id: bySession.id)?.status == .expired)
        }
    }

    @Test("an event type the shop does not handle is recorded as ignored", arguments: TestDatabase.kinds)
    func ignoredType(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let customer = try event("evt_c", "customer.created", ["id": "cus_1", "object": "customer"])
            #expect(try await fixture.store.apply(event: customer) == .ignored(eventID: "evt_c", type: "customer.created"))
            #expect(try await fixture.store.processedEvent(id: "evt_c")?.outcome == .ignored)
            #expect(try await fixture.store.apply(event: customer) == .duplicate(eventID: "evt_c"))
        }
    }

    @Test("an event for an unknown order is recorded once, not retried", arguments: TestDatabase.kinds)
    func unknownOrder(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let stray = try event(
                "evt_x",
                "checkout.session.completed",
                StripeEventFixture.session("cs_x", orderID: "ord_other", paymentIntent: "pi_x", amount: 100)
            )
            #expect(try await fixture.store.apply(event: stray) == .orderNotFound(eventID: "evt_x"))
            let processed = try await fixture.store.processedEvent(id: "evt_x")
            #expect(processed?.outcome == .orderNotFound)
            #expect(processed?.orderID == nil)
            #expect(try await fixture.store.apply(event: stray) == .duplicate(eventID: "evt_x"))
        }
    }

    @Test("a completion with another amount flags the order and does not pay it", arguments: TestDatabase.kinds)
    func amountMismatch(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await awaitingOrder(fixture)
            _ = try await fixture.store.apply(
                event: try event(
                    "evt_1",
                    "checkout.session.completed",
                    StripeEventFixture.session("cs_1", orderID: order.id, paymentIntent: "pi_1", amount: 100)
                )
            )
            let stored = try await fixture.store.order(id: order.id)
            #expect(stored?.status == .awaitingPayment)
            #expect(stored?.flags == [OrderFlag.amountMismatch])
            #expect(stored?.timeline.contains { $0.kind == "flag.added" } == true)
        }
    }

    @Test("StripeEventHandler, run by a real InboxProcessor, applies inbox events and acknowledges unhandled ones", arguments: TestDatabase.kinds)
    func handlerThroughInbox(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await awaitingOrder(fixture)
            let inbox = WebhookInbox(database: fixture.store.database)
            try await fixture.store.database.migrate(WebhookInbox.migrations)
            let paid = StripeEventFixture.envelope(
                id: "evt_1",
                type: "checkout.session.completed",
                object: StripeEventFixture.session("cs_1", orderID: order.id, paymentIntent: "pi_1", amount: 6100)
            )
            let other = StripeEventFixture.envelope(id: "evt_2", type: "customer.created", object: ["id": "cus_1", "object": "customer"])
            #expect(try await inbox.record(source: "stripe", eventID: "evt_1", eventType: "checkout.session.completed", payload: paid) == .accepted)
            #expect(try await inbox.record(source: "stripe", eventID: "evt_2", eventType: "customer.created", payload: other) == .accepted)
            #expect(try await inbox.record(source: "stripe", eventID: "evt_3", eventType: nil, payload: Data("{}".utf8)) == .accepted)
            let processor = InboxProcessor(inbox: inbox, maxAttempts: 1, handler: StripeEventHandler(store: fixture.store).handler)
            #expect(await processor.processDue() == 3)
            #expect(try await inbox.counts() == ["processed": 2, "failed": 1])
            #expect(try await fixture.store.order(id: order.id)?.status == .paid)
            #expect(try await fixture.store.processedEvent(id: "evt_2")?.outcome == .ignored)
        }
    }
}

extension EventOutcome {
    /// The order an applied event changed; nil for any other outcome.
    var orderID: String? {
        if case .applied(let orderID, _) = self { return orderID }
        return nil
    }
}
