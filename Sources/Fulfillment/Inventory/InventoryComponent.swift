import Foundation
import FulfillmentEvents
import Hummingbird
import Logging
import Messaging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import ServiceLifecycle
import ServiceRuntime

/// The fulfillment system's inventory service (#11): stock per SKU with its price under `/inventory/api/`
/// (openapi.yaml, served at `/inventory/api/openapi.yaml`), reservations made and released by events
/// (``InventoryEventHandler``, both saga styles), expired reservations released by ``ReservationExpiry``, and its
/// answers published through its own outbox.
///
/// ```swift
/// let inventory = try await InventoryComponent.make(database: database, transport: transport, logger: logger)
/// try inventory.addRoutes(to: router)   // behind ProblemMiddleware; run inventory.services beside the server
/// ```
public struct InventoryComponent: Component {
    public let name = "inventory"
    public let summary = "fulfillment inventory: stock per SKU, reservations with expiry, restock — under /inventory/api/"

    public let configuration: InventoryConfiguration
    public let store: InventoryStore
    /// The API document, served at `/inventory/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument
    /// Handles each consumed event once (also callable directly).
    public let handler: InventoryEventHandler
    /// Consumes the group `fulfillment.inventory`.
    public let consumer: EventConsumer
    /// Publishes the outbox: the answers and `inventory.released` on expiry.
    public let relay: OutboxRelay
    /// Releases expired reservations.
    public let expiry: ReservationExpiry
    private let closer: CloseOnShutdown?

    /// Migrates `database` (stock, reservations, outbox, inbox), seeds the demo SKUs into an empty stock table, and
    /// builds the service. The component closes `database` when its services stop, unless `closesDatabase` is false.
    ///
    /// - Parameters:
    ///   - now: the wall clock of reservations' expiry; `clock` drives the expiry scan and the relay's poll.
    /// - Throws: ``ConfigurationError`` naming the bad field; database errors.
    public static func make(
        database: Database,
        transport: any EventTransport,
        configuration: InventoryConfiguration = InventoryConfiguration(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(),
        closesDatabase: Bool = true
    ) async throws -> InventoryComponent {
        try configuration.validate()
        let store = InventoryStore(database: database, now: now)
        try await store.prepare(seed: configuration.seed)
        try await database.migrate(Outbox.migrations)
        try await database.migrate(Inbox.migrations)
        return try InventoryComponent(
            configuration: configuration,
            store: store,
            transport: transport,
            logger: logger,
            now: now,
            clock: clock,
            closesDatabase: closesDatabase
        )
    }

    private init(
        configuration: InventoryConfiguration,
        store: InventoryStore,
        transport: any EventTransport,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        clock: any Clock<Duration>,
        closesDatabase: Bool
    ) throws {
        self.configuration = configuration
        self.store = store
        let outbox = Outbox(now: now)
        let relay = OutboxRelay(database: store.database, transport: transport, clock: clock, now: now, logger: logger)
        self.relay = relay
        let handler = InventoryEventHandler(
            store: store,
            inbox: Inbox(consumer: FulfillmentService.inventory.consumerGroup, now: now),
            outbox: outbox,
            reservationLifetime: configuration.reservationLifetime,
            now: now,
            logger: logger,
            answered: { relay.wake() }
        )
        self.handler = handler
        let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: logger)
        self.consumer = bus.consumer(
            Subscription(
                group: FulfillmentService.inventory.consumerGroup,
                bindings: InventoryEventHandler.consumedTypes.map { TopicPattern($0) },
                maxAttempts: configuration.maxAttempts
            )
        ) { event, _ in
            try await handler.handle(event)
        }
        self.expiry = ReservationExpiry(
            store: store,
            outbox: outbox,
            interval: configuration.expiryScanInterval,
            clock: clock,
            now: now,
            logger: logger,
            answered: { relay.wake() }
        )
        let database = store.database
        self.closer = closesDatabase ? CloseOnShutdown { try await database.shutdown() } : nil
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/inventory/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        openAPIDocument.addRoute(to: router)
        try InventoryAPI(store: store).registerHandlers(
            on: router,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    /// What closes the database when the component owns it (first, so it stops last), the relay, the consumer and
    /// the expiry scanner.
    public var services: [any Service] {
        let running: [any Service] = [relay, consumer, expiry]
        return closer.map { [$0] + running } ?? running
    }

    public func checkHealth() async throws {
        do {
            try await store.ping()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }
}
