import HTTPIntegration
import InterchangeTesting
import Logging
import Metrics
import MetricsTestKit
import Resilience
import Testing
import Tracing

/// A host policy with fast, deterministic settings: no timeouts (the manual clock would fire them at once),
/// no backoff jitter, no breaker unless a test asks for one.
func testPolicy(
    maxAttempts: Int = 3,
    breaker: CircuitBreaker.Configuration? = nil,
    budget: RetryBudgetPolicy? = nil,
    authentication: (any AuthenticationProvider)? = nil
) throws -> HostPolicy {
    HostPolicy(
        retry: RetryPolicy(maxAttempts: maxAttempts, backoff: try .constant(.milliseconds(100)), budget: budget),
        circuitBreaker: breaker,
        attemptTimeout: nil,
        totalTimeout: nil,
        authentication: authentication
    )
}

/// Runs `body` with a client whose policy for 127.0.0.1 is `policy`, then shuts the client down.
func withClient<T: Sendable>(
    policy: HostPolicy,
    clock: ManualClock = ManualClock(advancesOnSleep: true),
    cache: HTTPCache? = nil,
    metrics: TestMetrics = TestMetrics(),
    tracer: (any Tracer)? = nil,
    logger: Logger = Logger(label: "test"),
    maxResponseBodySize: Int = 1024 * 1024,
    _ body: (ResilientHTTPClient) async throws -> T
) async throws -> T {
    let client = try ResilientHTTPClient(
        configuration: .init(hosts: ["127.0.0.1": policy], maxResponseBodySize: maxResponseBodySize, cache: cache),
        logger: logger,
        metricsFactory: metrics,
        tracer: tracer,
        clock: clock,
        now: clock.dateProvider
    )
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs `body` with a client on real time (for timeouts that race real I/O) whose policy for 127.0.0.1 is
/// `policy`, then shuts the client down, also when `body` throws.
func withRealTimeClient<T: Sendable>(policy: HostPolicy, _ body: (ResilientHTTPClient) async throws -> T) async throws -> T {
    let client = try ResilientHTTPClient(configuration: .init(hosts: ["127.0.0.1": policy]), tracer: nil)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// The `HTTPIntegrationError` `body` throws. If `body` succeeds, or throws another error, this throws instead, so
/// the test fails there, naming what happened, rather than carrying on with nothing to check.
func integrationError(
    _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> HTTPIntegrationError {
    do {
        try await body()
    } catch let error as HTTPIntegrationError {
        return error
    }
    throw ExpectedIntegrationError(sourceLocation: sourceLocation)
}

/// The call under test succeeded where an `HTTPIntegrationError` was expected.
struct ExpectedIntegrationError: Error, CustomStringConvertible {
    var sourceLocation: SourceLocation
    var description: String { "expected an HTTPIntegrationError, but the call succeeded (\(sourceLocation))" }
}
