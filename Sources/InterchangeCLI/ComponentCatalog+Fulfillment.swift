import Foundation
import FulfillmentEvents
import FulfillmentInventory
import FulfillmentOrders
import FulfillmentPayments
import FulfillmentUsers
import InterchangeCore
import Persistence
import ServiceRuntime

/// Reference system 3: the fulfillment services. Each has its own database (`<name>.database`, default
/// `sqlite:<data dir>/<name>.sqlite`) and they share this process's event transport (``SharedEventTransport``):
/// the embedded store, or RabbitMQ with `--broker`.
extension ComponentCatalog {
    static let fulfillmentKeys: Set<String> = [
        "users.database", "inventory.database", "payments.database", "orders.database", "fulfillment.sagaStyle",
        "orders.usersBaseURL", "orders.inventoryBaseURL",
        "orders.saga.reserveTimeoutMs", "orders.saga.chargeTimeoutMs", "orders.saga.maxAttempts", "payments.simulated.timeoutMs",
        "payments.provider", "payments.stripe.apiBase", "payments.stripe.secretKey", "payments.stripe.paymentMethod",
    ]

    /// The payment provider's settings (listed in ``fulfillmentKeys`` too) and their environment variables.
    static let paymentsProviderKeys: [(key: String, environment: [String])] = [
        ("payments.provider", ["INTERCHANGE_PAYMENTS_PROVIDER"]),
        ("payments.stripe.apiBase", ["INTERCHANGE_PAYMENTS_STRIPE_API_BASE"]),
        ("payments.stripe.secretKey", ["INTERCHANGE_PAYMENTS_STRIPE_SECRET_KEY"]),
        ("payments.stripe.paymentMethod", ["INTERCHANGE_PAYMENTS_STRIPE_PAYMENT_METHOD"]),
    ]

    /// `simulated`, unless `payments.provider` is `stripe`. With `stripe`, `payments.stripe.apiBase` is where Stripe
    /// is (`https://api.stripe.com`, or `interchange serve stripe-sim`'s URL); under `up`, while the Stripe simulator
    /// runs there (no `STRIPE_SECRET_KEY`), it defaults to that simulator at `/sim/stripe` and
    /// `payments.stripe.secretKey` to the simulator's key (`stripeSim.apiKey`). `payments.stripe.paymentMethod`
    /// (default `pm_card_visa`) is the test payment method every charge is confirmed with — a decline method
    /// (`pm_card_chargeDeclined`) makes every charge decline. The key comes from the settings or the environment and
    /// is never logged; an error names the field and where its value came from, not the value.
    static func paymentsConfiguration(_ context: ComponentContext, simulated: PaymentsConfiguration) throws -> PaymentsConfiguration {
        let sources = context.settings.sources
        func value(_ key: String) -> ConfigurationSources.Value? {
            paymentsProviderKeys.first { $0.key == key }.flatMap { sources.value($0.key, environmentNames: $0.environment) }
        }
        func text(_ key: String) -> String? { value(key)?.text.trimmingCharacters(in: .whitespaces).nonEmpty }
        let provider = text("payments.provider") ?? "simulated"
        guard provider != "simulated" else { return simulated }
        guard provider == "stripe" else {
            throw ConfigurationError(
                field: "payments.provider",
                reason: "'\(provider)' is not simulated or stripe",
                source: value("payments.provider")?.source
            )
        }
        let embeddedSimulator = context.isEmbedded && stripeSimulator.includedInUp(context.settings)
        let apiBase = text("payments.stripe.apiBase")
        guard apiBase != nil || embeddedSimulator else {
            throw ConfigurationError(
                field: "payments.stripe.apiBase",
                reason: "is required with payments.provider stripe unless the Stripe simulator runs in this process (up without STRIPE_SECRET_KEY)",
                source: value("payments.provider")?.source
            )
        }
        let simulatorKey = sources.string("stripeSim.apiKey", environment: ["INTERCHANGE_STRIPE_SIM_API_KEY"], default: "sk_test_interchange")
        guard let secretKey = text("payments.stripe.secretKey") ?? (apiBase == nil ? simulatorKey : nil) else {
            throw ConfigurationError(
                field: "payments.stripe.secretKey",
                reason: "is required with payments.stripe.apiBase (INTERCHANGE_PAYMENTS_STRIPE_SECRET_KEY)",
                source: value("payments.stripe.apiBase")?.source
            )
        }
        var configuration = simulated
        configuration.provider = .stripe(
            .init(secretKey: secretKey, paymentMethod: text("payments.stripe.paymentMethod") ?? "pm_card_visa"),
            apiBase: apiBase.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        )
        do {
            try configuration.validate()
        } catch var error as ConfigurationError {
            error.source = error.source ?? value(error.field)?.source
            throw error
        }
        return configuration
    }

    /// Opens the service's database and builds the component with it; the database is closed again when building
    /// fails (the component closes it otherwise, when its services stop).
    static func withServiceDatabase(
        _ name: String,
        _ context: ComponentContext,
        _ make: (Database) async throws -> any Component
    ) async throws -> [any Component] {
        let database = try await serviceDatabase(name, context)
        do {
            return [try await make(database)]
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    /// `<name>.database` (`--database` under `serve <name>`, `INTERCHANGE_<NAME>_DATABASE_URL`).
    static func serviceDatabase(_ name: String, _ context: ComponentContext) async throws -> Database {
        let sources = context.settings.sources
        let key = "\(name).database"
        let value = sources.value(key, environmentNames: ["INTERCHANGE_\(name.uppercased())_DATABASE_URL"])
        let location: Database.Location
        do {
            location = try Database.Location(url: value?.text ?? "sqlite:\(context.settings.dataDirectory)/\(name).sqlite", field: key)
        } catch var error as ConfigurationError {
            error.source = error.source ?? value?.source
            throw error
        }
        return try await Database.open(location, maxConnections: 8, logger: context.logger)
    }

    static func sagaStyle(_ settings: Settings) throws -> FulfillmentSagaStyle {
        let value = settings.sources.value("fulfillment.sagaStyle", environmentNames: ["INTERCHANGE_FULFILLMENT_SAGA_STYLE"])
        guard let text = value?.text else { return .orchestration }
        guard let style = FulfillmentSagaStyle(rawValue: text) else {
            throw ConfigurationError(
                field: "fulfillment.sagaStyle",
                reason: "'\(text)' is not orchestration or choreography",
                source: value?.source
            )
        }
        return style
    }

    static let users = Entry(
        name: "users",
        summary: "fulfillment users and their API keys (/users/api/)",
        make: { context in
            try await withServiceDatabase("users", context) { database in
                try await UsersComponent.make(database: database, logger: context.logger)
            }
        },
        includedInUp: { _ in true }
    )

    static let inventory = Entry(
        name: "inventory",
        summary: "fulfillment inventory: stock, reservations with expiry (/inventory/api/)",
        make: { context in
            let transport = try await context.events.transport()
            return try await withServiceDatabase("inventory", context) { database in
                try await InventoryComponent.make(database: database, transport: transport, logger: context.logger)
            }
        },
        includedInUp: { _ in true }
    )

    static let payments = Entry(
        name: "payments",
        summary: "fulfillment payments: charges and refunds through a payment provider (/payments/api/)",
        make: { context in
            // How long a charge the simulated provider's switch times out takes to fail (default 5 s).
            let timeoutMs = try context.settings.sources.int(
                "payments.simulated.timeoutMs",
                environment: ["INTERCHANGE_PAYMENTS_SIMULATED_TIMEOUT_MS"],
                default: 5000,
                range: 1...3_600_000
            )
            let configuration = PaymentsConfiguration(provider: .simulated(timeout: .milliseconds(timeoutMs)))
            let provided = try paymentsConfiguration(context, simulated: configuration)
            let transport = try await context.events.transport()
            return try await withServiceDatabase("payments", context) { database in
                try await PaymentsComponent.make(
                    database: database,
                    transport: transport,
                    configuration: provided,
                    logger: context.logger,
                    selfBaseURL: context.selfBaseURL
                )
            }
        },
        includedInUp: { _ in true }
    )

    static let orders = Entry(
        name: "orders",
        summary: "fulfillment orders and their saga (/orders/api/)",
        make: { context in
            let sources = context.settings.sources
            var configuration = OrdersConfiguration(sagaStyle: try sagaStyle(context.settings))
            configuration.usersBaseURL = sources.optionalString("orders.usersBaseURL", environment: ["INTERCHANGE_ORDERS_USERS_BASE_URL"])
            configuration.inventoryBaseURL = sources.optionalString(
                "orders.inventoryBaseURL",
                environment: ["INTERCHANGE_ORDERS_INVENTORY_BASE_URL"]
            )
            // The saga's step timeouts and attempts (defaults: OrdersConfiguration's 30 s, 30 s, 3).
            configuration.reserveTimeout = .milliseconds(
                try sources.int(
                    "orders.saga.reserveTimeoutMs",
                    environment: ["INTERCHANGE_ORDERS_SAGA_RESERVE_TIMEOUT_MS"],
                    default: Int(configuration.reserveTimeout.milliseconds),
                    range: 10...3_600_000
                )
            )
            configuration.chargeTimeout = .milliseconds(
                try sources.int(
                    "orders.saga.chargeTimeoutMs",
                    environment: ["INTERCHANGE_ORDERS_SAGA_CHARGE_TIMEOUT_MS"],
                    default: Int(configuration.chargeTimeout.milliseconds),
                    range: 10...3_600_000
                )
            )
            configuration.stepMaxAttempts = try sources.int(
                "orders.saga.maxAttempts",
                environment: ["INTERCHANGE_ORDERS_SAGA_MAX_ATTEMPTS"],
                default: configuration.stepMaxAttempts,
                range: 1...20
            )
            let transport = try await context.events.transport()
            return try await withServiceDatabase("orders", context) { database in
                try await OrdersComponent.make(
                    database: database,
                    transport: transport,
                    configuration: configuration,
                    logger: context.logger,
                    // Under `up`, users and inventory answer on this process; alone, their URLs must be configured.
                    selfBaseURL: context.isEmbedded ? context.selfBaseURL : nil
                )
            }
        },
        includedInUp: { _ in true }
    )

    static let fulfillmentEntries: [Entry] = [users, inventory, payments, orders]

    static let messagingKeys = SharedEventTransport.keys
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
