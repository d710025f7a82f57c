import Foundation
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Logging
import ServiceRuntime
import Testing

@Suite("/health and /metrics")
struct HealthTests {
    struct Probe: Component {
        var name: String
        var summary: String { "a test component" }
        var failure: (any Error)?
        func addRoutes(to router: Router<BasicRequestContext>) throws {}
        func checkHealth() async throws {
            if let failure { throw failure }
        }
    }

    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "connection refused: postgres://admin:hunter2@db.internal:5432" }
    }

    func app(_ components: [any Component], logs: LogCapture) -> some ApplicationProtocol {
        let router = Router()
        HealthAndMetrics.addRoutes(
            to: router,
            components: components,
            metrics: .init(contentType: "text/plain; version=0.0.4", render: { "requests_total 7\n" }),
            logger: logs.logger()
        )
        return Application(router: router)
    }

    @Test("a failing component is reported down with a stable reason code; the error text goes to the log, not the answer")
    func reasonCodes() async throws {
        let logs = LogCapture()
        let components: [any Component] = [
            Probe(name: "webhooks", failure: HealthCheckFailure.databaseUnavailable(Unreachable())),
            Probe(name: "weather"),
            Probe(name: "shop", failure: Unreachable()),
        ]
        try await app(components, logs: logs).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(!body.contains("hunter2"))
                #expect(!body.contains("db.internal"))
                let report = try JSONDecoder().decode(Report.self, from: Data(buffer: response.body))
                #expect(report.status == "down")
                #expect(report.components == ["webhooks": "down", "weather": "up", "shop": "down"])
                #expect(report.reasons == ["webhooks": "database_unavailable", "shop": "check_failed"])
            }
        }
        let logged = try #require(logs.records.first { $0.message == "health check failed" })
        #expect("\(logged.metadata["error"] ?? "")".contains("db.internal"))
    }

    @Test("all components up is 200 with no reasons; /metrics serves the exposition with its content type")
    func allUp() async throws {
        try await app([Probe(name: "weather")], logs: LogCapture()).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let report = try JSONDecoder().decode(Report.self, from: Data(buffer: response.body))
                #expect(report == Report(status: "up", components: ["weather": "up"], reasons: [:]))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                #expect(String(buffer: response.body) == "requests_total 7\n")
            }
        }
    }

    struct Report: Decodable, Equatable {
        var status: String
        var components: [String: String]
        var reasons: [String: String]
    }
}
