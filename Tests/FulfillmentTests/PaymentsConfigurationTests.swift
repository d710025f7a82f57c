import Foundation
import InterchangeCore
import InterchangeTesting
import Messaging
import Testing

@testable import FulfillmentPayments

/// A configuration that cannot work is refused at `make`, naming the field.
@Suite(.timeLimit(.minutes(1)))
struct PaymentsConfigurationTests {
    static func field(of configuration: PaymentsConfiguration, selfBaseURL: (@Sendable () -> String)? = nil) async throws -> String? {
        try await TestDatabase.with(.sqlite) { database in
            do {
                let payments = try await PaymentsComponent.make(
                    database: database,
                    transport: EmbeddedTransport(database: database, logger: PaymentsHarness.logger),
                    configuration: configuration,
                    logger: PaymentsHarness.logger,
                    selfBaseURL: selfBaseURL,
                    closesDatabase: false
                )
                // Its services would close the Stripe client; they do not run here.
                try await (payments.provider as? StripePaymentProvider)?.shutdown()
                return nil
            } catch let error as ConfigurationError {
                return error.field
            }
        }
    }

    @Test func aStripeProviderNeedsASecretKeyAndABaseURL() async throws {
        #expect(
            try await Self.field(of: .init(provider: .stripe(.init(secretKey: "not-a-key"), apiBase: "https://api.stripe.com")))
                == "payments.stripe.secretKey"
        )
        #expect(
            try await Self.field(of: .init(provider: .stripe(.init(secretKey: "sk_test_interchange"), apiBase: "ftp://x")))
                == "payments.stripe.apiBase"
        )
        // No apiBase and no simulator in this process to default to.
        #expect(try await Self.field(of: .init(provider: .stripe(.init(secretKey: "sk_test_interchange")))) == "payments.stripe.apiBase")
        #expect(
            try await Self.field(of: .init(provider: .stripe(.init(secretKey: "sk_test_interchange"))), selfBaseURL: { "http://127.0.0.1:8080" })
                == nil
        )
    }

    @Test func theStripePaymentMethodMustBeAPaymentMethodID() async throws {
        let base = "https://api.stripe.com"
        for bad in ["card_visa", "pm_", "pm_card visa", "4242424242424242"] {
            #expect(
                try await Self.field(of: .init(provider: .stripe(.init(secretKey: "sk_test_interchange", paymentMethod: bad), apiBase: base)))
                    == "payments.stripe.paymentMethod",
                "\(bad)"
            )
        }
        #expect(
            try await Self.field(
                of: .init(provider: .stripe(.init(secretKey: "sk_test_interchange", paymentMethod: "pm_card_chargeDeclined"), apiBase: base))
            ) == nil
        )
    }

    @Test func theSimulatedProvidersTimeoutAndTheAttemptsMustBePositive() async throws {
        #expect(try await Self.field(of: .init(provider: .simulated(timeout: .zero))) == "payments.simulated.timeout")
        #expect(try await Self.field(of: .init(provider: .simulated(settings: .init(latency: .milliseconds(-1))))) == "payments.simulated.latency")
        #expect(try await Self.field(of: .init(maxAttempts: 0)) == "payments.maxAttempts")
        #expect(try await Self.field(of: .init()) == nil)
    }
}
