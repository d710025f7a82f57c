/// Adds the host's credentials to each attempt, and tries once more with fresh credentials after a `401`
/// when the provider says that may help (a revoked OAuth token).
struct AuthenticationMiddleware: ClientMiddleware {
    func handle(_ request: ClientRequest, context: ClientContext, next: @escaping ClientNext) async throws -> ClientResponse {
        guard !request.options.skipAuthentication, let provider = context.policy.authentication else {
            return try await next(request, context)
        }
        let client = context.client
        let logger = context.logger
        let authContext = AuthenticationContext(
            sendWithoutAuthentication: { tokenRequest in
                var tokenRequest = tokenRequest
                tokenRequest.options.skipAuthentication = true
                return try await client.send(tokenRequest, logger: logger)
            },
            now: { client.clock.now }
        )
        var authenticated = request
        try await provider.authenticate(&authenticated, context: authContext)
        let response = try await next(authenticated, context)
        guard response.status == .unauthorized, await provider.credentialsRejected(for: authenticated) else {
            return response
        }
        var again = request
        try await provider.authenticate(&again, context: authContext)
        return try await next(again, context)
    }
}
