import Hummingbird
import Logging
import ServiceLifecycle

/// A part of Interchange that can run inside `interchange up` or alone under `interchange serve <name>`:
/// a simulator, a reference system's service, the webhook delivery engine.
///
/// A component adds its routes under its path prefix and may run background services (delivery workers,
/// relays). Components talk to each other only over HTTP and events, never through memory, so the same
/// component runs unchanged in one process or many.
public protocol Component: Sendable {
    /// The name used by `interchange serve <name>` and in `/health`.
    var name: String { get }
    /// One line for the landing page and `interchange serve --help`.
    var summary: String { get }
    /// Adds the component's routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) throws
    /// Long-running work to run beside the HTTP server (empty by default).
    var services: [any Service] { get }
    /// Whether the component can do its job now (its database reachable, say). Throw to report why not.
    func checkHealth() async throws
    /// `GET` answers the server may replay for a moment, ahead of its middleware stack (nil by default).
    var microCache: MicroCachePolicy? { get }
}

extension Component {
    public var services: [any Service] { [] }
    public func checkHealth() async throws {}
    public var microCache: MicroCachePolicy? { nil }
}

/// A component that serves the site root (`/`) under `interchange up`, replacing the landing page there.
public protocol RootServingComponent: Component {}
