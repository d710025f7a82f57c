import Logging
import Synchronization

/// The rest of the pipeline, as seen by a middleware.
public typealias ClientNext = @Sendable (ClientRequest, ClientContext) async throws -> ClientResponse

/// One step of the client's pipeline: inspect or change the request, call `next`, inspect or change the response.
///
/// Shaped like Hummingbird's `MiddlewareProtocol`: one method, composable. Custom middlewares
/// (``ResilientHTTPClient/Configuration/middlewares``) run once per attempt, just before authentication,
/// so a request signer sees each attempt's final headers.
///
/// ```swift
/// struct RequestIDMiddleware: ClientMiddleware {
///     func handle(_ request: ClientRequest, context: ClientContext, next: ClientNext) async throws -> ClientResponse {
///         var request = request
///         request.headerFields[HTTPField.Name("X-Request-ID")!] = UUID().uuidString
///         return try await next(request, context)
///     }
/// }
/// ```
public protocol ClientMiddleware: Sendable {
    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse
}

/// What a middleware knows about the call it is part of.
public struct ClientContext: Sendable {
    /// The logger for this call.
    public var logger: Logger
    let resources: HostResources
    /// The policy in force for the request's host (with the request's overrides not yet applied).
    public var policy: HostPolicy { resources.policy }
    /// The key the host's policy and state are kept under.
    public var policyKey: String { resources.key }
    /// What the user calls the dependency (``HostPolicy/name``, the client's name, or the policy key).
    public var upstreamName: String { resources.name }
    let attempts: AttemptCounter
    let client: ResilientHTTPClient
    /// When the current attempt must be done (on the client's clock), and the limit that set it.
    var deadline: (instant: Duration, limit: Duration)?

    /// Requests sent to the origin so far in this call.
    public var attemptsSoFar: Int { attempts.value }
}

/// Counts the requests a call actually sends, across retries.
final class AttemptCounter: Sendable {
    private let count = Atomic(0)
    func increment() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Runs `middlewares` in order around `terminal`.
func chain(_ middlewares: [any ClientMiddleware], terminal: @escaping ClientNext) -> ClientNext {
    var next = terminal
    for middleware in middlewares.reversed() {
        let inner = next
        next = { request, context in try await middleware.handle(request, context: context, next: inner) }
    }
    return next
}
