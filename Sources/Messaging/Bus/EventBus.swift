import Foundation
import Logging
import Metrics
import Synchronization
import Tracing

/// Thrown by a handler for an event that can never be handled (a state the event contradicts, a payload that
/// passes decoding but not the domain's rules): the event is dead-lettered at once with `reason`, never retried.
public struct PoisonEvent: Error, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// Handles one delivered event. Returning acknowledges it; throwing ``PoisonEvent`` dead-letters it; throwing
/// anything else retries it after the subscription's delay (dead-lettered with the error once the attempts are up).
public typealias EventHandler = @Sendable (CloudEvent, Delivery) async throws -> Void

/// Publishes events to a transport and runs consumer groups over it: the one API services use for messaging.
///
/// It validates every event before it leaves (an invalid one is refused with the attribute named), carries the
/// trace across (a producer span per publish, injected as the `traceparent`/`tracestate` extensions; a consumer span
/// per delivery, its parent extracted from them) and counts what it does. Logger, metrics and tracer are injected.
///
/// ```swift
/// let bus = EventBus(transport: transport, registry: registry, logger: logger)
/// try await bus.publish(registry.event(OrderCreated(orderID: "o-1"), source: "/orders", subject: "o-1"))
/// let consumer = bus.consumer(Subscription(group: "billing", bindings: ["com.example.order.*"]), payload: OrderCreated.self) {
///     order, event in try await billing.open(order)
/// }
/// // run `consumer` in the service's ServiceGroup
/// ```
///
/// Metrics: `messaging_published_total{type}`, `messaging_handled_total{group,outcome}` (outcome `ack`, `retry`,
/// `dead_letter`) and `messaging_handle_duration_seconds{group}`.
public final class EventBus: Sendable {
    public let transport: any EventTransport
    public let registry: EventTypeRegistry
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let tracer: (any Tracer)?
    private let publishedCounters = Mutex<[String: Counter]>([:])

    public init(
        transport: any EventTransport,
        registry: EventTypeRegistry = .init(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        tracer: (any Tracer)? = InstrumentationSystem.tracer
    ) {
        self.transport = transport
        self.registry = registry
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.tracer = tracer
    }

    /// Validates every event (throwing ``CloudEventValidationError`` for the first invalid one, publishing none),
    /// injects the producer span's context into each, and publishes them in order; returns once the transport holds
    /// them durably.
    public func publish(_ events: [CloudEvent]) async throws {
        guard !events.isEmpty else { return }
        for event in events {
            try event.validate()
        }
        if let tracer {
            let name = events.count == 1 ? "publish \(events[0].type)" : "publish \(events.count) events"
            try await tracer.withSpan(name, ofKind: .producer) { span in
                span.attributes["messaging.operation.type"] = "send"
                span.attributes["messaging.batch.message_count"] = events.count
                if events.count == 1 {
                    span.attributes["messaging.message.id"] = events[0].id
                    span.attributes["cloudevents.event_type"] = events[0].type
                }
                var stamped = events
                for index in stamped.indices {
                    tracer.inject(span.context, into: &stamped[index].extensions, using: TraceExtensionsInjector())
                }
                try await transport.publish(stamped)
            }
        } else {
            try await transport.publish(events)
        }
        countPublished(events)
        logger.trace("published events", metadata: ["count": "\(events.count)", "first_type": "\(events[0].type)"])
    }

    /// Publishes one event (see ``publish(_:)-([CloudEvent])``).
    public func publish(_ event: CloudEvent) async throws {
        try await publish([event])
    }

    /// A consumer of `subscription` that hands each event to `handler`. When the registry is not empty, an event of
    /// a type it does not know is dead-lettered, and so is one whose `data` does not decode as its registered type.
    public func consumer(_ subscription: Subscription, handler: @escaping EventHandler) -> EventConsumer {
        let registry = self.registry
        let handling = DeliveryHandling(bus: self, group: subscription.group)
        return EventConsumer(subscription: subscription, transport: transport) { delivery in
            await handling.handle(
                delivery,
                decode: { event in try registry.entry(for: event.type)?.check(event) },
                handler: { _, delivery in try await handler(delivery.event, delivery) }
            )
        }
    }

    /// A consumer of `subscription` that decodes each event's `data` as `P` (unknown fields ignored) and hands it to
    /// `handler`; an event whose data does not decode is dead-lettered with the reason.
    public func consumer<P: Decodable & Sendable>(
        _ subscription: Subscription,
        payload: P.Type,
        handler: @escaping @Sendable (P, CloudEvent) async throws -> Void
    ) -> EventConsumer {
        let handling = DeliveryHandling(bus: self, group: subscription.group)
        return EventConsumer(subscription: subscription, transport: transport) { delivery in
            await handling.handle(
                delivery,
                decode: { event in try event.decodeData(as: P.self) },
                handler: { payload, delivery in try await handler(payload, delivery.event) }
            )
        }
    }

    private func countPublished(_ events: [CloudEvent]) {
        var counts: [String: Int64] = [:]
        for event in events { counts[event.type, default: 0] += 1 }
        let counters = publishedCounters.withLock { cache in
            counts.map { type, count in
                let counter =
                    cache[type]
                    ?? {
                        let counter = Counter(label: "messaging_published_total", dimensions: [("type", type)], factory: metricsFactory)
                        cache[type] = counter
                        return counter
                    }()
                return (counter, count)
            }
        }
        for (counter, count) in counters { counter.increment(by: count) }
    }

    /// Turns a delivery into an outcome for one consumer group: validation, the registry, decoding, the handler
    /// (in a consumer span whose parent comes from the event's trace extensions), metrics and logs.
    fileprivate struct DeliveryHandling: Sendable {
        let registry: EventTypeRegistry
        let logger: Logger
        let tracer: (any Tracer)?
        let group: String
        let acknowledged: Counter
        let retried: Counter
        let deadLettered: Counter
        let duration: Metrics.Timer

        init(bus: EventBus, group: String) {
            self.registry = bus.registry
            self.logger = bus.logger
            self.tracer = bus.tracer
            self.group = group
            func counter(_ outcome: String) -> Counter {
                Counter(label: "messaging_handled_total", dimensions: [("group", group), ("outcome", outcome)], factory: bus.metricsFactory)
            }
            self.acknowledged = counter("ack")
            self.retried = counter("retry")
            self.deadLettered = counter("dead_letter")
            self.duration = Metrics.Timer(
                label: "messaging_handle_duration_seconds",
                dimensions: [("group", group)],
                preferredDisplayUnit: .seconds,
                factory: bus.metricsFactory
            )
        }

        func handle<Payload>(
            _ delivery: Delivery,
            decode: (CloudEvent) throws -> Payload,
            handler: (Payload, Delivery) async throws -> Void
        ) async -> DeliveryOutcome {
            let start = ContinuousClock.now
            let outcome: DeliveryOutcome
            if let tracer {
                var context = InstrumentationContext.topLevel
                tracer.extract(delivery.event.extensions, into: &context, using: TraceExtensionsExtractor())
                outcome = await tracer.withSpan("process \(delivery.event.type)", context: context, ofKind: .consumer) { span in
                    span.attributes["messaging.operation.type"] = "process"
                    span.attributes["messaging.consumer.group.name"] = group
                    span.attributes["messaging.message.id"] = delivery.event.id
                    span.attributes["cloudevents.event_type"] = delivery.event.type
                    span.attributes["messaging.delivery.attempt"] = delivery.attempt
                    let outcome = await decided(delivery, decode: decode, handler: handler)
                    switch outcome {
                    case .ack: break
                    case .retry(let reason), .deadLetter(let reason):
                        span.attributes["messaging.outcome"] = outcome.label
                        span.setStatus(SpanStatus(code: .error, message: reason))
                    }
                    return outcome
                }
            } else {
                outcome = await decided(delivery, decode: decode, handler: handler)
            }
            duration.recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1)))
            switch outcome {
            case .ack:
                acknowledged.increment()
            case .retry(let reason):
                retried.increment()
                logger.debug("event handling failed; retrying", metadata: metadata(delivery, reason))
            case .deadLetter(let reason):
                deadLettered.increment()
                logger.debug("event dead-lettered", metadata: metadata(delivery, reason))
            }
            return outcome
        }

        private func decided<Payload>(
            _ delivery: Delivery,
            decode: (CloudEvent) throws -> Payload,
            handler: (Payload, Delivery) async throws -> Void
        ) async -> DeliveryOutcome {
            let event = delivery.event
            do {
                try event.validate()
            } catch {
                return .deadLetter(reason: error.description)
            }
            if !registry.isEmpty, !registry.isKnown(event.type) {
                return .deadLetter(reason: "unknown event type \(event.type)")
            }
            let payload: Payload
            do {
                payload = try decode(event)
            } catch {
                return .deadLetter(reason: String(describing: error))
            }
            do {
                try await handler(payload, delivery)
                return .ack
            } catch let poison as PoisonEvent {
                return .deadLetter(reason: poison.reason)
            } catch {
                return .retry(reason: String(describing: error))
            }
        }

        private func metadata(_ delivery: Delivery, _ reason: String) -> Logger.Metadata {
            [
                "group": "\(group)", "event_id": "\(delivery.event.id)", "event_type": "\(delivery.event.type)",
                "attempt": "\(delivery.attempt)", "reason": "\(reason)",
            ]
        }
    }
}

extension DeliveryOutcome {
    /// The `outcome` label of `messaging_handled_total`.
    var label: String {
        switch self {
        case .ack: "ack"
        case .retry: "retry"
        case .deadLetter: "dead_letter"
        }
    }
}

/// Trace propagation keys as CloudEvents extension names. W3C's `traceparent` and `tracestate` are the
/// distributed-tracing extension's own names; another tracer's keys are lower-cased with everything but `a`–`z` and
/// `0`–`9` dropped (`in-memory-trace-id` → `inmemorytraceid`), and left out when that is no valid extension name.
enum TraceExtensionName {
    static func forKey(_ key: String) -> String? {
        if key == "traceparent" || key == "tracestate" { return key }
        let name = String(
            decoding: key.utf8.compactMap { byte -> UInt8? in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): byte
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte + 32
                default: nil
                }
            },
            as: UTF8.self
        )
        guard !name.isEmpty, name.utf8.count <= 20, !CloudEvent.reservedAttributeNames.contains(name) else { return nil }
        return name
    }
}

struct TraceExtensionsInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: CloudEventAttributeValue]) {
        guard let name = TraceExtensionName.forKey(key) else { return }
        carrier[name] = .string(value)
    }
}

struct TraceExtensionsExtractor: Extractor {
    func extract(key: String, from carrier: [String: CloudEventAttributeValue]) -> String? {
        guard let name = TraceExtensionName.forKey(key), case .string(let value) = carrier[name] else { return nil }
        return value
    }
}
