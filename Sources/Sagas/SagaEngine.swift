import Foundation
import InterchangeCore
import Logging
import Messaging
import Metrics
import Persistence
import Resilience
import SQLKit
import ServiceLifecycle

/// What ``SagaOrchestrator`` and ``SagaTracker`` share: load → apply → execute the actions → save → append the
/// events, all on one transaction, and the deadline scanner. The two differ only in which actions reach the closure.
struct SagaEngine<Context: Codable & Sendable>: Sendable {
    typealias Handler = @Sendable (SagaAction, SagaExecution<Context>) async throws -> SagaEffects

    let definition: SagaDefinition
    let database: Database
    let store: SagaStore
    let outbox: Outbox
    let configuration: SagaEngineConfiguration
    let clock: AnyClock
    let now: @Sendable () -> Date
    let logger: Logger
    let relay: OutboxRelay?
    /// Which actions the handler sees (the orchestrator: all; the tracker: all but `deadline`).
    let forwards: @Sendable (SagaAction) -> Bool
    let handler: Handler

    func start(id: String, context: Context, in sql: any SQLDatabase) async throws -> SagaInstance {
        let date = now()
        let (instance, actions) = SagaInstance.start(id: id, definition: definition, at: date)
        let encoded = try encode(context)
        let performed = try await perform(actions, on: instance, context: context, at: date, in: sql, events: [])
        try await store.insert(performed, context: encoded, at: date, in: sql)
        logger.debug("saga started", metadata: ["saga": "\(definition.name)", "saga_id": "\(id)"])
        return performed
    }

    /// Applies `input` to saga `id` on `sql`; returns the instance after it.
    func apply(_ input: SagaInput, to id: String, in sql: any SQLDatabase) async throws -> SagaInstance {
        guard let record = try await store.load(id: id, lockingRow: true, in: sql) else {
            throw SagaStoreError(code: .notFound, sagaID: id)
        }
        guard record.instance.definition == definition.name else {
            throw SagaStoreError(code: .otherDefinition(record.instance.definition), sagaID: id)
        }
        let date = now()
        var instance = record.instance
        let actions = instance.apply(input, at: date)
        guard instance != record.instance else { return instance }  // a repeated reply: nothing to write
        let context = try decodeContext(record)
        instance = try await perform(actions, on: instance, context: context, at: date, in: sql, events: [])
        try await store.save(instance, replacing: record, at: date, in: sql)
        if instance.log.count > record.instance.log.count, instance.log.last?.kind == .ignored {
            logger.debug(
                "saga input ignored",
                metadata: ["saga": "\(definition.name)", "saga_id": "\(id)", "detail": "\(instance.log.last?.detail ?? "")"]
            )
        }
        return instance
    }

    /// Hands the actions to the handler (applying local steps' outcomes as they come) and appends the events.
    private func perform(
        _ actions: [SagaAction],
        on start: SagaInstance,
        context: Context,
        at date: Date,
        in sql: any SQLDatabase,
        events initial: [CloudEvent]
    ) async throws -> SagaInstance {
        var instance = start
        var pending = actions[...]
        var events = initial
        while let action = pending.popFirst() {
            count(action)
            guard forwards(action) else { continue }
            let effects = try await handler(action, SagaExecution(sagaID: instance.id, context: context, instance: instance, sql: sql))
            events += effects.events
            if let reply = effects.reply { pending += instance.apply(reply, at: date) }
        }
        try await outbox.append(events, in: sql)
        return instance
    }

    private func count(_ action: SagaAction) {
        let outcome: String
        switch action {
        case .completed: outcome = "completed"
        case .compensated: outcome = "compensated"
        case .failed: outcome = "failed"
        default: return
        }
        Counter(label: "sagas_finished_total", dimensions: [("saga", definition.name), ("outcome", outcome)]).increment()
    }

    /// Feeds ``SagaInput/timedOut(step:attempt:)`` to every saga whose deadline passed, one transaction each;
    /// returns how many were fired.
    func fireDueDeadlines() async throws -> Int {
        var fired = 0
        while true {
            let due = try await database.withConnection { sql in
                try await self.store.dueDeadlines(definition: self.definition.name, at: self.now(), limit: self.configuration.batchSize, in: sql)
            }
            var firedThisRound = 0
            for id in due {
                do {
                    let changed = try await database.transaction { sql -> Bool in
                        // Read again under the row lock: a reply may have moved the saga since the query.
                        guard let record = try await self.store.load(id: id, lockingRow: true, in: sql),
                            let deadline = record.instance.deadline, deadline.at <= self.now()
                        else { return false }
                        _ = try await self.apply(.timedOut(step: deadline.step, attempt: deadline.attempt), to: id, in: sql)
                        return true
                    }
                    if changed { firedThisRound += 1 }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    // One saga whose executor fails must not hold up the others' deadlines; it stays due.
                    logger.warning(
                        "saga deadline could not be applied; trying again at the next poll",
                        metadata: ["saga": "\(definition.name)", "saga_id": "\(id)", "error": "\(String(describing: error))"]
                    )
                }
            }
            fired += firedThisRound
            // A full batch may hide more; but a round that moved nothing would find the same rows again.
            if due.count < configuration.batchSize || firedThisRound == 0 { break }
        }
        if fired > 0 { relay?.wake() }
        return fired
    }

    /// Scans for due deadlines every poll interval until graceful shutdown or cancellation.
    func runScanner() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        _ = try await fireDueDeadlines()
                    } catch is CancellationError {
                        return
                    } catch {
                        logger.warning(
                            "saga deadline scan failed; trying again at the next poll",
                            metadata: ["saga": "\(definition.name)", "error": "\(String(describing: error))"]
                        )
                    }
                    try await clock.sleep(for: configuration.pollInterval)
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func encode(_ context: Context) throws -> String {
        String(decoding: try JSONEncoder().encode(context), as: UTF8.self)
    }

    private func decodeContext(_ record: SagaStore.Record) throws -> Context {
        guard let text = record.context else {
            throw UnreadableRowError(table: "sagas", row: record.instance.id, column: "context", reason: "is null; \(Context.self) expected")
        }
        do {
            return try JSONDecoder().decode(Context.self, from: Data(text.utf8))
        } catch {
            throw UnreadableRowError(table: "sagas", row: record.instance.id, column: "context", reason: "is not JSON of \(Context.self): \(error)")
        }
    }
}

/// How often the deadline scanner looks, and how many sagas it takes per query.
public struct SagaEngineConfiguration: Sendable {
    /// The scanner's poll: a deadline fires at most this late.
    public var pollInterval: Duration
    /// Due sagas read per query.
    public var batchSize: Int

    public init(pollInterval: Duration = .seconds(1), batchSize: Int = 100) {
        self.pollInterval = pollInterval
        self.batchSize = batchSize
    }

    /// Throws ``ConfigurationError`` naming the first invalid field.
    public func validate() throws {
        try ConfigurationError.require(pollInterval > .zero, field: "pollInterval", "must be positive", got: pollInterval)
        try ConfigurationError.require(batchSize >= 1, field: "batchSize", "must be at least 1", got: batchSize)
    }
}
