import Logging
import Metrics
import Prometheus
import Tracing

/// Observability for the `interchange` executable: logging, Prometheus metrics and W3C tracing, bootstrapped once.
///
/// Libraries never call this (they take a `Logger` and use the swift-metrics and swift-distributed-tracing
/// APIs); only the executable does, at start-up, before creating anything that logs, counts or traces.
///
/// ```swift
/// let observability = ObservabilityBootstrap.bootstrap(logLevel: .info)
/// router.get("/metrics") { _, _ in observability.prometheusText() }
/// ```
public struct ObservabilityBootstrap: Sendable {
    /// Where every metric is registered; render it with ``prometheusText()``.
    public let registry: PrometheusCollectorRegistry

    /// A set-up that has not touched the global systems (for tests and embedding).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The metrics factory that writes to ``registry``.
    public var metricsFactory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latency buckets from 1 ms to 30 s suit both loopback calls and slow third-party APIs.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        return factory
    }

    /// All metrics in the Prometheus text exposition format (version 0.0.4).
    public func prometheusText() -> String {
        registry.emitToString()
    }

    /// The content type of ``prometheusText()``.
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Bootstraps the global logging, metrics and tracing systems. Call once, first thing in `main`.
    ///
    /// Log lines carry the current `trace_id` and `span_id`, so a request can be followed across services.
    /// Lines are JSON objects (``JSONLogHandler``) or swift-log's text, as `logFormat` says.
    @discardableResult
    public static func bootstrap(
        logLevel: Logger.Level,
        logFormat: LogFormat = .automatic,
        label: String = "interchange"
    ) -> ObservabilityBootstrap {
        let observability = ObservabilityBootstrap()
        LoggingSystem.bootstrap(
            { label, provider -> any LogHandler in
                switch logFormat {
                case .json:
                    var handler = JSONLogHandler(label: label, metadataProvider: provider)
                    handler.logLevel = logLevel
                    return handler
                case .text:
                    var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                    handler.logLevel = logLevel
                    return handler
                }
            },
            metadataProvider: .traceMetadata
        )
        MetricsSystem.bootstrap(observability.metricsFactory)
        let spanLogger = {
            var logger = Logger(label: "\(label).tracing")
            logger.logLevel = logLevel
            return logger
        }()
        let tracer = W3CTracer { span in
            spanLogger.trace(
                "span finished",
                metadata: [
                    "span": "\(span.operationName)", "trace_id": "\(span.traceID)", "span_id": "\(span.spanID)",
                    "parent_span_id": "\(span.parentSpanID ?? "-")", "duration_ms": "\(Double(span.durationNanoseconds) / 1e6)",
                ]
            )
        }
        InstrumentationSystem.bootstrap(tracer)
        return observability
    }
}

extension Logger.MetadataProvider {
    /// Adds `trace_id` and `span_id` of the current W3C trace context to every log line.
    public static let traceMetadata = Logger.MetadataProvider {
        guard let context = InstrumentationContext.current?.w3cTraceContext else { return [:] }
        return ["trace_id": "\(context.traceID)", "span_id": "\(context.spanID)"]
    }
}
