import AsyncHTTPClient
import Foundation
import HTTPIntegration
import InterchangeTesting
import Resilience

@testable import WeatherDashboard

/// A recorded upstream response from Fixtures/ (written from the real APIs' documentation and captures).
func fixture(_ path: String) throws -> String {
    guard let url = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/\(path).json") else {
        throw FixtureMissing(path: path)
    }
    return try String(contentsOf: url, encoding: .utf8)
}

struct FixtureMissing: Error { let path: String }

/// An upstream bound to `server` with a fast, deterministic policy (no retries unless asked, no timeouts).
func upstream(
    _ server: ScriptedHTTPServer,
    path: String = "",
    authentication: (any AuthenticationProvider)? = nil,
    maxAttempts: Int = 1,
    clock: ManualClock = ManualClock(advancesOnSleep: true)
) throws -> Upstream {
    let policy = HostPolicy(
        retry: RetryPolicy(maxAttempts: maxAttempts, backoff: try .constant(.milliseconds(10)), budget: nil),
        circuitBreaker: nil,
        attemptTimeout: nil,
        totalTimeout: nil,
        authentication: authentication
    )
    // The process-wide AsyncHTTPClient: nothing to shut down when the test ends.
    let client = try ResilientHTTPClient(
        configuration: .init(defaultPolicy: policy),
        httpClient: .shared,
        tracer: nil,
        clock: clock,
        now: clock.dateProvider
    )
    return try client.upstream(baseURL: server.baseURL + path)
}
