import Crypto
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Requires `Authorization: Bearer <token>` on every admin operation, compared in constant time.
///
/// A missing or wrong token gets `401` with `WWW-Authenticate: Bearer` and a problem body; the token is never
/// logged or echoed.
struct AdminTokenMiddleware: ServerMiddleware {
    private let expected: SymmetricKey

    init(token: String) {
        expected = SymmetricKey(data: Data(token.utf8))
    }

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let header = request.headerFields[.authorization], header.lowercased().hasPrefix("bearer "), matches(String(header.dropFirst(7))) else {
            var response = HTTPResponse(status: .unauthorized)
            response.headerFields[.wwwAuthenticate] = #"Bearer realm="interchange-admin""#
            response.headerFields[.contentType] = "application/problem+json"
            let problem =
                #"{"type":"https://interchange.dev/problems/unauthorized","title":"Unauthorized","status":401,"detail":"send Authorization: Bearer <admin token>"}"#
            return (response, HTTPBody(problem))
        }
        return try await next(request, body, metadata)
    }

    /// Compares HMACs of the candidate and the expected token under a fixed key: constant time whatever the lengths.
    private func matches(_ candidate: String) -> Bool {
        let key = SymmetricKey(data: Data("interchange-admin-token-comparison".utf8))
        let wanted = HMAC<SHA256>.authenticationCode(for: expected.withUnsafeBytes { Data($0) }, using: key)
        return HMAC<SHA256>.isValidAuthenticationCode(wanted, authenticating: Data(candidate.utf8), using: key)
    }
}
