import InterchangeCore
import Messaging
import Resilience

/// The headers the transport adds to a message it moves between a group's queues.
public enum AMQPHeaderName {
    /// The delivery attempt the message is on (absent: 1); set on retry copies.
    public static let attempt = "x-interchange-attempt"
    /// The reason the last attempt failed; on retry copies and dead letters.
    public static let lastError = "x-interchange-last-error"
    /// On a dead letter: the attempts made.
    public static let attempts = "x-interchange-attempts"
    /// On a dead letter: the consumer group that gave up on it.
    public static let group = "x-interchange-group"
}

/// A consumer group's exchanges and queues on RabbitMQ, all durable and all of the configured queue type:
///
/// - `<exchange>` — the topic exchange events are published to (routing key = event type);
/// - `<exchange>.<group>` — the group's queue, bound with each of the subscription's topic patterns; its
///   `x-dead-letter-exchange` is the group's dead-letter exchange (for anything the broker itself rejects);
/// - `<exchange>.<group>.retry.<ms>ms` — one queue per distinct retry delay, with a queue-wide `x-message-ttl` of that
///   delay and `x-dead-letter-exchange` "" (the default exchange) routing expired messages back to the group's queue
///   only (other groups never see a retry). One TTL per queue is deliberate: RabbitMQ expires messages only at a
///   queue's head, so mixed per-message TTLs in one queue would hold a short delay behind a long one; with one delay
///   per queue the head is always the first to expire. Quorum retry queues dead-letter `at-least-once`;
/// - `<exchange>.<group>.dead` — a fanout exchange and its queue holding dead letters with ``AMQPHeaderName/lastError``.
///
/// Retry delays are the subscription's backoff without jitter (rounded to milliseconds), so a constant delay needs
/// one retry queue and an exponential one `maxAttempts - 1` at most. Bindings removed from a subscription stay on the
/// queue until removed by hand (AMQP cannot list them).
struct GroupTopology: Sendable {
    let exchange: String
    let queue: String
    let deadExchange: String
    let deadQueue: String
    let group: String
    let bindings: [String]
    let queueType: QueueType
    let prefetch: Int
    let maxAttempts: Int
    /// The retry queue for retry n (after attempt n failed) at index n - 1, and its delay.
    let retryQueues: [(name: String, milliseconds: Int)]

    init(subscription: Subscription, configuration: AMQPConfiguration) throws {
        let group = subscription.group
        try ConfigurationError.require(
            !group.isEmpty && group.utf8.count <= 200 && group.utf8.allSatisfy(Self.isGroupByte),
            field: "subscription.group",
            "must be 1–200 letters, digits, '.', '-' or '_'",
            got: group
        )
        try ConfigurationError.require(
            subscription.maxAttempts >= 1,
            field: "subscription.maxAttempts",
            "must be at least 1",
            got: subscription.maxAttempts
        )
        try ConfigurationError.require(
            (1...65535).contains(subscription.prefetch),
            field: "subscription.prefetch",
            "must be 1–65535",
            got: subscription.prefetch
        )
        try ConfigurationError.require(
            !subscription.bindings.isEmpty,
            field: "subscription.bindings",
            "must name at least one topic pattern",
            got: "[]"
        )
        self.group = group
        exchange = configuration.exchange
        queue = "\(configuration.exchange).\(group)"
        deadExchange = "\(queue).dead"
        deadQueue = "\(queue).dead"
        bindings = subscription.bindings.map(\.pattern)
        queueType = configuration.queueType
        prefetch = subscription.prefetch
        maxAttempts = subscription.maxAttempts
        let backoff = subscription.retryDelay
        let unjittered = try Backoff(initial: backoff.initial, maxDelay: backoff.maxDelay, growth: backoff.growth, jitter: .none)
        var previous = Duration.zero
        var queues: [(name: String, milliseconds: Int)] = []
        for retry in stride(from: 1, to: max(subscription.maxAttempts, 1), by: 1) {
            let delay = unjittered.delay(beforeRetry: retry, previousDelay: previous, jitterSource: .system)
            previous = delay
            let milliseconds = max(1, Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000))
            queues.append((name: "\(queue).retry.\(milliseconds)ms", milliseconds: milliseconds))
        }
        retryQueues = queues
    }

    private static func isGroupByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2E || byte == 0x2D
            || byte == 0x5F
    }

    /// The retry queue for the retry after attempt `attempt` failed.
    func retryQueue(afterAttempt attempt: Int) -> String {
        retryQueues[min(max(attempt, 1), retryQueues.count) - 1].name
    }

    private var typeArgument: AMQPHeader { AMQPHeader(key: "x-queue-type", value: .string(queueType.rawValue)) }

    /// Declares everything (idempotent: run again after every reconnect) and starts consuming the group's queue.
    func declare(on session: AMQPSession) throws(AMQPError) {
        try session.declareExchange(exchange, type: "topic")
        try session.declareExchange(deadExchange, type: "fanout")
        try session.declareQueue(deadQueue, durable: true, exclusive: false, autoDelete: false, arguments: [typeArgument])
        try session.bindQueue(deadQueue, exchange: deadExchange, routingKey: "")
        for retry in Set(retryQueues.map(\.name)).sorted() {
            let milliseconds = retryQueues.first { $0.name == retry }!.milliseconds
            var arguments = [
                typeArgument,
                AMQPHeader(key: "x-message-ttl", value: .int(Int64(milliseconds))),
                AMQPHeader(key: "x-dead-letter-exchange", value: .string("")),
                AMQPHeader(key: "x-dead-letter-routing-key", value: .string(queue)),
            ]
            if queueType == .quorum {
                // Quorum queues dead-letter at most once unless told otherwise; at-least-once needs reject-publish.
                arguments.append(AMQPHeader(key: "x-dead-letter-strategy", value: .string("at-least-once")))
                arguments.append(AMQPHeader(key: "x-overflow", value: .string("reject-publish")))
            }
            try session.declareQueue(retry, durable: true, exclusive: false, autoDelete: false, arguments: arguments)
        }
        try session.declareQueue(
            queue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: [typeArgument, AMQPHeader(key: "x-dead-letter-exchange", value: .string(deadExchange))]
        )
        for binding in bindings { try session.bindQueue(queue, exchange: exchange, routingKey: binding) }
        try session.qos(prefetch: prefetch)
        try session.consume(queue: queue, noAck: false)
    }
}

/// A tail's queue: server-named, exclusive, auto-deleted when the connection goes; messages are not acknowledged.
struct TailTopology: Sendable {
    let exchange: String
    let bindings: [String]

    func declare(on session: AMQPSession) throws(AMQPError) {
        try session.declareExchange(exchange, type: "topic")
        let queue = try session.declareQueue("", durable: false, exclusive: true, autoDelete: true, arguments: [])
        for binding in bindings { try session.bindQueue(queue, exchange: exchange, routingKey: binding) }
        try session.consume(queue: queue, noAck: true)
    }
}
