import Foundation
import Resilience

/// What moves events from publishers to consumer groups: the embedded transport (``EmbeddedTransport``, a log in a
/// database) or a broker (`MessagingAMQP`'s RabbitMQ transport). ``EventBus`` and ``OutboxRelay`` speak only this.
///
/// Routing is by the event's `type`: a subscription's bindings are topic patterns over it.
/// Delivery is at least once: an event whose handling was not acknowledged comes again.
public protocol EventTransport: Sendable {
    /// Publishes `events` in order and returns once the transport holds every one durably (a committed row, a
    /// broker's confirm). Throws when any was not accepted; the caller — the outbox relay — publishes the batch
    /// again, so a consumer may see an event twice but never misses one.
    func publish(_ events: [CloudEvent]) async throws

    /// Delivers the events bound to `subscription` to `handle`, one consumer among the group's competing
    /// consumers, until the task is cancelled (then it returns). The outcome `handle` answers decides each
    /// delivery's fate: acknowledged, redelivered after ``Subscription/retryDelay``, or dead-lettered. An event
    /// that fails ``Subscription/maxAttempts`` times is dead-lettered with the last reason.
    ///
    /// Throws only what it cannot recover from (a bad configuration); a lost connection is retried inside.
    func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws
}

/// A consumer group's interest: which events it receives and how failures are retried.
public struct Subscription: Sendable {
    /// The consumer group: every event bound to it is handled by one of the group's consumers (competing consumers);
    /// two groups each receive every event. Letters, digits, `.`, `-` and `_`.
    public var group: String
    /// Topic patterns over the event type: `*` matches one dot-separated word, `#` any number (AMQP's topic syntax).
    public var bindings: [TopicPattern]
    /// Deliveries of one event before it is dead-lettered (the first delivery counts).
    public var maxAttempts: Int
    /// The wait before the next delivery after a failed attempt.
    public var retryDelay: Backoff
    /// Deliveries a consumer holds unacknowledged at once (AMQP's prefetch; the embedded transport's claim size).
    public var prefetch: Int

    public init(
        group: String,
        bindings: [TopicPattern],
        maxAttempts: Int = 5,
        retryDelay: Backoff = Subscription.defaultRetryDelay,
        prefetch: Int = 64
    ) {
        self.group = group
        self.bindings = bindings
        self.maxAttempts = maxAttempts
        self.retryDelay = retryDelay
        self.prefetch = prefetch
    }

    /// 1 s, doubling, at most 5 minutes, with full jitter.
    public static let defaultRetryDelay: Backoff = {
        do {
            return try .exponential(initial: .seconds(1), maxDelay: .seconds(300), jitter: .full)
        } catch {
            preconditionFailure("the default retry delay is valid: \(error)")
        }
    }()
}

/// One delivery of one event to one consumer.
public struct Delivery: Sendable {
    public var event: CloudEvent
    /// 1 for the first delivery, 2 for the first redelivery after a failure, …
    public var attempt: Int

    public init(event: CloudEvent, attempt: Int) {
        self.event = event
        self.attempt = attempt
    }
}

/// What happens to a delivery after its handler ran.
public enum DeliveryOutcome: Sendable, Hashable {
    /// Handled: never delivered to this group again.
    case ack
    /// Failed: delivered again after the subscription's retry delay, or dead-lettered with `reason` once the
    /// attempts are used up.
    case retry(reason: String)
    /// Can never succeed (bad JSON, a schema failure, an unknown type): dead-lettered now with `reason`.
    case deadLetter(reason: String)
}
