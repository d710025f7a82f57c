import Foundation
import Logging
import Messaging
import Synchronization
import Testing

@testable import MessagingAMQP

/// The RabbitMQ the tests run against: `INTERCHANGE_TEST_AMQP_URL` (`make test` starts one and sets it).
/// Mirrors `TestDatabase`: without the URL every broker test FAILS, saying how to run it; a developer without
/// RabbitMQ opts out explicitly with `INTERCHANGE_SKIP_AMQP=1` (one warning line; the broker suites are disabled).
enum TestBroker {
    static let isSkipped: Bool = {
        guard ProcessInfo.processInfo.environment["INTERCHANGE_SKIP_AMQP"] == "1" else { return false }
        FileHandle.standardError.write(Data("warning: INTERCHANGE_SKIP_AMQP=1: the RabbitMQ tests are skipped\n".utf8))
        return true
    }()

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "INTERCHANGE_TEST_AMQP_URL is not set, so this RabbitMQ test cannot run. Run the tests with `make test` (it starts a "
                + "throwaway RabbitMQ and sets the URL), or `source /tmp/devrabbit.env`, or skip the RabbitMQ tests explicitly "
                + "with INTERCHANGE_SKIP_AMQP=1."
        }
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["INTERCHANGE_TEST_AMQP_URL"], !url.isEmpty else { throw NotConfigured() }
        return url
    }

    /// A configuration on its own exchange (`test.<random>`), so tests run side by side on one broker.
    static func configuration(mode: CloudEventMode = .structured, queueType: QueueType = .classic) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: try url())
        configuration.exchange = "test.\(UUID().uuidString.prefix(8).lowercased())"
        configuration.mode = mode
        configuration.queueType = queueType
        configuration.reconnectDelay = try .constant(.milliseconds(200))
        return configuration
    }

    static var logger: Logger {
        var logger = Logger(label: "test.amqp")
        logger.logLevel = ProcessInfo.processInfo.environment["AMQP_TEST_DEBUG"] == "1" ? .debug : .error
        return logger
    }

    /// Runs blocking rabbitmq-c calls on a thread of their own (never on a Swift concurrency thread).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Every message now in `queue` (taken with basic.get).
    static func drain(_ queue: String, configuration: AMQPConfiguration) async throws -> [AMQPMessage] {
        try await onThread {
            let session = try AMQPSession(configuration: configuration)
            defer { session.close() }
            var messages: [AMQPMessage] = []
            while let message = try session.get(queue: queue) { messages.append(message) }
            return messages
        }
    }

    /// Publishes a raw message (not necessarily a CloudEvent) and waits for its confirm.
    static func publishRaw(_ message: AMQPMessage, routingKey: String, configuration: AMQPConfiguration) async throws {
        try await onThread {
            let session = try AMQPSession(configuration: configuration)
            defer { session.close() }
            let outcome = Mutex<Result<Void, AMQPError>?>(nil)
            try session.publish(exchange: configuration.exchange, routingKey: routingKey, message: message, mandatory: false) { result in
                outcome.withLock { $0 = result }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
                try session.readAvailable { _ in }
                usleep(1000)
            }
            guard let result = outcome.withLock({ $0 }) else { throw AMQPError(.connectionLost, field: "test", detail: "no confirm in 10 s") }
            try result.get()
        }
    }

    /// Deletes what the groups' consumers declared (queues, dead-letter exchanges) and the test's exchange, so runs
    /// against a long-lived development broker leave nothing behind.
    static func deleteTopology(_ configuration: AMQPConfiguration, groups: [Subscription]) async throws {
        let topologies = try groups.map { try GroupTopology(subscription: $0, configuration: configuration) }
        try await onThread {
            let session = try AMQPSession(configuration: configuration)
            defer { session.close() }
            for topology in topologies {
                for queue in Set([topology.queue, topology.deadQueue] + topology.retryQueues.map(\.name)) { try session.deleteQueue(queue) }
                try session.deleteExchange(topology.deadExchange)
            }
            try session.deleteExchange(configuration.exchange)
        }
    }

    /// Waits (bounded) until `condition` holds; false when `timeout` passed first.
    static func eventually(timeout: Duration = .seconds(30), _ condition: @Sendable () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}

/// What handlers saw, shared between handler tasks and the test.
final class DeliveryLog: Sendable {
    struct Entry: Sendable {
        var event: CloudEvent
        var attempt: Int
        var consumer: Int
        var at: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ delivery: Delivery, consumer: Int = 0) {
        entries.withLock { $0.append(Entry(event: delivery.event, attempt: delivery.attempt, consumer: consumer, at: .now)) }
    }

    var all: [Entry] { entries.withLock { $0 } }
    var count: Int { entries.withLock { $0.count } }
    var distinctIDs: Int { entries.withLock { Set($0.map(\.event.id)).count } }
}

/// A test event of `type` with a small JSON payload.
func testEvent(type: String = "test.order.created", number: Int = 0) throws -> CloudEvent {
    struct Payload: Codable { var number: Int }
    return try CloudEvent(source: "/tests", type: type, subject: "order-\(number)", json: Payload(number: number))
}

/// A value shared between tasks (a `Mutex` in a class, so closures can capture it).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
