import Foundation
import HTTPTypes
import InterchangeCore
import InterchangeTesting
import Persistence
import Resilience
import Testing
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

@Suite("Webhook delivery engine", .serialized, .timeLimit(.minutes(1)))
struct DeliveryEngineTests {
    static let schedule: [Duration] = WebhookDeliveryEngine.Configuration.svixSchedule
    /// One key for every engine a test starts, as a restarted process reads the same key.
    static let secretKey = SecretSealer.generateKey()

    /// An engine on `database` whose time is `clock`, allowed to deliver to loopback receivers.
    func engine(
        _ database: Database,
        clock: ManualClock,
        configure: (inout WebhookDeliveryEngine.Configuration) -> Void = { _ in }
    ) async throws -> WebhookDeliveryEngine {
        var configuration = WebhookDeliveryEngine.Configuration(
            requestTimeout: .seconds(5),
            ssrfGuard: SSRFGuard(allowPrivateNetworks: true),
            secretSealer: try SecretSealer(base64Key: Self.secretKey, field: "test")  // as `interchange` runs it
        )
        configure(&configuration)
        let engine = try WebhookDeliveryEngine(
            database: database,
            configuration: configuration,
            tracer: nil,
            clock: clock,
            now: clock.dateProvider,
            jitterSource: .fixed(0.5)  // no jitter: the schedule exactly
        )
        try await engine.prepare()
        return engine
    }

    func withEngine<T: Sendable>(
        _ kind: TestDatabase.Kind,
        clock: ManualClock = ManualClock(),
        configure: @escaping (inout WebhookDeliveryEngine.Configuration) -> Void = { _ in },
        _ body: (WebhookDeliveryEngine, ScriptedHTTPServer) async throws -> T
    ) async throws -> T {
        try await ScriptedHTTPServer.withServer { server in
            try await TestDatabase.with(kind) { database in
                let engine = try await engine(database, clock: clock, configure: configure)
                do {
                    let result = try await body(engine, server)
                    try await engine.shutdown()
                    return result
                } catch {
                    try? await engine.shutdown()
                    throw error
                }
            }
        }
    }

    @Test("delivers a signed event the receiver can verify, and logs the attempt", arguments: TestDatabase.kinds)
    func delivers(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEngine(kind, clock: clock) { engine, server in
            server.enqueue("/hooks", .status(204))
            let endpoint = try await engine.createEndpoint(url: "\(server.baseURL)/hooks", eventTypes: ["order.*"])
            let payload = Data(#"{"type":"order.created","data":{"id":"o_1"}}"#.utf8)
            let publication = try await engine.publish(eventType: "order.created", payload: payload)
            _ = try await engine.publish(eventType: "invoice.paid", payload: Data("{}".utf8))  // not subscribed
            #expect(publication.deliveryIDs.count == 1)
            #expect(await engine.processDue() == 1)
            let received = try #require(server.requests(to: "/hooks").first)
            #expect(server.requests(to: "/hooks").count == 1)
            #expect(received.body == String(decoding: payload, as: UTF8.self))
            #expect(received.headers[HTTPField.Name("webhook-id")!] == publication.messageID)
            _ = try WebhookSigner(scheme: .standard).verify(
                payload: Data(received.body.utf8),
                headers: received.headers,
                secrets: [endpoint.secret],
                now: clock.date
            )
            let delivery = try #require(try await engine.store.delivery(id: publication.deliveryIDs[0]))
            #expect(delivery.status == .succeeded)
            let attempts = try await engine.store.attempts(deliveryID: delivery.id)
            #expect(attempts.map(\.statusCode) == [204])
        }
    }

    @Test("a receiver that is down gets the retry schedule, then the delivery is dead-lettered", arguments: TestDatabase.kinds)
    func retrySchedule(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let configure: (inout WebhookDeliveryEngine.Configuration) -> Void = { $0.disableAfter = .seconds(365 * 24 * 3600) }
        try await withEngine(kind, clock: clock, configure: configure) { engine, server in
            server.enqueue("/hooks", .status(503, body: "down for maintenance"))
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/hooks")
            let id = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8)).deliveryIDs[0]
            var attemptTimes: [Date] = []
            for attempt in 1...Self.schedule.count {
                attemptTimes.append(clock.date)
                #expect(await engine.processDue() == 1, "attempt \(attempt)")
                #expect(await engine.processDue() == 0, "nothing due right after attempt \(attempt)")
                let delivery = try #require(try await engine.store.delivery(id: id))
                if attempt < Self.schedule.count {
                    #expect(delivery.status == .pending)
                    let next = try #require(delivery.nextAttemptAt)
                    #expect(Int(next.timeIntervalSince(clock.date)) == Int(Self.schedule[attempt].inSeconds))
                    clock.advance(to: ManualClock.Instant(offset: .seconds(Int64(next.timeIntervalSince(clock.epoch)))))
                } else {
                    #expect(delivery.status == .failed)
                    #expect(delivery.lastStatusCode == 503)
                }
            }
            let attempts = try await engine.store.attempts(deliveryID: id)
            #expect(attempts.count == Self.schedule.count)
            #expect(attempts.last?.responseExcerpt == "down for maintenance")
            #expect(server.requests(to: "/hooks").count == Self.schedule.count)
            // The delays between attempts are the schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
            let gaps = zip(attemptTimes.dropFirst(), attemptTimes).map { Int($0.timeIntervalSince($1)) }
            #expect(gaps == Self.schedule.dropFirst().map { Int($0.inSeconds) })
        }
    }

    @Test("410 Gone disables the endpoint at once, and subscribers hear about it", arguments: TestDatabase.kinds)
    func goneDisables(kind: TestDatabase.Kind) async throws {
        try await withEngine(kind) { engine, server in
            server.enqueue("/gone", .status(410))
            server.enqueue("/ops", .status(200))
            let gone = try await engine.createEndpoint(url: "\(server.baseURL)/gone")
            let ops = try await engine.createEndpoint(url: "\(server.baseURL)/ops", eventTypes: [WebhookDeliveryEngine.endpointDisabledEventType])
            _ = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
            #expect(await engine.processDue() == 1)
            let disabled = try #require(try await engine.store.endpoint(id: gone.id))
            #expect(!disabled.enabled)
            #expect(disabled.disabledReason?.contains("410") == true)
            #expect(await engine.processDue() == 1)  // the operational event
            let notice = try #require(server.requests(to: "/ops").first)
            #expect(notice.body.contains(gone.id))
            #expect(notice.body.contains(WebhookDeliveryEngine.endpointDisabledEventType))
            _ = ops
            // Later events skip the disabled endpoint.
            #expect(try await engine.publish(eventType: "order.created", payload: Data("{}".utf8)).deliveryIDs.isEmpty)
        }
    }

    @Test("an endpoint whose every delivery fails for longer than disableAfter is disabled", arguments: TestDatabase.kinds)
    func failingEndpointDisabled(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let configure: (inout WebhookDeliveryEngine.Configuration) -> Void = { $0.disableAfter = .seconds(3600) }
        try await withEngine(kind, clock: clock, configure: configure) { engine, server in
            server.enqueue("/hooks", .status(500))
            let endpoint = try await engine.createEndpoint(url: "\(server.baseURL)/hooks")
            _ = try await engine.publish(eventType: "a", payload: Data("{}".utf8))
            await engine.processDue()
            clock.advance(by: .seconds(1800))
            _ = try await engine.publish(eventType: "a", payload: Data("{}".utf8))
            await engine.processDue()
            #expect(try await engine.store.endpoint(id: endpoint.id)?.enabled == true)
            clock.advance(by: .seconds(1801))
            _ = try await engine.publish(eventType: "a", payload: Data("{}".utf8))
            await engine.processDue()
            let disabled = try #require(try await engine.store.endpoint(id: endpoint.id))
            #expect(!disabled.enabled)
            #expect(disabled.disabledReason?.contains("failed since") == true)
        }
    }

    @Test("a restart in the middle of the retries loses no delivery", arguments: TestDatabase.kinds)
    func restartMidRetry(kind: TestDatabase.Kind) async throws {
        try await ScriptedHTTPServer.withServer { server in
            try await TestDatabase.with(kind) { database in
                let clock = ManualClock()
                server.enqueue("/hooks", .status(502), .status(200))
                let first = try await engine(database, clock: clock)
                _ = try await first.createEndpoint(url: "\(server.baseURL)/hooks")
                let id = try await first.publish(eventType: "order.created", payload: Data("{}".utf8)).deliveryIDs[0]
                #expect(await first.processDue() == 1)
                try await first.shutdown()  // the process stops with a retry pending

                let second = try await engine(database, clock: clock)
                clock.advance(by: .seconds(5))
                #expect(await second.processDue() == 1)
                #expect(try await second.store.delivery(id: id)?.status == .succeeded)
                try await second.shutdown()
            }
        }
    }

    @Test("a delivery claimed by a worker that died is delivered once its lease expires", arguments: TestDatabase.kinds)
    func expiredLease(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        try await withEngine(kind, clock: clock) { engine, server in
            server.enqueue("/hooks", .status(200))
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/hooks")
            _ = try await engine.publish(eventType: "a", payload: Data("{}".utf8))
            // Simulate a worker that claimed the delivery and crashed before sending it.
            let crashed = try WebhookDeliveryEngine(
                database: engine.store.database,
                configuration: engine.configuration,
                tracer: nil,
                clock: clock,
                now: clock.dateProvider
            )
            #expect(try await crashed.claimForTesting() == 1)
            try await crashed.shutdown()
            #expect(await engine.processDue() == 0)
            clock.advance(by: engine.configuration.requestTimeout * 2 + .seconds(31))
            #expect(await engine.processDue() == 1)
            #expect(server.requests(to: "/hooks").count == 1)
        }
    }

    @Test("publishing the same message id twice creates one delivery", arguments: TestDatabase.kinds)
    func idempotentPublish(kind: TestDatabase.Kind) async throws {
        try await withEngine(kind) { engine, server in
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/hooks")
            #expect(try await engine.publish(eventType: "a", payload: Data("{}".utf8), messageID: "msg_fixed").deliveryIDs.count == 1)
            #expect(try await engine.publish(eventType: "a", payload: Data("{}".utf8), messageID: "msg_fixed").deliveryIDs.isEmpty)
            #expect(try await engine.store.deliveries().count == 1)
        }
    }

    @Test("secret rotation: both secrets sign during the overlap, so either verifies; only the new one after")
    func secretRotation() async throws {
        let clock = ManualClock()
        try await withEngine(.sqlite, clock: clock) { engine, server in
            server.enqueue("/hooks", .status(200))
            let endpoint = try await engine.createEndpoint(url: "\(server.baseURL)/hooks", scheme: .stripe)
            let rotated = try await engine.rotateSecret(endpointID: endpoint.id, overlap: .seconds(3600))
            #expect(rotated.secret != endpoint.secret)
            _ = try await engine.publish(eventType: "a", payload: Data(#"{"id":"evt_1"}"#.utf8))
            await engine.processDue()
            let during = try #require(server.requests(to: "/hooks").last)
            let signer = WebhookSigner(scheme: .stripe)
            for secret in [endpoint.secret, rotated.secret] {
                _ = try signer.verify(payload: Data(during.body.utf8), headers: during.headers, secrets: [secret], now: clock.date)
            }
            clock.advance(by: .seconds(3601))
            _ = try await engine.publish(eventType: "a", payload: Data(#"{"id":"evt_2"}"#.utf8))
            await engine.processDue()
            let after = try #require(server.requests(to: "/hooks").last)
            #expect {
                try signer.verify(payload: Data(after.body.utf8), headers: after.headers, secrets: [endpoint.secret], now: clock.date)
            } throws: {
                ($0 as? WebhookVerificationError)?.code == .noMatchingSignature
            }
            _ = try signer.verify(payload: Data(after.body.utf8), headers: after.headers, secrets: [rotated.secret], now: clock.date)
        }
    }

    @Test("dead-lettered deliveries can be replayed one by one or all since a time", arguments: TestDatabase.kinds)
    func replay(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let configure: (inout WebhookDeliveryEngine.Configuration) -> Void = { $0.schedule = [.zero] }
        try await withEngine(kind, clock: clock, configure: configure) { engine, server in
            server.enqueue("/hooks", .status(500), .status(500), .status(500), .status(200))
            let endpoint = try await engine.createEndpoint(url: "\(server.baseURL)/hooks", maxConcurrency: 1)
            let one = try await engine.publish(eventType: "a", payload: Data("1".utf8)).deliveryIDs[0]
            await engine.processDue()
            clock.advance(by: .seconds(10))
            _ = try await engine.publish(eventType: "a", payload: Data("2".utf8))
            _ = try await engine.publish(eventType: "a", payload: Data("3".utf8))
            await engine.processDue()
            #expect(try await engine.store.deliveries(status: .failed).count == 3)
            server.enqueue("/hooks", .status(200))
            #expect(try await engine.replay(deliveryID: one).status == .pending)
            await engine.processDue()
            #expect(try await engine.store.delivery(id: one)?.status == .succeeded)
            #expect(try await engine.replayFailed(endpointID: endpoint.id, since: clock.date.addingTimeInterval(-1)) == 2)
            await engine.processDue()
            #expect(try await engine.store.deliveries(status: .succeeded).count == 3)
            #expect(try await engine.store.attempts(deliveryID: one).count == 2)
        }
    }

    @Test("at most maxConcurrency deliveries are in flight to one endpoint")
    func perEndpointConcurrency() async throws {
        try await withEngine(.sqlite) { engine, server in
            let probe = ConcurrencyProbe()
            server.handle("/slow") { _ in
                probe.enter()
                try await Task.sleep(for: .milliseconds(50))
                probe.leave()
                return .status(200)
            }
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/slow", maxConcurrency: 2)
            for index in 0..<8 { _ = try await engine.publish(eventType: "a", payload: Data("\(index)".utf8)) }
            #expect(await engine.processDue() == 8)
            #expect(probe.peak == 2)
        }
    }

    @Test("an open circuit defers deliveries without spending their attempts")
    func circuitDefers() async throws {
        let clock = ManualClock()
        let breaker = CircuitBreaker.Configuration(
            slidingWindow: .countBased(size: 2),
            minimumNumberOfCalls: 2,
            waitDurationInOpenState: .seconds(60)
        )
        let configure: (inout WebhookDeliveryEngine.Configuration) -> Void = {
            $0.endpointCircuitBreaker = breaker
            $0.maxConcurrentDeliveries = 1
        }
        try await withEngine(.sqlite, clock: clock, configure: configure) { engine, server in
            server.enqueue("/hooks", .status(500))
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/hooks", maxConcurrency: 1)
            for _ in 0..<3 { _ = try await engine.publish(eventType: "a", payload: Data("{}".utf8)) }
            await engine.processDue()
            await engine.processDue()
            await engine.processDue()  // the breaker is open: this one is deferred, not sent
            #expect(server.requests(to: "/hooks").count == 2)
            let deferred = try await engine.store.deliveries().filter { $0.attempts == 0 }
            #expect(deferred.count == 1)
            #expect(deferred.first?.lastError?.contains("circuit open") == true)
        }
    }

    /// Delivery-time refusals (names resolving inside, DNS rebinding, redirects) are driven in `SSRFGuardTests`.
    @Test("the SSRF guard refuses private targets and unusable URLs when an endpoint is created")
    func ssrf() async throws {
        try await TestDatabase.with(.sqlite) { database in
            let clock = ManualClock()
            let engine = try WebhookDeliveryEngine(database: database, tracer: nil, clock: clock, now: clock.dateProvider)
            try await engine.prepare()
            for url in [
                "http://127.0.0.1:9/hooks", "http://[::1]/x", "http://169.254.169.254/latest/meta-data", "http://10.0.0.5/x", "http://localhost/x",
            ] {
                await #expect(throws: ConfigurationError.self, "\(url)") { try await engine.createEndpoint(url: url) }
            }
            await #expect { try await engine.createEndpoint(url: "ftp://example.com/x") } throws: { ($0 as? ConfigurationError)?.field == "url" }
            await #expect { try await engine.createEndpoint(url: "https://user:pw@example.com/x") } throws: {
                ($0 as? ConfigurationError)?.field == "url"
            }
            #expect(try await engine.store.endpoints().isEmpty)
            try await engine.shutdown()
        }
    }

    @Test("bad input is refused, naming the field")
    func badInput() async throws {
        let configure: (inout WebhookDeliveryEngine.Configuration) -> Void = { $0.maxPayloadSize = 100 }
        try await withEngine(.sqlite, configure: configure) { engine, server in
            await #expect { try await engine.publish(eventType: "a", payload: Data(count: 101)) } throws: {
                ($0 as? ConfigurationError)?.field == "payload"
            }
            await #expect { try await engine.publish(eventType: "bad type!", payload: Data()) } throws: {
                ($0 as? ConfigurationError)?.field == "eventType"
            }
            await #expect { try await engine.createEndpoint(url: "\(server.baseURL)/x", secret: "short") } throws: {
                ($0 as? ConfigurationError)?.field == "secret"
            }
            await #expect { try await engine.createEndpoint(url: "\(server.baseURL)/x", maxConcurrency: 0) } throws: {
                ($0 as? ConfigurationError)?.field == "maxConcurrency"
            }
            #expect { try WebhookDeliveryEngine.Configuration(schedule: []).validate() } throws: { ($0 as? ConfigurationError)?.field == "schedule" }
            #expect { try WebhookDeliveryEngine.Configuration(jitter: 2).validate() } throws: { ($0 as? ConfigurationError)?.field == "jitter" }
        }
    }
}
