import Foundation
import FulfillmentEvents
import InterchangeTesting
import Messaging
import Testing

@testable import FulfillmentOrders

/// The orders consumer (group `fulfillment.orders`): a reply is applied once per event id, in the inbox's
/// transaction; what can never apply is dead-lettered with the reason instead of retried.
@Suite(.timeLimit(.minutes(1)))
struct OrdersConsumerTests {
    func withPlacedOrder(_ kind: TestDatabase.Kind, _ body: @Sendable (OrdersHarness, String) async throws -> Void) async throws {
        try await ScriptedHTTPServer.withServer { upstream in
            UpstreamStandIn.script(upstream, users: ["u_ada"], stock: [(sku: "SKU-APPLE", priceCents: 120, currency: "usd")])
            try await OrdersHarness.run(kind, upstreamBaseURL: upstream.baseURL) { harness in
                let placed = try await harness.request(
                    .POST,
                    "/orders/api/orders",
                    json: #"{"userId":"u_ada","lines":[{"sku":"SKU-APPLE","quantity":1}]}"#
                )
                try await body(harness, try #require(placed.body?["id"] as? String))
            }
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aRedeliveredReplyHasOneEffect(kind: TestDatabase.Kind) async throws {
        try await withPlacedOrder(kind) { harness, id in
            let reserved = try InventoryReserved(
                orderId: id,
                reservationId: "res_1",
                lines: [StockLine(sku: "SKU-APPLE", quantity: 1)],
                expiresAt: Date()
            )
            .cloudEvent(from: .inventory)
            #expect(await harness.orders.consumer.handle(Delivery(event: reserved, attempt: 1)) == .ack)
            #expect(await harness.orders.consumer.handle(Delivery(event: reserved, attempt: 2)) == .ack)
            let types = try await harness.outboxTypes()
            #expect(types.filter { $0 == ChargePayment.type }.count == 1, "\(types)")
            #expect(try await harness.count("messaging_inbox") == 1)
            #expect(try await harness.orders.store.order(id: id)?.status == .charging)
        }
    }

    @Test func aReplyForAnUnknownOrderIsDeadLettered() async throws {
        try await withPlacedOrder(.sqlite) { harness, _ in
            let event = try PaymentProcessed(orderId: "ord_unknown", paymentId: "pay_1", amountCents: 120, currency: "usd").cloudEvent(
                from: .payments
            )
            let outcome = await harness.orders.consumer.handle(Delivery(event: event, attempt: 1))
            guard case .deadLetter(let reason) = outcome else {
                Issue.record("expected a dead letter, got \(outcome)")
                return
            }
            #expect(reason.contains("ord_unknown"))
            #expect(try await harness.count("messaging_inbox") == 0, "nothing recorded for an event that did nothing")
        }
    }

    @Test func anEventOrdersDoesNotConsumeOrCannotDecodeIsDeadLettered() async throws {
        try await withPlacedOrder(.sqlite) { harness, id in
            let confirmed = try OrderConfirmed(orderId: id).cloudEvent(from: .orders)
            guard case .deadLetter = await harness.orders.consumer.handle(Delivery(event: confirmed, attempt: 1)) else {
                Issue.record("order.confirmed is not a reply orders consumes")
                return
            }
            var broken = try PaymentFailed(orderId: id, reason: "declined").cloudEvent(from: .payments)
            broken.data = Data(#"{"orderId":42}"#.utf8)
            guard case .deadLetter = await harness.orders.consumer.handle(Delivery(event: broken, attempt: 1)) else {
                Issue.record("an undecodable payment.failed must be dead-lettered")
                return
            }
            #expect(try await harness.orders.store.order(id: id)?.status == .reserving)
        }
    }
}
