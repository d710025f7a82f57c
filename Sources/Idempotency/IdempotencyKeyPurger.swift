import Logging
import ServiceLifecycle

/// Deletes expired idempotency keys every `interval`, in batches, so the table holds about one retention's worth.
///
/// Expired keys already count as unused when a request meets one; purging only keeps the table small.
///
/// ```swift
/// let idempotency = try IdempotencyMiddleware<BasicRequestContext>(database: database)
/// let purger = IdempotencyKeyPurger(store: idempotency.store, retention: idempotency.configuration.retention)
/// // run `purger` in your ServiceGroup
/// ```
public struct IdempotencyKeyPurger: Service {
    public let store: IdempotencyStore
    public let retention: Duration
    public let interval: Duration
    public let batchSize: Int
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger

    /// - Parameter clock: the clock the purger sleeps on between rounds; tests pass a manual one.
    public init(
        store: IdempotencyStore,
        retention: Duration = .seconds(24 * 60 * 60),
        interval: Duration = .seconds(600),
        batchSize: Int = 1000,
        clock: some Clock<Duration> & Sendable = ContinuousClock(),
        logger: Logger = Logger(label: "interchange.idempotency.purger")
    ) {
        precondition(interval > .zero && batchSize > 0, "IdempotencyKeyPurger interval and batchSize must be positive")
        self.store = store
        self.retention = retention
        self.interval = interval
        self.batchSize = batchSize
        self.sleep = { duration in try await clock.sleep(for: duration) }
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let purged = try await store.purgeExpired(retention: retention, batchSize: batchSize)
                if purged > 0 { logger.debug("purged expired idempotency keys", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("cannot purge expired idempotency keys", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { [sleep, interval] in try await sleep(interval) }
        }
    }
}
