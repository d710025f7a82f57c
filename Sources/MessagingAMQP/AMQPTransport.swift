import Foundation
import Logging
import Messaging
import Metrics
import Synchronization

/// The RabbitMQ transport: CloudEvents over a durable topic exchange (routing key = event type), one durable queue per
/// consumer group, publisher confirms, manual acknowledgements, delayed retries and a dead-letter queue per group.
/// Built on rabbitmq-c (Debian's librabbitmq), which speaks AMQP 0-9-1; this module writes no protocol itself.
///
/// ```swift
/// let transport = AMQPTransport(configuration: try AMQPConfiguration(url: brokerURL), logger: logger)
/// try await transport.connect()                       // fails fast, naming broker.url, when unreachable
/// try await transport.publish([event])                // returns once RabbitMQ confirmed every event
/// try await transport.consume(Subscription(group: "billing", bindings: ["com.example.order.*"])) { delivery in
///     .ack
/// }
/// ```
///
/// Threading: rabbitmq-c is not thread-safe per connection, so every connection — the transport's one publishing
/// connection, one per ``consume(_:handle:)`` and one per ``tail(_:)`` — lives on its own dedicated thread
/// (``AMQPConnectionThread``). Async callers hand it commands and await continuations; no Swift concurrency thread
/// ever waits on a socket. Handlers run as child tasks, as many at once as the subscription's prefetch lets the
/// broker deliver.
///
/// Failures: a lost connection fails every publish not yet confirmed (the outbox relay publishes them again, so
/// delivery is at least once) and is re-established with backoff, re-declaring the exchange, queues and bindings.
/// Topology: see ``GroupTopology``.
public final class AMQPTransport: EventTransport, Sendable {
    public let configuration: AMQPConfiguration
    private let logger: Logger
    private let publisher = Mutex<AMQPConnectionThread<AMQPPublisher>?>(nil)
    private let running = Mutex<(isShutdown: Bool, stops: [UUID: @Sendable () -> Void])>((false, [:]))
    private let published: Counter
    private let publishFailures: Counter

    public init(configuration: AMQPConfiguration, logger: Logger, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.configuration = configuration
        self.logger = logger
        published = Counter(label: "messaging_amqp_published_total", dimensions: [], factory: metricsFactory)
        publishFailures = Counter(label: "messaging_amqp_publish_failures_total", dimensions: [], factory: metricsFactory)
    }

    private var shutdownError: AMQPError {
        AMQPError(.shutdown, field: configuration.field, detail: "the RabbitMQ transport was shut down")
    }

    private func publishingThread() throws -> AMQPConnectionThread<AMQPPublisher> {
        try configuration.validate()
        guard !running.withLock({ $0.isShutdown }) else { throw shutdownError }
        return publisher.withLock { thread in
            if let thread { return thread }
            let configuration = configuration
            let logger = logger
            let created = AMQPConnectionThread(name: "amqp-publisher") { AMQPPublisher(configuration: configuration, logger: logger) }
            thread = created
            return created
        }
    }

    /// Connects the publishing connection now; throws ``AMQPError`` naming `broker.url` when RabbitMQ is unreachable or
    /// refuses the login, and ``ConfigurationError`` for a bad setting. Publishing connects by itself too.
    public func connect() async throws {
        let thread = try publishingThread()
        let shutdownError = shutdownError
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if !thread.submit({ $0.connect(continuation) }) { continuation.resume(throwing: shutdownError) }
        }
    }

    /// Publishes `events` (persistent, to the exchange with the event type as routing key) and returns once RabbitMQ
    /// confirmed all of them. All of the batch is written before any confirm is awaited, and concurrent callers share
    /// the confirm window (``AMQPConfiguration/maxUnconfirmed``). Throws when any was nacked, returned (with
    /// ``AMQPConfiguration/failUnroutable``) or unconfirmed when the connection dropped.
    public func publish(_ events: [CloudEvent]) async throws {
        guard !events.isEmpty else { return }
        let thread = try publishingThread()
        let mode = configuration.mode
        let messages = try events.map { event in (routingKey: event.type, message: try AMQPMessage(event: event, mode: mode)) }
        let shutdownError = shutdownError
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if !thread.submit({ $0.publish(messages, continuation) }) { continuation.resume(throwing: shutdownError) }
            }
            published.increment(by: events.count)
        } catch {
            publishFailures.increment()
            throw error
        }
    }

    /// Consumes the subscription's group queue until cancelled (or ``shutdown()``): declares the topology, delivers
    /// to `handle` concurrently up to the prefetch, and settles each delivery by its outcome. Throws when the first
    /// connection fails (naming `broker.url`), for a bad subscription (``ConfigurationError``), or when the broker's
    /// queues conflict with this configuration (``AMQPError/Code/topologyMismatch``); a lost connection is retried.
    public func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        try configuration.validate()
        let topology = try GroupTopology(subscription: subscription, configuration: configuration)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: AMQPInbound.self)
        let configuration = configuration
        let logger = logger
        let thread = AMQPConnectionThread(name: "amqp-consumer-\(subscription.group)") {
            AMQPConsumer(
                configuration: configuration,
                kind: .group(topology),
                logger: logger,
                deliver: { continuation.yield($0) },
                fail: { continuation.finish(throwing: $0) }
            )
        }
        let id = UUID()
        let registered = running.withLock { running in
            guard !running.isShutdown else { return false }
            running.stops[id] = { continuation.finish() }
            return true
        }
        defer { _ = running.withLock { $0.stops.removeValue(forKey: id) } }
        guard registered else {
            thread.stop()
            await thread.join()
            throw shutdownError
        }
        do {
            try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
                let submitted = thread.submit { consumer in
                    consumer.start { error in
                        if let error { started.resume(throwing: error) } else { started.resume() }
                    }
                }
                if !submitted { started.resume(throwing: AMQPError(.shutdown, field: configuration.field, detail: "stopped")) }
            }
        } catch {
            thread.stop()
            await thread.join()
            throw error
        }
        // Cancellation ends the stream; handlers already running finish and settle before the connection closes.
        let result = await withTaskCancellationHandler {
            await withDiscardingTaskGroup(returning: Result<Void, any Error>.self) { group in
                do {
                    for try await inbound in stream {
                        group.addTask {
                            let settlement = await Self.run(inbound, handle)
                            thread.submit { $0.settle(deliveryTag: inbound.deliveryTag, generation: inbound.generation, settlement) }
                        }
                    }
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        } onCancel: {
            continuation.finish()
        }
        thread.stop()
        await thread.join()
        try result.get()
    }

    private static func run(_ inbound: AMQPInbound, _ handle: @Sendable (Delivery) async -> DeliveryOutcome) async -> AMQPConsumer.Settlement {
        let event: CloudEvent
        do {
            event = try CloudEvent(amqpMessage: inbound.message)
        } catch {
            return .deadLetter(reason: "the message is not a readable CloudEvent: \(error)")
        }
        switch await handle(Delivery(event: event, attempt: inbound.attempt)) {
        case .ack: return .ack
        case .retry(let reason): return .retry(reason: reason)
        case .deadLetter(let reason): return .deadLetter(reason: reason)
        }
    }

    /// Every event matching `bindings` (all when empty) published from now on, from a temporary exclusive queue that
    /// RabbitMQ deletes when the stream ends — for `interchange events tail`. Messages that are not CloudEvents are
    /// skipped (logged at debug). The stream throws when the broker is unreachable; after a lost connection it resumes
    /// on a new queue, so events published in between are not seen.
    public func tail(_ bindings: [TopicPattern]) -> AsyncThrowingStream<CloudEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: CloudEvent.self)
        do {
            try configuration.validate()
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let configuration = configuration
        let logger = logger
        let topology = TailTopology(exchange: configuration.exchange, bindings: bindings.isEmpty ? ["#"] : bindings.map(\.pattern))
        let thread = AMQPConnectionThread(name: "amqp-tail") {
            AMQPConsumer(
                configuration: configuration,
                kind: .tail(topology),
                logger: logger,
                deliver: { inbound in
                    do {
                        continuation.yield(try CloudEvent(amqpMessage: inbound.message))
                    } catch {
                        logger.debug("amqp tail skipped a message that is not a CloudEvent", metadata: ["error": "\(error)"])
                    }
                },
                fail: { continuation.finish(throwing: $0) }
            )
        }
        thread.submit { consumer in
            consumer.start { error in
                if let error { continuation.finish(throwing: error) }
            }
        }
        let id = UUID()
        let registered = running.withLock { running in
            guard !running.isShutdown else { return false }
            running.stops[id] = { continuation.finish() }
            return true
        }
        if !registered { continuation.finish(throwing: shutdownError) }
        continuation.onTermination = { [weak self] _ in
            thread.stop()
            _ = self?.running.withLock { $0.stops.removeValue(forKey: id) }
        }
        return stream
    }

    /// Fails publishes still waiting, ends every consume and tail, and closes the connections.
    public func shutdown() async {
        let stops = running.withLock { running in
            running.isShutdown = true
            return running.stops.values
        }
        for stop in stops { stop() }
        let thread = publisher.withLock { thread in
            defer { thread = nil }
            return thread
        }
        if let thread {
            thread.stop()
            await thread.join()
        }
    }
}
