import Foundation
import InterchangeCore
import Logging
import Persistence
import Resilience
import SQLKit
import ServiceLifecycle
import Synchronization

/// Moves the outbox (``Outbox``) to a transport: reads unsent rows in `seq` order, publishes them as one batch, and
/// marks them sent. A ServiceLifecycle `Service`; run it in the service's `ServiceGroup`.
///
/// ```swift
/// let relay = OutboxRelay(database: database, transport: transport, logger: logger)
/// let group = ServiceGroup(services: [relay, …], logger: logger)
/// // after a transaction that appended events:
/// relay.wake()
/// ```
///
/// Guarantees:
/// - **At least once.** A row is marked sent only after ``EventTransport/publish(_:)`` returned, i.e. the transport
///   holds the batch durably. A crash (or a failed publish) between the two publishes the batch again after restart:
///   consumers may see an event twice (the inbox, ``Inbox``, makes that one effect), never miss one.
/// - **Order.** Rows are published in `seq` order, one batch at a time, so the transport receives the events of one
///   aggregate in the order they were appended.
/// - **Two relays on PostgreSQL do not double-publish.** Each batch runs in a transaction that first takes a
///   transaction-scoped advisory lock on the outbox (`pg_try_advisory_xact_lock`), reads, publishes and marks sent
///   while holding it; a relay that does not get the lock does nothing this turn and polls again. An advisory lock
///   rather than `FOR UPDATE SKIP LOCKED`: with SKIP LOCKED the second relay would take the *next* rows and publish
///   them while the first batch is still in flight, so a later event could reach the transport before an earlier
///   one of the same aggregate; one lock holder at a time keeps the global `seq` order, and a standby relay takes
///   over within a poll when the active one dies (the lock ends with its session). Marking uses the exact `seq`s
///   published, never a range, so a row that committed late with a smaller `seq` is not marked without being sent.
/// - **SQLite: one relay process per database file.** Within a process, relays of one file take turns per batch as
///   on PostgreSQL (an in-process lock by file path); across processes nothing stops two relays, because SQLite has
///   no advisory locks and holding its write lock while publishing would stall the service's own writes.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        /// Rows published per batch (one `publish` call).
        public var batchSize: Int
        /// How often an idle relay looks for rows written by other processes (``OutboxRelay/wake()`` is immediate).
        public var pollInterval: Duration
        /// How long sent rows are kept (for inspection) before they are deleted; nil keeps them.
        public var sentRetention: Duration?
        /// How often sent rows past their retention are deleted.
        public var cleanupInterval: Duration
        /// The wait after a failed batch (the transport unreachable, say) before the next try.
        public var failureBackoff: Backoff

        public init(
            batchSize: Int = 1024,
            pollInterval: Duration = .milliseconds(100),
            sentRetention: Duration? = .seconds(3600),
            cleanupInterval: Duration = .seconds(60),
            failureBackoff: Backoff = .standard
        ) {
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.sentRetention = sentRetention
            self.cleanupInterval = cleanupInterval
            self.failureBackoff = failureBackoff
        }

        /// Throws ``ConfigurationError`` naming the first invalid field.
        public func validate() throws {
            try ConfigurationError.require(batchSize >= 1, field: "batchSize", "must be at least 1", got: batchSize)
            try ConfigurationError.require(pollInterval > .zero, field: "pollInterval", "must be positive", got: pollInterval)
            try ConfigurationError.require(cleanupInterval > .zero, field: "cleanupInterval", "must be positive", got: cleanupInterval)
            if let sentRetention {
                try ConfigurationError.require(sentRetention >= .zero, field: "sentRetention", "must not be negative", got: sentRetention)
            }
        }
    }

    public let database: Database
    public let transport: any EventTransport
    public let configuration: Configuration
    private let clock: AnyClock
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let wakeup = Wakeup()
    private let lastCleanup = Mutex<Date?>(nil)

    /// SQLite files whose outbox a relay of this process is publishing a batch of.
    private static let activeSQLiteFiles = Mutex<Set<String>>([])

    /// The advisory lock a relay holds while it publishes a batch ("msgoutbx" in ASCII).
    static let advisoryLockKey: Int64 = 0x6D73_676F_7574_6278

    /// - Parameters:
    ///   - clock: drives the idle poll and the failure backoff; inject a manual clock in tests.
    ///   - now: the time stored as `sent_at` and compared with `sentRetention`.
    public init(
        database: Database,
        transport: any EventTransport,
        configuration: Configuration = .init(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.database = database
        self.transport = transport
        self.configuration = configuration
        self.clock = AnyClock(clock)
        self.now = now
        self.logger = logger
    }

    /// Publishes batches until the outbox is empty, then waits for ``wake()`` or the poll interval; returns on
    /// graceful shutdown (after the batch in flight) or cancellation. A failed batch is logged and tried again after
    /// ``Configuration/failureBackoff``.
    public func run() async throws {
        try configuration.validate()
        try await withGracefulShutdownHandler {
            var failures = 0
            var previousDelay = Duration.zero
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let ticket = wakeup.ticket
                do {
                    let published = try await relayOnce()
                    failures = 0
                    if published < configuration.batchSize {
                        try await cleanUpIfDue()
                        if published == 0 { try await wakeup.wait(upTo: configuration.pollInterval, after: ticket, clock: clock) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    let delay = configuration.failureBackoff.delay(beforeRetry: failures, previousDelay: previousDelay, jitterSource: .system)
                    previousDelay = delay
                    logger.warning(
                        "outbox relay: a batch failed; trying again",
                        metadata: ["error": "\(String(describing: error))", "attempt": "\(failures)", "retry_in": "\(delay)"]
                    )
                    // A fresh ticket: wake() calls during the failed batch must not cut the backoff short.
                    let backoffTicket = wakeup.ticket
                    if Task.isShuttingDownGracefully { return }
                    do {
                        try await wakeup.wait(upTo: delay, after: backoffTicket, clock: clock)
                    } catch {
                        return
                    }
                }
            }
        } onGracefulShutdown: {
            self.wakeup.signal()
        }
    }

    /// Nudges the relay to look for rows now (call it after a transaction that appended events commits).
    public func wake() { wakeup.signal() }

    /// Publishes one batch — the oldest unsent rows, in `seq` order — and marks it sent; returns how many.
    /// 0 also when another relay is publishing a batch of this outbox (on PostgreSQL, or in this process on SQLite).
    public func relayOnce() async throws -> Int {
        switch database.dialect {
        case .sqlite:
            // The in-process stand-in for PostgreSQL's advisory lock: one batch per database file at a time.
            let file = database.location.description
            guard Self.activeSQLiteFiles.withLock({ $0.insert(file).inserted }) else { return 0 }
            defer { _ = Self.activeSQLiteFiles.withLock { $0.remove(file) } }
            let batch = try await database.withConnection { sql in try await Self.unsent(limit: self.configuration.batchSize, sql: sql) }
            guard !batch.isEmpty else { return 0 }
            try await transport.publish(batch.map(\.event))
            try await database.write { sql in try await Self.markSent(batch.map(\.seq), at: self.now(), sql: sql) }
            return batch.count
        case .postgres:
            return try await database.transaction { sql in
                let locked = try await sql.raw("SELECT pg_try_advisory_xact_lock(\(literal: Self.advisoryLockKey)) AS locked").first()?
                    .decode(column: "locked", as: Bool.self)
                guard locked == true else { return 0 }
                let batch = try await Self.unsent(limit: self.configuration.batchSize, sql: sql)
                guard !batch.isEmpty else { return 0 }
                try await self.transport.publish(batch.map(\.event))
                try await Self.markSent(batch.map(\.seq), at: self.now(), sql: sql)
                return batch.count
            }
        }
    }

    private struct Row: Sendable {
        var seq: Int64
        var event: CloudEvent
    }

    private static func unsent(limit: Int, sql: any SQLDatabase) async throws -> [Row] {
        let rows = try await sql.raw("SELECT seq, payload FROM messaging_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT \(bind: limit)").all()
        return try rows.map { row in
            let seq = try row.decode(column: "seq", as: Int64.self)
            do {
                return Row(seq: seq, event: try CloudEvent(jsonEncoded: try row.decode(column: "payload", as: Data.self)))
            } catch {
                throw StoredEventUnreadable(table: "messaging_outbox", seq: seq, column: "payload", underlying: error)
            }
        }
    }

    private static func markSent(_ seqs: [Int64], at date: Date, sql: any SQLDatabase) async throws {
        let list = seqs.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")
        try await sql.raw("UPDATE messaging_outbox SET sent_at = \(bind: date.millisecondsSince1970) WHERE seq IN (\(list))").run()
    }

    /// Deletes sent rows older than ``Configuration/sentRetention``, at most once per ``Configuration/cleanupInterval``.
    private func cleanUpIfDue() async throws {
        guard let retention = configuration.sentRetention else { return }
        let date = now()
        let due = lastCleanup.withLock { last -> Bool in
            if let last, date.timeIntervalSince(last) < configuration.cleanupInterval.inSeconds { return false }
            last = date
            return true
        }
        guard due else { return }
        let cutoff = date.millisecondsSince1970 - retention.milliseconds
        try await database.write { sql in
            try await sql.raw("DELETE FROM messaging_outbox WHERE sent_at IS NOT NULL AND sent_at <= \(bind: cutoff)").run()
        }
    }
}

/// A stored event that cannot be read back: which table, row and column, and why.
public struct StoredEventUnreadable: Error, CustomStringConvertible {
    public var table: String
    public var seq: Int64
    public var column: String
    public var underlying: any Error

    public var description: String {
        "\(table) row seq=\(seq): column \(column) is not a readable CloudEvent: \(String(describing: underlying))"
    }
}
