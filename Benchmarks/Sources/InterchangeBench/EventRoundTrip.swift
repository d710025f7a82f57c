import Foundation
import Histogram
import Logging
import Messaging
import Persistence
import Synchronization

/// One transport's event round trip — `events` published by `publishers` concurrent publishers (directly, or through
/// the transactional outbox and its relay), handled by one consumer group — as events/s and publish → handler
/// latency. `InterchangeBench messaging` reports it per transport; `InterchangeBench fulfillment` measures the
/// embedded transport with it beside the sagas, as its raw rate.
struct EventRoundTrip {
    var events: Int
    var publishers: Int
    var relayBatch: Int

    struct Measurement {
        var rate: Double
        var p50: Double
        var p99: Double
    }

    /// Publishes `events` (after a warm-up event proves the consumer's queue is bound) and waits, bounded, until the
    /// group has handled every one; latency is publish call → handler, from a monotonic stamp in an extension.
    func measure(transport: any EventTransport, outbox database: Database?, batch: Int, logger: Logger) async throws -> Measurement {
        let run = UUID().uuidString.prefix(8).lowercased()
        let type = "bench.\(run).created"
        let bus = EventBus(transport: transport, logger: logger, metricsFactory: BenchmarkMetrics(), tracer: nil)
        let tracker = Tracker()
        let consumer = bus.consumer(Subscription(group: "bench-\(run)", bindings: [TopicPattern(type)], maxAttempts: 3, prefetch: 512)) { event, _ in
            tracker.record(event)
        }
        let relayConfiguration = OutboxRelay.Configuration(batchSize: relayBatch)
        let relay = database.map { OutboxRelay(database: $0, transport: transport, configuration: relayConfiguration, logger: logger) }
        let outbox = Outbox()
        let payload = Data(
            #"{"orderId":"ord_0001","sku":"SKU-42","quantity":3,"amount":4200,"currency":"usd","note":"a benchmark event of about two hundred bytes of JSON"}"#
                .utf8
        )
        @Sendable func makeEvent(_ index: Int) -> CloudEvent {
            CloudEvent(
                source: "/bench",
                type: type,
                subject: "ord_\(index % 512)",
                datacontenttype: "application/json",
                extensions: ["benchsent": .integer(Int(DispatchTime.now().uptimeNanoseconds))],
                data: payload
            )
        }
        let (events, publishers) = (events, publishers)
        let next = Chunks(total: events)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            if let relay { group.addTask { try await relay.run() } }
            // Warm-up: the consumer's queue exists and is bound once one of these arrives (on RabbitMQ an event
            // published before the queue is bound goes nowhere, so keep sending until one is handled).
            for attempt in 0... {
                try await publish([makeEvent(-1 - attempt)], bus: bus, database: database, outbox: outbox, relay: relay)
                if (try? await tracker.waitFor(1, seconds: 1)) != nil { break }
                guard attempt < 60 else { throw BenchmarkFailure("the consumer never received a warm-up event") }
            }
            try await Task.sleep(for: .milliseconds(200))
            tracker.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            try await withThrowingTaskGroup(of: Void.self) { producers in
                for _ in 0..<publishers {
                    producers.addTask {
                        // Each publisher takes the next `batch` event numbers until all are taken.
                        while true {
                            let range = next.take(batch)
                            guard !range.isEmpty else { return }
                            try await publish(range.map(makeEvent), bus: bus, database: database, outbox: outbox, relay: relay)
                        }
                    }
                }
                try await producers.waitForAll()
            }
            try await tracker.waitFor(events, seconds: 180)
            let elapsed = Double(tracker.lastHandled - start) / 1e9
            group.cancelAll()
            let (p50, p99) = tracker.percentiles()
            return Measurement(rate: Double(tracker.count) / elapsed, p50: p50, p99: p99)
        }
    }

    private func publish(_ events: [CloudEvent], bus: EventBus, database: Database?, outbox: Outbox, relay: OutboxRelay?) async throws {
        guard let database else { return try await bus.publish(events) }
        try await database.transaction { sql in try await outbox.append(events, in: sql) }
        relay?.wake()
    }
}

/// Hands out consecutive ranges of event numbers to the publishers.
private final class Chunks: Sendable {
    private let taken = Mutex(0)
    private let total: Int
    init(total: Int) { self.total = total }

    func take(_ count: Int) -> Range<Int> {
        taken.withLock { taken in
            let range = taken..<min(taken + count, total)
            taken = range.upperBound
            return range
        }
    }
}

/// Counts handled events (distinct ids: a redelivery is not counted twice) and their latencies.
private final class Tracker: Sendable {
    private struct State {
        var seen = Set<String>()
        var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var last: UInt64 = 0
    }
    private let state = Mutex(State())

    func record(_ event: CloudEvent) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard case .integer(let sent)? = event.extensions["benchsent"] else { return }
        state.withLock { state in
            guard state.seen.insert(event.id).inserted else { return }
            state.histogram.record(UInt64(max(0, Int(now) - sent)) / 1000)
            state.last = now
        }
    }

    var count: Int { state.withLock { $0.seen.count } }
    var lastHandled: UInt64 { state.withLock { $0.last } }

    func reset() { state.withLock { $0 = State() } }

    func percentiles() -> (Double, Double) {
        state.withLock { state in
            (Double(state.histogram.valueAtPercentile(50)) / 1000, Double(state.histogram.valueAtPercentile(99)) / 1000)
        }
    }

    func waitFor(_ expected: Int, seconds: Int) async throws {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds) * 1_000_000_000
        while count < expected {
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                throw BenchmarkFailure("only \(count) of \(expected) events were handled within \(seconds) s")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
