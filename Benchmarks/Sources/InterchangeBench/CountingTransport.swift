import Messaging
import Synchronization

/// An ``EventTransport`` that passes everything to `base` and counts what crosses it: the events published (by type)
/// and the deliveries handed to each consumer group. The fulfillment benchmark gives it to all four services, so
/// "messages per saga" is counted, not assumed.
final class CountingTransport: EventTransport {
    struct Counts: Sendable, Equatable {
        var publishedByType: [String: Int] = [:]
        var deliveriesByGroup: [String: Int] = [:]

        var published: Int { publishedByType.values.reduce(0, +) }

        /// Deliveries to every group but `excluded` (the benchmark's own observer).
        func deliveries(excluding excluded: String) -> Int {
            deliveriesByGroup.filter { $0.key != excluded }.values.reduce(0, +)
        }
    }

    let base: any EventTransport
    private let counts = Mutex(Counts())

    init(_ base: any EventTransport) { self.base = base }

    func publish(_ events: [CloudEvent]) async throws {
        try await base.publish(events)
        // Counted once the transport holds them: a batch the relay has to publish again is counted each time.
        counts.withLock { counts in
            for event in events { counts.publishedByType[event.type, default: 0] += 1 }
        }
    }

    func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        let group = subscription.group
        try await base.consume(subscription) { delivery in
            self.counts.withLock { $0.deliveriesByGroup[group, default: 0] += 1 }
            return await handle(delivery)
        }
    }

    /// What was counted so far.
    var snapshot: Counts { counts.withLock { $0 } }

    /// Starts counting again from zero (after the warm-up).
    func reset() { counts.withLock { $0 = Counts() } }
}
