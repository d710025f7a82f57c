import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Persistence
import ServiceLifecycle
import ServiceRuntime

/// The fulfillment system's users service (#11): users and their API keys under `/users/api/` (openapi.yaml,
/// served at `/users/api/openapi.yaml`), in its own database. Keys are stored as SHA-256 hashes; the gateway asks
/// `POST /users/api/api-keys/verify`. Users emits no events: orders asks it over HTTP whether a user exists.
///
/// ```swift
/// let users = try await UsersComponent.make(database: database, logger: logger)
/// try users.addRoutes(to: router)   // behind ProblemMiddleware; run users.services beside the server
/// ```
public struct UsersComponent: Component {
    public let name = "users"
    public let summary = "fulfillment users: register, get, list; API keys (hashed, revocable, verified for the gateway) — under /users/api/"

    public let store: UsersStore
    /// The API document, served at `/users/api/openapi.yaml`.
    public let openAPIDocument: OpenAPIDocument
    private let backgroundServices: [any Service]

    /// Migrates `database` and builds the service. The component closes `database` when its services stop, unless
    /// `closesDatabase` is false (the caller owns it, as tests do).
    public static func make(
        database: Database,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        closesDatabase: Bool = true
    ) async throws -> UsersComponent {
        let store = UsersStore(database: database, now: now)
        try await store.prepare()
        return try UsersComponent(store: store, services: closesDatabase ? [CloseOnShutdown { try await database.shutdown() }] : [])
    }

    private init(store: UsersStore, services: [any Service]) throws {
        self.store = store
        self.backgroundServices = services
        self.openAPIDocument = try OpenAPIDocument(
            servedAt: "/users/api/openapi.yaml",
            contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        )
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        openAPIDocument.addRoute(to: router)
        try UsersAPI(store: store).registerHandlers(
            on: router,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
        )
    }

    /// What closes the database on shutdown (when the component owns it).
    public var services: [any Service] { backgroundServices }

    public func checkHealth() async throws {
        do {
            try await store.ping()
        } catch {
            throw HealthCheckFailure.databaseUnavailable(error)
        }
    }
}
