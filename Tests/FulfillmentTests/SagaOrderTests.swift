import Foundation
import FulfillmentEvents
import InterchangeTesting
import Logging
import Messaging
import Persistence
import SQLKit
import Sagas
import Testing

@testable import FulfillmentOrders

/// The order saga on its own database (both kinds), fed the participants' replies as the orders consumer feeds
/// them: every step's status, the commands/events each transaction puts in the outbox, timeouts on a manual clock,
/// cancel, duplicates and replies that overtake each other.
@Suite(.timeLimit(.minutes(1)))
struct SagaOrderTests {
    static let created = OrderCreated.type
    static let reserve = ReserveInventory.type
    static let charge = ChargePayment.type
    static let release = ReleaseInventory.type
    static let refund = RefundPayment.type
    static let confirmed = OrderConfirmed.type
    static let cancelled = OrderCancelled.type

    /// One order's saga on a fresh database.
    struct Fixture: Sendable {
        let saga: OrderSaga
        let clock: ManualClock
        let orderID: String
        var database: Database { saga.store.database }

        /// Feeds `input` (a reply, a cancel) in one transaction, as the consumer does.
        @discardableResult
        func feed(_ input: SagaInput) async throws -> Order {
            let saga = self.saga
            let id = orderID
            return try #require(try await database.transaction { sql in try await saga.apply(input, toOrder: id, in: sql) })
        }

        /// Moves the clock past `duration` and fires the due deadlines, as the scanner does.
        func advance(by duration: Duration) async throws -> Int {
            clock.advance(by: duration)
            return try await saga.fireDueDeadlines()
        }

        func order() async throws -> (Order, SagaInstance) { try #require(try await saga.store.orderWithSaga(id: orderID)) }

        /// The outbox's event types, in order.
        func sent() async throws -> [String] {
            try await database.withConnection { sql in
                try await sql.raw("SELECT type FROM messaging_outbox ORDER BY seq").all().map { try $0.decode(column: "type", as: String.self) }
            }
        }

        /// The outbox's events of `type`, decoded.
        func sent<M: FulfillmentMessage>(_ type: M.Type) async throws -> [M] {
            try await database.withConnection { sql in
                try await sql.raw("SELECT payload FROM messaging_outbox WHERE type = \(bind: M.type) ORDER BY seq").all()
            }.map { row in try CloudEvent(jsonEncoded: try row.decode(column: "payload", as: Data.self)).decodeData(as: M.self) }
        }
    }

    static let configuration = OrdersConfiguration(reserveTimeout: .seconds(10), chargeTimeout: .seconds(20), stepMaxAttempts: 3)

    func withSaga(_ kind: TestDatabase.Kind, style: FulfillmentSagaStyle, _ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(Outbox.migrations)
            let clock = ManualClock()
            let store = OrdersStore(database: database, now: clock.dateProvider)
            try await store.prepare()
            let saga = OrderSaga(
                store: store,
                outbox: Outbox(now: clock.dateProvider),
                configuration: Self.configuration,
                now: clock.dateProvider,
                logger: Logger(label: "test")
            )
            let order = Order(
                id: "ord_test1",
                userId: "u_ada",
                lines: [OrderLine(sku: "SKU-APPLE", quantity: 2, unitPriceCents: 120)],
                totalCents: 240,
                currency: "usd",
                status: .pending,
                sagaStyle: style,
                createdAt: clock.date,
                updatedAt: clock.date
            )
            _ = try await database.transaction { sql in try await saga.start(order, in: sql) }
            try await body(Fixture(saga: saga, clock: clock, orderID: order.id))
        }
    }

    static let bothStylesOnBothDatabases: [(TestDatabase.Kind, FulfillmentSagaStyle)] = TestDatabase.kinds.flatMap { kind in
        FulfillmentSagaStyle.allCases.map { (kind, $0) }
    }

    // MARK: Happy path

    @Test(arguments: TestDatabase.kinds)
    func orchestrationSendsOneCommandPerStepAndConfirms(kind: TestDatabase.Kind) async throws {
        try await withSaga(kind, style: .orchestration) { fixture in
            #expect(try await fixture.sent() == [Self.created, Self.reserve])
            #expect(try await fixture.order().0.status == .reserving)
            #expect(try await fixture.sent(ReserveInventory.self).first?.lines == [StockLine(sku: "SKU-APPLE", quantity: 2)])
            #expect(try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1")).status == .charging)
            #expect(
                try await fixture.sent(ChargePayment.self) == [
                    ChargePayment(orderId: "ord_test1", userId: "u_ada", amountCents: 240, currency: "usd")
                ]
            )
            let order = try await fixture.feed(.succeeded(step: "charge-payment", messageID: "e2"))
            #expect(order.status == .confirmed)
            #expect(try await fixture.sent() == [Self.created, Self.reserve, Self.charge, Self.confirmed])
            let (_, saga) = try await fixture.order()
            #expect(saga.status == .completed)
            #expect(saga.deadline == nil)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func choreographySendsNoCommandsOnlyTheOrdersOwnEvents(kind: TestDatabase.Kind) async throws {
        try await withSaga(kind, style: .choreography) { fixture in
            #expect(try await fixture.sent() == [Self.created])
            #expect(try await fixture.sent(OrderCreated.self).first?.sagaStyle == .choreography)
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            #expect(try await fixture.feed(.succeeded(step: "charge-payment", messageID: "e2")).status == .confirmed)
            #expect(try await fixture.sent() == [Self.created, Self.confirmed])
        }
    }

    @Test func aPaymentThatOvertakesTheReservationIsHeldUntilTheSagaReachesIt() async throws {
        try await withSaga(.sqlite, style: .choreography) { fixture in
            let early = try await fixture.feed(.succeeded(step: "charge-payment", messageID: "e2"))
            #expect(early.status == .reserving)
            let log = try await fixture.order().1.log
            #expect(log.allSatisfy { $0.kind != .ignored })
            let order = try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            #expect(order.status == .confirmed)
            #expect(try await fixture.sent() == [Self.created, Self.confirmed])
        }
    }

    @Test func aDuplicatedReplyHasNoSecondEffect() async throws {
        try await withSaga(.sqlite, style: .orchestration) { fixture in
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            #expect(try await fixture.sent() == [Self.created, Self.reserve, Self.charge])
        }
    }

    // MARK: Compensation

    @Test(arguments: bothStylesOnBothDatabases)
    func aDeclinedPaymentReleasesTheStockAndCancels(kind: TestDatabase.Kind, style: FulfillmentSagaStyle) async throws {
        try await withSaga(kind, style: style) { fixture in
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            let compensating = try await fixture.feed(.failed(step: "charge-payment", reason: "declined (card_declined)", messageID: "e2"))
            #expect(compensating.status == .compensating)
            let expected = style == .orchestration ? [Self.created, Self.reserve, Self.charge, Self.release] : [Self.created, Self.cancelled]
            #expect(try await fixture.sent() == expected, "nothing to refund: the failed charge did nothing")
            let order = try await fixture.feed(.compensated(step: "reserve-inventory", messageID: "e3"))
            #expect(order.status == .cancelled)
            #expect(order.reason?.contains("declined") == true, "\(order.reason ?? "nil")")
            #expect(try await fixture.sent().filter { $0 == Self.cancelled }.count == 1, "order.cancelled exactly once")
            #expect(try await fixture.order().1.status == .compensated)
        }
    }

    @Test(arguments: bothStylesOnBothDatabases)
    func shortStockCancelsAndNobodyIsCharged(kind: TestDatabase.Kind, style: FulfillmentSagaStyle) async throws {
        try await withSaga(kind, style: style) { fixture in
            let order = try await fixture.feed(.failed(step: "reserve-inventory", reason: "insufficient-stock (SKU-APPLE)", messageID: "e1"))
            #expect(order.status == .cancelled)
            #expect(order.reason?.contains("insufficient-stock") == true)
            let sent = try await fixture.sent()
            #expect(!sent.contains(Self.charge))
            #expect(sent.last == Self.cancelled)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aPaymentTimeoutIsRetriedThenRefundedAndReleasedInReverseOrder(kind: TestDatabase.Kind) async throws {
        try await withSaga(kind, style: .orchestration) { fixture in
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            #expect(try await fixture.advance(by: .seconds(19)) == 0, "not due before the 20 s charge timeout")
            #expect(try await fixture.advance(by: .seconds(2)) == 1)
            #expect(try await fixture.sent(ChargePayment.self).count == 2, "the same command again, attempt 2")
            #expect(try await fixture.advance(by: .seconds(21)) == 1)
            #expect(try await fixture.sent(ChargePayment.self).count == 3)
            #expect(try await fixture.order().0.status == .charging)
            #expect(try await fixture.advance(by: .seconds(21)) == 1)
            // Three attempts timed out: the charge may have happened, so it is refunded, then the stock released.
            #expect(try await fixture.order().0.status == .compensating)
            #expect(try await fixture.sent().suffix(1) == [Self.refund])
            try await fixture.feed(.compensated(step: "charge-payment", messageID: "e2"))
            #expect(try await fixture.sent().suffix(1) == [Self.release])
            let order = try await fixture.feed(.compensated(step: "reserve-inventory", messageID: "e3"))
            #expect(order.status == .cancelled)
            let kinds = try await fixture.order().1.log.map(\.kind)
            #expect(kinds.filter { $0 == .timedOut }.count == 3)
            // A late success of a timed-out attempt changes nothing, and the timeline says so.
            #expect(try await fixture.feed(.succeeded(step: "charge-payment", messageID: "late")).status == .cancelled)
            #expect(try await fixture.order().1.log.last?.kind == .ignored)
        }
    }

    @Test func aChoreographedStepThatTimesOutCancelsAtOnceAndTheParticipantsCompensate() async throws {
        try await withSaga(.sqlite, style: .choreography) { fixture in
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            #expect(try await fixture.advance(by: .seconds(21)) == 1)
            #expect(try await fixture.order().0.status == .compensating)
            #expect(try await fixture.sent() == [Self.created, Self.cancelled])
            // Inventory released on order.cancelled before payments answered: held until the refund is in.
            try await fixture.feed(.compensated(step: "reserve-inventory", messageID: "e2"))
            #expect(try await fixture.order().0.status == .compensating)
            let order = try await fixture.feed(.compensated(step: "charge-payment", messageID: "e3"))
            #expect(order.status == .cancelled)
            #expect(try await fixture.sent() == [Self.created, Self.cancelled])
        }
    }

    @Test(arguments: bothStylesOnBothDatabases)
    func cancellingWhileChargingCompensatesTheChargeInFlightAndTheReservation(kind: TestDatabase.Kind, style: FulfillmentSagaStyle) async throws {
        try await withSaga(kind, style: style) { fixture in
            try await fixture.feed(.succeeded(step: "reserve-inventory", messageID: "e1"))
            let order = try await fixture.feed(.cancel(reason: OrderSaga.cancelledByRequest))
            #expect(order.status == .compensating)
            if style == .orchestration {
                #expect(try await fixture.sent().suffix(1) == [Self.refund])
            } else {
                #expect(try await fixture.sent().suffix(1) == [Self.cancelled])
            }
            // The charge answers late: ignored; the refund and the release complete the cancel.
            try await fixture.feed(.succeeded(step: "charge-payment", messageID: "late"))
            try await fixture.feed(.compensated(step: "charge-payment", messageID: "e2"))
            if style == .orchestration { #expect(try await fixture.sent().suffix(1) == [Self.release]) }
            let cancelled = try await fixture.feed(.compensated(step: "reserve-inventory", messageID: "e3"))
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.reason == OrderSaga.cancelledByRequest)
            #expect(try await fixture.sent().filter { $0 == Self.cancelled }.count == 1)
            #expect(!(try await fixture.sent().contains(Self.confirmed)))
        }
    }

    @Test func aTerminalSagaDropsRepliesStillHeld() async throws {
        try await withSaga(.sqlite, style: .choreography) { fixture in
            try await fixture.feed(.compensated(step: "reserve-inventory", messageID: "early"))  // reserve executing: held
            try await fixture.feed(.failed(step: "reserve-inventory", reason: "insufficient-stock", messageID: "e1"))
            let (order, saga) = try await fixture.order()
            #expect(order.status == .cancelled)
            #expect(saga.held.isEmpty)
            #expect(saga.log.contains { $0.kind == .held })
            #expect(saga.log.last?.kind == .ignored)  // the held release, dropped when the saga ended
        }
    }
}
