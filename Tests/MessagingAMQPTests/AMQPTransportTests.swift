import Foundation
import Messaging
import Persistence
import SQLKit
import Synchronization
import Testing

@testable import MessagingAMQP

/// Every test that talks to the broker, in one serialized suite: the restart test stops the shared broker, which
/// must not pull the rug from under the others.
@Suite(.serialized, .timeLimit(.minutes(2)), .disabled(if: TestBroker.isSkipped, "INTERCHANGE_SKIP_AMQP=1"))
struct AMQPBrokerTests {
    /// Consumers to run beside a test's body: `try await consuming(transport, [subscription], handle: { … }).during { … }`.
    struct ConsumerRun {
        var transport: AMQPTransport
        var subscriptions: [Subscription]
        var handle: @Sendable (Int, Delivery) async -> DeliveryOutcome

        /// Runs `consume` for each subscription beside `body`, then cancels them and surfaces their errors, if any;
        /// then deletes the groups' queues and exchanges unless `keepTopology`.
        func during(keepTopology: Bool = false, _ body: () async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, subscription) in subscriptions.enumerated() {
                    group.addTask { [transport, handle] in
                        try await transport.consume(subscription) { delivery in await handle(index, delivery) }
                    }
                }
                try await body()
                group.cancelAll()
                try await group.waitForAll()
            }
            if !keepTopology { try await TestBroker.deleteTopology(transport.configuration, groups: subscriptions) }
        }
    }

    static func consuming(
        _ transport: AMQPTransport,
        _ subscriptions: [Subscription],
        handle: @escaping @Sendable (Int, Delivery) async -> DeliveryOutcome
    ) -> ConsumerRun {
        ConsumerRun(transport: transport, subscriptions: subscriptions, handle: handle)
    }

    /// Publishes once a queue is bound (the consumers declare theirs as they start): retries while unroutable.
    static func publishWhenRouted(_ transport: AMQPTransport, _ events: [CloudEvent]) async throws {
        for _ in 0..<400 {
            do {
                try await transport.publish(events)
                return
            } catch let error as AMQPError where error.code == .unroutable {
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        try await transport.publish(events)
    }

    /// Publishes probes (`test.probe`) until `consumers` distinct consumers have each seen one: then all are attached.
    static func waitUntilAttached(_ transport: AMQPTransport, _ log: DeliveryLog, consumers: Int) async throws {
        for _ in 0..<200 {
            try await publishWhenRouted(transport, [try testEvent(type: "test.probe")])
            if await TestBroker.eventually(
                timeout: .milliseconds(100),
                { Set(log.all.filter { $0.event.type == "test.probe" }.map(\.consumer)).count >= consumers }
            ) {
                return
            }
        }
        Issue.record("only some of \(consumers) consumers attached")
    }

    static func transport(_ configuration: AMQPConfiguration) -> AMQPTransport {
        var configuration = configuration
        configuration.failUnroutable = true
        return AMQPTransport(configuration: configuration, logger: TestBroker.logger)
    }

    @Test(arguments: CloudEventMode.allCases, QueueType.allCases)
    func publishedEventsArriveWhole(mode: CloudEventMode, queueType: QueueType) async throws {
        let configuration = try TestBroker.configuration(mode: mode, queueType: queueType)
        let transport = Self.transport(configuration)
        let log = DeliveryLog()
        var events = try (0..<3).map { try testEvent(type: "test.order.created", number: $0) }
        events[0].extensions = ["traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), "priority": .integer(2)]
        events[1].datacontenttype = "application/json"
        let unrelated = try testEvent(type: "test.invoice.paid")
        try await Self.consuming(
            transport,
            [Subscription(group: "roundtrip", bindings: ["test.order.*"])],
            handle: { _, delivery in
                log.record(delivery)
                return .ack
            }
        ).during {
            // A probe first, retried until the group's queue is bound; then the events once. (Retrying the events
            // themselves would deliver twice those a batch had routed before the binding covered all of it.)
            try await Self.publishWhenRouted(transport, [try testEvent(type: "test.order.probe")])
            try await transport.publish(events)
            let dropping = AMQPTransport(configuration: configuration, logger: TestBroker.logger)  // unroutable events are dropped
            try await dropping.publish([unrelated])
            await dropping.shutdown()
            #expect(await TestBroker.eventually { log.all.filter { $0.event.type != "test.order.probe" }.count >= 3 })
        }
        let received = log.all.filter { $0.event.type != "test.order.probe" }.sorted { $0.event.subject ?? "" < $1.event.subject ?? "" }
        #expect(received.map(\.event.id) == events.map(\.id))
        for (got, sent) in zip(received, events) {
            #expect(got.event.type == sent.type && got.event.source == sent.source && got.event.subject == sent.subject)
            #expect(got.event.data == sent.data)
            #expect(got.event.extensions == sent.extensions)
            #expect(abs((got.event.time ?? .distantPast).timeIntervalSince(sent.time ?? .distantFuture)) < 0.001)
            #expect(got.attempt == 1)
        }
        #expect(!log.all.contains { $0.event.type == "test.invoice.paid" })
        await transport.shutdown()
    }

    @Test func twoConsumersInOneGroupHandleEachEventOnce() async throws {
        let transport = Self.transport(try TestBroker.configuration())
        let log = DeliveryLog()
        let subscription = Subscription(group: "competing", bindings: ["test.#"], prefetch: 8)
        let events = try (0..<400).map { try testEvent(number: $0) }
        try await Self.consuming(
            transport,
            [subscription, subscription],
            handle: { consumer, delivery in
                log.record(delivery, consumer: consumer)
                try? await Task.sleep(for: .milliseconds(1))
                return .ack
            }
        ).during {
            // Both consumers must be attached before the load, or the first takes everything.
            try await Self.waitUntilAttached(transport, log, consumers: 2)
            try await transport.publish(events)
            #expect(await TestBroker.eventually { log.all.filter { $0.event.type != "test.probe" }.count >= 400 })
            try await Task.sleep(for: .milliseconds(200))  // room for a wrong second delivery to show up
        }
        let handled = log.all.filter { $0.event.type != "test.probe" }
        #expect(handled.count == 400)
        #expect(Set(handled.map(\.event.id)).count == 400)
        let perConsumer = Dictionary(grouping: handled, by: \.consumer).mapValues(\.count)
        #expect(perConsumer[0, default: 0] > 0 && perConsumer[1, default: 0] > 0, "\(perConsumer)")
        await transport.shutdown()
    }

    @Test func handlersRunConcurrentlyUpToThePrefetchAndNoFurther() async throws {
        let transport = Self.transport(try TestBroker.configuration())
        let inFlight = Shared((now: 0, most: 0, handled: 0))
        let events = try (0..<40).map { try testEvent(number: $0) }
        try await Self.consuming(transport, [Subscription(group: "concurrent", bindings: ["test.#"], prefetch: 8)]) { _, _ in
            inFlight.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            // Hold each handler until 8 run at once (bounded), so the overlap is real, then a little longer.
            _ = await TestBroker.eventually(timeout: .seconds(5)) { inFlight.withLock { $0.now >= 8 } }
            try? await Task.sleep(for: .milliseconds(20))
            inFlight.withLock {
                $0.now -= 1
                $0.handled += 1
            }
            return .ack
        }
        .during {
            try await Self.publishWhenRouted(transport, events)
            #expect(await TestBroker.eventually { inFlight.withLock { $0.handled } >= 40 })
        }
        #expect(inFlight.withLock { $0.most } == 8)
        await transport.shutdown()
    }

    @Test func twoGroupsEachReceiveEveryEvent() async throws {
        let transport = Self.transport(try TestBroker.configuration())
        let log = DeliveryLog()
        let events = try (0..<50).map { try testEvent(number: $0) }
        try await Self.consuming(
            transport,
            [Subscription(group: "billing", bindings: ["test.#"]), Subscription(group: "shipping", bindings: ["#"])],
            handle: { consumer, delivery in
                log.record(delivery, consumer: consumer)
                return .ack
            }
        ).during {
            // A publish is routed once one group is bound; probes show when both are.
            try await Self.waitUntilAttached(transport, log, consumers: 2)
            try await transport.publish(events)
            #expect(await TestBroker.eventually { log.all.filter { $0.event.type != "test.probe" }.count >= 100 })
        }
        let handled = log.all.filter { $0.event.type != "test.probe" }
        #expect(handled.filter { $0.consumer == 0 }.map(\.event.id).sorted() == events.map(\.id).sorted())
        #expect(handled.filter { $0.consumer == 1 }.map(\.event.id).sorted() == events.map(\.id).sorted())
        await transport.shutdown()
    }

    @Test(arguments: QueueType.allCases)
    func aFailingHandlerIsRetriedAfterTheDelayThenDeadLetteredWithTheReasonWhileTheQueueKeepsFlowing(queueType: QueueType) async throws {
        let configuration = try TestBroker.configuration(queueType: queueType)
        let transport = Self.transport(configuration)
        let log = DeliveryLog()
        let failing = try testEvent(type: "test.order.failing", number: 0)
        let good = try (1...20).map { try testEvent(number: $0) }
        let subscription = Subscription(group: "retrying", bindings: ["test.#"], maxAttempts: 3, retryDelay: try .constant(.milliseconds(400)))
        try await Self.consuming(
            transport,
            [subscription],
            handle: { _, delivery in
                log.record(delivery)
                return delivery.event.id == failing.id ? .retry(reason: "payment service said 503 (attempt \(delivery.attempt))") : .ack
            }
        ).during(keepTopology: true) {
            try await Self.publishWhenRouted(transport, [failing])
            try await transport.publish(good)
            #expect(await TestBroker.eventually { log.all.filter { $0.event.id == failing.id }.count >= 3 })
            try await Task.sleep(for: .milliseconds(300))
        }
        let attempts = log.all.filter { $0.event.id == failing.id }
        #expect(attempts.map(\.attempt) == [1, 2, 3])
        for (earlier, later) in zip(attempts, attempts.dropFirst()) {
            #expect(later.at - earlier.at >= .milliseconds(350), "retried after \(later.at - earlier.at)")
        }
        // The queue kept flowing: every good event was handled before the failing one's second attempt.
        let lastGood = try #require(log.all.filter { $0.event.id != failing.id }.map(\.at).max())
        #expect(log.distinctIDs == 21)
        #expect(lastGood < attempts[1].at)
        let dead = try await TestBroker.drain("\(configuration.exchange).retrying.dead", configuration: configuration)
        #expect(dead.count == 1)
        #expect(dead.first?.messageID == failing.id)
        #expect(dead.first?.header(AMQPHeaderName.lastError) == .string("payment service said 503 (attempt 3)"))
        #expect(dead.first?.header(AMQPHeaderName.attempts) == .int(3))
        #expect(dead.first?.header(AMQPHeaderName.group) == .string("retrying"))
        #expect(try dead.first.map { try CloudEvent(amqpMessage: $0) } == failing)
        await transport.shutdown()
        try await TestBroker.deleteTopology(configuration, groups: [subscription])
    }

    @Test func aPoisonEventAndAnUnreadableMessageAreDeadLetteredAtOnce() async throws {
        let configuration = try TestBroker.configuration()
        let transport = Self.transport(configuration)
        let log = DeliveryLog()
        let poison = try testEvent(type: "test.order.poison", number: 0)
        let after = try testEvent(number: 1)
        let subscription = Subscription(group: "poison", bindings: ["test.#"], maxAttempts: 5)
        try await Self.consuming(
            transport,
            [subscription],
            handle: { _, delivery in
                log.record(delivery)
                return delivery.event.id == poison.id ? .deadLetter(reason: "data: missing field orderID") : .ack
            }
        ).during(keepTopology: true) {
            try await Self.publishWhenRouted(transport, [poison])
            let garbage = AMQPMessage(contentType: "application/cloudevents+json", messageID: "garbage-1", body: Data("{not json".utf8))
            try await TestBroker.publishRaw(garbage, routingKey: "test.order.garbage", configuration: configuration)
            try await transport.publish([after])
            #expect(await TestBroker.eventually { log.all.contains { $0.event.id == after.id } })
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(log.all.filter { $0.event.id == poison.id }.count == 1)
        #expect(log.count == 2)
        let dead = try await TestBroker.drain("\(configuration.exchange).poison.dead", configuration: configuration)
        #expect(Set(dead.compactMap(\.messageID)) == [poison.id, "garbage-1"])
        let poisonReason = dead.first { $0.messageID == poison.id }?.header(AMQPHeaderName.lastError)
        #expect(poisonReason == .string("data: missing field orderID"))
        guard case .string(let garbageReason) = dead.first(where: { $0.messageID == "garbage-1" })?.header(AMQPHeaderName.lastError) else {
            Issue.record("no reason on the unreadable message")
            return
        }
        #expect(garbageReason.hasPrefix("the message is not a readable CloudEvent"))
        await transport.shutdown()
        try await TestBroker.deleteTopology(configuration, groups: [subscription])
    }

    @Test func confirmsCoverManyConcurrentBatchesInFlight() async throws {
        var configuration = try TestBroker.configuration()
        configuration.maxUnconfirmed = 256
        let transport = Self.transport(configuration)
        let log = DeliveryLog()
        try await Self.consuming(
            transport,
            [Subscription(group: "confirms", bindings: ["#"], prefetch: 256)],
            handle: { _, delivery in
                log.record(delivery)
                return .ack
            }
        ).during {
            try await Self.publishWhenRouted(transport, [try testEvent(number: -1)])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in 0..<8 {
                    group.addTask {
                        try await transport.publish(try (0..<500).map { try testEvent(number: batch * 1000 + $0) })
                    }
                }
                try await group.waitForAll()
            }
            #expect(await TestBroker.eventually { log.distinctIDs >= 4001 })
        }
        #expect(log.distinctIDs == 4001)
        await transport.shutdown()
    }

    @Test func anUnroutableEventFailsThePublishWhenAskedTo() async throws {
        let transport = Self.transport(try TestBroker.configuration())
        try await transport.connect()
        let error = await #expect(throws: AMQPError.self) { try await transport.publish([try testEvent(type: "nobody.listens")]) }
        #expect(error?.code == .unroutable)
        #expect(error?.detail.contains("nobody.listens") == true)
        await transport.shutdown()
    }

    @Test func aQueueDeclaredWithAnotherTypeIsAClearError() async throws {
        let classic = try TestBroker.configuration(queueType: .classic)
        let subscription = Subscription(group: "typed", bindings: ["#"])
        let first = Self.transport(classic)
        try await Self.consuming(first, [subscription], handle: { _, _ in .ack }).during(keepTopology: true) {
            try await Self.publishWhenRouted(first, [try testEvent()])
        }
        await first.shutdown()
        var quorum = classic
        quorum.queueType = .quorum
        let second = Self.transport(quorum)
        let error = await #expect(throws: AMQPError.self) { try await second.consume(subscription) { _ in .ack } }
        #expect(error?.code == .topologyMismatch)
        #expect(error?.detail.contains("x-queue-type") == true, "\(error?.detail ?? "")")
        await second.shutdown()
        try await TestBroker.deleteTopology(classic, groups: [subscription])
    }

    @Test func tlsToAPlainPortFailsTheHandshakeNamingTheSetting() async throws {
        var components = try #require(URLComponents(string: try TestBroker.url()))
        components.scheme = "amqps"
        let transport = AMQPTransport(configuration: try AMQPConfiguration(url: components.string!), logger: TestBroker.logger)
        let error = await #expect(throws: AMQPError.self) { try await transport.connect() }
        #expect(error?.code == .unreachable)
        #expect(error.map(String.init(describing:))?.hasPrefix("broker.url: RabbitMQ at amqps://") == true, "\(String(describing: error))")
        await transport.shutdown()
    }

    @Test func aMissingCAFileIsNamed() async throws {
        var components = try #require(URLComponents(string: try TestBroker.url()))
        components.scheme = "amqps"
        components.query = "cacertfile=/nonexistent/ca.pem"
        let transport = AMQPTransport(configuration: try AMQPConfiguration(url: components.string!), logger: TestBroker.logger)
        let error = await #expect(throws: AMQPError.self) { try await transport.connect() }
        #expect(error?.detail.contains("/nonexistent/ca.pem (cacertfile)") == true, "\(String(describing: error))")
        await transport.shutdown()
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        var components = try #require(URLComponents(string: try TestBroker.url()))
        components.password = "not-the-password"
        let transport = AMQPTransport(configuration: try AMQPConfiguration(url: components.string!), logger: TestBroker.logger)
        let error = await #expect(throws: AMQPError.self) { try await transport.connect() }
        #expect(error?.code == .loginRefused)
        #expect(error.map(String.init(describing:))?.contains("not-the-password") == false)
        await transport.shutdown()
    }

    @Test func tailSeesMatchingEventsFromATemporaryQueue() async throws {
        let configuration = try TestBroker.configuration(mode: .binary)
        let transport = Self.transport(configuration)
        let events = try (0..<5).map { try testEvent(type: "test.order.shipped", number: $0) }
        var iterator = transport.tail(["test.order.shipped"]).makeAsyncIterator()
        // The tail's queue exists once a publish is routed.
        try await Self.publishWhenRouted(transport, [events[0]])
        let dropping = AMQPTransport(configuration: configuration, logger: TestBroker.logger)  // unroutable events are dropped
        try await dropping.publish([try testEvent(type: "test.order.created")] + events.dropFirst())
        await dropping.shutdown()
        var seen: [CloudEvent] = []
        while seen.count < 5, let event = try await iterator.next() { seen.append(event) }
        #expect(seen.map(\.id) == events.map(\.id))
        await transport.shutdown()
        #expect(try await iterator.next() == nil)
    }
}

extension AMQPBrokerTests {
    @Suite struct BrokerRestart {
        static func rabbitmqctl(_ command: String) async throws {
            let environment = ProcessInfo.processInfo.environment
            guard let node = environment["RABBITMQ_TEST_NODE"], let file = environment["RABBITMQ_TEST_ENV"] else {
                throw TestBroker.NotConfigured()
            }
            try await TestBroker.onThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", ". \"$1\"; rabbitmqctl -q -n \"$2\" \(command) >/dev/null", "sh", file, node]
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw AMQPError(.connectionLost, field: "test", detail: "rabbitmqctl \(command) exited with \(process.terminationStatus)")
                }
            }
        }

        @Test func aBrokerRestartDuringALoadOf10000EventsLosesNone() async throws {
            let transport = AMQPBrokerTests.transport(try TestBroker.configuration())
            let received = Shared<(ids: Set<String>, deliveries: Int)>(([], 0))
            let publishFailures = Shared(0)
            let publishedCount = Shared(0)
            let events = try (0..<10_000).map { try testEvent(number: $0) }
            let probe = try testEvent(type: "test.probe")
            try await AMQPBrokerTests.consuming(
                transport,
                [Subscription(group: "restart", bindings: ["test.#"], prefetch: 256)],
                handle: { _, delivery in
                    received.withLock {
                        $0.ids.insert(delivery.event.id)
                        $0.deliveries += 1
                    }
                    return .ack
                }
            ).during {
                try await AMQPBrokerTests.publishWhenRouted(transport, [probe])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Like the outbox relay: a batch whose publish threw is published again until confirmed.
                        for start in stride(from: 0, to: events.count, by: 25) {
                            let batch = Array(events[start..<min(start + 25, events.count)])
                            var published = false
                            for _ in 0..<1200 where !published {
                                do {
                                    try await transport.publish(batch)
                                    published = true
                                } catch {
                                    publishFailures.withLock { $0 += 1 }
                                    try await Task.sleep(for: .milliseconds(50))
                                }
                            }
                            #expect(published, "batch at \(start) never confirmed")
                            publishedCount.withLock { $0 = start + batch.count }
                            // Past 2 000, slow down until the restart has interrupted a publish, so the restart
                            // lands in the middle of the load however long rabbitmqctl takes to act.
                            if start >= 2000, publishFailures.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
                        }
                    }
                    group.addTask {
                        #expect(await TestBroker.eventually { publishedCount.withLock { $0 } >= 2000 })
                        try await Self.rabbitmqctl("stop_app")
                        try await Self.rabbitmqctl("start_app")
                    }
                    try await group.waitForAll()
                }
                #expect(await TestBroker.eventually(timeout: .seconds(60)) { received.withLock { $0.ids.count } >= 10_001 })
            }
            let (ids, deliveries) = received.withLock { ($0.ids, $0.deliveries) }
            #expect(ids.isSuperset(of: events.map(\.id)), "missing \(Set(events.map(\.id)).subtracting(ids).count) events")
            #expect(publishFailures.withLock { $0 } > 0, "the restart never interrupted a publish: the test did not test")
            print("restart test: \(ids.count) distinct events, \(deliveries) deliveries, \(publishFailures.withLock { $0 }) failed publishes")
            await transport.shutdown()
        }
    }
}

extension AMQPBrokerTests.BrokerRestart {
    /// The whole path under a broker restart: 10 000 events appended to an outbox (SQLite) in the producer's
    /// transactions, relayed to RabbitMQ by the `OutboxRelay`, handled through the inbox into an effects table — the
    /// broker is stopped and started mid-load. Every event has exactly one effect: none lost (the relay publishes
    /// again what was not confirmed), none doubled (the inbox absorbs what came twice).
    @Test func aBrokerRestartThroughTheOutboxAndInboxLeavesExactlyOneEffectPerEvent() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-amqp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let producer = try await Database.open(.sqlite(path: directory + "/orders.sqlite"), logger: TestBroker.logger)
        try await producer.migrate(Outbox.migrations)
        let consumer = try await Database.open(.sqlite(path: directory + "/inventory.sqlite"), logger: TestBroker.logger)
        try await consumer.migrate(Inbox.migrations)
        try await consumer.withConnection { sql in try await sql.raw("CREATE TABLE effects (event_id TEXT NOT NULL)").run() }

        // failUnroutable: the probe below is published again until the group's queue is bound.
        let transport = AMQPBrokerTests.transport(try TestBroker.configuration())
        var relayConfiguration = OutboxRelay.Configuration()
        relayConfiguration.failureBackoff = try .constant(.milliseconds(100))
        let relay = OutboxRelay(database: producer, transport: transport, configuration: relayConfiguration, logger: TestBroker.logger)
        let inbox = Inbox(consumer: "inventory")
        let deliveries = Shared(0)
        let events = try (0..<10_000).map { try testEvent(number: $0) }
        let subscription = Subscription(group: "restart-effects", bindings: ["test.#"], prefetch: 256)

        @Sendable func effects() async throws -> (rows: Int, distinct: Int) {
            try await consumer.withConnection { sql in
                let row = try await sql.raw("SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM effects").first()
                return (try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "d", as: Int.self) ?? 0)
            }
        }

        try await AMQPBrokerTests.consuming(transport, [subscription]) { _, delivery in
            deliveries.withLock { $0 += 1 }
            do {
                _ = try await consumer.handleOnce(delivery.event, inbox: inbox) { sql in
                    try await sql.raw("INSERT INTO effects (event_id) VALUES (\(bind: delivery.event.id))").run()
                }
                return .ack
            } catch {
                return .retry(reason: "\(error)")
            }
        }.during {
            // The group's queue is bound once a probe comes through.
            let probe = try testEvent(type: "test.probe")
            try await AMQPBrokerTests.publishWhenRouted(transport, [probe])
            #expect(await TestBroker.eventually { deliveries.withLock { $0 } >= 1 })
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await relay.run() }
                group.addTask {
                    for start in stride(from: 0, to: events.count, by: 50) {
                        try await producer.transaction { sql in
                            try await Outbox().append(Array(events[start..<min(start + 50, events.count)]), in: sql)
                        }
                        relay.wake()
                    }
                }
                #expect(await TestBroker.eventually { deliveries.withLock { $0 } >= 2000 })
                try await Self.rabbitmqctl("stop_app")
                try await Self.rabbitmqctl("start_app")
                #expect(
                    await TestBroker.eventually(timeout: .seconds(90)) { ((try? await effects())?.distinct ?? 0) >= 10_001 },
                    "not every event had its effect within 90 s"
                )
                group.cancelAll()
            }
        }
        let (rows, distinct) = try await effects()
        #expect(distinct == 10_001, "every event (and the probe) had its effect")
        #expect(rows == distinct, "no event had two effects")
        #expect(try await producer.withConnection { sql in try await Outbox.unsentCount(in: sql) } == 0)
        print("restart through the outbox: \(deliveries.withLock { $0 }) deliveries for \(distinct) events")
        await transport.shutdown()
        try await consumer.shutdown()
        try await producer.shutdown()
    }
}
