/// Kong's `prometheus` plugin: which metric families to record beside the request counters.
public struct PrometheusConfiguration: Hashable, Sendable {
    public var perConsumer = false
    public var statusCodeMetrics = false
    public var latencyMetrics = false
    public var bandwidthMetrics = false
    public var upstreamHealthMetrics = false

    public init() {}

    init(reading config: ObjectReader) {
        perConsumer = config.bool("per_consumer", default: false)
        statusCodeMetrics = config.bool("status_code_metrics", default: false)
        latencyMetrics = config.bool("latency_metrics", default: false)
        bandwidthMetrics = config.bool("bandwidth_metrics", default: false)
        upstreamHealthMetrics = config.bool("upstream_health_metrics", default: false)
        config.notSupportedYet("ai_metrics", unless: \.isFalse, "there are no AI proxy plugins here")
        config.notSupportedYet("wasm_metrics", unless: \.isFalse, "there are no Wasm filters here")
    }
}
