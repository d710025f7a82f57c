import Foundation
import HTTPIntegration
import InterchangeCore
import Messaging
import Resilience

/// How the payments service charges and consumes.
public struct PaymentsConfiguration: Sendable {
    /// Which ``PaymentProvider`` charges.
    public enum Provider: Sendable {
        /// ``SimulatedPaymentProvider``, starting with `settings` (switchable at `PUT /payments/api/provider`);
        /// a timed-out charge fails after `timeout`.
        case simulated(settings: SimulatedPaymentProvider.Settings = .init(), timeout: Duration = .seconds(5))
        /// ``StripePaymentProvider`` against `apiBase` (`https://api.stripe.com`, or a Stripe simulator's URL); nil
        /// is the Stripe simulator mounted at `/sim/stripe` on this process (`interchange up`).
        case stripe(StripePaymentProvider.Configuration, apiBase: String? = nil)
    }

    public var provider: Provider
    /// Deliveries of one message before it is dead-lettered (a refund the provider cannot make yet is retried).
    public var maxAttempts: Int
    public var retryDelay: Backoff
    public var relay: OutboxRelay.Configuration

    public init(
        provider: Provider = .simulated(),
        maxAttempts: Int = 10,
        retryDelay: Backoff = Subscription.defaultRetryDelay,
        relay: OutboxRelay.Configuration = .init()
    ) {
        self.provider = provider
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.relay = relay
    }

    /// The embedded Stripe simulator's mount point under `interchange up`.
    public static let embeddedStripeSimulatorPath = "/sim/stripe"

    /// Throws ``ConfigurationError`` naming the first bad field.
    public func validate() throws {
        switch provider {
        case .simulated(let settings, let timeout):
            try ConfigurationError.require(
                settings.latency >= .zero,
                field: "payments.simulated.latency",
                "must not be negative",
                got: settings.latency
            )
            try ConfigurationError.require(timeout > .zero, field: "payments.simulated.timeout", "must be positive", got: timeout)
        case .stripe(let stripe, let apiBase):
            guard stripe.secretKey.hasPrefix("sk_") || stripe.secretKey.hasPrefix("rk_"), stripe.secretKey.count > 8,
                !stripe.secretKey.contains(where: \.isWhitespace)
            else {
                throw ConfigurationError(field: "payments.stripe.secretKey", reason: "must be a Stripe secret key (sk_test_… or rk_test_…)")
            }
            let method = stripe.paymentMethod
            guard method.hasPrefix("pm_"), method.count > 3, method.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw ConfigurationError(
                    field: "payments.stripe.paymentMethod",
                    reason: "must be a Stripe payment method id (pm_…; a test one such as pm_card_visa or pm_card_chargeDeclined)"
                )
            }
            if let apiBase { _ = try HTTPURL.parse(apiBase, rules: .baseURL, field: "payments.stripe.apiBase") }
            do { try stripe.policy.validate() } catch let error as ConfigurationError { throw error.nested(under: "payments.stripe.policy") }
        }
        try ConfigurationError.require(maxAttempts >= 1, field: "payments.maxAttempts", "must be at least 1", got: maxAttempts)
        do { try relay.validate() } catch let error as ConfigurationError { throw error.nested(under: "payments.relay") }
    }
}
