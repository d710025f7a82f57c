import Hummingbird
import InterchangeCore
import Logging
import Persistence
import ServiceLifecycle
import ServiceRuntime
import WebhooksOutbound
import WebhooksSigning

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A stateful simulator of the part of Stripe's API a Checkout integration — or a server charging PaymentIntents —
/// uses: the gap stripe-mock leaves (stateless, no webhooks, no Checkout flow). See docs/stripe-simulator.md.
///
/// - `/v1/…`: checkout sessions (create, retrieve, list, expire, line items), payment intents (create, confirm,
///   cancel, retrieve, list; Stripe's test payment methods decide the outcome), charges, refunds,
///   events, webhook endpoints, customers, with Stripe's auth, nested form parameters, `expand`, list objects,
///   error objects and `Idempotency-Key` semantics.
/// - `/checkout/pay/<cs_id>`: the hosted payment page a session's `url` points at; a test card decides (``TestCard``).
/// - `/_sim/…`: controls that are not Stripe's (pay a session, settle delayed payments).
/// - Every state change records an `evt_…` and queues it, signed with the Stripe scheme, on a
///   `WebhookDeliveryEngine` for each webhook endpoint that accepts its type, with the engine's retries.
///
/// Objects live in memory (they reset on restart); webhook endpoints live in the engine's database.
///
/// ```swift
/// let engine = try await StripeSimulator.makeDeliveryEngine(databasePath: nil, logger: logger)
/// let simulator = StripeSimulator(configuration: .init(basePath: "/sim/stripe"), engine: engine)
/// try await simulator.prepare()
/// try simulator.addRoutes(to: router)   // run simulator.services beside the server
/// ```
public struct StripeSimulator: Component {
    public struct Configuration: Sendable {
        /// Where `/v1` is mounted: `""` alone, `/sim/stripe` under `interchange up`.
        public var basePath: String
        /// The secret keys accepted.
        public var apiKeys: Set<String>
        /// How long a delayed payment (card …3220) stays `processing` before it settles.
        public var settlementDelay: Duration
        /// How often the sweeper looks for due settlements and expired sessions.
        public var sweepInterval: Duration
        /// The origin the hosted page is reached at (`http://127.0.0.1:8080`), read when a session is created.
        public var publicBaseURL: @Sendable () -> String
        /// Largest request body accepted.
        public var maxBodySize: Int

        public static let defaultAPIKey = "sk_test_interchange"

        public init(
            basePath: String = "",
            apiKeys: Set<String> = [Configuration.defaultAPIKey],
            settlementDelay: Duration = .seconds(10),
            sweepInterval: Duration = .seconds(1),
            publicBaseURL: @escaping @Sendable () -> String = { "http://127.0.0.1:8080" },
            maxBodySize: Int = 1 << 20
        ) {
            self.basePath = Self.normalized(basePath)
            self.apiKeys = apiKeys
            self.settlementDelay = settlementDelay
            self.sweepInterval = sweepInterval
            self.publicBaseURL = publicBaseURL
            self.maxBodySize = maxBodySize
        }

        static func normalized(_ path: String) -> String {
            let trimmed = path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
            return trimmed.isEmpty ? "" : "/" + trimmed
        }
    }

    /// Where `interchange up` mounts the simulator.
    public static let embeddedBasePath = "/sim/stripe"

    public let name = "stripe-sim"
    public var summary: String {
        "Stripe API simulator at \(configuration.basePath)/v1 (Checkout, PaymentIntents, webhooks; key \(Configuration.defaultAPIKey))"
    }
    public let configuration: Configuration
    /// Delivers the simulator's events to its webhook endpoints.
    public let engine: WebhookDeliveryEngine
    let state = StripeSimulatorState()
    let now: @Sendable () -> Date
    let logger: Logger
    private let sweeper: StripeSimulatorSweeper
    private let ownsEngine: Bool

    /// - Parameters:
    ///   - clock: what the sweeper sleeps on (a `ManualClock` in tests).
    ///   - now: the time every object and deadline is measured on; give the same time as `clock`.
    ///   - runsEngine: whether ``services`` runs (and finally shuts down) `engine` and its database.
    public init(
        configuration: Configuration = Configuration(),
        engine: WebhookDeliveryEngine,
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        runsEngine: Bool = true,
        logger: Logger = Logger(label: "interchange.stripe-sim")
    ) {
        self.configuration = configuration
        self.engine = engine
        self.now = now
        self.logger = logger
        self.ownsEngine = runsEngine
        self.sweeper = StripeSimulatorSweeper(interval: configuration.sweepInterval, sleep: { try await clock.sleep(for: $0) })
    }

    /// A delivery engine for the simulator: its queue in the SQLite file at `databasePath` (a temporary file when
    /// nil), the engine's retry schedule, a 250 ms idle poll (a payment's webhooks arrive at once), and **private and
    /// loopback targets allowed** — the
    /// simulator delivers to a shop on the developer's own machine. The production engine (`interchange serve
    /// webhooks`) keeps its SSRF guard on.
    public static func makeDeliveryEngine(
        databasePath: String?,
        configuration: WebhookDeliveryEngine.Configuration = .init(pollInterval: .milliseconds(250)),
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) async throws -> WebhookDeliveryEngine {
        let path =
            databasePath
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("stripe-sim-\(RandomIdentifier.random(length: 12)).sqlite").path
        let database = try await Database.open(try Database.Location(url: "sqlite:\(path)", field: "stripeSim.database"), logger: logger)
        var configuration = configuration
        // Loopback on purpose: see above. Secrets are test secrets, stored as they are (a simulator has no key to seal with).
        configuration.ssrfGuard = SSRFGuard(allowPrivateNetworks: true)
        let engine = try WebhookDeliveryEngine(database: database, configuration: configuration, logger: logger, clock: clock, now: now)
        try await engine.prepare()
        return engine
    }

    /// Loads the webhook endpoints kept in the engine's database (the only state that survives a restart).
    public func prepare() async throws {
        let stored = try await engine.store.endpoints().filter { $0.scheme == .stripe }
        for endpoint in stored {
            _ = try? state.withStore { (store: inout StripeSimulatorState.Store) throws(StripeAPIError) in
                let record = WebhookEndpointRecord(
                    id: Self.webhookEndpointID(engineID: endpoint.id),
                    engineID: endpoint.id,
                    sequence: store.nextSequence(),
                    created: Int(endpoint.createdAt.timeIntervalSince1970),
                    url: endpoint.url,
                    enabledEvents: endpoint.eventTypes,
                    description: endpoint.description.isEmpty ? nil : endpoint.description,
                    metadata: [:],
                    apiVersion: nil
                )
                store.endpoints[record.id] = record
            }
        }
    }

    public var services: [any Service] {
        var services: [any Service] = [SweeperService(simulator: self, sweeper: sweeper)]
        if ownsEngine { services.append(EngineService(engine: engine)) }
        return services
    }

    public func checkHealth() async throws {
        _ = try await engine.store.deliveryCounts()
    }

    // MARK: Time-driven work

    /// Settles the delayed payments that are due and expires sessions past `expires_at`, now; returns how many
    /// events that caused. The sweeper calls it every `sweepInterval`.
    @discardableResult
    public func sweep() async -> Int {
        let timestamp = Self.unix(now())
        var events = state.settle(dueAt: timestamp, succeed: true, at: timestamp).events
        events += state.expireDue(now: timestamp)
        await publish(events)
        return events.count
    }

    /// Queues `events` for delivery, in order.
    func publish(_ events: [StripeEvent]) async {
        for event in events {
            do {
                let publication = try await engine.publish(eventType: event.type, payload: event.json.data, messageID: event.id)
                logger.debug(
                    "Stripe event queued",
                    metadata: ["event": "\(event.id)", "type": "\(event.type)", "deliveries": "\(publication.deliveryIDs.count)"]
                )
            } catch {
                logger.error(
                    "cannot queue a Stripe event for delivery",
                    metadata: ["event": "\(event.id)", "type": "\(event.type)", "error": "\(error)"]
                )
            }
        }
    }

    static func unix(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) }

    /// The Stripe id shown for an engine endpoint: `ep_X` ↔ `we_X`.
    static func webhookEndpointID(engineID: String) -> String { "we_" + engineID.dropFirst(3) }

    private struct SweeperService: Service {
        let simulator: StripeSimulator
        let sweeper: StripeSimulatorSweeper
        func run() async throws { try await sweeper.run { await simulator.sweep() } }
    }

    /// Runs the engine and closes its connections and database when it stops.
    private struct EngineService: Service {
        let engine: WebhookDeliveryEngine
        func run() async throws {
            try await engine.run()
            try await engine.shutdown()
            try await engine.store.database.shutdown()
        }
    }
}
