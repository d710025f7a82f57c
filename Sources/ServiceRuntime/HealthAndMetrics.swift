import Foundation
import Hummingbird
import Observability

/// The `/health` and `/metrics` endpoints every Interchange process serves.
public enum HealthAndMetrics {
    /// Adds `GET /health` (JSON: overall status and each component's, `503` when any is down)
    /// and `GET /metrics` (Prometheus text format) to `router`.
    public static func addRoutes(to router: Router<BasicRequestContext>, components: [any Component], observability: ObservabilityBootstrap) {
        router.get("/health") { _, _ -> Response in
            var statuses: [String: String] = [:]
            var healthy = true
            for component in components {
                do {
                    try await component.checkHealth()
                    statuses[component.name] = "up"
                } catch {
                    statuses[component.name] = "down: \(error)"
                    healthy = false
                }
            }
            let body = HealthReport(status: healthy ? "up" : "down", components: statuses)
            let data = try JSONEncoder.sorted.encode(body)
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: ObservabilityBootstrap.prometheusContentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: observability.prometheusText()))
            )
        }
    }

    struct HealthReport: Codable {
        var status: String
        var components: [String: String]
    }
}

extension JSONEncoder {
    static let sorted: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
