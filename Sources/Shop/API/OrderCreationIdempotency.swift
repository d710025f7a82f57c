import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Idempotency
import Persistence

/// `Idempotency-Key` handling for `POST /shop/api/orders` only, with the ``IdempotencyMiddleware``'s rules
/// (docs/idempotency.md): a retried creation with the same key answers the first order again.
///
/// The generated API registers all its routes together, so the middleware is mounted around all of them and steps
/// aside for every request but the order creation (the checkout call is made safe to repeat by the store instead).
///
/// **Scope.** Keys belong to a client: a request with `Authorization` is scoped by a SHA-256 of that credential
/// (never the credential itself, which would then sit in the database); the shop's own pages send none, and share
/// the anonymous scope — they make a random UUID key per order, so two buyers' keys do not meet.
struct OrderCreationIdempotency: RouterMiddleware {
    typealias Context = BasicRequestContext

    let idempotency: IdempotencyMiddleware<BasicRequestContext>

    static let path = "/shop/api/orders"

    init(database: Database, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.idempotency = try IdempotencyMiddleware(database: database, now: now) { request, _ in Self.scope(of: request) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.uri.path == Self.path else { return try await next(request, context) }
        return try await idempotency.handle(request, context: context) { request, context in
            var response = try await next(request, context)
            // swift-openapi-runtime writes header values percent-encoded (the "simple" style), which turns
            // `/shop/api/orders/ord_1` into `%2Fshop%2F…`; a Location is a URI reference and must stay one.
            if let location = response.headers[.location], let decoded = location.removingPercentEncoding, decoded != location {
                response.headers[.location] = decoded
            }
            return response
        }
    }

    /// The client a key belongs to.
    static func scope(of request: Request) -> String {
        guard let credential = request.headers[.authorization], !credential.isEmpty else { return "anonymous" }
        return "authorization:" + SHA256.hash(data: Array(credential.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
