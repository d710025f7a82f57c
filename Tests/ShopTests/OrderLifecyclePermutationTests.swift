import Foundation
import Testing

@testable import Shop

/// Every ordering of one payment's inputs ends in the same state.
@Suite("OrderLifecycle permutations")
struct OrderLifecyclePermutationTests {
    /// One input to the lifecycle: a session the shop records, or a webhook event.
    enum Step: Hashable, CustomStringConvertible {
        case session(CheckoutSessionRef)
        case event(id: String, PaymentEvent)

        var description: String {
            switch self {
            case .session(let session): "record \(session.id)"
            case .event(let id, let event): "\(id) \(event.summary)"
            }
        }
    }

    struct Scenario: CustomTestStringConvertible, Sendable {
        var name: String
        var steps: [Step]
        var status: OrderStatus
        var paymentStatus: PaymentStatus
        var flags: [String] = []
        var testDescription: String { name }
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let amount = 2500

    static func session(_ id: String, _ attempt: Int) -> Step {
        .session(CheckoutSessionRef(id: id, url: "https://checkout.test/\(id)", expiresAt: start.addingTimeInterval(1800), attempt: attempt))
    }
    static func completed(_ session: String, _ pi: String, paid: Bool = true, amount: Int = amount) -> Step {
        .event(
            id: "evt_completed_\(session)",
            .sessionCompleted(sessionID: session, paymentIntentID: pi, paid: paid, amount: amount, currency: "usd")
        )
    }
    static func succeeded(_ pi: String, amount: Int = amount) -> Step {
        .event(id: "evt_succeeded_\(pi)", .paymentSucceeded(paymentIntentID: pi, amount: amount, currency: "usd"))
    }
    static func failed(_ pi: String, _ n: Int = 1) -> Step {
        .event(id: "evt_failed_\(pi)_\(n)", .paymentFailed(paymentIntentID: pi, reason: "card_declined: generic_decline"))
    }
    static func refunded(_ pi: String, _ refunded: Int, full: Bool) -> Step {
        .event(
            id: "evt_refunded_\(pi)_\(refunded)",
            .chargeRefunded(chargeID: "ch_\(pi)", paymentIntentID: pi, amount: amount, amountRefunded: refunded, fullyRefunded: full, currency: "usd")
        )
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "paid", steps: [session("cs_1", 1), completed("cs_1", "pi_1"), succeeded("pi_1")], status: .paid, paymentStatus: .paid),
        Scenario(
            name: "paid then refunded",
            steps: [session("cs_1", 1), completed("cs_1", "pi_1"), succeeded("pi_1"), refunded("pi_1", amount, full: true)],
            status: .refunded,
            paymentStatus: .refunded
        ),
        Scenario(
            name: "paid then refunded in two parts",
            steps: [
                session("cs_1", 1), completed("cs_1", "pi_1"), succeeded("pi_1"), refunded("pi_1", 1000, full: false),
                refunded("pi_1", amount, full: true),
            ],
            status: .refunded,
            paymentStatus: .refunded
        ),
        Scenario(
            name: "declined, then paid with a second card",
            steps: [session("cs_1", 1), failed("pi_1"), completed("cs_1", "pi_1"), succeeded("pi_1")],
            status: .paid,
            paymentStatus: .paid
        ),
        Scenario(
            name: "delayed payment succeeded",
            steps: [
                session("cs_1", 1), completed("cs_1", "pi_1", paid: false), succeeded("pi_1"),
                .event(id: "evt_async_ok", .asyncPaymentSucceeded(sessionID: "cs_1", paymentIntentID: "pi_1", amount: amount, currency: "usd")),
            ],
            status: .paid,
            paymentStatus: .paid
        ),
        Scenario(
            name: "delayed payment failed",
            steps: [
                session("cs_1", 1), completed("cs_1", "pi_1", paid: false), failed("pi_1"),
                .event(id: "evt_async_failed", .asyncPaymentFailed(sessionID: "cs_1", paymentIntentID: "pi_1")),
            ],
            status: .cancelled,
            paymentStatus: .failed
        ),
        Scenario(
            name: "expired",
            steps: [session("cs_1", 1), .event(id: "evt_expired_cs_1", .sessionExpired(sessionID: "cs_1"))],
            status: .expired,
            paymentStatus: .unpaid
        ),
        Scenario(
            name: "declined, then expired",
            steps: [session("cs_1", 1), failed("pi_1"), .event(id: "evt_expired_cs_1", .sessionExpired(sessionID: "cs_1"))],
            status: .expired,
            paymentStatus: .failed
        ),
        Scenario(
            name: "expired, then paid on a second session",
            steps: [
                session("cs_1", 1), .event(id: "evt_expired_cs_1", .sessionExpired(sessionID: "cs_1")), session("cs_2", 2),
                completed("cs_2", "pi_2"), succeeded("pi_2"),
            ],
            status: .paid,
            paymentStatus: .paid
        ),
        Scenario(
            name: "paid with the wrong amount",
            steps: [session("cs_1", 1), completed("cs_1", "pi_1", amount: 2400), succeeded("pi_1", amount: 2400)],
            status: .awaitingPayment,
            paymentStatus: .unpaid,
            flags: [OrderFlag.amountMismatch]
        ),
    ]

    /// Webhooks may arrive in any order, and before the shop has recorded the session they are about; only the
    /// shop's own session records happen in attempt order (attempt 2 is opened after attempt 1).
    static func isPossible(_ order: [Step]) -> Bool {
        let attempts = order.compactMap { step -> Int? in
            if case .session(let session) = step { return session.attempt }
            return nil
        }
        return attempts == attempts.sorted()
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[T]] in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }

    /// Runs `steps` on a new lifecycle; returns it and every timeline entry.
    static func run(_ steps: [Step]) -> (OrderLifecycle, [TimelineEntry]) {
        var lifecycle = OrderLifecycle(amountTotal: amount, currency: "usd")
        var entries: [TimelineEntry] = []
        for step in steps {
            switch step {
            case .session(let session):
                entries += lifecycle.recordSession(session, at: start)
            case .event(let id, let event):
                if case .applied(let added) = lifecycle.apply(event, eventID: id, at: start) { entries += added }
            }
        }
        return (lifecycle, entries)
    }

    @Test("every possible ordering of a payment's events ends in one state", arguments: scenarios)
    func everyOrderingEndsTheSame(scenario: Scenario) {
        let orderings = Self.permutations(scenario.steps).filter(Self.isPossible)
        #expect(orderings.count > 1 || scenario.steps.count == 1)
        for ordering in orderings {
            let (lifecycle, entries) = Self.run(ordering)
            let context = Comment(rawValue: "\(scenario.name): \(ordering.map(\.description).joined(separator: ", "))")
            #expect(lifecycle.status == scenario.status, context)
            #expect(lifecycle.paymentStatus == scenario.paymentStatus, context)
            #expect(lifecycle.flags == scenario.flags, context)
            for entry in entries where entry.kind == "status.changed" {
                if let from = entry.from, let to = entry.to {
                    #expect(OrderLifecycle.isReachable(from: from, to: to), "\(from) → \(to) is not a legal change; \(context)")
                } else {
                    Issue.record("a status change without from/to; \(context)")
                }
            }
            for entry in entries where entry.kind == "transition.rejected" {
                if let from = entry.from, let to = entry.to {
                    #expect(!OrderLifecycle.isReachable(from: from, to: to), "\(from) → \(to) was rejected but is legal; \(context)")
                }
            }
        }
    }

    @Test("replaying every event of an ordering changes nothing", arguments: scenarios)
    func replayChangesNothing(scenario: Scenario) {
        for ordering in Self.permutations(scenario.steps).filter(Self.isPossible) {
            let (once, _) = Self.run(ordering)
            let (twice, _) = Self.run(ordering + ordering.reversed())
            #expect(once == twice, Comment(rawValue: scenario.name))
        }
    }

    @Test("the permutation count is what the scenarios imply (no ordering silently dropped)")
    func permutationCounts() {
        let counts = Self.scenarios.map { Self.permutations($0.steps).filter(Self.isPossible).count }
        // n! orderings, halved where two session records must keep their order.
        #expect(counts == [6, 24, 120, 24, 24, 24, 2, 6, 60, 6])
    }
}
