import Foundation
import FulfillmentEvents
import Hummingbird
import InterchangeCore
import Logging
import Messaging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import ServiceLifecycle
import ServiceRuntime

/// The payments service of the fulfillment system (#11): charges and refunds orders through a ``PaymentProvider``
/// when the saga asks, in its own database, and serves its API under `/payments/api/` (openapi.yaml, served at
/// `/payments/api/openapi.yaml`): the payments, and the simulated provider's switch.
///
/// It consumes, as group `fulfillment.payments`, `command.charge-payment` and `command.refund-payment`
/// (orchestration) and `order.created`, `inventory.reserved`, `order.cancelled` (choreography); each message is
/// handled once, in one transaction with its answer events (``PaymentProcessor``), which its own outbox relay
/// publishes.
///
/// ```swift
/// let payments = try await PaymentsComponent.make(database: database, transport: transport, logger: logger)
/// try payments.addRoutes(to: router)   // and run payments.services beside the server
/// ```
public struct PaymentsComponent: Component {
    public let name = "payments"
    public let summary = "fulfillment payments: charges and refunds through a payment provider — API under /payments/api/"

    public let configuration: PaymentsConfiguration
    public let store: PaymentStore
    public let provider: any PaymentProvider
    public let processor: PaymentProcessor
    /// Publishes the answers (`payment.processed`, `payment.failed`, `payment.refunded`).
    public let relay: OutboxRelay
    /// The consumer of group `fulfillment.payments`.
    public let consumer: EventConsumer
    /// The API document, served at `/payments/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument
    private let backgroundServices: [any Service]

    /// The consumer group (and inbox) of the service.
    public static let group = FulfillmentService.payments.consumerGroup

    /// Migrates `database` (payments, inbox, outbox) and builds the service.
    ///
    /// - Parameters:
    ///   - transport: where the relay publishes and the consumer consumes.
    ///   - now: the wall clock of payments, inbox and outbox rows.
    ///   - clock: what the relay, the simulated provider's latency and timeouts, and the Stripe client sleep on;
    ///     tests pass a `ManualClock`.
    ///   - selfBaseURL: where this process listens: the Stripe simulator's base under `interchange up` when the
    ///     Stripe provider has no `apiBase`.
    ///   - provider: charges through this one instead of the configured one (tests, embedding).
    ///   - closesDatabase: whether the services close `database` when they stop (false when the caller owns it).
    ///     With the Stripe provider, the first of ``services`` also closes its HTTP client: run them, or call
    ///     `shutdown()` on ``provider`` (a ``StripePaymentProvider``) when they never run.
    /// - Throws: ``ConfigurationError`` naming the bad field; database errors.
    public static func make(
        database: Database,
        transport: any EventTransport,
        configuration: PaymentsConfiguration = PaymentsConfiguration(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(),
        selfBaseURL: (@Sendable () -> String)? = nil,
        provider: (any PaymentProvider)? = nil,
        closesDatabase: Bool = true
    ) async throws -> PaymentsComponent {
        try configuration.validate()
        let store = PaymentStore(database: database)
        try await store.prepare()
        try await database.migrate(Outbox.migrations)
        try await database.migrate(Inbox.migrations)
        let chosen: any PaymentProvider
        var stripe: StripePaymentProvider?
        if let provider {
            chosen = provider
        } else {
            switch configuration.provider {
            case .simulated(let settings, let timeout):
                chosen = SimulatedPaymentProvider(settings: settings, timeout: timeout, clock: clock)
            case .stripe(let stripeConfiguration, let apiBase):
                let base: @Sendable () -> String
                if let apiBase {
                    base = { apiBase }
                } else if let selfBaseURL {
                    base = { selfBaseURL() + PaymentsConfiguration.embeddedStripeSimulatorPath }
                } else {
                    throw ConfigurationError(
                        field: "payments.stripe.apiBase",
                        reason: "is required when no Stripe simulator runs in this process (interchange up)"
                    )
                }
                let client = try StripePaymentProvider(configuration: stripeConfiguration, apiBase: base, logger: logger, clock: clock, now: now)
                stripe = client
                chosen = client
            }
        }
        return try PaymentsComponent(
            configuration: configuration,
            store: store,
            provider: chosen,
            stripe: stripe,
            transport: transport,
            logger: logger,
            now: now,
            clock: clock,
            closesDatabase: closesDatabase
        )
    }

    private init(
        configuration: PaymentsConfiguration,
        store: PaymentStore,
        provider: any PaymentProvider,
        stripe: StripePaymentProvider?,
        transport: any EventTransport,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        clock: any Clock<Duration>,
        closesDatabase: Bool
    ) throws {
        self.configuration = configuration
        self.store = store
        self.provider = provider
        let relay = OutboxRelay(
            database: store.database,
            transport: transport,
            configuration: configuration.relay,
            clock: clock,
            now: now,
            logger: logger
        )
        self.relay = relay
        let processor = PaymentProcessor(
            store: store,
            provider: provider,
            inbox: Inbox(consumer: Self.group, now: now),
            outbox: Outbox(now: now),
            now: now,
            logger: logger
        )
        self.processor = processor
        let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: logger)
        let subscription = Subscription(
            group: Self.group,
            bindings: PaymentProcessor.consumedTypes.map { TopicPattern($0) },
            maxAttempts: configuration.maxAttempts,
            retryDelay: configuration.retryDelay
        )
        self.consumer = bus.consumer(subscription) { event, _ in
            if case .handled(let answers) = try await processor.handle(event), !answers.isEmpty { relay.wake() }
        }
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/payments/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
        let closedDatabase = closesDatabase ? store.database : nil
        self.backgroundServices = [
            // Closes the Stripe client's connections and the database once the other services have stopped.
            CloseOnShutdown {
                try await stripe?.shutdown()
                try await closedDatabase?.shutdown()
            },
            relay, consumer,
        ]
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        openAPIDocument.addRoute(to: router)
        try PaymentsAPI(store: store, provider: provider).registerHandlers(
            on: router,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    /// What closes the Stripe client and the database (stopped last), the outbox relay and the consumer.
    public var services: [any Service] { backgroundServices }

    /// Fails with ``HealthCheckFailure/databaseUnavailable(_:)`` when the database does not answer `SELECT 1`.
    public func checkHealth() async throws {
        do {
            try await store.ping()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }
}
