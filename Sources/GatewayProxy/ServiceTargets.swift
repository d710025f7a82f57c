import Gateway
import Resilience

/// Where one service's requests can go: its targets (an upstream's, or the service's own host and port), the
/// balancer that picks among them and a circuit breaker per target — passive health checking that, unlike Kong's,
/// recovers by itself: after `waitDurationInOpenState` the breaker lets probe requests through (half-open) and
/// closes again when they succeed.
final class ServiceTargets: Sendable {
    /// The targets' host and port (Gateway's `Target`, whose `address` is `host:port`).
    let endpoints: [Target]
    let balancer: TargetBalancer
    let breakers: [CircuitBreaker]
    let hashOn: Upstream.HashInput
    let hashFallback: Upstream.HashInput
    /// The upstream's `host_header`: the Host sent to every target instead of the target's own.
    let hostHeader: String?
    /// Response statuses that count as a failed call for the target's breaker (the passive check's
    /// `unhealthy.http_statuses`).
    let failureStatuses: Set<Int>

    init(
        service: Service,
        upstream: Upstream?,
        breaker: CircuitBreaker.Configuration,
        clock: some Clock<Duration>
    ) throws {
        if let upstream {
            endpoints = upstream.targets
            balancer = TargetBalancer(weights: upstream.targets.map(\.weight), algorithm: upstream.algorithm, slots: upstream.slots)
            hashOn = upstream.hashOn
            hashFallback = upstream.hashFallback
            hostHeader = upstream.hostHeader
            failureStatuses = Set(upstream.healthchecks.passive.unhealthy.httpStatuses)
        } else {
            endpoints = [Target(host: service.host, port: service.port)]
            balancer = TargetBalancer(weights: [100], algorithm: .roundRobin)
            hashOn = .none
            hashFallback = .none
            hostHeader = nil
            failureStatuses = Set(Healthchecks.Passive().unhealthy.httpStatuses)
        }
        let label = service.name ?? service.id ?? service.host
        breakers = try endpoints.map { endpoint in
            try CircuitBreaker(name: "gateway.\(label).\(endpoint.address)", configuration: breaker, clock: clock)
        }
    }
}
