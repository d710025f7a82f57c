import Foundation
import InterchangeCore
import Logging
import Persistence
import Resilience
import SQLKit
import Synchronization

/// The default transport: a durable log of events with consumer groups, in a database of its own (a SQLite file
/// under the data directory, or a PostgreSQL database) — a broker in a database, no server to run.
///
/// ```swift
/// let transport = try await EmbeddedTransport.open(dataDirectory: ".interchange", logger: logger)
/// try await transport.publish([event])
/// try await transport.consume(Subscription(group: "billing", bindings: ["com.example.order.*"])) { delivery in
///     .ack
/// }
/// ```
///
/// Tables (``migrations``): `messaging_log` (every published event, in `seq` order), `messaging_group_offsets` (per
/// consumer group, the last log `seq` it has taken deliveries from), `messaging_deliveries` (a group's events claimed
/// and not yet acknowledged: attempts, lease or retry time, last error), `messaging_dead_letters`.
///
/// How delivery works:
/// - A group is created by its first ``consume(_:handle:)`` and starts at the beginning of the retained log, so
///   nothing published before its consumers started is lost.
/// - A consumer claims up to `prefetch` deliveries in one transaction: first the group's deliveries that are due
///   (a retry whose delay has passed, or a lease that expired because a consumer died), then new log rows after the
///   group's offset that match its bindings — they become delivery rows leased to this consumer, and the offset moves
///   past them. Competing consumers of one group take turns on the offset row (`FOR UPDATE` on PostgreSQL, SQLite's
///   single writer) and skip each other's due deliveries (`FOR UPDATE SKIP LOCKED`), so each delivery is given to one
///   consumer at a time.
/// - A batch is handled concurrently by subject: one subject's deliveries (an order's events) one after another in
///   log order, different subjects at the same time; events without a subject one after another.
/// - The handler's outcomes for the batch are written together: acknowledged deliveries are deleted; a retried one
///   becomes due again after the subscription's `retryDelay`; after `maxAttempts` attempts, or at once for
///   ``DeliveryOutcome/deadLetter(reason:)``, it moves to `messaging_dead_letters` with the reason. A failing event
///   never holds up the others.
/// - At least once: a consumer that dies mid-batch leaves its lease to expire (``Configuration/leaseDuration``);
///   the deliveries then come again with the attempt counted.
/// - Log order: on PostgreSQL publishers take a transaction-scoped advisory lock, so `seq`s are assigned in commit
///   order and a group's offset never moves past a row that commits later (SQLite has one writer anyway).
///
/// Publishes from this process wake this process's consumers at once; other processes see them within
/// ``Configuration/pollInterval``.
public final class EmbeddedTransport: EventTransport, Sendable {
    public struct Configuration: Sendable {
        /// How often an idle consumer looks for new or due deliveries.
        public var pollInterval: Duration
        /// How long a claimed delivery is hidden from the group's other consumers; longer than a batch's handling.
        public var leaseDuration: Duration
        /// How long published events stay in the log once every group has taken them; nil keeps them.
        public var logRetention: Duration?
        /// How often the log is pruned.
        public var pruneInterval: Duration
        /// The randomness of retry delays with jitter.
        public var jitter: JitterSource

        public init(
            pollInterval: Duration = .milliseconds(100),
            leaseDuration: Duration = .seconds(30),
            logRetention: Duration? = .seconds(24 * 3600),
            pruneInterval: Duration = .seconds(60),
            jitter: JitterSource = .system
        ) {
            self.pollInterval = pollInterval
            self.leaseDuration = leaseDuration
            self.logRetention = logRetention
            self.pruneInterval = pruneInterval
            self.jitter = jitter
        }

        /// Throws ``ConfigurationError`` naming the first invalid field.
        public func validate() throws {
            try ConfigurationError.require(pollInterval > .zero, field: "pollInterval", "must be positive", got: pollInterval)
            try ConfigurationError.require(leaseDuration > .zero, field: "leaseDuration", "must be positive", got: leaseDuration)
            try ConfigurationError.require(pruneInterval > .zero, field: "pruneInterval", "must be positive", got: pruneInterval)
            if let logRetention {
                try ConfigurationError.require(logRetention >= .zero, field: "logRetention", "must not be negative", got: logRetention)
            }
        }
    }

    /// The log, the groups' offsets, their deliveries and dead letters.
    public static let migrations: [Migration] = [
        Migration("messaging-embedded-1") { sql, dialect in
            let seq = dialect == .postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY AUTOINCREMENT"
            let blob = dialect == .postgres ? "BYTEA" : "BLOB"
            try await sql.raw(
                """
                CREATE TABLE messaging_log (
                    \(unsafeRaw: seq), event_id TEXT NOT NULL, type TEXT NOT NULL, payload \(unsafeRaw: blob) NOT NULL,
                    published_at BIGINT NOT NULL
                )
                """
            ).run()
            try await sql.raw(
                "CREATE TABLE messaging_group_offsets (group_name TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, created_at BIGINT NOT NULL)"
            ).run()
            try await sql.raw(
                """
                CREATE TABLE messaging_deliveries (
                    group_name TEXT NOT NULL, seq BIGINT NOT NULL, attempts INTEGER NOT NULL, available_at BIGINT NOT NULL,
                    last_error TEXT, PRIMARY KEY (group_name, seq)
                )
                """
            ).run()
            try await sql.raw("CREATE INDEX messaging_deliveries_due ON messaging_deliveries (group_name, available_at)").run()
            try await sql.raw(
                """
                CREATE TABLE messaging_dead_letters (
                    group_name TEXT NOT NULL, seq BIGINT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL,
                    payload \(unsafeRaw: blob) NOT NULL, attempts INTEGER NOT NULL, last_error TEXT NOT NULL, dead_at BIGINT NOT NULL,
                    PRIMARY KEY (group_name, seq)
                )
                """
            ).run()
        }
    ]

    public let database: Database
    public let configuration: Configuration
    private let clock: AnyClock
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeup = Wakeup()
    private let publishes: BatchingQueue<[EncodedEvent], Void>
    private let lastPrune = Mutex<Date?>(nil)
    private let ownsDatabase: Bool

    /// The advisory lock PostgreSQL publishers hold while they append to the log ("msgpubls" in ASCII).
    static let publishLockKey: Int64 = 0x6D73_6770_7562_6C73
    /// Rows per INSERT statement.
    static let rowsPerStatement = 500

    /// - Parameters:
    ///   - database: the transport's own database, migrated with ``migrations``.
    ///   - clock: drives the idle poll; inject a manual clock in tests.
    ///   - now: the wall clock of leases, retry times and retention.
    public convenience init(
        database: Database,
        configuration: Configuration = .init(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.init(database: database, configuration: configuration, clock: clock, now: now, logger: logger, ownsDatabase: false)
    }

    private init(
        database: Database,
        configuration: Configuration,
        clock: any Clock<Duration>,
        now: @escaping @Sendable () -> Date,
        logger: Logger,
        ownsDatabase: Bool
    ) {
        self.database = database
        self.configuration = configuration
        self.clock = AnyClock(clock)
        self.now = now
        self.logger = logger
        self.ownsDatabase = ownsDatabase
        // Publishes that arrive while one is being written are written together, in one transaction.
        self.publishes = BatchingQueue(maxBatchSize: 32, maxConcurrentBatches: 1) { batches in
            try await Self.append(batches.flatMap { $0 }, at: now().millisecondsSince1970, database: database)
            return batches.map { _ in () }
        }
    }

    /// Opens (creating and migrating) `<dataDirectory>/events.sqlite`; ``shutdown()`` closes it.
    ///
    /// - Throws: ``ConfigurationError`` naming `dataDirectory` when the file cannot be opened.
    public static func open(
        dataDirectory: String,
        configuration: Configuration = .init(),
        logger: Logger
    ) async throws -> EmbeddedTransport {
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("events.sqlite").path
        let database: Database
        do {
            database = try await Database.open(.sqlite(path: path), logger: logger)
        } catch let error as ConfigurationError {
            throw ConfigurationError(field: "dataDirectory", reason: "cannot open \(path): \(error.reason)")
        }
        do {
            try await database.migrate(migrations)
        } catch {
            try? await database.shutdown()
            throw error
        }
        return EmbeddedTransport(
            database: database,
            configuration: configuration,
            clock: ContinuousClock(),
            now: { Date() },
            logger: logger,
            ownsDatabase: true
        )
    }

    /// Closes the database when ``open(dataDirectory:configuration:logger:)`` opened it (otherwise its owner does).
    public func shutdown() async throws {
        if ownsDatabase { try await database.shutdown() }
    }

    // MARK: Publishing

    private struct EncodedEvent: Sendable {
        var id: String
        var type: String
        var payload: Data
    }

    /// Appends `events` to the log, in order, in one transaction; returns once it committed.
    public func publish(_ events: [CloudEvent]) async throws {
        guard !events.isEmpty else { return }
        let encoded = try events.map { EncodedEvent(id: $0.id, type: $0.type, payload: try $0.jsonEncoded()) }
        try await publishes.submit(encoded)
        wakeup.signal()
    }

    private static func append(_ events: [EncodedEvent], at publishedAt: Int64, database: Database) async throws {
        let dialect = database.dialect
        try await database.transaction { sql in
            if dialect == .postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Self.publishLockKey))").run()
            }
            for start in stride(from: 0, to: events.count, by: Self.rowsPerStatement) {
                var query: SQLQueryString = "INSERT INTO messaging_log (event_id, type, payload, published_at) VALUES "
                query += events[start..<min(start + Self.rowsPerStatement, events.count)].map { event -> SQLQueryString in
                    let values: [any Encodable & Sendable] = [event.id, event.type, event.payload, publishedAt]
                    return "(\(binds: values))"
                }.joined(separator: ", ")
                try await sql.raw(query).run()
            }
        }
    }

    // MARK: Consuming

    private struct Claimed: Sendable {
        var seq: Int64
        var attempt: Int
        var eventID: String
        var type: String
        var payload: Data
    }

    /// Delivers the group's events to `handle` until the task is cancelled (then returns, after writing the outcomes
    /// of the deliveries already handled and handing back the rest of the batch).
    ///
    /// - Throws: ``ConfigurationError`` naming the subscription's invalid field.
    public func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        try configuration.validate()
        try Self.validate(subscription)
        let group = subscription.group
        let createdAt = now().millisecondsSince1970
        try await database.write { sql in
            try await sql.raw(
                """
                INSERT INTO messaging_group_offsets (group_name, last_seq, created_at) VALUES (\(bind: group), 0, \(bind: createdAt))
                ON CONFLICT (group_name) DO NOTHING
                """
            ).run()
        }
        var failures = 0
        while !Task.isCancelled {
            let claimed: [Claimed]
            let ticket = wakeup.ticket
            do {
                claimed = try await claim(subscription)
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let delay = Backoff.standard.delay(beforeRetry: failures, previousDelay: .zero, jitterSource: configuration.jitter)
                logger.warning(
                    "embedded transport: claiming deliveries failed; trying again",
                    metadata: ["group": "\(group)", "error": "\(String(describing: error))", "retry_in": "\(delay)"]
                )
                do { try await clock.sleep(for: delay) } catch { return }
                continue
            }
            if claimed.isEmpty {
                await pruneIfDue()
                do { try await wakeup.wait(upTo: configuration.pollInterval, after: ticket, clock: clock) } catch { return }
                continue
            }
            var settlement = DeliverySettlement(
                maxAttempts: subscription.maxAttempts,
                retryDelay: subscription.retryDelay,
                jitter: configuration.jitter
            )
            for (delivery, handled) in await Self.handle(claimed, with: handle) {
                switch handled {
                case .released: settlement.release(seq: delivery.seq, attempt: delivery.attempt)
                case .outcome(let outcome):
                    settlement.record(outcome, seq: delivery.seq, attempt: delivery.attempt, now: now().millisecondsSince1970)
                }
            }
            do {
                try await settle(settlement, group: group, claimed: claimed)
            } catch {
                logger.warning(
                    "embedded transport: recording outcomes failed; the deliveries come again when their lease expires",
                    metadata: ["group": "\(group)", "error": "\(String(describing: error))"]
                )
            }
        }
    }

    private enum Handled: Sendable {
        case outcome(DeliveryOutcome)
        /// Never handed to the handler, or stopped mid-handler: handed back, the attempt not counted.
        case released
    }

    /// Hands a claimed batch to `handle`: deliveries with the same subject (an order's events) one after another in
    /// log order, different subjects concurrently — as AMQP consumers run up to their prefetch, so one slow handler
    /// does not hold up the rest of the batch. Events without a subject share one lane, in log order.
    private static func handle(
        _ claimed: [Claimed],
        with handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome
    ) async -> [(Claimed, Handled)] {
        var results: [(Claimed, Handled)] = []
        var lanes: [String: [(Claimed, CloudEvent)]] = [:]
        for delivery in claimed {
            do {
                let event = try CloudEvent(jsonEncoded: delivery.payload)
                lanes[event.subject ?? "", default: []].append((delivery, event))
            } catch {
                let unreadable = StoredEventUnreadable(table: "messaging_log", seq: delivery.seq, column: "payload", underlying: error)
                results.append((delivery, .outcome(.deadLetter(reason: unreadable.description))))
            }
        }
        return await withTaskGroup(of: [(Claimed, Handled)].self, returning: [(Claimed, Handled)].self) { group in
            for lane in lanes.values {
                group.addTask {
                    var handled: [(Claimed, Handled)] = []
                    for (delivery, event) in lane {
                        guard !Task.isCancelled else {
                            handled.append((delivery, .released))
                            continue
                        }
                        let outcome = await handle(Delivery(event: event, attempt: delivery.attempt))
                        if case .retry = outcome, Task.isCancelled {
                            // Stopped mid-handler (its failure is most likely the cancellation): not counted.
                            handled.append((delivery, .released))
                        } else {
                            handled.append((delivery, .outcome(outcome)))
                        }
                    }
                    return handled
                }
            }
            for await lane in group { results += lane }
            return results
        }
    }

    static func validate(_ subscription: Subscription) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        try ConfigurationError.require(
            !subscription.group.isEmpty && subscription.group.allSatisfy(allowed.contains),
            field: "subscription.group",
            "must be letters, digits, '.', '-' or '_'",
            got: "'\(subscription.group)'"
        )
        try ConfigurationError.require(!subscription.bindings.isEmpty, field: "subscription.bindings", "needs at least one pattern", got: "[]")
        try ConfigurationError.require(
            subscription.maxAttempts >= 1,
            field: "subscription.maxAttempts",
            "must be at least 1",
            got: subscription.maxAttempts
        )
        try ConfigurationError.require(subscription.prefetch >= 1, field: "subscription.prefetch", "must be at least 1", got: subscription.prefetch)
    }

    /// Claims up to `prefetch` deliveries for one consumer of the group, in one transaction: due ones first, then new
    /// log rows matching the bindings.
    private func claim(_ subscription: Subscription) async throws -> [Claimed] {
        let group = subscription.group
        let limit = subscription.prefetch
        let bindings = subscription.bindings
        let timestamp = now().millisecondsSince1970
        let leaseUntil = timestamp + configuration.leaseDuration.milliseconds
        let postgres = database.dialect == .postgres
        let logger = logger
        return try await database.transaction { sql in
            var claimed: [Claimed] = []
            let skipLocked: SQLQueryString = postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let due = try await sql.raw(
                """
                UPDATE messaging_deliveries SET attempts = attempts + 1, available_at = \(bind: leaseUntil)
                WHERE group_name = \(bind: group) AND seq IN (
                    SELECT seq FROM messaging_deliveries WHERE group_name = \(bind: group) AND available_at <= \(bind: timestamp)
                    ORDER BY available_at, seq LIMIT \(bind: limit)\(skipLocked)
                )
                RETURNING seq, attempts
                """
            ).all()
            if !due.isEmpty {
                var attempts: [Int64: Int] = [:]
                for row in due { attempts[try row.decode(column: "seq", as: Int64.self)] = try row.decode(column: "attempts", as: Int.self) }
                let list = attempts.keys.sorted().map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")
                for row in try await sql.raw("SELECT seq, event_id, type, payload FROM messaging_log WHERE seq IN (\(list)) ORDER BY seq").all() {
                    let seq = try row.decode(column: "seq", as: Int64.self)
                    claimed.append(
                        Claimed(
                            seq: seq,
                            attempt: attempts.removeValue(forKey: seq) ?? 1,
                            eventID: try row.decode(column: "event_id", as: String.self),
                            type: try row.decode(column: "type", as: String.self),
                            payload: try row.decode(column: "payload", as: Data.self)
                        )
                    )
                }
                if !attempts.isEmpty {
                    // The log rows are gone (deleted by hand: pruning keeps rows with deliveries); nothing to deliver.
                    logger.warning(
                        "embedded transport: deliveries without a log row dropped",
                        metadata: ["group": "\(group)", "table": "messaging_log", "seqs": "\(attempts.keys.sorted())"]
                    )
                    let missing = attempts.keys.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")
                    try await sql.raw("DELETE FROM messaging_deliveries WHERE group_name = \(bind: group) AND seq IN (\(missing))").run()
                }
            }
            let room = limit - claimed.count
            guard room > 0 else { return claimed }
            let lockOffset: SQLQueryString = postgres ? " FOR UPDATE" : ""
            guard
                let offsetRow = try await sql.raw("SELECT last_seq FROM messaging_group_offsets WHERE group_name = \(bind: group)\(lockOffset)")
                    .first()
            else {
                throw EmbeddedTransportError("consumer group '\(group)' has no row in messaging_group_offsets")
            }
            let offset = try offsetRow.decode(column: "last_seq", as: Int64.self)
            let rows = try await sql.raw(
                "SELECT seq, event_id, type, payload FROM messaging_log WHERE seq > \(bind: offset) ORDER BY seq LIMIT \(bind: room)"
            ).all()
            guard let lastRow = rows.last else { return claimed }
            var fresh: [Claimed] = []
            for row in rows {
                let type = try row.decode(column: "type", as: String.self)
                guard bindings.contains(where: { $0.matches(type) }) else { continue }
                fresh.append(
                    Claimed(
                        seq: try row.decode(column: "seq", as: Int64.self),
                        attempt: 1,
                        eventID: try row.decode(column: "event_id", as: String.self),
                        type: type,
                        payload: try row.decode(column: "payload", as: Data.self)
                    )
                )
            }
            if !fresh.isEmpty {
                var insert: SQLQueryString = "INSERT INTO messaging_deliveries (group_name, seq, attempts, available_at) VALUES "
                insert += fresh.map { claim -> SQLQueryString in "(\(bind: group), \(bind: claim.seq), 1, \(bind: leaseUntil))" }.joined(
                    separator: ", "
                )
                try await sql.raw(insert).run()
            }
            let newOffset = try lastRow.decode(column: "seq", as: Int64.self)
            try await sql.raw("UPDATE messaging_group_offsets SET last_seq = \(bind: newOffset) WHERE group_name = \(bind: group)").run()
            return claimed + fresh
        }
    }

    /// Writes a batch's outcomes: one DELETE when all were acknowledged, else one transaction.
    private func settle(_ settlement: DeliverySettlement, group: String, claimed: [Claimed]) async throws {
        guard !settlement.isEmpty else { return }
        let acknowledged = settlement.acknowledged.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")
        if settlement.onlyAcknowledgements {
            try await database.write { sql in
                try await sql.raw("DELETE FROM messaging_deliveries WHERE group_name = \(bind: group) AND seq IN (\(acknowledged))").run()
            }
            return
        }
        let timestamp = now().millisecondsSince1970
        let bySeq = Dictionary(claimed.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        try await database.transaction { sql in
            if !settlement.acknowledged.isEmpty {
                try await sql.raw("DELETE FROM messaging_deliveries WHERE group_name = \(bind: group) AND seq IN (\(acknowledged))").run()
            }
            // `attempts = the attempt handled`: a consumer whose lease expired and whose delivery was taken again
            // does not overwrite the newer attempt's state.
            for retry in settlement.retries {
                try await sql.raw(
                    """
                    UPDATE messaging_deliveries SET available_at = \(bind: retry.availableAt), last_error = \(bind: retry.error)
                    WHERE group_name = \(bind: group) AND seq = \(bind: retry.seq) AND attempts = \(bind: retry.attempt)
                    """
                ).run()
            }
            for released in settlement.released {
                try await sql.raw(
                    """
                    UPDATE messaging_deliveries SET available_at = \(bind: timestamp), attempts = attempts - 1
                    WHERE group_name = \(bind: group) AND seq = \(bind: released.seq) AND attempts = \(bind: released.attempt)
                    """
                ).run()
            }
            let dead = settlement.dead.compactMap { dead in bySeq[dead.seq].map { (dead, $0) } }
            if !dead.isEmpty {
                var insert: SQLQueryString =
                    "INSERT INTO messaging_dead_letters (group_name, seq, event_id, type, payload, attempts, last_error, dead_at) VALUES "
                insert += dead.map { dead, claim -> SQLQueryString in
                    let values: [any Encodable & Sendable] = [
                        group, claim.seq, claim.eventID, claim.type, claim.payload, dead.attempt, dead.error, timestamp,
                    ]
                    return "(\(binds: values))"
                }.joined(separator: ", ")
                insert += " ON CONFLICT (group_name, seq) DO NOTHING"
                try await sql.raw(insert).run()
                let list = dead.map { "\(bind: $0.0.seq)" as SQLQueryString }.joined(separator: ", ")
                try await sql.raw("DELETE FROM messaging_deliveries WHERE group_name = \(bind: group) AND seq IN (\(list))").run()
            }
        }
    }

    /// Deletes log rows older than the retention that every group has taken and no delivery needs, at most once
    /// per ``Configuration/pruneInterval``.
    private func pruneIfDue() async {
        guard let retention = configuration.logRetention else { return }
        let date = now()
        let due = lastPrune.withLock { last -> Bool in
            if let last, date.timeIntervalSince(last) < configuration.pruneInterval.inSeconds { return false }
            last = date
            return true
        }
        guard due else { return }
        let cutoff = date.millisecondsSince1970 - retention.milliseconds
        do {
            try await database.write { sql in
                try await sql.raw(
                    """
                    DELETE FROM messaging_log WHERE published_at <= \(bind: cutoff)
                    AND seq <= (SELECT COALESCE(MIN(last_seq), (SELECT COALESCE(MAX(seq), 0) FROM messaging_log)) FROM messaging_group_offsets)
                    AND seq NOT IN (SELECT seq FROM messaging_deliveries)
                    """
                ).run()
            }
        } catch {
            logger.warning("embedded transport: pruning the log failed", metadata: ["error": "\(String(describing: error))"])
        }
    }

    // MARK: Operators

    /// The group's dead letters, oldest event first.
    public func deadLetters(group: String, limit: Int = 100) async throws -> [DeadLetter] {
        try await database.withConnection { sql in
            try await sql.raw(
                """
                SELECT seq, payload, attempts, last_error, dead_at FROM messaging_dead_letters
                WHERE group_name = \(bind: group) ORDER BY seq LIMIT \(bind: limit)
                """
            ).all().map { row in
                let seq = try row.decode(column: "seq", as: Int64.self)
                let event: CloudEvent
                do {
                    event = try CloudEvent(jsonEncoded: try row.decode(column: "payload", as: Data.self))
                } catch {
                    throw StoredEventUnreadable(table: "messaging_dead_letters", seq: seq, column: "payload", underlying: error)
                }
                return DeadLetter(
                    group: group,
                    event: event,
                    attempts: try row.decode(column: "attempts", as: Int.self),
                    lastError: try row.decode(column: "last_error", as: String.self),
                    deadAt: Date(millisecondsSince1970: try row.decode(column: "dead_at", as: Int64.self))
                )
            }
        }
    }

    /// Deliveries of the group not yet acknowledged nor dead-lettered (claimed, or waiting for a retry).
    public func pendingDeliveries(group: String) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM messaging_deliveries WHERE group_name = \(bind: group)").first()?
                .decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// The events published from now on (or, with `fromBeginning`, from the start of the retained log) whose type
    /// matches one of `bindings`, in log order — without a consumer group, so it takes nothing from anyone (for
    /// `interchange events tail --data-dir`). Ends when the iterating task is cancelled.
    public func tail(_ bindings: [TopicPattern], fromBeginning: Bool = false) -> AsyncThrowingStream<CloudEvent, any Error> {
        let cursor = TailCursor(transport: self, bindings: bindings, fromBeginning: fromBeginning)
        return AsyncThrowingStream { try await cursor.next() }
    }

    fileprivate var publishTicket: UInt64 { wakeup.ticket }

    fileprivate func waitForPublishes(after ticket: UInt64) async throws {
        try await wakeup.wait(upTo: configuration.pollInterval, after: ticket, clock: clock)
    }
}

/// What ``EmbeddedTransport`` cannot work around (its tables changed under it).
public struct EmbeddedTransportError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The position and read-ahead of one ``EmbeddedTransport/tail(_:fromBeginning:)`` stream.
private final class TailCursor: Sendable {
    private struct State {
        var position: Int64?
        var buffer: [CloudEvent] = []
    }

    let transport: EmbeddedTransport
    let bindings: [TopicPattern]
    let fromBeginning: Bool
    private let state = Mutex(State())

    init(transport: EmbeddedTransport, bindings: [TopicPattern], fromBeginning: Bool) {
        self.transport = transport
        self.bindings = bindings
        self.fromBeginning = fromBeginning
    }

    func next() async throws -> CloudEvent? {
        while true {
            if let event = state.withLock({ state in state.buffer.isEmpty ? nil : state.buffer.removeFirst() }) { return event }
            if Task.isCancelled { return nil }
            var position = state.withLock { $0.position }
            if position == nil {
                position =
                    fromBeginning
                    ? 0
                    : try await transport.database.withConnection { sql in
                        try await sql.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM messaging_log").first()?.decode(column: "seq", as: Int64.self)
                            ?? 0
                    }
            }
            let after = position ?? 0
            let ticket = transport.publishTicket
            let rows = try await transport.database.withConnection { sql in
                try await sql.raw("SELECT seq, type, payload FROM messaging_log WHERE seq > \(bind: after) ORDER BY seq LIMIT 256").all()
            }
            var events: [CloudEvent] = []
            var last = after
            for row in rows {
                last = try row.decode(column: "seq", as: Int64.self)
                guard bindings.contains(where: { (try? row.decode(column: "type", as: String.self)).map($0.matches) ?? false }) else { continue }
                do {
                    events.append(try CloudEvent(jsonEncoded: try row.decode(column: "payload", as: Data.self)))
                } catch {
                    throw StoredEventUnreadable(table: "messaging_log", seq: last, column: "payload", underlying: error)
                }
            }
            state.withLock { state in
                state.position = last
                state.buffer.append(contentsOf: events)
            }
            if rows.isEmpty {
                do { try await transport.waitForPublishes(after: ticket) } catch { return nil }
            }
        }
    }
}
