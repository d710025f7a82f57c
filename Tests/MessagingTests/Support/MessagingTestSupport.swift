import Foundation
import InterchangeTesting
import Logging
import Messaging
import Persistence

/// A quiet logger for tests.
func testLogger(_ label: String = "test.messaging") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}

/// A small order event with a JSON payload; `number` goes into the id, so events are told apart.
struct OrderPlaced: Codable, Sendable, Hashable {
    var number: Int
}

func orderEvent(_ number: Int, type: String = "com.example.order.placed", subject: String? = nil) -> CloudEvent {
    do {
        return try CloudEvent(
            id: "evt-\(number)",
            source: "/orders",
            type: type,
            subject: subject ?? "order-\(number % 7)",
            time: Date(timeIntervalSince1970: 1_767_225_600),
            json: OrderPlaced(number: number)
        )
    } catch {
        preconditionFailure("a test event encodes: \(error)")
    }
}

/// A transport that only records what it is asked to publish (the relay's tests); it can be told to fail, and to
/// hold a publish until a gate opens, and measures how many publishes ran at once.
final class RecordingTransport: EventTransport {
    struct Refused: Error {}

    private let published = LockedValue<[CloudEvent]>([])
    private let batches = LockedValue<[Int]>([])
    private let failuresLeft = LockedValue(0)
    let calls = CallCounter()
    let concurrency = ConcurrencyProbe()
    /// When set, the first publish waits for it.
    let holdFirstPublish = LockedValue<Gate?>(nil)

    var events: [CloudEvent] { published.value }
    var ids: [String] { published.value.map(\.id) }
    var batchSizes: [Int] { batches.value }

    /// The next `count` publishes throw.
    func failNext(_ count: Int) { failuresLeft.withLock { $0 = count } }

    func publish(_ events: [CloudEvent]) async throws {
        let call = calls.increment()
        concurrency.enter()
        defer { concurrency.leave() }
        if call == 1, let gate = holdFirstPublish.value { await gate.wait() }
        await Task.yield()
        let fail = failuresLeft.withLock { left -> Bool in
            guard left > 0 else { return false }
            left -= 1
            return true
        }
        if fail { throw Refused() }
        published.withLock { $0.append(contentsOf: events) }
        batches.append(events.count)
    }

    func consume(_ subscription: Subscription, handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) async throws {
        throw Refused()
    }
}

/// A migrated embedded transport on a fresh database of `kind`, driven by `clock`.
func withEmbeddedTransport<T: Sendable>(
    _ kind: TestDatabase.Kind,
    clock: ManualClock,
    configuration: EmbeddedTransport.Configuration = .init(jitter: .fixed(1)),
    _ body: (EmbeddedTransport) async throws -> T
) async throws -> T {
    try await TestDatabase.with(kind) { database in
        try await database.migrate(EmbeddedTransport.migrations)
        let transport = EmbeddedTransport(
            database: database,
            configuration: configuration,
            clock: clock,
            now: clock.dateProvider,
            logger: testLogger()
        )
        return try await body(transport)
    }
}

/// With real time, for tests about who gets which delivery rather than about timing: a claim retried after an error
/// (the database busy under a loaded test run) or an idle poll then costs milliseconds, instead of waiting on a
/// manual clock nobody advances.
func withEmbeddedTransportInRealTime<T: Sendable>(
    _ kind: TestDatabase.Kind,
    _ body: (EmbeddedTransport) async throws -> T
) async throws -> T {
    try await TestDatabase.with(kind) { database in
        try await database.migrate(EmbeddedTransport.migrations)
        let transport = EmbeddedTransport(
            database: database,
            configuration: .init(pollInterval: .milliseconds(20), jitter: .fixed(1)),
            clock: ContinuousClock(),
            now: { Date() },
            logger: testLogger()
        )
        return try await body(transport)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls an async condition (every millisecond) until it holds; throws ``TimedOut`` after `timeout` of real time.
func waitUntilAsync(
    _ description: String,
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while try await !condition() {
        guard clock.now < deadline else { throw TimedOut(description: "timed out after \(timeout) waiting until \(description)") }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// One consumer of a test: a subscription and its handler.
struct TestConsumer: Sendable {
    var subscription: Subscription
    var handle: @Sendable (Delivery) async -> DeliveryOutcome

    init(_ subscription: Subscription, _ handle: @escaping @Sendable (Delivery) async -> DeliveryOutcome) {
        self.subscription = subscription
        self.handle = handle
    }
}

/// Runs `consumers` on `transport` while `body` runs, then cancels them and waits until they returned.
func whileConsuming<T: Sendable>(
    _ transport: EmbeddedTransport,
    _ consumers: [TestConsumer],
    _ body: () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for consumer in consumers {
            group.addTask { try await transport.consume(consumer.subscription, handle: consumer.handle) }
        }
        do {
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}
