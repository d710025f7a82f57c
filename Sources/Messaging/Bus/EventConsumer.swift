import ServiceLifecycle

/// One consumer of a consumer group, made by ``EventBus/consumer(_:handler:)``: a ServiceLifecycle `Service` that
/// runs the transport's delivery loop until graceful shutdown or cancellation.
///
/// ```swift
/// let group = ServiceGroup(configuration: .init(services: [server, relay, consumer], logger: logger))
/// try await group.run()
/// ```
///
/// On graceful shutdown the delivery loop is cancelled: a handler still running sees cancellation, and its delivery,
/// not acknowledged, comes again (delivery is at least once; the inbox keeps its effect single).
public struct EventConsumer: Service {
    public let subscription: Subscription
    private let transport: any EventTransport
    private let handling: @Sendable (Delivery) async -> DeliveryOutcome

    init(
        subscription: Subscription,
        transport: any EventTransport,
        handling: @escaping @Sendable (Delivery) async -> DeliveryOutcome
    ) {
        self.subscription = subscription
        self.transport = transport
        self.handling = handling
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [transport, subscription, handling] in
                try await transport.consume(subscription, handle: handling)
            }
        } catch is CancellationError {
            // Shutting down: the transport stopped because it was asked to.
        }
    }

    /// What the consumer answers for `delivery` (validation, registry, decoding, the handler), without a transport.
    public func handle(_ delivery: Delivery) async -> DeliveryOutcome {
        await handling(delivery)
    }
}
