import Gateway
import Resilience

/// Where one service's requests can go: its targets (an upstream's, or the service's own host and port), the
/// balancer that picks among them and a circuit breaker per target — passive health checking that, unlike Kong's,
/// recovers by itself: after `waitDurationInOpenState` the breaker lets probe requests through (half-open) and
/// closes again when they succeed — and, when the upstream has them, Kong's active health checks.
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
    /// The upstream's active health checks, when it probes its targets.
    let active: ActiveHealthChecks?

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
            active = ActiveHealthChecks(upstream.healthchecks.active, targets: upstream.targets.count)
        } else {
            endpoints = [Target(host: service.host, port: service.port)]
            balancer = TargetBalancer(weights: [100], algorithm: .roundRobin)
            hashOn = .none
            hashFallback = .none
            hostHeader = nil
            failureStatuses = Set(Healthchecks.Passive().unhealthy.httpStatuses)
            active = nil
        }
        let label = service.name ?? service.id ?? service.host
        breakers = try endpoints.map { endpoint in
            try CircuitBreaker(name: "gateway.\(label).\(endpoint.address)", configuration: breaker, clock: clock)
        }
    }
}
