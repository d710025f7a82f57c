import Foundation
import FulfillmentEvents
import InterchangeTesting
import Logging
import Messaging
import Persistence
import Resilience
import ServiceLifecycle
import Testing

@testable import FulfillmentPayments

/// The payments service as it runs: its consumer and outbox relay (its `services`) on a real EmbeddedTransport
/// in a database of its own, commands and events published through an EventBus, the answers read back by another
/// consumer group — on both databases.
@Suite(.timeLimit(.minutes(1)))
struct PaymentsEventFlowTests {
    typealias H = PaymentsHarness

    /// Runs the component's services and an observer group that collects every `payment.*` answer.
    static func withRunningPayments(
        _ kind: TestDatabase.Kind,
        provider: SimulatedPaymentProvider,
        _ body: @Sendable (EventBus, PaymentsComponent, LockedValue<[CloudEvent]>) async throws -> Void
    ) async throws {
        try await TestDatabase.with(kind) { eventsDatabase in
            try await TestDatabase.with(kind) { paymentsDatabase in
                try await eventsDatabase.migrate(EmbeddedTransport.migrations)
                let transport = EmbeddedTransport(
                    database: eventsDatabase,
                    configuration: .init(pollInterval: .milliseconds(10)),
                    logger: H.logger
                )
                let payments = try await PaymentsComponent.make(
                    database: paymentsDatabase,
                    transport: transport,
                    configuration: .init(
                        retryDelay: try .exponential(initial: .milliseconds(10), maxDelay: .milliseconds(50), jitter: .none),
                        relay: .init(pollInterval: .milliseconds(10))
                    ),
                    logger: H.logger,
                    provider: provider,
                    closesDatabase: false
                )
                let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: H.logger)
                let answers = LockedValue<[CloudEvent]>([])
                let observer = bus.consumer(Subscription(group: "test.observer", bindings: ["com.interchange.fulfillment.payment.*"])) { event, _ in
                    answers.withLock { $0.append(event) }
                }
                let group = ServiceGroup(configuration: .init(services: payments.services + [observer], logger: H.logger))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    do {
                        try await body(bus, payments, answers)
                    } catch {
                        await group.triggerGracefulShutdown()
                        throw error
                    }
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    static func types(_ answers: LockedValue<[CloudEvent]>, order: String) -> [String] {
        answers.value.filter { $0.subject == order }.map(\.type)
    }

    @Test(arguments: TestDatabase.kinds)
    func orchestrationCommandsRedeliveredAndReorderedHaveOneEffectEach(kind: TestDatabase.Kind) async throws {
        let provider = SimulatedPaymentProvider()
        try await Self.withRunningPayments(kind, provider: provider) { bus, payments, answers in
            // The same command event published twice (a relay that published it again after a crash).
            let charge = try H.event(ChargePayment(orderId: "o-flow-1", userId: "u-1", amountCents: 2500, currency: "usd"))
            try await bus.publish([charge, charge])
            try await H.eventually("payment.processed for o-flow-1") { Self.types(answers, order: "o-flow-1") == [PaymentProcessed.type] }
            try await bus.publish(try H.event(RefundPayment(orderId: "o-flow-1")))
            try await H.eventually("payment.refunded for o-flow-1") { Self.types(answers, order: "o-flow-1").count == 2 }
            // A charge overtaken by its compensation: refused.
            try await bus.publish(try H.event(RefundPayment(orderId: "o-flow-2")))
            try await bus.publish(try H.event(ChargePayment(orderId: "o-flow-2", userId: "u-2", amountCents: 100, currency: "usd")))
            try await H.eventually("both answers for o-flow-2") { Self.types(answers, order: "o-flow-2").count == 2 }

            #expect(Self.types(answers, order: "o-flow-1") == [PaymentProcessed.type, PaymentRefunded.type])
            let refunded = try #require(answers.value.first { $0.type == PaymentRefunded.type && $0.subject == "o-flow-1" })
            #expect(try refunded.decodeData(as: PaymentRefunded.self).amountCents == 2500)
            #expect(Self.types(answers, order: "o-flow-2") == [PaymentRefunded.type, PaymentFailed.type])
            let failed = try #require(answers.value.first { $0.type == PaymentFailed.type })
            #expect(try failed.decodeData(as: PaymentFailed.self).reason == "cancelled")
            #expect(failed.dataschema == PaymentFailed.dataschema)
            #expect(provider.chargeCount == 1)
            #expect(provider.heldCents == 0)
            #expect(try await H.inboxCount(payments.store.database) == 4)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func choreographyChargesOnTheReservationAndRefundsOnTheCancellation(kind: TestDatabase.Kind) async throws {
        let provider = SimulatedPaymentProvider()
        try await Self.withRunningPayments(kind, provider: provider) { bus, payments, answers in
            let created = OrderCreated(
                orderId: "o-chor-1",
                userId: "u-1",
                lines: [OrderLine(sku: "SKU-PLUM", quantity: 2, unitPriceCents: 250)],
                totalCents: 500,
                currency: "usd",
                sagaStyle: .choreography
            )
            let reserved = InventoryReserved(
                orderId: "o-chor-1",
                reservationId: "r-1",
                lines: [StockLine(sku: "SKU-PLUM", quantity: 2)],
                expiresAt: Date().addingTimeInterval(300)
            )
            // Reordered on the way: the reservation first (retried until order.created was handled).
            try await bus.publish(try H.event(reserved, from: .inventory))
            try await bus.publish(try H.event(created))
            try await H.eventually("payment.processed for o-chor-1") { Self.types(answers, order: "o-chor-1") == [PaymentProcessed.type] }
            try await bus.publish(try H.event(OrderCancelled(orderId: "o-chor-1", reason: "saga timed out")))
            try await H.eventually("payment.refunded for o-chor-1") { Self.types(answers, order: "o-chor-1").count == 2 }
            #expect(Self.types(answers, order: "o-chor-1") == [PaymentProcessed.type, PaymentRefunded.type])
            #expect(provider.chargeCount == 1)
            #expect(provider.heldCents == 0)
            #expect(try await payments.store.payments(orderID: "o-chor-1").first?.status == .refunded)
        }
    }

    @Test(arguments: TestDatabase.kinds)
    func aDeclineBySwitchAnswersPaymentFailed(kind: TestDatabase.Kind) async throws {
        let provider = SimulatedPaymentProvider(settings: .init(mode: .decline))
        try await Self.withRunningPayments(kind, provider: provider) { bus, _, answers in
            try await bus.publish(try H.event(ChargePayment(orderId: "o-dec-1", userId: "u-1", amountCents: 700, currency: "usd")))
            try await H.eventually("payment.failed for o-dec-1") { Self.types(answers, order: "o-dec-1") == [PaymentFailed.type] }
            let failed = try #require(answers.value.first).decodeData(as: PaymentFailed.self)
            #expect(failed == PaymentFailed(orderId: "o-dec-1", reason: "declined", declineCode: "card_declined"))
        }
    }
}
