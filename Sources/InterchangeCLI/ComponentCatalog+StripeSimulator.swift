import Foundation
import InterchangeCore
import ServiceRuntime
import StripeSimulator

/// The Stripe simulator: `serve stripe-sim` runs it alone with `/v1` at the root; `up` mounts it at `/sim/stripe`
/// whenever `STRIPE_SECRET_KEY` (`shop.stripe.secretKey`) is not set.
extension ComponentCatalog {
    static let stripeSimulatorKeys: Set<String> = ["stripeSim.apiKey", "stripeSim.settlementDelaySeconds"]

    /// The simulator's settings: `stripeSim.apiKey` (`INTERCHANGE_STRIPE_SIM_API_KEY`, default `sk_test_interchange`),
    /// `stripeSim.settlementDelaySeconds` (`INTERCHANGE_STRIPE_SIM_SETTLEMENT_DELAY_SECONDS`, default 10).
    static func stripeSimulatorConfiguration(
        _ settings: Settings,
        basePath: String,
        publicBaseURL: @escaping @Sendable () -> String
    ) throws -> StripeSimulator.Configuration {
        let sources = settings.sources
        let apiKey = sources.string(
            "stripeSim.apiKey",
            environment: ["INTERCHANGE_STRIPE_SIM_API_KEY"],
            default: StripeSimulator.Configuration.defaultAPIKey
        )
        try ConfigurationError.require(
            apiKey.hasPrefix("sk_test_") && apiKey.count > "sk_test_".count,
            field: "stripeSim.apiKey",
            "must be a test-mode secret key (sk_test_…)",
            got: "'\(apiKey.prefix(8))…'"
        )
        let delay = try sources.int(
            "stripeSim.settlementDelaySeconds",
            environment: ["INTERCHANGE_STRIPE_SIM_SETTLEMENT_DELAY_SECONDS"],
            default: 10,
            range: 0...86_400
        )
        return StripeSimulator.Configuration(
            basePath: basePath,
            apiKeys: [apiKey],
            settlementDelay: .seconds(delay),
            publicBaseURL: publicBaseURL
        )
    }

    static let stripeSimulator = Entry(
        name: "stripe-sim",
        summary: "stateful Stripe API simulator (Checkout sessions, hosted page, signed webhooks; key sk_test_interchange)",
        make: { context in
            let basePath = context.isEmbedded ? StripeSimulator.embeddedBasePath : ""
            let configuration = try stripeSimulatorConfiguration(context.settings, basePath: basePath, publicBaseURL: context.selfBaseURL)
            // The delivery queue and webhook endpoints survive a restart; the simulated objects do not.
            let engine = try await StripeSimulator.makeDeliveryEngine(
                databasePath: "\(context.settings.dataDirectory)/stripe-sim.sqlite",
                logger: context.logger
            )
            let simulator = StripeSimulator(configuration: configuration, engine: engine, logger: context.logger)
            try await simulator.prepare()
            return [simulator]
        },
        includedInUp: { settings in settings.sources.optionalString("shop.stripe.secretKey", environment: ["STRIPE_SECRET_KEY"]) == nil }
    )
}
