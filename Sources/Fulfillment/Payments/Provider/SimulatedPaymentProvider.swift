import Foundation
import Synchronization

/// The built-in payment provider: money moves in memory, and declines, timeouts and latency are chosen by a switch
/// (``Settings``, `PUT /payments/api/provider`) or per charge by what is charged (``Trigger``).
///
/// ```swift
/// let clock = ManualClock(advancesOnSleep: true)          // tests never wait for latency or timeouts
/// let provider = SimulatedPaymentProvider(clock: clock)
/// provider.settings = .init(mode: .decline)               // every following charge is declined
/// ```
///
/// **Per charge, whatever the switch says** (first match wins):
/// - `userId` starting `sim-decline` → declined `card_declined`; `sim-insufficient` → declined
///   `insufficient_funds`; `sim-timeout` → times out;
/// - `amountCents` ending in `01` → declined `card_declined`; in `02` → declined `insufficient_funds`; in `08` →
///   times out (e.g. 1208 cents).
///
/// **A timeout takes the money and loses the answer**: the charge is recorded under its idempotency key, then the
/// call waits ``timeout`` on the clock and throws ``PaymentProviderError/Code/timeout``. Every call with that key
/// times out while its trigger still says so (the switch is on `timeout`, or the request carries the trigger), and
/// none charges again (``chargeCount`` stays 1); once the switch is back on `ok`, a retry with the same key answers
/// the charge made the first time — which is what the payments service relies on. ``findCharge(_:)`` always
/// answers at once.
///
/// Refunds always succeed (after the latency), once per key.
public final class SimulatedPaymentProvider: PaymentProvider {
    /// The switch.
    public struct Settings: Sendable, Hashable, Codable {
        public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
            /// Charge.
            case ok
            /// Decline every charge with `card_declined`.
            case decline
            /// Charge, then lose the answer (see the type's documentation).
            case timeout
        }

        public var mode: Mode
        /// Added before every charge and refund answers, on the provider's clock.
        public var latency: Duration

        public init(mode: Mode = .ok, latency: Duration = .zero) {
            self.mode = mode
            self.latency = latency
        }
    }

    /// What one charge does, from the switch or a per-charge trigger.
    public enum Trigger: Sendable, Hashable {
        case charge
        case decline(code: String)
        case timeout

        /// The trigger `request` carries, or nil for the switch's.
        public static func of(_ request: ChargeRequest) -> Trigger? {
            if request.userID.hasPrefix("sim-decline") { return .decline(code: "card_declined") }
            if request.userID.hasPrefix("sim-insufficient") { return .decline(code: "insufficient_funds") }
            if request.userID.hasPrefix("sim-timeout") { return .timeout }
            switch request.amountCents % 100 {
            case 1: return .decline(code: "card_declined")
            case 2: return .decline(code: "insufficient_funds")
            case 8: return .timeout
            default: return nil
            }
        }
    }

    public let name = "simulated"
    /// How long a timed-out charge waits before it throws.
    public let timeout: Duration
    private let clock: any Clock<Duration>
    private let state: Mutex<State>

    private struct State {
        var settings: Settings
        var charges: [String: Answer] = [:]
        var refunds: [String: RefundReceipt] = [:]
        var chargedAmounts: [String: Int] = [:]
        var refundedPayments: Set<String> = []
        var chargeCount = 0
    }

    private enum Answer {
        case charged(ChargeOutcome.Charge)
        case declined(ChargeOutcome.Decline)
    }

    /// - Parameters:
    ///   - clock: what latency and timeouts sleep on; tests pass a `ManualClock`.
    ///   - timeout: how long a timed-out charge takes to fail.
    public init(settings: Settings = .init(), timeout: Duration = .seconds(5), clock: any Clock<Duration> = ContinuousClock()) {
        self.state = Mutex(State(settings: settings))
        self.timeout = timeout
        self.clock = clock
    }

    /// The switch, read and written atomically.
    public var settings: Settings {
        get { state.withLock { $0.settings } }
        set { state.withLock { $0.settings = newValue } }
    }

    /// Charges made (a retried key counts once; declines do not count).
    public var chargeCount: Int { state.withLock { $0.chargeCount } }
    /// Refunds made.
    public var refundCount: Int { state.withLock { $0.refunds.count } }
    /// Money taken and not given back, in cents.
    public var heldCents: Int {
        state.withLock { state in
            state.chargedAmounts.reduce(0) { total, entry in total + (state.refundedPayments.contains(entry.key) ? 0 : entry.value) }
        }
    }

    public func charge(_ request: ChargeRequest) async throws -> ChargeOutcome {
        let (answer, timesOut, latency) = state.withLock { state -> (Answer, Bool, Duration) in
            let trigger = Trigger.of(request) ?? Self.trigger(of: state.settings.mode)
            if let earlier = state.charges[request.idempotencyKey] { return (earlier, trigger == .timeout, state.settings.latency) }
            let answer: Answer
            switch trigger {
            case .decline(let code):
                answer = .declined(.init(code: code, message: "Your card was declined (simulated: \(code))."))
            case .charge, .timeout:
                let id = "sim_pi_" + Self.randomHex()
                answer = .charged(.init(providerPaymentID: id))
                state.chargedAmounts[id] = request.amountCents
                state.chargeCount += 1
            }
            state.charges[request.idempotencyKey] = answer
            return (answer, trigger == .timeout, state.settings.latency)
        }
        if timesOut {
            try await clock.sleep(for: timeout)
            throw PaymentProviderError(code: .timeout, provider: name, message: "no answer within \(timeout) (simulated timeout)")
        }
        if latency > .zero { try await clock.sleep(for: latency) }
        switch answer {
        case .charged(let charge): return .charged(charge)
        case .declined(let decline): return .declined(decline)
        }
    }

    /// The stored outcome of `request`'s key, at once (no latency, no timeout), or nil when it was never charged.
    public func findCharge(_ request: ChargeRequest) async throws -> ChargeOutcome? {
        state.withLock { state in
            switch state.charges[request.idempotencyKey] {
            case .charged(let charge)?: .charged(charge)
            case .declined(let decline)?: .declined(decline)
            case nil: nil
            }
        }
    }

    public func refund(_ request: RefundRequest) async throws -> RefundReceipt {
        let latency = settings.latency
        if latency > .zero { try await clock.sleep(for: latency) }
        return try state.withLock { state in
            if let earlier = state.refunds[request.idempotencyKey] { return earlier }
            guard request.providerPaymentID.hasPrefix("sim_pi_"), state.chargedAmounts[request.providerPaymentID] != nil else {
                throw PaymentProviderError(code: .rejected, provider: name, message: "no such charge: \(request.providerPaymentID)")
            }
            let receipt = RefundReceipt(
                refundID: "sim_re_" + request.providerPaymentID.dropFirst("sim_pi_".count),
                amountCents: request.amountCents
            )
            state.refunds[request.idempotencyKey] = receipt
            state.refundedPayments.insert(request.providerPaymentID)
            return receipt
        }
    }

    private static func trigger(of mode: Settings.Mode) -> Trigger {
        switch mode {
        case .ok: .charge
        case .decline: .decline(code: "card_declined")
        case .timeout: .timeout
        }
    }

    private static func randomHex() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
