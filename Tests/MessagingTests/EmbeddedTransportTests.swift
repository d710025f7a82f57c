import Foundation
import InterchangeCore
import InterchangeTesting
import Messaging
import Persistence
import Resilience
import SQLKit
import Testing

@Suite("Embedded transport", .timeLimit(.minutes(2)))
struct EmbeddedTransportTests {
    static let orders: [TopicPattern] = ["com.example.order.*"]

    func subscription(
        _ group: String,
        bindings: [TopicPattern] = orders,
        maxAttempts: Int = 5,
        retryDelay: Duration = .seconds(10),
        prefetch: Int = 64
    ) throws -> Subscription {
        Subscription(group: group, bindings: bindings, maxAttempts: maxAttempts, retryDelay: try .constant(retryDelay), prefetch: prefetch)
    }

    @Test("every group receives each subject's events in publish order, from the start of the log", arguments: TestDatabase.kinds)
    func deliversToEveryGroup(kind: TestDatabase.Kind) async throws {
        try await withEmbeddedTransportInRealTime(kind) { transport in
            // Published before either group exists: a new group starts at the beginning of the retained log.
            try await transport.publish((0..<150).map { orderEvent($0) })
            try await transport.publish([orderEvent(999, type: "com.example.invoice.sent")])
            try await transport.publish((150..<300).map { orderEvent($0) })
            let billing = LockedValue<[String]>([])
            let audit = LockedValue<[String]>([])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing"),
                        { delivery in
                            billing.append(delivery.event.id)
                            return .ack
                        }
                    ),
                    TestConsumer(
                        try subscription("audit", bindings: ["#"]),
                        { delivery in
                            audit.append(delivery.event.id)
                            return .ack
                        }
                    ),
                ]
            ) {
                try await waitUntil("both groups handled everything", timeout: .seconds(45)) {
                    billing.value.count == 300 && audit.value.count == 301
                }
                try await waitUntilAsync("every delivery acknowledged") {
                    let billing = try await transport.pendingDeliveries(group: "billing")
                    let audit = try await transport.pendingDeliveries(group: "audit")
                    return billing == 0 && audit == 0
                }
            }
            // Subjects are order-(n % 7): each one's events in publish order; subjects interleave.
            let published = (0..<300).map { "evt-\($0)" }
            let audited = (0..<150).map { "evt-\($0)" } + ["evt-999"] + (150..<300).map { "evt-\($0)" }
            for subject in 0..<7 {
                let ofSubject = { (ids: [String]) in ids.filter { Int($0.dropFirst(4)).map { $0 != 999 && $0 % 7 == subject } ?? false } }
                #expect(ofSubject(billing.value) == ofSubject(published), "order-\(subject)")
                #expect(ofSubject(audit.value) == ofSubject(audited), "order-\(subject)")
            }
            #expect(billing.value.sorted() == published.sorted())
            #expect(audit.value.sorted() == audited.sorted())
        }
    }

    @Test("a batch is handled across subjects at once, each subject's deliveries one at a time in order", arguments: TestDatabase.kinds)
    func concurrentBySubject(kind: TestDatabase.Kind) async throws {
        try await withEmbeddedTransportInRealTime(kind) { transport in
            // a-0, b-1, a-2, b-3, …: one claim of 20 holds both subjects.
            try await transport.publish((0..<20).map { orderEvent($0, subject: $0.isMultiple(of: 2) ? "a" : "b") })
            let handled = LockedValue<[String]>([])
            let inFlight = LockedValue<[String: Int]>([:])
            let overlapped = LockedValue(false)
            let firstWaitedForB = LockedValue<Bool?>(nil)
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("workers", prefetch: 20),
                        { delivery in
                            let subject = delivery.event.subject ?? ""
                            let running = inFlight.withLock { running in
                                running[subject, default: 0] += 1
                                return running[subject, default: 0]
                            }
                            if running > 1 { overlapped.withLock { $0 = true } }
                            if delivery.event.id == "evt-0" {
                                // Handled one after another, b's first event would only start after this one.
                                let sawB =
                                    (try? await waitUntil("b handled while a-0 holds", timeout: .seconds(10)) {
                                        handled.value.contains("evt-1")
                                    }) != nil
                                firstWaitedForB.withLock { $0 = sawB }
                            }
                            inFlight.withLock { $0[subject, default: 0] -= 1 }
                            handled.append(delivery.event.id)
                            return .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("20 events handled", timeout: .seconds(45)) { handled.value.count == 20 }
                try await waitUntilAsync("every delivery acknowledged") { try await transport.pendingDeliveries(group: "workers") == 0 }
            }
            #expect(firstWaitedForB.value == true, "b's deliveries ran while a's first was still being handled")
            #expect(!overlapped.value, "never two deliveries of one subject at once")
            #expect(handled.value.filter { Int($0.dropFirst(4))!.isMultiple(of: 2) } == (0..<10).map { "evt-\($0 * 2)" })
            #expect(handled.value.filter { !Int($0.dropFirst(4))!.isMultiple(of: 2) } == (0..<10).map { "evt-\($0 * 2 + 1)" })
        }
    }

    @Test("two consumers in one group, both busy at once: each event is handled by exactly one", arguments: TestDatabase.kinds)
    func competingConsumers(kind: TestDatabase.Kind) async throws {
        try await withEmbeddedTransportInRealTime(kind) { transport in
            try await transport.publish((0..<400).map { orderEvent($0) })
            let handled = [LockedValue<[String]>([]), LockedValue<[String]>([])]
            let consumer = { (index: Int) -> @Sendable (Delivery) async -> DeliveryOutcome in
                { delivery in
                    // Consumer 0 holds its first delivery until consumer 1 has handled one: both hold deliveries
                    // of the group at the same moment.
                    if index == 0 && handled[0].value.isEmpty {
                        try? await waitUntil("consumer 1 handled an event while consumer 0 holds its batch", timeout: .seconds(45)) {
                            !handled[1].value.isEmpty
                        }
                    }
                    handled[index].append(delivery.event.id)
                    return .ack
                }
            }
            let group = try subscription("workers", prefetch: 16)
            try await whileConsuming(transport, [TestConsumer(group, consumer(0)), TestConsumer(group, consumer(1))]) {
                try await waitUntil("400 events handled", timeout: .seconds(45)) { handled[0].value.count + handled[1].value.count >= 400 }
                try await waitUntilAsync("every delivery acknowledged") { try await transport.pendingDeliveries(group: "workers") == 0 }
            }
            let all = handled[0].value + handled[1].value
            #expect(all.count == 400)
            #expect(Set(all) == Set((0..<400).map { "evt-\($0)" }))
            #expect(!handled[0].value.isEmpty && !handled[1].value.isEmpty)
        }
    }

    @Test("a failed attempt comes again after the retry delay, not before, with its attempt number", arguments: TestDatabase.kinds)
    func retriesAfterTheDelay(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            let attempts = LockedValue<[Int]>([])
            try await transport.publish([orderEvent(1)])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing", retryDelay: .seconds(10)),
                        { delivery in
                            attempts.append(delivery.attempt)
                            return delivery.attempt == 1 ? .retry(reason: "database busy") : .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("the first attempt") { attempts.value == [1] }
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(5))
                try await clock.waitForSleepers(1)  // it looked again, found nothing due, and sleeps
                #expect(attempts.value == [1])
                clock.advance(by: .seconds(5))
                try await waitUntil("the second attempt") { attempts.value == [1, 2] }
                try await waitUntilAsync("acknowledged") { try await transport.pendingDeliveries(group: "billing") == 0 }
            }
            #expect(try await transport.deadLetters(group: "billing").isEmpty)
        }
    }

    @Test("after maxAttempts failures the event is dead-lettered with the last error, and the others keep flowing", arguments: TestDatabase.kinds)
    func deadLettersAfterMaxAttempts(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            let handled = LockedValue<[String]>([])
            let failures = CallCounter()
            try await transport.publish([orderEvent(1), orderEvent(2)])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing", maxAttempts: 3, retryDelay: .seconds(1)),
                        { delivery in
                            guard delivery.event.id != "evt-1" else {
                                failures.increment()
                                return .retry(reason: "boom on attempt \(delivery.attempt)")
                            }
                            handled.append(delivery.event.id)
                            return .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("evt-2 handled while evt-1 failed") { handled.value == ["evt-2"] && failures.count == 1 }
                // While evt-1 waits for its retry, new events are handled.
                try await transport.publish([orderEvent(3)])
                try await waitUntil("evt-3 handled") { handled.value == ["evt-2", "evt-3"] }
                for attempt in 2...3 {
                    try await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(1))
                    try await waitUntil("attempt \(attempt)") { failures.count == attempt }
                }
                try await waitUntilAsync("evt-1 dead-lettered") { try await !transport.deadLetters(group: "billing").isEmpty }
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(60))
                try await clock.waitForSleepers(1)
            }
            #expect(failures.count == 3)  // never a fourth attempt
            let dead = try await transport.deadLetters(group: "billing")
            #expect(dead.map(\.event) == [orderEvent(1)])
            #expect(dead.first?.attempts == 3)
            #expect(dead.first?.lastError == "boom on attempt 3")
            #expect(try await transport.pendingDeliveries(group: "billing") == 0)
        }
    }

    @Test("a poison event (.deadLetter) is dead-lettered at once, never retried", arguments: TestDatabase.kinds)
    func poisonIsDeadLetteredAtOnce(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            let calls = LockedValue<[String]>([])
            try await transport.publish([orderEvent(1), orderEvent(2)])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing"),
                        { delivery in
                            calls.append(delivery.event.id)
                            return delivery.event.id == "evt-1" ? .deadLetter(reason: "data: number: expected a string") : .ack
                        }
                    )
                ]
            ) {
                try await waitUntilAsync("evt-1 dead-lettered and evt-2 acknowledged") {
                    let dead = try await transport.deadLetters(group: "billing").count
                    let pending = try await transport.pendingDeliveries(group: "billing")
                    return dead == 1 && pending == 0
                }
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(3600))
                try await clock.waitForSleepers(1)
            }
            #expect(calls.value.sorted() == ["evt-1", "evt-2"], "each handled once")  // two subjects: either order
            let dead = try await transport.deadLetters(group: "billing")
            #expect(dead.first?.attempts == 1)
            #expect(dead.first?.lastError == "data: number: expected a string")
            #expect(dead.first?.deadAt == clock.epoch)
        }
    }

    @Test("a group's offset survives a restart: a new transport on the same database delivers only the rest", arguments: TestDatabase.kinds)
    func offsetsSurviveRestart(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            try await transport.publish((0..<30).map { orderEvent($0) })
            let first = LockedValue<[String]>([])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing", prefetch: 10),
                        { delivery in
                            first.append(delivery.event.id)
                            return .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("a batch handled") { first.value.count >= 10 }
            }
            let reopened = try await Database.open(transport.database.location, logger: testLogger())
            let restarted = EmbeddedTransport(database: reopened, clock: clock, now: clock.dateProvider, logger: testLogger())
            let second = LockedValue<[String]>([])
            let attempts = LockedValue<Set<Int>>([])
            try await whileConsuming(
                restarted,
                [
                    TestConsumer(
                        try subscription("billing", prefetch: 10),
                        { delivery in
                            second.append(delivery.event.id)
                            attempts.withLock { _ = $0.insert(delivery.attempt) }
                            return .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("the rest handled") { first.value.count + second.value.count >= 30 }
            }
            try await reopened.shutdown()
            // Each subject (order-(n % 7)) in publish order across the restart; nothing twice, nothing missing.
            let handled = first.value + second.value
            for subject in 0..<7 {
                let ofSubject = { (ids: [String]) in ids.filter { Int($0.dropFirst(4))! % 7 == subject } }
                #expect(ofSubject(handled) == ofSubject((0..<30).map { "evt-\($0)" }), "order-\(subject)")
            }
            #expect(handled.count == 30)
            #expect(attempts.value == [1])
        }
    }

    @Test("a delivery whose consumer died holding it comes again once its lease expired", arguments: TestDatabase.kinds)
    func expiredLeaseIsRedelivered(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let configuration = EmbeddedTransport.Configuration(leaseDuration: .seconds(30), jitter: .fixed(1))
        try await withEmbeddedTransport(kind, clock: clock, configuration: configuration) { transport in
            try await transport.publish([orderEvent(1), orderEvent(2)])
            // What a consumer that died mid-batch leaves: evt-1 claimed (attempt 1) under a lease, the offset past it.
            let leaseUntil = clock.date.millisecondsSince1970 + 30_000
            try await transport.database.transaction { sql in
                try await sql.raw("INSERT INTO messaging_group_offsets (group_name, last_seq, created_at) VALUES ('billing', 1, 0)").run()
                try await sql.raw(
                    "INSERT INTO messaging_deliveries (group_name, seq, attempts, available_at) VALUES ('billing', 1, 1, \(bind: leaseUntil))"
                ).run()
            }
            let handled = LockedValue<[String]>([])
            let attempts = LockedValue<[Int]>([])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(
                        try subscription("billing"),
                        { delivery in
                            handled.append(delivery.event.id)
                            attempts.append(delivery.attempt)
                            return .ack
                        }
                    )
                ]
            ) {
                try await waitUntil("evt-2 handled") { handled.value == ["evt-2"] }
                try await clock.waitForSleepers(1)
                clock.advance(by: .seconds(29))
                try await clock.waitForSleepers(1)
                #expect(handled.value == ["evt-2"])  // still leased
                clock.advance(by: .seconds(1))
                try await waitUntil("evt-1 redelivered") { handled.value == ["evt-2", "evt-1"] }
            }
            #expect(attempts.value == [1, 2])
        }
    }

    @Test(
        "a consumer that stops mid-batch hands back its unhandled deliveries and the one its cancelled handler failed, at once",
        arguments: TestDatabase.kinds
    )
    func stoppingReleasesTheBatch(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            // One subject: its deliveries are handled one after another, so nine wait behind the first.
            try await transport.publish((0..<10).map { orderEvent($0, subject: "order-1") })
            let first = LockedValue<[String]>([])
            let gate = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await transport.consume(try subscription("billing", prefetch: 10)) { delivery in
                        first.append(delivery.event.id)
                        await gate.wait()  // returns when the consumer's task is cancelled
                        return .retry(reason: "CancellationError()")
                    }
                }
                try await waitUntil("the first delivery is being handled") { first.value.count == 1 }
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(first.value == ["evt-0"])
            #expect(try await transport.deadLetters(group: "billing").isEmpty)
            let second = LockedValue<[String]>([])
            let attempts = LockedValue<Set<Int>>([])
            try await whileConsuming(
                transport,
                [
                    TestConsumer(try subscription("billing", prefetch: 10)) { delivery in
                        second.append(delivery.event.id)
                        attempts.withLock { _ = $0.insert(delivery.attempt) }
                        return .ack
                    }
                ]
            ) {
                try await waitUntil("all 10 handled") { second.value.count == 10 }
            }
            #expect(clock.now.offset == .zero)  // no lease or retry delay had to pass
            #expect(Set(second.value) == Set((0..<10).map { "evt-\($0)" }))
            #expect(attempts.value == [1])  // handed back, not counted as a failed attempt
        }
    }

    @Test("tail yields the matching events published after it started, or all with fromBeginning", arguments: TestDatabase.kinds)
    func tails(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEmbeddedTransport(kind, clock: clock) { transport in
            try await transport.publish([orderEvent(0)])
            let tailed = LockedValue<[String]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await event in transport.tail(["com.example.order.#"]) {
                        tailed.append(event.id)
                        if tailed.value.count == 2 { return }
                    }
                }
                try await clock.waitForSleepers(1)  // the tail found the end of the log and waits
                try await transport.publish([orderEvent(1), orderEvent(2, type: "com.example.invoice.sent"), orderEvent(3)])
                try await group.waitForAll()
            }
            #expect(tailed.value == ["evt-1", "evt-3"])
            var fromStart: [String] = []
            for try await event in transport.tail(["#"], fromBeginning: true) {
                fromStart.append(event.id)
                if fromStart.count == 4 { break }
            }
            #expect(fromStart == ["evt-0", "evt-1", "evt-2", "evt-3"])
        }
    }

    @Test("a bad subscription is refused naming the field")
    func refusesBadSubscriptions() async throws {
        try await withEmbeddedTransport(.sqlite, clock: ManualClock()) { transport in
            let error = await #expect(throws: ConfigurationError.self) {
                try await transport.consume(Subscription(group: "billing team", bindings: ["#"])) { _ in .ack }
            }
            #expect(error?.field == "subscription.group")
        }
    }
}
