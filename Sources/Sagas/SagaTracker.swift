import Foundation
import Logging
import Messaging
import Persistence
import Resilience
import SQLKit
import ServiceLifecycle

/// Tracks a choreographed saga: the participants react to each other's events, nobody sends commands, and the
/// tracker follows the same ``SagaInstance`` from those events — for visibility (the timeline, the status) and for
/// what only an observer can do: notice that a step never happened (its deadline) and start the compensation.
///
/// ```swift
/// let tracker = SagaTracker(definition: placeOrder, context: Order.self, database: database, logger: logger) { action, saga in
///     switch action {
///     case .execute("confirm", _): try await confirm(saga)                 // a step the tracker's owner does itself
///     case .compensate("reserve-inventory", 1): [try orderCancelled(saga)]   // the participants compensate on order.cancelled
///     default: .none                                                         // the participants' own steps
///     }
/// }
/// // the events the participants publish are the replies:
/// try await database.handleOnce(event, inbox: inbox) { sql in
///     try await tracker.record(.succeeded(step: "reserve-inventory", messageID: event.id), for: orderID, in: sql)
/// }
/// ```
///
/// Every action but `deadline` reaches the reaction: it answers `.none` for the steps the participants do by
/// themselves (they react to each other's events), and does a step of its own owner's — a local one, like confirming
/// the order — by returning ``SagaEffects/local(_:publishing:)``. Replies that arrive before their step are held by
/// the instance until the saga gets there (events of different participants are not ordered with each other). The
/// deadline scanner runs as the orchestrator's does; give choreographed steps `maxAttempts: 1` unless a retry means
/// something to the reaction.
public final class SagaTracker<Context: Codable & Sendable>: Service, Sendable {
    public typealias Reaction = @Sendable (SagaAction, SagaExecution<Context>) async throws -> SagaEffects

    public let definition: SagaDefinition
    public let database: Database
    public let store: SagaStore
    private let engine: SagaEngine<Context>

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
        reaction: Reaction? = nil
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
            forwards: { action in
                if case .deadline = action { return false }
                return true
            },
            handler: reaction ?? { _, _ in .none }
        )
    }

    /// Starts tracking saga `id` on `sql`, the caller's open transaction.
    @discardableResult
    public func start(id: String, context: Context, in sql: any SQLDatabase) async throws -> SagaInstance {
        try await engine.start(id: id, context: context, in: sql)
    }

    /// Records what a participant's event says about saga `id`, on `sql` (the inbox's transaction).
    @discardableResult
    public func record(_ input: SagaInput, for id: String, in sql: any SQLDatabase) async throws -> SagaInstance {
        try await engine.apply(input, to: id, in: sql)
    }

    /// Records `input` in a transaction of its own, then wakes the relay.
    @discardableResult
    public func record(_ input: SagaInput, for id: String) async throws -> SagaInstance {
        let instance = try await database.transaction { sql in try await self.engine.apply(input, to: id, in: sql) }
        engine.relay?.wake()
        return instance
    }

    /// Saga `id` as stored, or nil.
    public func record(id: String) async throws -> SagaStore.Record? {
        try await database.withConnection { sql in try await self.store.load(id: id, in: sql) }
    }

    @discardableResult
    public func fireDueDeadlines() async throws -> Int { try await engine.fireDueDeadlines() }

    /// The deadline scanner, until graceful shutdown.
    public func run() async throws {
        try engine.configuration.validate()
        try await engine.runScanner()
    }
}
