import Foundation
import Hummingbird
import Logging
import Persistence
import ServiceRuntime
import WebhooksAdmin
import WebhooksOutbound
import WebhooksSigning

/// What a component gets when it is built: the settings, a logger, and the address the process listens on
/// (known only once the server is bound, so it is read lazily).
public struct ComponentContext: Sendable {
    public var settings: Settings
    public var logger: Logger
    /// The base URL of this process, e.g. `http://127.0.0.1:8080`, once the server is listening.
    public var selfBaseURL: @Sendable () -> String
    /// Whether the component runs inside `interchange up` (beside the others) or alone.
    public var isEmbedded: Bool
    /// The event transport the process's components share.
    public var events: SharedEventTransport
}

/// Every component `interchange` can run, by name.
public enum ComponentCatalog {
    public struct Entry: Sendable {
        public var name: String
        public var summary: String
        /// Builds the component; `up` builds every entry whose ``includedInUp`` says so.
        public var make: @Sendable (ComponentContext) async throws -> [any Component]
        /// Whether `interchange up` runs it, given the settings (a simulator only when the real API is not configured).
        public var includedInUp: @Sendable (Settings) -> Bool
    }

    /// The components, in the order `up` starts them.
    public static let entries: [Entry] = [weather] + simulatorEntries + [stripeSimulator, webhooks, shop] + fulfillmentEntries

    /// Config-file keys the components read, so unknown keys can be reported.
    public static let configurationKeys: Set<String> = Set([
        "webhooks.database", "webhooks.adminToken", "webhooks.allowPrivateTargets", "webhooks.secretKey",
    ])
    .union(dashboardKeys).union(shopKeys).union(stripeSimulatorKeys).union(fulfillmentKeys).union(messagingKeys)

    static let webhooks = Entry(
        name: "webhooks",
        summary: "webhook delivery engine and admin API (/admin/webhooks)",
        make: { context in
            let sources = context.settings.sources
            let url =
                sources.optionalString("webhooks.database", environment: ["INTERCHANGE_WEBHOOKS_DATABASE_URL"])
                ?? "sqlite:\(context.settings.dataDirectory)/webhooks.sqlite"
            let database = try await Database.open(try Database.Location(url: url, field: "webhooks.database"), logger: context.logger)
            var configuration = WebhookDeliveryEngine.Configuration()
            configuration.ssrfGuard = SSRFGuard(
                allowPrivateNetworks: try sources.bool(
                    "webhooks.allowPrivateTargets",
                    environment: ["INTERCHANGE_WEBHOOKS_ALLOW_PRIVATE_TARGETS"],
                    default: false
                )
            )
            configuration.secretSealer = try WebhooksComponent.secretSealer(
                configured: sources.optionalString("webhooks.secretKey", environment: ["INTERCHANGE_WEBHOOKS_SECRET_KEY"]),
                dataDirectory: context.settings.dataDirectory
            )
            let engine = try WebhookDeliveryEngine(database: database, configuration: configuration, logger: context.logger)
            try await engine.prepare()
            let token = try WebhooksComponent.adminToken(
                configured: sources.optionalString("webhooks.adminToken", environment: ["INTERCHANGE_ADMIN_TOKEN"]),
                dataDirectory: context.settings.dataDirectory
            )
            return [WebhooksComponent(engine: engine, adminToken: token)]
        },
        includedInUp: { _ in true }
    )

    static func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }
}
