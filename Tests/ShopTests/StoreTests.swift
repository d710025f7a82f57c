import Foundation
import InterchangeTesting
import Persistence
import SQLKit
import Testing

@testable import Shop

/// A store on a fresh database of `kind`, on a clock the test moves.
struct StoreFixture {
    let store: ShopStore
    let clock: LockedValue<Date>

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func with<T: Sendable>(
        _ kind: TestDatabase.Kind,
        afterEventClaimed: @escaping @Sendable (String) async -> Void = { _ in },
        _ body: (StoreFixture) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(kind) { database in
            let clock = LockedValue(start)
            let store = ShopStore(database: database, now: { clock.value }, afterEventClaimed: afterEventClaimed)
            try await store.prepare()
            return try await body(StoreFixture(store: store, clock: clock))
        }
    }

    func advance(_ seconds: TimeInterval) { clock.withLock { $0 = $0.addingTimeInterval(seconds) } }

    func session(_ id: String = "cs_test_1", attempt: Int = 1, expiresIn: TimeInterval = 1800) -> CheckoutSessionRef {
        CheckoutSessionRef(id: id, url: "http://127.0.0.1/checkout/pay/\(id)", expiresAt: clock.value.addingTimeInterval(expiresIn), attempt: attempt)
    }

    /// An order of 2 mugs and 1 T-shirt (2 × 1800 + 2500 = 6100 usd cents).
    func order() async throws -> Order {
        try await store.createOrder(lines: [(productID: "prod_mug", quantity: 2), (productID: "prod_tshirt", quantity: 1)])
    }
}

@Suite("ShopStore", .timeLimit(.minutes(1)))
struct StoreTests {
    @Test("prepare seeds six usd products once, in display order", arguments: TestDatabase.kinds)
    func seededCatalog(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            try await fixture.store.prepare()
            let products = try await fixture.store.products()
            #expect(products == ShopCatalog.seed)
            #expect(products.count == 6)
            #expect(products.allSatisfy { $0.currency == "usd" && $0.unitAmount > 0 && $0.id.hasPrefix("prod_") })
        }
    }

    @Test("an order copies names and prices from the catalog and reads back the same", arguments: TestDatabase.kinds)
    func createOrder(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await fixture.order()
            #expect(order.id.hasPrefix("ord_") && order.id.count == 28)
            #expect(order.status == .pending)
            #expect(order.paymentStatus == .unpaid)
            #expect(order.currency == "usd")
            #expect(order.amountTotal == 6100)
            #expect(
                order.lines == [
                    OrderLine(productID: "prod_mug", name: "Interchange mug", unitAmount: 1800, quantity: 2, amount: 3600),
                    OrderLine(productID: "prod_tshirt", name: "Logo T-shirt", unitAmount: 2500, quantity: 1, amount: 2500),
                ]
            )
            #expect(order.checkout == nil)
            #expect(order.timeline.map(\.kind) == ["order.created"])
            #expect(order.createdAt == StoreFixture.start)
            #expect(try await fixture.store.order(id: order.id) == order)
            #expect(try await fixture.store.order(id: "ord_missing") == nil)
        }
    }

    @Test("a bad line is refused naming its index: unknown product, quantity out of range, no lines", arguments: TestDatabase.kinds)
    func badLines(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            await #expect(throws: ShopStoreError.unknownProduct(lineIndex: 1, productID: "prod_nope")) {
                try await fixture.store.createOrder(lines: [(productID: "prod_mug", quantity: 1), (productID: "prod_nope", quantity: 1)])
            }
            await #expect(throws: ShopStoreError.invalidQuantity(lineIndex: 2, quantity: 100)) {
                try await fixture.store.createOrder(lines: [
                    (productID: "prod_mug", quantity: 1), (productID: "prod_cap", quantity: 99), (productID: "prod_cap", quantity: 100),
                ])
            }
            await #expect(throws: ShopStoreError.invalidQuantity(lineIndex: 0, quantity: 0)) {
                try await fixture.store.createOrder(lines: [(productID: "prod_mug", quantity: 0)])
            }
            await #expect(throws: ShopStoreError.emptyOrder) { try await fixture.store.createOrder(lines: []) }
        }
    }

    @Test("checkout creates attempt 1, reuses the open session, and creates attempt 2 once it nears expiry", arguments: TestDatabase.kinds)
    func checkoutAttempts(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.store
            let order = try await fixture.order()
            guard case .create(1, _, let planned) = try await store.checkoutAttempt(orderID: order.id) else {
                Issue.record("expected attempt 1")
                return
            }
            #expect(planned == order)
            let session = fixture.session(expiresIn: 1800)
            let recorded = try await store.recordCheckoutSession(orderID: order.id, session: session)
            #expect(recorded.status == .awaitingPayment)
            #expect(recorded.checkout == session)
            #expect(recorded.timeline.last?.from == .pending && recorded.timeline.last?.to == .awaitingPayment)
            // The same session recorded again (concurrent checkout calls share it) adds nothing.
            #expect(try await store.recordCheckoutSession(orderID: order.id, session: session).timeline.count == recorded.timeline.count)
            #expect(try await store.checkoutAttempt(orderID: order.id) == .reuse(session))
            fixture.advance(1741)
            guard case .create(2, _, _) = try await store.checkoutAttempt(orderID: order.id) else {
                Issue.record("expected attempt 2 for a session with less than a minute left")
                return
            }
            await #expect(throws: ShopStoreError.orderNotFound("ord_missing")) { try await store.checkoutAttempt(orderID: "ord_missing") }
        }
    }

    @Test(
        "a planned attempt is stored with the order: another store plans it again hours later with its expiry, until Stripe's minimum is near",
        arguments: TestDatabase.kinds
    )
    func plannedAttemptIsDurable(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await fixture.order()
            let lifetime = Duration.seconds(24 * 3600)
            let planned = try await fixture.store.checkoutAttempt(orderID: order.id, sessionLifetime: lifetime)
            let expiresAt = StoreFixture.start.addingTimeInterval(24 * 3600)
            guard case .create(1, expiresAt, _) = planned else {
                Issue.record("expected attempt 1 expiring a day after planning, got \(planned)")
                return
            }
            // A second process (its own store, nothing in memory shared), two hours later.
            fixture.advance(2 * 3600)
            let other = ShopStore(database: fixture.store.database, now: fixture.store.now)
            guard case .create(1, expiresAt, _) = try await other.checkoutAttempt(orderID: order.id, sessionLifetime: lifetime) else {
                Issue.record("expected the stored attempt 1 and its expiry")
                return
            }
            // 30 minutes and a second before the planned expiry, Stripe would refuse a session with it: attempt 2.
            fixture.advance(24 * 3600 - 2 * 3600 - OrderLifecycle.stripeMinimumSessionLifetime - 59)
            guard case .create(2, let second, _) = try await other.checkoutAttempt(orderID: order.id, sessionLifetime: lifetime) else {
                Issue.record("expected attempt 2 once attempt 1's expiry is too near")
                return
            }
            #expect(second == fixture.clock.value.addingTimeInterval(24 * 3600))
            let recorded = try await fixture.store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_2", attempt: 2))
            #expect(recorded.checkout?.attempt == 2)
            #expect(try await fixture.store.checkoutAttempt(orderID: order.id) == .reuse(fixture.session("cs_2", attempt: 2)))
        }
    }

    @Test("after the session expired, checkout opens attempt 2; a paid order is not payable", arguments: TestDatabase.kinds)
    func checkoutAfterExpiryAndPayment(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let store = fixture.store
            let order = try await fixture.order()
            _ = try await store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_1"))
            let expired = StripeEventFixture.envelope(
                id: "evt_exp",
                type: "checkout.session.expired",
                object: StripeEventFixture.session(
                    "cs_1",
                    orderID: order.id,
                    paymentIntent: nil,
                    status: "expired",
                    paymentStatus: "unpaid",
                    amount: 6100
                )
            )
            _ = try await store.apply(event: try StripeEvent(json: expired))
            #expect(try await store.order(id: order.id)?.status == .expired)
            guard case .create(2, _, _) = try await store.checkoutAttempt(orderID: order.id) else {
                Issue.record("expected attempt 2 after expiry")
                return
            }
            let second = fixture.session("cs_2", attempt: 2)
            #expect(try await store.recordCheckoutSession(orderID: order.id, session: second).status == .awaitingPayment)
            let paid = StripeEventFixture.envelope(
                id: "evt_paid",
                type: "checkout.session.completed",
                object: StripeEventFixture.session("cs_2", orderID: order.id, paymentIntent: "pi_2", amount: 6100)
            )
            _ = try await store.apply(event: try StripeEvent(json: paid))
            await #expect(throws: ShopStoreError.notPayable(orderID: order.id, status: .paid)) { try await store.checkoutAttempt(orderID: order.id) }
        }
    }

    @Test("a checkout failure is a timeline entry and the order stays payable", arguments: TestDatabase.kinds)
    func checkoutFailure(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await fixture.order()
            try await fixture.store.recordCheckoutFailure(orderID: order.id, reason: "Stripe unreachable: connection refused")
            let stored = try await fixture.store.order(id: order.id)
            #expect(stored?.status == .pending)
            #expect(stored?.timeline.last?.kind == "checkout.failed")
            #expect(stored?.timeline.last?.message.contains("connection refused") == true)
            guard case .create(1, _, _) = try await fixture.store.checkoutAttempt(orderID: order.id) else {
                Issue.record("expected the order to stay payable")
                return
            }
        }
    }

    @Test("settings are stored and replaced", arguments: TestDatabase.kinds)
    func settings(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            #expect(try await fixture.store.setting("stripe.webhookEndpoint") == nil)
            try await fixture.store.setSetting("stripe.webhookEndpoint", "we_1")
            try await fixture.store.setSetting("stripe.webhookEndpoint", "we_2")
            #expect(try await fixture.store.setting("stripe.webhookEndpoint") == "we_2")
        }
    }

    @Test("a stored order with an unknown status is an error naming table, row and column", arguments: TestDatabase.kinds)
    func unreadableRow(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await fixture.order()
            try await fixture.store.database.withConnection { sql in
                try await sql.update("shop_orders").set("status", to: SQLBind("lost")).where("id", .equal, order.id).run()
            }
            await #expect(
                throws: UnreadableRowError(table: "shop_orders", row: order.id, column: "status", reason: "'lost' is not a known OrderStatus")
            ) { try await fixture.store.order(id: order.id) }
        }
    }

    @Test("fulfilment moves a paid order to fulfilled and is rejected before payment", arguments: TestDatabase.kinds)
    func fulfil(kind: TestDatabase.Kind) async throws {
        try await StoreFixture.with(kind) { fixture in
            let order = try await fixture.order()
            #expect(try await fixture.store.fulfill(orderID: order.id).timeline.last?.kind == "transition.rejected")
            _ = try await fixture.store.recordCheckoutSession(orderID: order.id, session: fixture.session("cs_1"))
            let paid = StripeEventFixture.envelope(
                id: "evt_paid",
                type: "checkout.session.completed",
                object: StripeEventFixture.session("cs_1", orderID: order.id, paymentIntent: "pi_1", amount: 6100)
            )
            _ = try await fixture.store.apply(event: try StripeEvent(json: paid))
            #expect(try await fixture.store.fulfill(orderID: order.id).status == .fulfilled)
        }
    }
}
