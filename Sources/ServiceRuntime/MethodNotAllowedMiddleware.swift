import HTTPTypes
import Hummingbird

/// Answers `405 Method Not Allowed` with an `Allow` header (RFC 9110 §15.5.6) for a path the router knows asked
/// with a method it has no route for; Hummingbird's router alone answers `404` there.
///
/// It is the router's fallback, so it costs nothing on a matched route: add it with
/// ``Hummingbird/Router/addMethodNotAllowedResponses()`` once, after the last route. The error it throws is an
/// `HTTPError`, which ``ProblemMiddleware`` renders as problem+json keeping the `Allow` header.
///
/// ```swift
/// router.add(middleware: ProblemMiddleware())
/// router.get("/orders") { _, _ in "…" }
/// router.addMethodNotAllowedResponses()   // DELETE /orders → 405, Allow: GET
/// ```
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Route: Sendable {
        var path: RouterPath
        var method: HTTPRequest.Method
    }

    private let routes: [Route]

    /// - Parameter routes: the routes the router has (``Hummingbird/Router/routes``).
    public init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { Route(path: $0.path, method: $0.method) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(for: request.uri.path)
            // A route that exists for this method answered 404 itself: that answer stands.
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            throw HTTPError(
                .methodNotAllowed,
                headers: [.allow: list],
                message: "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(list)"
            )
        }
    }

    /// The methods routed for `path`, in a stable order.
    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: [HTTPRequest.Method] = []
        for route in routes where !methods.contains(route.method) && Self.matches(route.path, segments) {
            methods.append(route.method)
        }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }

    /// Whether `segments` fit `pattern` element by element, the way the router's trie matches them.
    static func matches(_ pattern: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in pattern.components {
            if element == .recursiveWildcard { return index < segments.count }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}

extension Router {
    /// From now on, a request for a known path with a method it has no route for gets `405` and `Allow` instead
    /// of `404`. Call once, after the last route is added (the middleware sees the routes that exist then).
    public func addMethodNotAllowedResponses() {
        add(middleware: MethodNotAllowedMiddleware<Context>(routes: routes))
    }
}
