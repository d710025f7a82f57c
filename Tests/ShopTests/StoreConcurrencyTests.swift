import Foundation
import InterchangeTesting
import Testing

@testable import Shop

@Suite("ShopStore concurrency", .timeLimit(.minutes(1)))
struct StoreConcurrencyTests {
    @Test(
        "20 concurrent deliveries of one event, overlapping a transaction that holds it, have one effect",
        arguments: TestDatabase.kinds
    )
    func concurrentIdenticalEvents(kind: TestDatabase.Kind) async throws {
        let gate = Gate()
        let claims = CallCounter()
        let holdFirstClaim: @Sendable (String) async -> Void = { _ in
            claims.increment()
            await gate.wait()  // the first claimer holds its transaction open until every delivery has started
        }
        try await StoreFixture.with(kind, afterEventClaimed: holdFirstClaim) { fixture in
            let order = try await fixture.order()
            _ = try await fixture.store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_1"))
            let payload = StripeEventFixture.envelope(
                id: "evt_dup",
                type: "checkout.session.completed",
                object: StripeEventFixture.session("cs_1", orderID: order.id, paymentIntent: "pi_1", amount: 6100)
            )
            let event = try StripeEvent(json: payload)
            let started = CallCounter()
            let finished = CallCounter()
            let outcomes = try await withThrowingTaskGroup(of: EventOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        started.increment()
                        defer { finished.increment() }
                        return try await fixture.store.apply(event: event)
                    }
                }
                try await gate.waitForWaiters(1)
                try await waitUntil("20 deliveries started") { started.count == 20 }
                // Real overlap: all 20 are in flight and none can finish while the first holds the event id.
                #expect(finished.count == 0)
                gate.open()
                var outcomes: [EventOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(claims.count == 1)
            #expect(outcomes.filter { $0.orderID == order.id }.count == 1)
            #expect(outcomes.filter { $0 == .duplicate(eventID: "evt_dup") }.count == 19)
            let stored = try await fixture.store.order(id: order.id)
            #expect(stored?.status == .paid)
            #expect(stored?.timeline.filter { $0.to == .paid }.count == 1)
        }
    }

    @Test("the events of several payments, applied all at once, each fold into their order", arguments: TestDatabase.kinds)
    func concurrentDifferentEvents(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            var orders: [Order] = []
            for _ in 0..<10 {
                let order = try await fixture.order()
                orders.append(try await fixture.store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_\(order.id)")))
            }
            var events: [StripeEvent] = []
            for order in orders {
                let pi = "pi_\(order.id)"
                events += [
                    try StripeEvent(
                        json: StripeEventFixture.envelope(
                            id: "evt_a_\(order.id)",
                            type: "checkout.session.completed",
                            object: StripeEventFixture.session("cs_\(order.id)", orderID: order.id, paymentIntent: pi, amount: 6100)
                        )
                    ),
                    try StripeEvent(
                        json: StripeEventFixture.envelope(
                            id: "evt_b_\(order.id)",
                            type: "payment_intent.succeeded",
                            object: StripeEventFixture.paymentIntent(pi, orderID: order.id, status: "succeeded", amount: 6100)
                        )
                    ),
                    try StripeEvent(
                        json: StripeEventFixture.envelope(
                            id: "evt_c_\(order.id)",
                            type: "charge.refunded",
                            object: StripeEventFixture.charge("ch_\(order.id)", paymentIntent: pi, orderID: order.id, amount: 6100, refunded: 1000)
                        )
                    ),
                    try StripeEvent(
                        json: StripeEventFixture.envelope(
                            id: "evt_d_\(order.id)",
                            type: "charge.refunded",
                            object: StripeEventFixture.charge("ch_\(order.id)", paymentIntent: pi, orderID: order.id, amount: 6100, refunded: 6100)
                        )
                    ),
                ]
            }
            let gate = Gate()
            let allEvents = events
            try await withThrowingTaskGroup(of: Void.self) { group in
                for event in allEvents {
                    group.addTask {
                        await gate.wait()
                        _ = try await fixture.store.apply(event: event)
                    }
                }
                try await gate.waitForWaiters(allEvents.count)
                gate.open()
                try await group.waitForAll()
            }
            for order in orders {
                let stored = try await fixture.store.order(id: order.id)
                #expect(stored?.status == .refunded, "\(order.id)")
                #expect(stored?.paymentStatus == .refunded, "\(order.id)")
                // order.created, the session, and one entry per event: no update lost, none doubled.
                #expect(stored?.timeline.count == 6, "\(order.id): \(stored?.timeline.map(\.kind) ?? [])")
            }
        }
    }
}
