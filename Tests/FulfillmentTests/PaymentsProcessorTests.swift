import Foundation
import FulfillmentEvents
import InterchangeTesting
import Messaging
import Persistence
import Testing

@testable import FulfillmentPayments

/// The handlers of both saga styles on both databases: one effect per message under redelivery, one charge per
/// order under retries and timeouts, refunds of what was charged, and a charge after a refund refused.
@Suite(.timeLimit(.minutes(1)))
struct PaymentsProcessorTests {
    typealias H = PaymentsHarness

    static let charge = ChargePayment(orderId: "o-1", userId: "u-1", amountCents: 1450, currency: "usd")

    @Test(arguments: TestDatabase.kinds)
    func aChargeCommandRedeliveredHasOneEffectAndOneAnswer(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let command = try H.event(Self.charge)
            let processed = try H.only(try await processor.handle(command), as: PaymentProcessed.self)
            #expect(processed.amountCents == 1450)
            #expect(processed.currency == "usd")
            #expect(try await processor.handle(command) == .duplicate)
            #expect(try await processor.handle(command) == .duplicate)
            #expect(provider.chargeCount == 1)
            #expect(try await H.outbox(database).map(\.type) == [PaymentProcessed.type])
            let payments = try await processor.store.payments(orderID: "o-1")
            #expect(payments.count == 1)
            #expect(payments.first?.id == processed.paymentId)
            #expect(payments.first?.status == .charged)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aRetriedChargeCommandIsAnsweredAgainWithoutChargingAgain(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let first = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentProcessed.self)
            // The orchestrator's attempt 2: the same command as a new event.
            let second = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentProcessed.self)
            #expect(second == first)
            #expect(provider.chargeCount == 1)
            #expect(try await H.inboxCount(database) == 2)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aDeclineAnswersPaymentFailedWithTheCodeAndIsRemembered(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider(settings: .init(mode: .decline))
            let processor = try await H.processor(database: database, provider: provider)
            let failed = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentFailed.self)
            #expect(failed == PaymentFailed(orderId: "o-1", reason: "declined", declineCode: "card_declined"))
            provider.settings = .init(mode: .ok)
            // A repeat of the command is answered from the stored decline, not charged now.
            #expect(try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentFailed.self) == failed)
            #expect(provider.chargeCount == 0)
            #expect(try await processor.store.payments(orderID: "o-1").first?.status == .failed)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aRefundGivesBackTheChargeOnceAndALaterChargeIsRefused(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let processed = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentProcessed.self)
            let refund = try H.event(RefundPayment(orderId: "o-1"))
            let refunded = try H.only(try await processor.handle(refund), as: PaymentRefunded.self)
            #expect(refunded == PaymentRefunded(orderId: "o-1", paymentId: processed.paymentId, amountCents: 1450))
            #expect(try await processor.handle(refund) == .duplicate)
            // Another refund command (a retried compensation) answers the same refund; nothing moves.
            #expect(try H.only(try await processor.handle(try H.event(RefundPayment(orderId: "o-1"))), as: PaymentRefunded.self) == refunded)
            #expect(provider.refundCount == 1)
            #expect(provider.heldCents == 0)
            let late = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentFailed.self)
            #expect(late.reason == PaymentFailed.cancelled)
            #expect(provider.chargeCount == 1)
            let payment = try #require(try await processor.store.payments(orderID: "o-1").first)
            #expect(payment.status == .refunded)
            #expect(payment.refundedCents == 1450)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aRefundBeforeAnyChargeAnswersZeroAndTombstonesTheOrder(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let refunded = try H.only(try await processor.handle(try H.event(RefundPayment(orderId: "o-1"))), as: PaymentRefunded.self)
            #expect(refunded == PaymentRefunded(orderId: "o-1", paymentId: nil, amountCents: 0))
            // The charge-payment that was overtaken by its compensation arrives late: refused, nothing charged.
            let failed = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentFailed.self)
            #expect(failed == PaymentFailed(orderId: "o-1", reason: "cancelled"))
            #expect(provider.chargeCount == 0)
            #expect(try await processor.store.payments(orderID: "o-1").first?.reason == "cancelled")
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aTimedOutChargeAnswersNothingAndItsRetryFindsTheFirstChargeInsteadOfChargingTwice(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock(advancesOnSleep: true)
            let provider = SimulatedPaymentProvider(settings: .init(mode: .timeout), clock: clock)
            let processor = try await H.processor(database: database, provider: provider)
            #expect(try H.answers(try await processor.handle(try H.event(Self.charge))).isEmpty)
            let pending = try #require(try await processor.store.payments(orderID: "o-1").first)
            #expect(pending.status == .failed)
            #expect(pending.reason == "timeout")
            #expect(provider.chargeCount == 1)
            // Still timing out: attempt 2 answers nothing either, and charges nothing more.
            #expect(try H.answers(try await processor.handle(try H.event(Self.charge))).isEmpty)
            provider.settings = .init(mode: .ok)
            let processed = try H.only(try await processor.handle(try H.event(Self.charge)), as: PaymentProcessed.self)
            #expect(processed.paymentId == pending.id)
            #expect(provider.chargeCount == 1)
            let payment = try #require(try await processor.store.payment(id: pending.id))
            #expect(payment.status == .charged)
            #expect(payment.reason == nil)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aRefundAfterATimedOutChargeGivesBackTheChargeThatHappened(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock(advancesOnSleep: true)
            let provider = SimulatedPaymentProvider(settings: .init(mode: .timeout), clock: clock)
            let processor = try await H.processor(database: database, provider: provider)
            #expect(try H.answers(try await processor.handle(try H.event(Self.charge))).isEmpty)
            #expect(provider.heldCents == 1450)
            // The saga gave up on the step and compensates, the provider still timing out charges.
            let refunded = try H.only(try await processor.handle(try H.event(RefundPayment(orderId: "o-1"))), as: PaymentRefunded.self)
            #expect(refunded.amountCents == 1450)
            #expect(provider.heldCents == 0)
            #expect(try await processor.store.payments(orderID: "o-1").first?.status == .refunded)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func choreographyChargesOnInventoryReservedAndRefundsOnOrderCancelled(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let created = OrderCreated(
                orderId: "o-7",
                userId: "u-7",
                lines: [OrderLine(sku: "SKU-APPLE", quantity: 3, unitPriceCents: 120)],
                totalCents: 360,
                currency: "usd",
                sagaStyle: .choreography
            )
            let reserved = try H.event(
                InventoryReserved(orderId: "o-7", reservationId: "r-7", lines: [StockLine(sku: "SKU-APPLE", quantity: 3)], expiresAt: Date()),
                from: .inventory
            )
            // Reordered: the reservation is handled before order.created — retried later, nothing recorded.
            await #expect(throws: PaymentProcessorError.self) { try await processor.handle(reserved) }
            #expect(try await H.inboxCount(database) == 0)
            #expect(try H.answers(try await processor.handle(try H.event(created))).isEmpty)
            let processed = try H.only(try await processor.handle(reserved), as: PaymentProcessed.self)
            #expect(processed.amountCents == 360)
            #expect(try await processor.handle(reserved) == .duplicate)
            let cancelled = try H.event(OrderCancelled(orderId: "o-7", reason: "timeout"))
            let refunded = try H.only(try await processor.handle(cancelled), as: PaymentRefunded.self)
            #expect(refunded == PaymentRefunded(orderId: "o-7", paymentId: processed.paymentId, amountCents: 360))
            #expect(try await processor.handle(cancelled) == .duplicate)
            #expect(provider.chargeCount == 1)
            #expect(provider.heldCents == 0)
            #expect(try await H.outbox(database).map(\.type) == [PaymentProcessed.type, PaymentRefunded.type])
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func orchestratedOrdersIgnoreTheChoreographyEventsButKeepTheTombstone(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let provider = SimulatedPaymentProvider()
            let processor = try await H.processor(database: database, provider: provider)
            let created = OrderCreated(orderId: "o-8", userId: "u-8", lines: [], totalCents: 90, currency: "usd", sagaStyle: .orchestration)
            #expect(try H.answers(try await processor.handle(try H.event(created))).isEmpty)
            let reserved = InventoryReserved(orderId: "o-8", reservationId: "r-8", lines: [], expiresAt: Date())
            #expect(try H.answers(try await processor.handle(try H.event(reserved, from: .inventory))).isEmpty)
            #expect(provider.chargeCount == 0)
            #expect(try H.answers(try await processor.handle(try H.event(OrderCancelled(orderId: "o-8", reason: "cancelled")))).isEmpty)
            let late = ChargePayment(orderId: "o-8", userId: "u-8", amountCents: 90, currency: "usd")
            #expect(try H.only(try await processor.handle(try H.event(late)), as: PaymentFailed.self).reason == "cancelled")
            #expect(provider.chargeCount == 0)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func concurrentDeliveriesOfOneChargeChargeOnce(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            // 20 ms at the provider keeps the first charge's transaction open while the others arrive.
            let provider = SimulatedPaymentProvider(settings: .init(mode: .ok, latency: .milliseconds(20)))
            let processor = try await H.processor(database: database, provider: provider)
            // Eight copies of the command (the same event redelivered, and retries as new events) at once.
            let same = try H.event(Self.charge)
            let events = try (0..<4).map { _ in same } + (0..<4).map { _ in try H.event(Self.charge) }
            let outcomes = await withTaskGroup(of: Result<PaymentProcessor.Outcome, any Error>.self) { group in
                for event in events {
                    group.addTask {
                        do { return .success(try await processor.handle(event)) } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // A handler that lost the race on the payments row fails and is redelivered: do that here.
            var retried = 0
            for (index, outcome) in outcomes.enumerated() where (try? outcome.get()) == nil {
                retried += 1
                _ = try await processor.handle(events[index])
            }
            #expect(provider.chargeCount == 1)
            let payments = try await processor.store.payments(orderID: "o-1")
            #expect(payments.count == 1)
            #expect(payments.first?.status == .charged)
            let answered = try await H.outbox(database)
            #expect(answered.allSatisfy { $0.type == PaymentProcessed.type })
            #expect(answered.count == 5)  // the same event once, and each of the four new events
            #expect(try await H.inboxCount(database) == 5)
            #expect(retried <= events.count)
        }
    }
}
