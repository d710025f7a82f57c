import Foundation
import InterchangeTesting
import Testing

@testable import FulfillmentPayments

/// The built-in provider: one charge per idempotency key, the switch, the per-charge triggers, latency and
/// timeouts on an injected clock (no test waits for them).
@Suite(.timeLimit(.minutes(1)))
struct PaymentsSimulatedProviderTests {
    static func request(order: String = "o-1", user: String = "u-1", amount: Int = 1200) -> ChargeRequest {
        ChargeRequest(orderID: order, userID: user, amountCents: amount, currency: "usd")
    }

    @Test func aRepeatedChargeOfOneOrderAnswersTheFirstAndChargesOnce() async throws {
        let provider = SimulatedPaymentProvider()
        let first = try await provider.charge(Self.request())
        let again = try await provider.charge(Self.request())
        guard case .charged(let charge) = first else { throw PaymentsTestError("expected a charge, got \(first)") }
        #expect(again == first)
        #expect(charge.providerPaymentID.hasPrefix("sim_pi_"))
        #expect(provider.chargeCount == 1)
        #expect(provider.heldCents == 1200)
        let other = try await provider.charge(Self.request(order: "o-2"))
        #expect(other != first)
        #expect(provider.chargeCount == 2)
    }

    @Test func theDeclineSwitchDeclinesEveryFollowingCharge() async throws {
        let provider = SimulatedPaymentProvider()
        provider.settings = .init(mode: .decline)
        #expect(
            try await provider.charge(Self.request())
                == .declined(.init(code: "card_declined", message: "Your card was declined (simulated: card_declined)."))
        )
        #expect(provider.chargeCount == 0)
        provider.settings = .init(mode: .ok)
        guard case .charged = try await provider.charge(Self.request(order: "o-2")) else { throw PaymentsTestError("the ok switch did not charge") }
    }

    @Test(arguments: [
        ("sim-decline-7", 1200, "card_declined"), ("sim-insufficient-7", 1200, "insufficient_funds"),
        ("u-1", 1201, "card_declined"), ("u-1", 1202, "insufficient_funds"),
    ])
    func aPerChargeTriggerDeclinesWhateverTheSwitchSays(user: String, amount: Int, code: String) async throws {
        let provider = SimulatedPaymentProvider(settings: .init(mode: .ok))
        guard case .declined(let decline) = try await provider.charge(Self.request(user: user, amount: amount)) else {
            throw PaymentsTestError("\(user)/\(amount) was not declined")
        }
        #expect(decline.code == code)
        #expect(provider.chargeCount == 0)
    }

    @Test func aTimedOutChargeTakesTheMoneyOnceAndTheRetryAfterTheSwitchFindsIt() async throws {
        let clock = ManualClock()
        let provider = SimulatedPaymentProvider(settings: .init(mode: .timeout), timeout: .seconds(5), clock: clock)
        let call = Task { try await provider.charge(Self.request()) }
        try await clock.waitForSleepers(1)
        #expect(clock.sleeps == [.seconds(5)])
        clock.advance(by: .seconds(5))
        await #expect(throws: PaymentProviderError.self) { try await call.value }
        #expect(provider.chargeCount == 1)
        // The answer was lost; what happened is known at once without charging again.
        guard case .charged(let found)? = try await provider.findCharge(Self.request()) else { throw PaymentsTestError("findCharge found nothing") }
        provider.settings = .init(mode: .ok)
        #expect(try await provider.charge(Self.request()) == .charged(found))
        #expect(provider.chargeCount == 1)
    }

    @Test func whileTheSwitchSaysTimeoutEveryRetryTimesOutWithoutChargingAgain() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let provider = SimulatedPaymentProvider(settings: .init(mode: .timeout), clock: clock)
        for _ in 0..<3 {
            await #expect(throws: PaymentProviderError.self) { try await provider.charge(Self.request()) }
        }
        #expect(provider.chargeCount == 1)
        let byAmount = Self.request(order: "o-2", amount: 1208)
        provider.settings = .init(mode: .ok)
        await #expect(throws: PaymentProviderError.self) { try await provider.charge(byAmount) }
        #expect(provider.chargeCount == 2)
    }

    @Test func latencyDelaysChargesAndRefundsOnTheClock() async throws {
        let clock = ManualClock()
        let provider = SimulatedPaymentProvider(settings: .init(mode: .ok, latency: .milliseconds(250)), clock: clock)
        let call = Task { try await provider.charge(Self.request()) }
        try await clock.waitForSleepers(1)
        #expect(clock.sleeps == [.milliseconds(250)])
        clock.advance(by: .milliseconds(250))
        guard case .charged(let charge) = try await call.value else { throw PaymentsTestError("not charged") }
        let refund = Task {
            try await provider.refund(RefundRequest(orderID: "o-1", providerPaymentID: charge.providerPaymentID, amountCents: 1200))
        }
        try await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(250))
        #expect(try await refund.value.amountCents == 1200)
        #expect(provider.heldCents == 0)
    }

    @Test func aRefundIsMadeOncePerOrderAndAnUnknownChargeIsRefused() async throws {
        let provider = SimulatedPaymentProvider()
        guard case .charged(let charge) = try await provider.charge(Self.request()) else { throw PaymentsTestError("not charged") }
        let request = RefundRequest(orderID: "o-1", providerPaymentID: charge.providerPaymentID, amountCents: 1200)
        let first = try await provider.refund(request)
        #expect(try await provider.refund(request) == first)
        #expect(provider.refundCount == 1)
        await #expect(throws: PaymentProviderError.self) {
            try await provider.refund(RefundRequest(orderID: "o-9", providerPaymentID: "sim_pi_nope", amountCents: 1))
        }
    }
}
