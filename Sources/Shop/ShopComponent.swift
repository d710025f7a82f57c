import Foundation
import Hummingbird
import Idempotency
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import ServiceLifecycle
import ServiceRuntime
import WebhooksInbound

/// Reference system 2: a shop that takes payment through Stripe Checkout — pages at `/shop/`, its API under
/// `/shop/api/` (openapi/shop.yaml, served at `/shop/api/openapi.yaml`), Stripe's webhooks at
/// `POST /shop/webhooks/stripe`.
///
/// - `POST /shop/api/orders` is behind the ``IdempotencyMiddleware`` (durable keys, in the shop's database);
/// - checkout goes through ``OrderCheckout``: one Stripe session per order and attempt, however many calls;
/// - webhooks are verified over the raw body (several secrets for rotation), stored once in the inbox before the
///   `200`, and processed afterwards by an ``InboxProcessor`` running ``StripeEventHandler``, so a crash between
///   the two loses nothing and a redelivery has no second effect.
///
/// ```swift
/// let shop = try await ShopComponent.make(configuration: .init(), database: database, selfBaseURL: { base }, logger: logger)
/// try shop.addRoutes(to: router)   // and run shop.services beside the server
/// ```
public struct ShopComponent: Component {
    public let name = "shop"
    public let summary = "shop with Stripe Checkout: pages at /shop/, API under /shop/api/, Stripe webhooks at /shop/webhooks/stripe"

    public static let webhookPath = "/shop/webhooks/stripe"

    public let configuration: ShopConfiguration
    /// The catalogue, orders, payments and processed events.
    public let store: ShopStore
    /// Where verified Stripe events are stored before the `200`, and processed from.
    public let inbox: WebhookInbox
    /// Opens (or hands out again) an order's Checkout session.
    public let checkout: OrderCheckout
    /// The signing secrets the webhook route accepts.
    public let webhookSecrets: StripeWebhookSecrets
    /// The shop's API document, served at `/shop/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument
    let receiver: WebhookReceiver
    let idempotency: OrderCreationIdempotency
    let registration: StripeWebhookRegistration?
    let pages: ShopPages
    private let backgroundServices: [any Service]

    /// Migrates `database` (the shop's tables, idempotency keys, the webhook inbox), seeds the catalogue and builds
    /// the shop. The component closes `database` when its services stop, unless `closesDatabase` is false (the
    /// caller owns it, as tests do).
    ///
    /// - Parameters:
    ///   - selfBaseURL: where this process listens (known once the server is bound): the embedded simulator's base,
    ///     the webhook URL registered with it, and the success and cancel URLs when no `publicBaseURL` is set.
    ///   - now: the wall clock for orders, idempotency keys and signature tolerance; tests pass a manual one.
    /// - Throws: ``ConfigurationError`` naming the bad field; database errors.
    public static func make(
        configuration: ShopConfiguration,
        database: Database,
        selfBaseURL: @escaping @Sendable () -> String,
        logger: Logger,
        closesDatabase: Bool = true,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> ShopComponent {
        try configuration.validate()
        let store = ShopStore(database: database, now: now)
        try await store.prepare()
        try await database.migrate(IdempotencyStore.migrations)
        try await database.migrate(WebhookInbox.migrations)
        return try ShopComponent(
            configuration: configuration,
            store: store,
            selfBaseURL: selfBaseURL,
            logger: logger,
            closesDatabase: closesDatabase,
            now: now
        )
    }

    private init(
        configuration: ShopConfiguration,
        store: ShopStore,
        selfBaseURL: @escaping @Sendable () -> String,
        logger: Logger,
        closesDatabase: Bool,
        now: @escaping @Sendable () -> Date
    ) throws {
        self.configuration = configuration
        self.store = store
        let database = store.database
        let stripe = try StripeCheckoutClient(
            configuration: .init(
                secretKey: configuration.effectiveSecretKey,
                policy: configuration.stripePolicy,
                sessionLifetime: configuration.sessionLifetime
            ),
            apiBase: { configuration.apiBase(selfBaseURL: selfBaseURL()) },
            logger: logger,
            now: now
        )
        let publicBaseURL = configuration.publicBaseURL
        self.checkout = try OrderCheckout(store: store, stripe: stripe, shopBaseURL: { publicBaseURL ?? selfBaseURL() }, logger: logger)
        let secrets = StripeWebhookSecrets(configured: configuration.stripeWebhookSecrets)
        self.webhookSecrets = secrets
        self.inbox = WebhookInbox(database: database, now: now)
        self.receiver = WebhookReceiver(source: "stripe", scheme: .stripe, secrets: { secrets.all }, inbox: inbox, now: now)
        self.idempotency = try OrderCreationIdempotency(database: database, now: now)
        self.pages = try ShopPages.bundled()
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/shop/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
        self.registration =
            configuration.registersWebhookEndpoint
            ? StripeWebhookRegistration(
                stripe: stripe,
                store: store,
                endpointURL: { selfBaseURL() + ShopComponent.webhookPath },
                events: StripeEvent.handledTypes.sorted(),
                secrets: secrets,
                logger: logger
            ) : nil
        let closedDatabase = closesDatabase ? database : nil
        var services: [any Service] = [
            // Closes the Stripe client's connections and the database once the other services have stopped.
            CloseOnShutdown {
                try await stripe.shutdown()
                try await closedDatabase?.shutdown()
            }
        ]
        if configuration.processesWebhooks {
            services.append(
                InboxProcessor(inbox: inbox, now: now, logger: logger, handler: StripeEventHandler(store: store, logger: logger).handler)
            )
        }
        services.append(
            IdempotencyKeyPurger(store: idempotency.idempotency.store, retention: idempotency.idempotency.configuration.retention, logger: logger)
        )
        if let registration { services.append(registration) }
        self.backgroundServices = services
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        pages.addRoutes(to: router)
        openAPIDocument.addRoute(to: router)
        receiver.addRoute(to: router, path: RouterPath(Self.webhookPath))
        // The outage middleware outside the idempotency one, so a key that cannot be claimed is a 503 too.
        let api = router.group().add(middleware: DatabaseOutageMiddleware(store: store)).add(middleware: idempotency)
        let checkout = self.checkout
        try ShopAPI(store: store, checkout: { checkout }).registerHandlers(
            on: api,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    /// The inbox processor (unless processing is switched off), the idempotency key purger, the webhook endpoint
    /// registration (simulator without a configured secret), and what closes the Stripe client and the database.
    /// Stopped in reverse order: the closer last.
    public var services: [any Service] { backgroundServices }

    /// Fails with ``HealthCheckFailure/databaseUnavailable(_:)`` when the shop's database does not answer `SELECT 1`.
    public func checkHealth() async throws {
        do {
            try await store.ping()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }
}
