import Foundation
import Gateway
import Prometheus
import Resilience

/// Kong's `prometheus` plugin's metrics, under Kong's names and labels (so its Grafana dashboards read them), for
/// the admin port's `/metrics`: `kong_http_requests_total` (`status_code_metrics`; `consumer` with `per_consumer`),
/// `kong_request_latency_ms` (`latency_metrics`, Kong's buckets), `kong_bandwidth_bytes` (`bandwidth_metrics`, by
/// `direction` ingress and egress: heads as HTTP/1.1 writes them plus the body bytes) and `kong_upstream_target_health`
/// (`upstream_health_metrics`, from each target's breaker). One registry per process, carried across reloads.
public final class GatewayMetrics: Sendable {
    /// Kong's default latency buckets, in milliseconds.
    static let latencyBuckets: [Double] = [
        1, 2, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 30000, 60000,
    ]
    // MetricNameDescriptor is not Sendable: made where used.
    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "kong",
            metricName: "http_requests",
            unitName: "total",
            helpText: "HTTP status codes per consumer/service/route in Kong"
        )
    }
    static var latency: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "kong",
            metricName: "request_latency",
            unitName: "ms",
            helpText: "Total latency incurred during requests for each service/route in Kong"
        )
    }
    static var bandwidth: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "kong",
            metricName: "bandwidth",
            unitName: "bytes",
            helpText: "Total bandwidth (ingress/egress) throughput in bytes"
        )
    }
    static var targetHealth: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "kong",
            metricName: "upstream_target_health",
            unitName: "",
            helpText: "Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error"
        )
    }

    /// Who answered: the upstream (`service`), the gateway about the upstream (`kong`), or a plugin (`exit`).
    enum Source: String { case service, kong, exit }

    private let registry = PrometheusCollectorRegistry()

    public init() {}

    func record(
        _ configuration: PrometheusConfiguration,
        service: String,
        route: String,
        consumer: String?,
        status: Int,
        source: Source,
        latency: Duration,
        bytes: (ingress: Int, egress: Int)
    ) {
        if configuration.statusCodeMetrics {
            let labels = [
                ("service", service), ("route", route), ("code", String(status)), ("source", source.rawValue), ("workspace", "default"),
                ("consumer", configuration.perConsumer ? consumer ?? "" : ""),
            ]
            registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        }
        if configuration.latencyMetrics {
            let labels = [("service", service), ("route", route), ("workspace", "default")]
            let milliseconds = Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15
            registry.makeValueHistogram(descriptor: Self.latency, labels: labels, buckets: Self.latencyBuckets).record(milliseconds)
        }
        if configuration.bandwidthMetrics {
            for (direction, count) in [("ingress", bytes.ingress), ("egress", bytes.egress)] {
                let labels = [
                    ("service", service), ("route", route), ("direction", direction), ("workspace", "default"),
                    ("consumer", configuration.perConsumer ? consumer ?? "" : ""),
                ]
                registry.makeCounter(descriptor: Self.bandwidth, labels: labels).increment(by: Int64(count))
            }
        }
    }

    /// The exposition text (format 0.0.4); with `targetHealth`, each target's state from its breaker first.
    func render(targetHealth: [(upstream: String, target: String, state: CircuitBreaker.State)]?) -> [UInt8] {
        if let targetHealth {
            for (upstream, target, state) in targetHealth {
                let current = Self.kongState(state)
                for candidate in ["healthchecks_off", "healthy", "unhealthy", "dns_error"] {
                    let labels = [("upstream", upstream), ("target", target), ("address", target), ("state", candidate), ("subsystem", "http")]
                    registry.makeGauge(descriptor: Self.targetHealth, labels: labels).set(to: candidate == current ? 1 : 0)
                }
            }
        }
        return registry.emitToBuffer()
    }

    /// A closed or half-open breaker lets traffic through (healthy); an open or forced-open one does not.
    static func kongState(_ state: CircuitBreaker.State) -> String {
        switch state {
        case .closed, .halfOpen: "healthy"
        case .open, .forcedOpen: "unhealthy"
        case .disabled: "healthchecks_off"
        }
    }
}
