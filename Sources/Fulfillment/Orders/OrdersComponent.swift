import AsyncHTTPClient
import Foundation
import FulfillmentEvents
import HTTPIntegration
import Hummingbird
import InterchangeCore
import Logging
import Messaging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import Sagas
import ServiceLifecycle
import ServiceRuntime

/// The orders service of the fulfillment system (#11): its API under `/orders/api/` (openapi.yaml, served at
/// `/orders/api/openapi.yaml`), its own database, and the saga of every order on the `Sagas` engine (an
/// orchestrator or a tracker, in the style `fulfillment.sagaStyle` sets).
///
/// - `POST /orders/api/orders` validates first — shape, the user (users' HTTP API), each SKU and its price
///   (inventory's HTTP API) — then, in ONE transaction, stores the order, starts its saga and appends
///   `order.created` (+ `command.reserve-inventory` in orchestration) to the outbox;
/// - the participants' replies are consumed as group `fulfillment.orders`, each applied to the saga in the inbox's
///   transaction together with the commands/events it leads to;
/// - the engines' deadline scanners time steps out (retry, then compensate); `POST …/cancel` compensates what was done.
///
/// ```swift
/// let orders = try await OrdersComponent.make(database: database, transport: transport,
///                                             configuration: .init(sagaStyle: .choreography), logger: logger)
/// try orders.addRoutes(to: router)   // and run orders.services beside the server
/// ```
public struct OrdersComponent: Component {
    public let name = "orders"
    public let summary = "fulfillment orders: place, get (with the saga's timeline), list, cancel — under /orders/api/"

    public let configuration: OrdersConfiguration
    public let store: OrdersStore
    /// The API document, served at `/orders/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument
    /// Publishes the outbox: the saga's commands and events.
    public let relay: OutboxRelay
    /// Consumes the participants' replies (group `fulfillment.orders`) into the sagas.
    public let consumer: EventConsumer
    let saga: OrderSaga
    let api: OrdersAPI
    private let backgroundServices: [any Service]

    /// Migrates `database` (orders, sagas, outbox, inbox) and builds the service.
    ///
    /// - Parameters:
    ///   - transport: where the outbox relay publishes and the replies are consumed from.
    ///   - now: the wall clock of orders, saga steps and deadlines; tests pass a `ManualClock`'s.
    ///   - clock: what the deadline scanner and the relay sleep on; tests pass the same `ManualClock`.
    ///   - selfBaseURL: where this process listens, for users and inventory when their base URL is not configured
    ///     (`interchange up` mounts every service on one server).
    ///   - closesDatabase: whether the component's services close `database` when they stop (false when the caller
    ///     owns it, as tests do).
    /// - Throws: ``ConfigurationError`` naming the bad field; database errors.
    public static func make(
        database: Database,
        transport: any EventTransport,
        configuration: OrdersConfiguration = OrdersConfiguration(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(),
        selfBaseURL: (@Sendable () -> String)? = nil,
        closesDatabase: Bool = true
    ) async throws -> OrdersComponent {
        try configuration.validate()
        let usersBase = try baseURL(configuration.usersBaseURL, field: "orders.usersBaseURL", selfBaseURL: selfBaseURL)
        let inventoryBase = try baseURL(configuration.inventoryBaseURL, field: "orders.inventoryBaseURL", selfBaseURL: selfBaseURL)
        let store = OrdersStore(database: database, now: now)
        try await store.prepare()
        try await database.migrate(Outbox.migrations)
        try await database.migrate(Inbox.migrations)
        let http = try ResilientHTTPClient(
            configuration: .init(name: "fulfillment", defaultPolicy: configuration.upstreamPolicy),
            logger: logger,
            now: now
        )
        return try OrdersComponent(
            configuration: configuration,
            store: store,
            transport: transport,
            http: http,
            usersBase: usersBase,
            inventoryBase: inventoryBase,
            logger: logger,
            now: now,
            clock: clock,
            closesDatabase: closesDatabase
        )
    }

    private static func baseURL(
        _ configured: String?,
        field: String,
        selfBaseURL: (@Sendable () -> String)?
    ) throws -> @Sendable () -> String {
        if let configured {
            let trimmed = configured.hasSuffix("/") ? String(configured.dropLast()) : configured
            return { trimmed }
        }
        guard let selfBaseURL else {
            throw ConfigurationError(field: field, reason: "is required when the service does not run in the same process (interchange up)")
        }
        return selfBaseURL
    }

    private init(
        configuration: OrdersConfiguration,
        store: OrdersStore,
        transport: any EventTransport,
        http: ResilientHTTPClient,
        usersBase: @escaping @Sendable () -> String,
        inventoryBase: @escaping @Sendable () -> String,
        logger: Logger,
        now: @escaping @Sendable () -> Date,
        clock: any Clock<Duration>,
        closesDatabase: Bool
    ) throws {
        self.configuration = configuration
        self.store = store
        let relay = OutboxRelay(database: store.database, transport: transport, clock: clock, now: now, logger: logger)
        self.relay = relay
        let wake: @Sendable () -> Void = { relay.wake() }
        let saga = OrderSaga(
            store: store,
            outbox: Outbox(now: now),
            configuration: configuration,
            now: now,
            clock: clock,
            relay: relay,
            logger: logger
        )
        self.saga = saga
        self.api = OrdersAPI(
            placement: OrderPlacement(
                users: UsersClient(http: http, baseURL: usersBase),
                inventory: InventoryClient(http: http, baseURL: inventoryBase)
            ),
            saga: saga,
            style: configuration.sagaStyle,
            wake: wake
        )
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/orders/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
        let bus = EventBus(transport: transport, registry: FulfillmentEvents.registry, logger: logger)
        let consumer = SagaReplies.consumer(bus: bus, saga: saga, inbox: Inbox(consumer: SagaReplies.group, now: now), wake: wake)
        self.consumer = consumer
        let closedDatabase = closesDatabase ? store.database : nil
        self.backgroundServices =
            [
                // Closes the HTTP client's connections and the database once the other services have stopped.
                CloseOnShutdown {
                    try await http.shutdown()
                    try await closedDatabase?.shutdown()
                },
                relay, consumer,
            ] + saga.services
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        openAPIDocument.addRoute(to: router)
        try api.registerHandlers(
            on: router,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    /// What closes the HTTP client and the database (stopped last), the outbox relay, the replies' consumer and the
    /// saga engines' deadline scanners.
    public var services: [any Service] { backgroundServices }

    /// Fails with ``HealthCheckFailure/databaseUnavailable(_:)`` when the database does not answer `SELECT 1`.
    public func checkHealth() async throws {
        do {
            try await store.ping()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }

    /// Times out the sagas whose deadline is due now (what the scanners do every interval); returns how many.
    @discardableResult
    public func fireDueDeadlines() async throws -> Int {
        try await saga.fireDueDeadlines()
    }

    /// The order with its saga's state machine (status, timeline), nil when there is none.
    public func orderWithSaga(id: String) async throws -> (Order, SagaInstance)? {
        try await store.orderWithSaga(id: id)
    }
}
