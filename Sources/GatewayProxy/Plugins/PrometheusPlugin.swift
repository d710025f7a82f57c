import Gateway

/// Kong's `prometheus`: each request it applies to is counted, by this instance's configuration, in
/// ``GatewayMetrics`` once its response has ended (a request another plugin answered first too). The metrics are
/// served at the admin port's `/metrics`.
struct PrometheusPlugin: LoggingPlugin {
    let configuration: PrometheusConfiguration
    let metrics: GatewayMetrics

    init(_ configuration: PrometheusConfiguration, metrics: GatewayMetrics) {
        self.configuration = configuration
        self.metrics = metrics
    }

    func log(_ request: RequestLog) {
        metrics.record(
            configuration,
            service: request.service.name ?? request.service.host,
            route: request.route.name ?? request.route.id ?? "",
            consumer: request.consumer.flatMap { $0.username ?? $0.id },
            status: request.status,
            source: request.source,
            latency: request.latency,
            bytes: (ingress: request.requestBytes, egress: request.responseBytes)
        )
    }
}
