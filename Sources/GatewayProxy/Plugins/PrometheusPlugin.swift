import Gateway
import Hummingbird

/// Kong's `prometheus`: marks the request to be counted, by this instance's configuration, in ``GatewayMetrics``
/// once its response has ended (the proxy records it; a request another plugin answered first is counted by the
/// instance that applies to it). Its metrics are served at the admin port's `/metrics`.
struct PrometheusPlugin: GatewayPlugin {
    let configuration: PrometheusConfiguration

    init(_ configuration: PrometheusConfiguration) throws {
        if configuration.bandwidthMetrics {
            throw GatewayPluginError(plugin: "prometheus", field: "config.bandwidth_metrics", reason: "not supported yet (the other families are)")
        }
        self.configuration = configuration
    }

    func access(_ context: inout PluginContext) async throws -> Response? {
        context.metrics = configuration
        return nil
    }
}
