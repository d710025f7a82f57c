import Foundation
import Logging
import Messaging
import Persistence
import Resilience
import SQLKit
import ServiceLifecycle

/// Runs sagas by orchestration: sends each step's command, awaits its reply, and on failure sends the compensations —
/// the saga's state and the commands it sends committed in one transaction, so a crash at any point resumes from the
/// tables alone. A ServiceLifecycle `Service`: running it runs the deadline scanner.
///
/// ```swift
/// let placeOrder = SagaDefinition(name: "place-order") {
///     SagaStep("reserve-inventory", timeout: .seconds(10))
///     SagaStep("charge-payment", timeout: .seconds(30), maxAttempts: 2)
///     SagaStep("confirm", compensates: false)
/// }
/// let orchestrator = SagaOrchestrator(definition: placeOrder, context: Order.self, database: database, logger: logger) { action, saga in
///     switch action {
///     case .execute("reserve-inventory", _): [try command("command.reserve-inventory", ReserveInventory(saga.context))]
///     case .compensate("reserve-inventory", _): [try command("command.release-inventory", ReleaseInventory(saga.context))]
///     case .execute("charge-payment", _): [try command("command.charge-payment", ChargePayment(saga.context))]
///     case .compensate("charge-payment", _): [try command("command.refund-payment", RefundPayment(saga.context))]
///     case .execute("confirm", _): try await confirm(saga)      // local: .local(.succeeded(…), publishing: [orderConfirmed])
///     case .compensated(let reason): try await cancel(saga, reason)
///     default: .none
///     }
/// }
/// try await database.migrate(SagaStore.migrations + Outbox.migrations)
///
/// // Start it with the order, in the order's transaction:
/// try await database.transaction { sql in
///     try await insert(order, in: sql)
///     try await orchestrator.start(id: order.id, context: order, in: sql)
/// }
/// // Feed it the participants' replies, exactly once per event (the inbox row commits with the saga's state):
/// bus.consumer(Subscription(group: "orders", bindings: ["com.example.inventory.*"]), payload: InventoryReply.self) { reply, event in
///     try await database.handleOnce(event, inbox: inbox) { sql in
///         try await orchestrator.apply(reply.succeeded ? .succeeded(step: "reserve-inventory", messageID: event.id)
///                                                      : .failed(step: "reserve-inventory", reason: reply.reason, messageID: event.id),
///                                      to: reply.orderId, in: sql)
///     }
///     relay.wake()
/// }
/// // ServiceGroup(services: [orchestrator, relay, consumer, …])
/// ```
///
/// Guarantees:
/// - **One transaction per input**: load (row-locked on PostgreSQL), ``SagaInstance/apply(_:at:)``, the executor's
///   local writes, save (optimistic version check), and the outbox rows of the commands. Either all commit or none.
/// - **Resume after a crash** needs nothing but the tables: commands committed are relayed by the ``OutboxRelay``;
///   replies not yet applied are redelivered (not acknowledged); deadlines are rows the scanner finds.
/// - **Idempotent replies**: a reply the instance has seen (by message id) changes nothing and writes nothing; a reply
///   for a step not awaited is logged and ignored.
/// - Time comes from `now` (dates stored and compared) and the scanner sleeps on `clock`: tests inject a manual clock.
public final class SagaOrchestrator<Context: Codable & Sendable>: Service, Sendable {
    /// Maps one action to what it sends (and, for a local step, its outcome); runs inside the saga's transaction.
    public typealias Executor = @Sendable (SagaAction, SagaExecution<Context>) async throws -> SagaEffects

    public let definition: SagaDefinition
    public let database: Database
    public let store: SagaStore
    private let engine: SagaEngine<Context>

    /// - Parameters:
    ///   - context: the type of the data each saga carries (stored as JSON with it, handed to the executor).
    ///   - relay: woken after the transactions the orchestrator opens itself (the deadline scanner, ``apply(_:to:)``).
    ///   - executor: every action (`execute`, `compensate`, `completed`, `compensated`, `failed`; `deadline` too,
    ///     for information — the store keeps the deadline itself).
    public init(
        definition: SagaDefinition,
        context: Context.Type = Context.self,
        database: Database,
        store: SagaStore = SagaStore(),
        outbox: Outbox = Outbox(),
        configuration: SagaEngineConfiguration = .init(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        relay: OutboxRelay? = nil,
        logger: Logger,
        executor: @escaping Executor
    ) {
        self.definition = definition
        self.database = database
        self.store = store
        engine = SagaEngine(
            definition: definition,
            database: database,
            store: store,
            outbox: outbox,
            configuration: configuration,
            clock: AnyClock(clock),
            now: now,
            logger: logger,
            relay: relay,
            forwards: { _ in true },
            handler: executor
        )
    }

    /// Starts saga `id` on `sql`, the caller's open transaction: the instance and its first command commit with it.
    ///
    /// - Throws: ``SagaStoreError/alreadyExists`` when saga `id` was started before.
    @discardableResult
    public func start(id: String, context: Context, in sql: any SQLDatabase) async throws -> SagaInstance {
        try await engine.start(id: id, context: context, in: sql)
    }

    /// Applies `input` to saga `id` on `sql`, the caller's open transaction (the inbox's, in a consumer).
    /// Returns the instance after it. Wake the relay after the transaction commits.
    ///
    /// - Throws: ``SagaStoreError/notFound`` for an unknown saga; ``SagaStoreError/versionConflict`` when another
    ///   writer saved it meanwhile (throwing makes the delivery come again, which then applies to the new state).
    @discardableResult
    public func apply(_ input: SagaInput, to id: String, in sql: any SQLDatabase) async throws -> SagaInstance {
        try await engine.apply(input, to: id, in: sql)
    }

    /// Applies `input` to saga `id` in a transaction of its own (a cancel from an API handler, say), then wakes the relay.
    @discardableResult
    public func apply(_ input: SagaInput, to id: String) async throws -> SagaInstance {
        let instance = try await database.transaction { sql in try await self.engine.apply(input, to: id, in: sql) }
        engine.relay?.wake()
        return instance
    }

    /// Saga `id` as stored, or nil.
    public func record(id: String) async throws -> SagaStore.Record? {
        try await database.withConnection { sql in try await self.store.load(id: id, in: sql) }
    }

    /// Fires every deadline due now (what the scanner does each poll); returns how many.
    @discardableResult
    public func fireDueDeadlines() async throws -> Int { try await engine.fireDueDeadlines() }

    /// The deadline scanner, until graceful shutdown.
    public func run() async throws {
        try engine.configuration.validate()
        try await engine.runScanner()
    }
}
