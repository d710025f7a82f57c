import Foundation
import Logging
import Resilience
import ServiceLifecycle

/// Gives the events in a ``WebhookInbox`` to a handler, one at a time per event, retrying failures with backoff.
///
/// An event is claimed with a lease before the handler runs; if the process dies, the lease expires and the
/// event is handled again — so the handler must be idempotent (most are, keyed by the event id). After
/// `maxAttempts` failures the event is marked `failed` and left for an operator.
///
/// ```swift
/// let processor = InboxProcessor(inbox: inbox) { event in try await orders.apply(event) }
/// // run `processor` in your ServiceGroup
/// ```
public final class InboxProcessor: Service, Sendable {
    public typealias Handler = @Sendable (WebhookInbox.Event) async throws -> Void

    public let inbox: WebhookInbox
    private let handler: Handler
    private let maxAttempts: Int
    private let backoff: Backoff
    private let lease: Duration
    private let pollInterval: Duration
    private let batchSize: Int
    private let clock: AnyClock
    private let now: @Sendable () -> Date
    private let logger: Logger

    public init(
        inbox: WebhookInbox,
        maxAttempts: Int = 10,
        backoff: Backoff = .standard,
        lease: Duration = .seconds(120),
        pollInterval: Duration = .milliseconds(500),
        batchSize: Int = 16,
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "interchange.webhooks.inbox"),
        handler: @escaping Handler
    ) {
        self.inbox = inbox
        self.handler = handler
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.lease = lease
        self.pollInterval = pollInterval
        self.batchSize = max(1, batchSize)
        self.clock = AnyClock(clock)
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await processDue() == 0 {
                try? await cancelWhenGracefulShutdown { [clock, pollInterval] in try await clock.sleep(for: pollInterval) }
            }
        }
    }

    /// Handles the events that are due (up to the batch size), concurrently; returns how many.
    @discardableResult
    public func processDue() async -> Int {
        let events: [WebhookInbox.Event]
        do {
            events = try await inbox.claim(limit: batchSize, lease: lease)
        } catch {
            logger.error("cannot claim inbox events", metadata: ["error": "\(error)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for event in events {
                group.addTask { await self.handle(event) }
            }
        }
        return events.count
    }

    private func handle(_ event: WebhookInbox.Event) async {
        do {
            try await handler(event)
            try await inbox.markProcessed(event)
        } catch {
            let attempt = event.previousAttempts + 1
            let retryAt: Date? =
                attempt < maxAttempts
                ? now().addingTimeInterval(backoff.delay(beforeRetry: attempt, previousDelay: .zero, jitterSource: .system).inSeconds) : nil
            logger.warning(
                "webhook event handler failed",
                metadata: ["source": "\(event.source)", "event": "\(event.id)", "attempt": "\(attempt)", "error": "\(error)"]
            )
            do {
                try await inbox.markFailed(event, error: "\(error)", retryAt: retryAt)
            } catch {
                logger.error("cannot record a handler failure; the lease will expire and the event run again", metadata: ["error": "\(error)"])
            }
        }
    }
}
