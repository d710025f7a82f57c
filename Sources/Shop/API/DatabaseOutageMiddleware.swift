import Hummingbird
import OpenAPIRuntime
import ServiceRuntime

/// Turns a request that failed because the shop's database is gone into a `503` problem with `Retry-After`,
/// instead of the anonymous `500` every unexpected error gets.
///
/// An error that is already a problem (validation, not found, Stripe unavailable, …) passes through untouched.
/// For any other error the middleware pings the database (``ShopStore/ping()``, as ``ShopComponent/checkHealth()`` does):
/// only when that fails too is the answer "database unavailable" — so a bug stays a `500` with its request id,
/// and nothing about the database (its URL, its error) reaches the client.
///
/// ```swift
/// let api = router.group().add(middleware: DatabaseOutageMiddleware(store: store)).add(middleware: idempotency)
/// ```
struct DatabaseOutageMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let store: ShopStore

    /// How long clients are asked to wait before trying again.
    static let retryAfter = Duration.seconds(5)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard !Self.isAnswered(error), (try? await store.ping()) == nil else { throw error }
            context.logger.warning("the shop's database is unavailable", metadata: ["error": "\(String(reflecting: error))"])
            throw ProblemError.upstream(
                status: 503,
                title: "Database unavailable",
                detail: "the shop's database does not answer; try again later",
                upstream: "database",
                retryAfter: Self.retryAfter
            )
        }
    }

    /// Errors that already say what is wrong (or that the client caused): never a database outage.
    static func isAnswered(_ error: any Error) -> Bool {
        switch error {
        case is ProblemError, is HTTPError, is CancellationError: return true
        case let error as ServerError: return error.underlyingError is ProblemError || error.httpStatus.kind == .clientError
        default: return false
        }
    }
}
