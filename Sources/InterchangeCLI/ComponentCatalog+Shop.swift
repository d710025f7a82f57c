import Foundation
import InterchangeCore
import Persistence
import ServiceRuntime
import Shop

/// The shop. Under `up` it calls the Stripe simulator mounted at `/sim/stripe` whenever `STRIPE_SECRET_KEY` is not
/// set; under `serve shop` it brings that simulator itself. With the key it talks to api.stripe.com.
extension ComponentCatalog {
    static let shopKeys: Set<String> = [
        "shop.database", "shop.stripe.secretKey", "shop.stripe.webhookSecret", "shop.stripe.apiBase", "shop.publicBaseURL",
        "shop.processWebhooks",
    ]

    /// The shop's configuration from the settings; a bad value is a ``ConfigurationError`` naming its key and source.
    static func shopConfiguration(_ settings: Settings) throws -> ShopConfiguration {
        let sources = settings.sources
        let keys: [(key: String, environment: [String])] = [
            ("shop.stripe.secretKey", ["STRIPE_SECRET_KEY"]), ("shop.stripe.webhookSecret", ["STRIPE_WEBHOOK_SECRET"]),
            ("shop.stripe.apiBase", ["INTERCHANGE_SHOP_STRIPE_API_BASE"]), ("shop.publicBaseURL", ["INTERCHANGE_SHOP_PUBLIC_BASE_URL"]),
        ]
        func value(_ key: String) -> String? {
            keys.first { $0.key == key }.flatMap { sources.optionalString($0.key, environment: $0.environment) }
        }
        let configuration = ShopConfiguration(
            stripeSecretKey: value("shop.stripe.secretKey"),
            stripeWebhookSecrets: ShopConfiguration.webhookSecrets(from: value("shop.stripe.webhookSecret")),
            stripeAPIBase: value("shop.stripe.apiBase").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            simulatorSecretKey: sources.optionalString("stripeSim.apiKey", environment: ["INTERCHANGE_STRIPE_SIM_API_KEY"])
                ?? ShopConfiguration.simulatorSecretKey,
            publicBaseURL: value("shop.publicBaseURL").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            processesWebhooks: try sources.bool("shop.processWebhooks", environment: ["INTERCHANGE_SHOP_PROCESS_WEBHOOKS"], default: true)
        )
        do {
            try configuration.validate()
        } catch var error as ConfigurationError {
            if error.source == nil, let entry = keys.first(where: { $0.key == error.field }) {
                error.source = sources.value(entry.key, environmentNames: entry.environment)?.source
            }
            throw error
        }
        return configuration
    }

    /// `shop.database` (`--database`, `INTERCHANGE_SHOP_DATABASE_URL`): `sqlite:<path>` or `postgres://…`.
    static func shopDatabaseLocation(_ settings: Settings) throws -> Database.Location {
        let sources = settings.sources
        let value = sources.value("shop.database", environmentNames: ["INTERCHANGE_SHOP_DATABASE_URL"])
        do {
            return try Database.Location(url: value?.text ?? "sqlite:\(settings.dataDirectory)/shop.sqlite", field: "shop.database")
        } catch var error as ConfigurationError {
            error.source = error.source ?? value?.source
            throw error
        }
    }

    static let shop = Entry(
        name: "shop",
        summary: "shop with Stripe Checkout (pages /shop/, API /shop/api/, webhooks /shop/webhooks/stripe)",
        make: { context in
            let configuration = try shopConfiguration(context.settings)
            let database = try await Database.open(try shopDatabaseLocation(context.settings), logger: context.logger)
            let shop: ShopComponent
            do {
                shop = try await ShopComponent.make(
                    configuration: configuration,
                    database: database,
                    selfBaseURL: context.selfBaseURL,
                    logger: context.logger
                )
            } catch {
                try? await database.shutdown()
                throw error
            }
            // Alone, the shop brings the simulator it calls; under `up` the simulator is a component of its own.
            guard !context.isEmbedded, configuration.usesEmbeddedSimulator else { return [shop] }
            var mounted = context
            mounted.isEmbedded = true  // at /sim/stripe, where the shop calls it, as under `up`
            return [shop] + (try await stripeSimulator.make(mounted))
        },
        includedInUp: { _ in true }
    )
}
