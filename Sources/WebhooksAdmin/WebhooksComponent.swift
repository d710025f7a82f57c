import Foundation
import Hummingbird
import InterchangeCore
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import ServiceLifecycle
import ServiceRuntime
import WebhooksOutbound
import WebhooksSigning

/// The webhooks component: the delivery engine (a background service) and its admin API under `/admin/webhooks`.
///
/// Settings (see docs/webhooks.md):
/// | key | environment | default |
/// |---|---|---|
/// | `webhooks.database` | `INTERCHANGE_WEBHOOKS_DATABASE_URL` | `sqlite:<dataDir>/webhooks.sqlite` |
/// | `webhooks.adminToken` | `INTERCHANGE_ADMIN_TOKEN` | generated into `<dataDir>/admin-token` |
/// | `webhooks.allowPrivateTargets` | `INTERCHANGE_WEBHOOKS_ALLOW_PRIVATE_TARGETS` | `false` |
public struct WebhooksComponent: Component {
    public let name = "webhooks"
    public let summary = "Webhook delivery engine and its admin API (/admin/webhooks)"
    public let engine: WebhookDeliveryEngine
    private let adminToken: String

    public init(engine: WebhookDeliveryEngine, adminToken: String) {
        self.engine = engine
        self.adminToken = adminToken
    }

    /// openapi/webhooks-admin.yaml, the file the API is generated from, served at `/admin/webhooks/openapi.yaml`
    /// (without the admin token: it holds no secret).
    public static func openAPIDocument() throws -> OpenAPIDocument {
        try OpenAPIDocument(servedAt: "/admin/webhooks/openapi.yaml", contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml"))
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        try Self.openAPIDocument().addRoute(to: router)
        try WebhooksAdminAPI(engine: engine).registerHandlers(
            on: router,
            serverURL: try Servers.Server1.url(),
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
            middlewares: [AdminTokenMiddleware(token: adminToken), RequestBodyRules()]
        )
    }

    public var services: [any Service] { [EngineService(engine: engine)] }

    public func checkHealth() async throws {
        do {
            _ = try await engine.store.deliveryCounts()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }

    /// Runs the engine and closes its connections when it stops.
    private struct EngineService: Service {
        let engine: WebhookDeliveryEngine
        func run() async throws {
            try await engine.run()
            try await engine.shutdown()
            try await engine.store.database.shutdown()
        }
    }

    /// The admin token: the configured one, or the one in `<dataDir>/admin-token`, created (mode 0600) when missing.
    /// The key endpoint secrets are encrypted with: the configured one (`webhooks.secretKey`,
    /// `INTERCHANGE_WEBHOOKS_SECRET_KEY`), else one generated on first start into `<data-dir>/webhook-secrets.key`
    /// (mode 0600). Keep that file out of database backups: together they reveal the secrets.
    public static func secretSealer(configured: String?, dataDirectory: String) throws -> SecretSealer {
        if let configured, !configured.isEmpty { return try SecretSealer(base64Key: configured, field: "webhooks.secretKey") }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("webhook-secrets.key").path
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return try SecretSealer(base64Key: existing, field: path)
        }
        let key = SecretSealer.generateKey()
        guard FileManager.default.createFile(atPath: path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(field: "dataDir", reason: "cannot write the webhook secrets key to \(path)")
        }
        return try SecretSealer(base64Key: key, field: path)
    }

    public static func adminToken(configured: String?, dataDirectory: String) throws -> String {
        if let configured, !configured.isEmpty { return configured }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("admin-token").path
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        let token = "ixa_" + WebhookSigner.generateMessageID().dropFirst(4)
        guard FileManager.default.createFile(atPath: path, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(field: "dataDir", reason: "cannot write the admin token to \(path)")
        }
        return token
    }
}
