import Foundation
import InterchangeTesting
import MetricsTestKit
import Persistence
import Resilience
import Testing
import WebhooksOutbound

/// The endpoints' breakers: timed on the engine's clock, reported through the injected metrics factory with a
/// fixed set of labels however many endpoints come and go.
@Suite("Webhook endpoint breakers", .serialized, .timeLimit(.minutes(1)))
struct EndpointBreakerTests {
    func withEngine(
        clock: ManualClock,
        metrics: TestMetrics,
        breaker: CircuitBreaker.Configuration,
        _ body: (WebhookDeliveryEngine, ScriptedHTTPServer) async throws -> Void
    ) async throws {
        try await ScriptedHTTPServer.withServer { server in
            try await TestDatabase.with(.sqlite) { database in
                let engine = try WebhookDeliveryEngine(
                    database: database,
                    configuration: .init(
                        requestTimeout: .seconds(30),
                        maxConcurrentDeliveries: 1,
                        ssrfGuard: SSRFGuard(allowPrivateNetworks: true),
                        endpointCircuitBreaker: breaker
                    ),
                    metricsFactory: metrics,
                    tracer: nil,
                    clock: clock,
                    now: clock.dateProvider,
                    jitterSource: .fixed(0.5)
                )
                try await engine.prepare()
                do {
                    try await body(engine, server)
                    try await engine.shutdown()
                } catch {
                    try? await engine.shutdown()
                    throw error
                }
            }
        }
    }

    @Test("slow answers count as slow calls: the attempt is timed on the engine's clock and trips the breaker")
    func slowCallsTrip() async throws {
        let clock = ManualClock()
        let metrics = TestMetrics()
        let breaker = CircuitBreaker.Configuration(
            slowCallRateThreshold: 50,
            slowCallDurationThreshold: .seconds(2),
            slidingWindow: .countBased(size: 2),
            minimumNumberOfCalls: 2,
            waitDurationInOpenState: .seconds(60),
            permittedCallsInHalfOpenState: 1
        )
        try await withEngine(clock: clock, metrics: metrics, breaker: breaker) { engine, server in
            // Every answer is a success that takes 3 s on the engine's clock.
            server.handle("/slow") { _ in
                clock.advance(by: .seconds(3))
                return .status(204)
            }
            _ = try await engine.createEndpoint(url: "\(server.baseURL)/slow")
            for _ in 0..<3 { _ = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8)) }
            for _ in 0..<3 { await engine.processDue() }
            #expect(server.requests(to: "/slow").count == 2, "the third delivery waits for the open breaker")
            let waiting = try await engine.store.deliveries(status: .pending)
            #expect(waiting.count == 1)
            #expect(waiting.first?.lastError?.contains("circuit open") == true)
            #expect(metrics.counterTotal(label: "interchange_webhook_endpoint_breaker_transitions_total", dimensions: [("to", "open")]) == 1)
        }
    }

    @Test("breaker metrics go to the injected factory, under labels that do not grow with the endpoints")
    func boundedLabels() async throws {
        let clock = ManualClock()
        let metrics = TestMetrics()
        let breaker = CircuitBreaker.Configuration(slidingWindow: .countBased(size: 1), minimumNumberOfCalls: 1)
        try await withEngine(clock: clock, metrics: metrics, breaker: breaker) { engine, server in
            for index in 0..<5 {
                server.enqueue("/down\(index)", .status(500))
                _ = try await engine.createEndpoint(url: "\(server.baseURL)/down\(index)")
            }
            _ = try await engine.publish(eventType: "order.created", payload: Data("{}".utf8))
            for _ in 0..<5 { await engine.processDue() }
            #expect(metrics.counterTotal(label: "interchange_webhook_endpoint_breaker_transitions_total", dimensions: [("to", "open")]) == 5)
            let labels = Set(metrics.counters.map(\.label) + metrics.recorders.map(\.label))
            #expect(!labels.contains("interchange_circuit_breaker_state"), "no per-endpoint breaker gauge")
            #expect(!labels.contains("interchange_circuit_breaker_calls_total"), "no per-endpoint breaker counters")
            let dimensions = metrics.counters.flatMap(\.dimensions).map(\.1)
            #expect(!dimensions.contains { $0.hasPrefix("webhook:") || $0.hasPrefix("ep_") }, "no endpoint id in any label")
        }
    }
}
