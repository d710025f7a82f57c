import Foundation
import InMemoryTracing
import Logging
import Messaging
import MetricsTestKit
import Observability
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// A test double of the transport, for the bus's own logic only (the real transports are tested by their owners):
/// `publish` records the batch and hands each event to the one running `consume`, which delivers those its bindings
/// match once (attempt 1) and reports each outcome. No groups, no retries, no durability.
private final class BusTestTransport: EventTransport {
    private let publishedEvents = Mutex<[CloudEvent]>([])
    private let deliveries: AsyncStream<CloudEvent>
    private let deliver: AsyncStream<CloudEvent>.Continuation
    let outcomes: AsyncStream<(CloudEvent, DeliveryOutcome)>
    private let report: AsyncStream<(CloudEvent, DeliveryOutcome)>.Continuation

    init() {
        (deliveries, deliver) = AsyncStream.makeStream()
        (outcomes, report) = AsyncStream.makeStream()
    }

    var published: [CloudEvent] { publishedEvents.withLock { $0 } }

    func publish(_ events: [CloudEvent]) async throws {
        publishedEvents.withLock { $0 += events }
        for event in events { deliver.yield(event) }
    }

    func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        for await event in deliveries where subscription.bindings.contains(where: { $0.matches(event.type) }) {
            report.yield((event, await handle(Delivery(event: event, attempt: 1))))
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct EventBusTests {
    struct OrderCreated: Codable, Equatable {
        var orderID: String
        var total: Int
    }

    struct OrderCreatedV2: Codable {
        var orderID: String
        var total: Int
        var currency: String
        var lines: [String]
    }

    struct OutOfStock: Error {}

    static let subscription = Subscription(group: "billing", bindings: ["com.example.order.#"])
    static let logger = Logger(label: "EventBusTests")

    /// Runs `consumer` while `body` publishes, then collects `count` outcomes and stops the consumer.
    private func outcomes(
        _ count: Int,
        of consumer: EventConsumer,
        on transport: BusTestTransport,
        while body: () async throws -> Void
    ) async throws -> [(CloudEvent, DeliveryOutcome)] {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            try await body()
            var collected: [(CloudEvent, DeliveryOutcome)] = []
            for await outcome in transport.outcomes {
                collected.append(outcome)
                if collected.count == count { break }
            }
            group.cancelAll()
            return collected
        }
    }

    @Test func anInvalidEventIsRefusedAtPublishNamingTheAttributeAndNothingIsPublished() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let valid = try CloudEvent(source: "/orders", type: "com.example.order.created", json: OrderCreated(orderID: "o-1", total: 1))
        var invalid = valid
        invalid.id = "e-2"
        invalid.extensions["Trace-Parent"] = .string("x")
        let error = await #expect(throws: CloudEventValidationError.self) { try await bus.publish([valid, invalid]) }
        #expect(error?.attribute == "Trace-Parent")
        var noSource = valid
        noSource.source = ""
        await #expect(throws: CloudEventValidationError(attribute: "source", reason: "must not be empty")) { try await bus.publish(noSource) }
        #expect(transport.published.isEmpty)
    }

    @Test func theTraceTravelsFromTheProducerSpanToTheConsumerSpan() async throws {
        let tracer = InMemoryTracer()
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: tracer)
        let handlerSpan = Mutex<InMemorySpanContext?>(nil)
        let consumer = bus.consumer(Self.subscription) { _, _ in
            handlerSpan.withLock { $0 = InstrumentationContext.current?.inMemorySpanContext }
        }
        let results = try await outcomes(1, of: consumer, on: transport) {
            try await bus.publish(CloudEvent(source: "/orders", type: "com.example.order.created", json: OrderCreated(orderID: "o-1", total: 1)))
        }
        #expect(results.map(\.1) == [.ack])
        let producer = try #require(tracer.finishedSpans.first { $0.kind == .producer })
        let consumerSpan = try #require(tracer.finishedSpans.first { $0.kind == .consumer })
        #expect(producer.operationName == "publish com.example.order.created")
        #expect(consumerSpan.operationName == "process com.example.order.created")
        #expect(consumerSpan.traceID == producer.traceID)
        #expect(consumerSpan.parentSpanID == producer.spanID)
        #expect(handlerSpan.withLock { $0 }?.spanID == consumerSpan.spanID)
        // The tracer's keys travel as valid extension names.
        let published = try #require(transport.published.first)
        #expect(published.extensions["inmemorytraceid"] == .string(producer.traceID))
        try published.validate()
    }

    @Test func aW3CTraceparentIsInjectedAndTheConsumerContinuesItsTrace() async throws {
        let finished = Mutex<[FinishedSpan]>([])
        let tracer = W3CTracer { span in finished.withLock { $0.append(span) } }
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: tracer)
        let consumer = bus.consumer(Self.subscription) { _, _ in }
        _ = try await outcomes(1, of: consumer, on: transport) {
            try await bus.publish(CloudEvent(source: "/orders", type: "com.example.order.created", json: OrderCreated(orderID: "o-1", total: 1)))
        }
        let spans = finished.withLock { $0 }
        let producer = try #require(spans.first { $0.kind == .producer })
        let consumerSpan = try #require(spans.first { $0.kind == .consumer })
        let traceparent = try #require(transport.published.first?.extensions["traceparent"])
        #expect(traceparent == .string("00-\(producer.traceID)-\(producer.spanID)-01"))
        #expect(consumerSpan.traceID == producer.traceID)
        #expect(consumerSpan.parentSpanID == producer.spanID)
    }

    @Test func anUnknownTypeIsDeadLetteredWithTheReasonWhenTheRegistryIsNotEmpty() async throws {
        var registry = EventTypeRegistry()
        registry.register(OrderCreated.self, type: "com.example.order.created")
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, registry: registry, logger: Self.logger, tracer: nil)
        let handled = Mutex(0)
        let consumer = bus.consumer(Self.subscription) { _, _ in handled.withLock { $0 += 1 } }
        let results = try await outcomes(2, of: consumer, on: transport) {
            try await bus.publish([
                CloudEvent(source: "/orders", type: "com.example.order.refunded", data: nil),
                try registry.event(OrderCreated(orderID: "o-1", total: 1), source: "/orders"),
            ])
        }
        #expect(results.map(\.1) == [.deadLetter(reason: "unknown event type com.example.order.refunded"), .ack])
        #expect(handled.withLock { $0 } == 1)
    }

    @Test func anEmptyRegistryAcceptsEveryType() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { _, _ in }
        let results = try await outcomes(1, of: consumer, on: transport) {
            try await bus.publish(CloudEvent(source: "/orders", type: "com.example.order.anything"))
        }
        #expect(results.map(\.1) == [.ack])
    }

    @Test func dataThatDoesNotDecodeIsDeadLetteredAtOnceNamingData() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription, payload: OrderCreated.self) { _, _ in
            Issue.record("the handler must not run for undecodable data")
        }
        let results = try await outcomes(2, of: consumer, on: transport) {
            try await bus.publish([
                CloudEvent(
                    source: "/orders",
                    type: "com.example.order.created",
                    datacontenttype: "application/json",
                    data: Data(#"{"orderID":7}"#.utf8)
                ),
                CloudEvent(source: "/orders", type: "com.example.order.created", data: nil),
            ])
        }
        for (_, outcome) in results {
            guard case .deadLetter(let reason) = outcome else {
                Issue.record("expected a dead letter, got \(outcome)")
                continue
            }
            #expect(reason.hasPrefix("attribute data:"), "\(reason)")
        }
        #expect(results.count == 2)
    }

    @Test func anUntypedConsumerDeadLettersDataThatDoesNotMatchTheRegisteredPayload() async throws {
        var registry = EventTypeRegistry()
        registry.register(OrderCreated.self, type: "com.example.order.created")
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, registry: registry, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { _, _ in Issue.record("the handler must not run") }
        let results = try await outcomes(1, of: consumer, on: transport) {
            try await bus.publish(
                CloudEvent(
                    source: "/orders",
                    type: "com.example.order.created",
                    datacontenttype: "application/json",
                    data: Data(#"{"total":1}"#.utf8)
                )
            )
        }
        guard case .deadLetter(let reason) = try #require(results.first).1 else {
            Issue.record("expected a dead letter, got \(results)")
            return
        }
        #expect(reason.contains("orderID"), "\(reason)")
    }

    @Test func aPoisonEventIsDeadLetteredAndAnyOtherErrorIsRetriedWithItsReason() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { event, _ in
            switch event.subject {
            case "poison": throw PoisonEvent(reason: "order o-9 was never placed")
            case "retry": throw OutOfStock()
            default: return
            }
        }
        let results = try await outcomes(3, of: consumer, on: transport) {
            try await bus.publish([
                CloudEvent(source: "/orders", type: "com.example.order.paid", subject: "poison"),
                CloudEvent(source: "/orders", type: "com.example.order.paid", subject: "retry"),
                CloudEvent(source: "/orders", type: "com.example.order.paid", subject: "fine"),
            ])
        }
        #expect(
            results.map(\.1) == [
                .deadLetter(reason: "order o-9 was never placed"), .retry(reason: String(describing: OutOfStock())), .ack,
            ]
        )
    }

    @Test func anInvalidEventFromTheTransportIsDeadLetteredNamingTheAttribute() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { _, _ in Issue.record("the handler must not run") }
        var invalid = CloudEvent(source: "/orders", type: "com.example.order.created")
        invalid.extensions["Bad_Name"] = .boolean(true)
        let results = try await outcomes(1, of: consumer, on: transport) {
            try await transport.publish([invalid])  // straight into the transport, as a foreign producer would
        }
        #expect(
            results.map(\.1) == [.deadLetter(reason: "attribute Bad_Name: an extension name must be 1 to 20 lower-case letters a-z or digits 0-9")]
        )
    }

    @Test func aTypedConsumerReceivesThePayloadIgnoringFieldsItDoesNotKnow() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let received = Mutex<[(OrderCreated, String)]>([])
        let consumer = bus.consumer(Self.subscription, payload: OrderCreated.self) { order, event in
            received.withLock { $0.append((order, event.id)) }
        }
        let newer = try CloudEvent(
            id: "e-42",
            source: "/orders",
            type: "com.example.order.created",
            json: OrderCreatedV2(orderID: "o-1", total: 4200, currency: "EUR", lines: ["sku-1"])
        )
        let results = try await outcomes(1, of: consumer, on: transport) { try await bus.publish(newer) }
        #expect(results.map(\.1) == [.ack])
        let got = received.withLock { $0 }
        #expect(got.map(\.0) == [OrderCreated(orderID: "o-1", total: 4200)])
        #expect(got.map(\.1) == ["e-42"])
    }

    @Test func publishingAndHandlingAreCounted() async throws {
        let metrics = TestMetrics()
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, metricsFactory: metrics, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { event, _ in
            if event.subject == "poison" { throw PoisonEvent(reason: "no") }
        }
        _ = try await outcomes(3, of: consumer, on: transport) {
            try await bus.publish([
                CloudEvent(source: "/orders", type: "com.example.order.created"),
                CloudEvent(source: "/orders", type: "com.example.order.created", subject: "poison"),
            ])
            try await bus.publish(CloudEvent(source: "/orders", type: "com.example.order.paid"))
        }
        #expect(try metrics.expectCounter("messaging_published_total", [("type", "com.example.order.created")]).totalValue == 2)
        #expect(try metrics.expectCounter("messaging_published_total", [("type", "com.example.order.paid")]).totalValue == 1)
        #expect(try metrics.expectCounter("messaging_handled_total", [("group", "billing"), ("outcome", "ack")]).totalValue == 2)
        #expect(try metrics.expectCounter("messaging_handled_total", [("group", "billing"), ("outcome", "dead_letter")]).totalValue == 1)
        #expect(try metrics.expectTimer("messaging_handle_duration_seconds", [("group", "billing")]).values.count == 3)
    }

    @Test func theConsumerStopsOnGracefulShutdown() async throws {
        let transport = BusTestTransport()
        let bus = EventBus(transport: transport, logger: Self.logger, tracer: nil)
        let consumer = bus.consumer(Self.subscription) { _, _ in }
        let group = ServiceGroup(configuration: .init(services: [consumer], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The consumer is running: an event is handled.
            try await bus.publish(CloudEvent(source: "/orders", type: "com.example.order.created"))
            var iterator = transport.outcomes.makeAsyncIterator()
            #expect(await iterator.next()?.1 == .ack)
            await group.triggerGracefulShutdown()
            // group.run() returns (the suite's time limit fails a consumer that does not stop).
            try await tasks.next()
        }
    }
}
