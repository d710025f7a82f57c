import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeCore
import InterchangeTesting
import Persistence
import ServiceRuntime
import Testing
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

@Suite("Webhook inbox and receiver", .timeLimit(.minutes(1)))
struct InboxTests {
    func inbox(_ database: Database, clock: ManualClock) async throws -> WebhookInbox {
        try await database.migrate(WebhookInbox.migrations)
        return WebhookInbox(database: database, now: clock.dateProvider)
    }

    @Test("an event is accepted once; a repeat is a duplicate", arguments: TestDatabase.kinds)
    func duplicates(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let inbox = try await inbox(database, clock: ManualClock())
            #expect(try await inbox.record(source: "stripe", eventID: "evt_1", eventType: "x", payload: Data("{}".utf8)) == .accepted)
            #expect(try await inbox.record(source: "stripe", eventID: "evt_1", eventType: "x", payload: Data("{}".utf8)) == .duplicate)
            #expect(try await inbox.record(source: "github", eventID: "evt_1", eventType: "x", payload: Data("{}".utf8)) == .accepted)
        }
    }

    @Test("concurrent duplicate deliveries: exactly one is accepted and the handler runs once", arguments: TestDatabase.kinds)
    func concurrentDuplicates(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock()
            let inbox = try await inbox(database, clock: clock)
            let accepted = CallCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        if try await inbox.record(source: "stripe", eventID: "evt_same", eventType: "x", payload: Data("{}".utf8)) == .accepted {
                            accepted.increment()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(accepted.count == 1)
            let handled = LockedValue<[String]>([])
            let processor = InboxProcessor(inbox: inbox, clock: clock, now: clock.dateProvider) { event in
                handled.append(event.id)
            }
            await withTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { await processor.processDue() } }
            }
            #expect(handled.value == ["evt_same"])
            #expect(try await inbox.counts() == ["processed": 1])
        }
    }

    @Test("a failing handler is retried with backoff, then marked failed after the last attempt", arguments: TestDatabase.kinds)
    func handlerRetries(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock()
            let inbox = try await inbox(database, clock: clock)
            _ = try await inbox.record(source: "s", eventID: "e1", eventType: nil, payload: Data("{}".utf8))
            let calls = CallCounter()
            let processor = InboxProcessor(inbox: inbox, maxAttempts: 3, backoff: try .constant(.seconds(10)), clock: clock, now: clock.dateProvider)
            { _ in
                calls.increment()
                struct Refused: Error {}
                throw Refused()
            }
            #expect(await processor.processDue() == 1)
            #expect(await processor.processDue() == 0)  // not due until the backoff has passed
            clock.advance(by: .seconds(10))
            #expect(await processor.processDue() == 1)
            clock.advance(by: .seconds(10))
            #expect(await processor.processDue() == 1)
            clock.advance(by: .seconds(3600))
            #expect(await processor.processDue() == 0)
            #expect(calls.count == 3)
            #expect(try await inbox.counts() == ["failed": 1])
        }
    }

    @Test("an event claimed by a process that died is processed again once its lease expires", arguments: TestDatabase.kinds)
    func crashedProcessor(kind: TestDatabase.Kind) async throws {
        try await TestDatabase.with(kind) { database in
            let clock = ManualClock()
            let inbox = try await inbox(database, clock: clock)
            _ = try await inbox.record(source: "s", eventID: "e1", eventType: nil, payload: Data("{}".utf8))
            #expect(try await inbox.claim(limit: 10, lease: .seconds(60)).count == 1)  // ...and then the process dies
            let handled = CallCounter()
            let processor = InboxProcessor(inbox: inbox, lease: .seconds(60), clock: clock, now: clock.dateProvider) { _ in
                handled.increment()
            }
            #expect(await processor.processDue() == 0)
            clock.advance(by: .seconds(61))
            #expect(await processor.processDue() == 1)
            #expect(handled.count == 1)
        }
    }

    @Test("the receiver route: 200 once, 200 duplicate after, 400 problems for bad signatures with no state change")
    func receiverRoute() async throws {
        try await TestDatabase.with(.sqlite) { database in
            let clock = ManualClock()
            let inbox = try await inbox(database, clock: clock)
            let secret = "whsec_test_receiver_secret_0001"
            let receiver = WebhookReceiver(source: "stripe", scheme: .stripe, secrets: { [secret] }, inbox: inbox, now: clock.dateProvider)
            let router = Router()
            router.add(middleware: ServiceRuntimeProblems())
            receiver.addRoute(to: router, path: "/webhooks/stripe")
            let body = #"{"id":"evt_42","type":"checkout.session.completed"}"#
            let signed = try WebhookSigner(scheme: .stripe).sign(payload: Data(body.utf8), secrets: [secret], timestamp: clock.date)
            let headers: HTTPFields = [HTTPField.Name("Stripe-Signature")!: signed["Stripe-Signature"]!, .contentType: "application/json"]
            try await Application(router: router).test(.router) { client in
                let first = try await client.execute(uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(first.status == .ok)
                #expect(String(buffer: first.body).contains(#""duplicate":false"#))
                let second = try await client.execute(uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(second.status == .ok)
                #expect(String(buffer: second.body).contains(#""duplicate":true"#))
                let tampered = try await client.execute(
                    uri: "/webhooks/stripe",
                    method: .post,
                    headers: headers,
                    body: ByteBuffer(string: body.replacingOccurrences(of: "42", with: "43"))
                )
                #expect(tampered.status == .badRequest)
                #expect(tampered.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: tampered.body).contains("no matching signature"))
                let unsigned = try await client.execute(uri: "/webhooks/stripe", method: .post, body: ByteBuffer(string: body))
                #expect(unsigned.status == .badRequest)
                #expect(String(buffer: unsigned.body).contains("missing header"))
            }
            clock.advance(by: .seconds(301))
            try await Application(router: router).test(.router) { client in
                let stale = try await client.execute(uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(stale.status == .badRequest)
                #expect(String(buffer: stale.body).contains("tolerance"))
            }
            #expect(try await inbox.counts() == ["received": 1])
        }
    }
}

/// The problem+json middleware, as every Interchange service installs it.
typealias ServiceRuntimeProblems = ProblemMiddleware<BasicRequestContext>
