import Foundation
import HTTPTypes

/// Gives POST and PATCH requests an `Idempotency-Key` when the host's policy asks for one.
///
/// Runs outside the retry loop, so every attempt of a call carries the same key and the server can
/// recognise a retry of a request it already processed (Stripe's semantics).
struct IdempotencyKeyMiddleware: ClientMiddleware {
    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        guard context.policy.generateIdempotencyKeys, request.method == .post || request.method == .patch,
            request.headerFields[.idempotencyKey] == nil
        else {
            return try await next(request, context)
        }
        var keyed = request
        keyed.headerFields[.idempotencyKey] = UUID().uuidString.lowercased()
        return try await next(keyed, context)
    }
}
