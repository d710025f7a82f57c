import Foundation
import Hummingbird
import Logging

/// Why a component is not healthy, as a stable code a monitor can alert on.
///
/// `/health` reports only the code; the error behind it (which may carry hosts, paths or SQL) goes to the log.
/// Throw one from ``Component/checkHealth()``; any other error is reported as ``checkFailed``.
public struct HealthCheckFailure: Error, Hashable, CustomStringConvertible {
    /// A stable, snake_case reason (`database_unavailable`).
    public var reason: String
    /// What went wrong, for the log only.
    public var underlying: String

    public init(reason: String, underlying: any Error) {
        self.reason = reason
        self.underlying = "\(underlying)"
    }

    /// The component's database did not answer.
    public static func databaseUnavailable(_ error: any Error) -> HealthCheckFailure {
        HealthCheckFailure(reason: "database_unavailable", underlying: error)
    }

    /// The reason reported for an error that is not a ``HealthCheckFailure``.
    public static let checkFailed = "check_failed"

    public var description: String { "\(reason): \(underlying)" }
}

/// The `/health` and `/metrics` endpoints every Interchange process serves.
public enum HealthAndMetrics {
    /// What `/metrics` serves: a text exposition and its content type (Prometheus' in `interchange`).
    public struct MetricsExposition: Sendable {
        public var contentType: String
        public var render: @Sendable () -> String

        public init(contentType: String, render: @escaping @Sendable () -> String) {
            self.contentType = contentType
            self.render = render
        }
    }

    /// Adds `GET /health` and `GET /metrics` to `router`.
    ///
    /// `/health` answers JSON — `{"status": "up"|"down", "components": {name: "up"|"down"},
    /// "reasons": {name: code}}`, `503` when any component is down — where each code is a stable
    /// ``HealthCheckFailure/reason``; the error itself is logged at warning, never sent.
    public static func addRoutes(
        to router: Router<BasicRequestContext>,
        components: [any Component],
        metrics: MetricsExposition,
        logger: Logger
    ) {
        router.get("/health") { _, _ -> Response in
            let report = await HealthReport.check(components, logger: logger)
            let data = try JSONEncoder.sorted.encode(report)
            return Response(
                status: report.status == "up" ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: metrics.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
    }

    struct HealthReport: Codable, Equatable {
        var status: String
        var components: [String: String]
        var reasons: [String: String]

        static func check(_ components: [any Component], logger: Logger) async -> HealthReport {
            var report = HealthReport(status: "up", components: [:], reasons: [:])
            for component in components {
                do {
                    try await component.checkHealth()
                    report.components[component.name] = "up"
                } catch {
                    let failure = error as? HealthCheckFailure
                    let reason = failure?.reason ?? HealthCheckFailure.checkFailed
                    report.components[component.name] = "down"
                    report.reasons[component.name] = reason
                    report.status = "down"
                    logger.warning(
                        "health check failed",
                        metadata: ["component": "\(component.name)", "reason": "\(reason)", "error": "\(failure?.underlying ?? "\(error)")"]
                    )
                }
            }
            return report
        }
    }
}

extension JSONEncoder {
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
