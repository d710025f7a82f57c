import Foundation
import HTTPTypes
import InterchangeCore
import Synchronization

/// OAuth 2.0 client credentials (RFC 6749 §4.4): a token from the token endpoint, cached until shortly
/// before it expires, refreshed once however many requests need it at the same moment.
///
/// ```swift
/// let oauth = try OAuth2ClientCredentials(configuration: .init(
///     tokenURL: "https://auth.example.com/oauth/token",
///     clientID: "interchange",
///     clientSecret: secret,
///     scopes: ["orders:read"]
/// ))
/// let policy = HostPolicy(authentication: oauth)
/// ```
///
/// A `401` from the API discards the cached token, and the request is tried once more with a new one.
public final class OAuth2ClientCredentials: AuthenticationProvider {
    public struct Configuration: Sendable {
        public var tokenURL: String
        public var clientID: String
        public var clientSecret: String
        public var scopes: [String]
        /// Sent as `audience` when set (Auth0 and others require it).
        public var audience: String?
        /// How the client authenticates to the token endpoint.
        public var clientAuthentication: ClientAuthentication
        /// Refresh this long before the token expires (at most half its lifetime).
        public var refreshLeeway: Duration

        public enum ClientAuthentication: Sendable, Hashable {
            /// `Authorization: Basic` with the client id and secret (RFC 6749 §2.3.1, recommended).
            case basic
            /// `client_id` and `client_secret` in the form body.
            case requestBody
        }

        public init(
            tokenURL: String,
            clientID: String,
            clientSecret: String,
            scopes: [String] = [],
            audience: String? = nil,
            clientAuthentication: ClientAuthentication = .basic,
            refreshLeeway: Duration = .seconds(60)
        ) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scopes = scopes
            self.audience = audience
            self.clientAuthentication = clientAuthentication
            self.refreshLeeway = refreshLeeway
        }
    }

    /// An access token and when it stops being usable, on the client's monotonic clock.
    public struct Token: Sendable, Hashable {
        public let accessToken: String
        public let tokenType: String
        public let refreshAt: Duration
    }

    private enum State {
        case empty
        case valid(Token)
        case refreshing(waiters: [CheckedContinuation<Token, any Error>])
    }

    public let configuration: Configuration
    private let tokenURL: URL
    private let state = Mutex(State.empty)
    private let refreshes = Atomic(0)

    /// - Throws: ``ConfigurationError`` naming `tokenURL`, `clientID` or `refreshLeeway`.
    public init(configuration: Configuration) throws {
        guard let url = try? ClientRequest.validatedURL(configuration.tokenURL, method: .post) else {
            throw ConfigurationError(field: "tokenURL", reason: "must be an absolute http(s) URL (got '\(configuration.tokenURL)')")
        }
        try ConfigurationError.require(!configuration.clientID.isEmpty, field: "clientID", "must not be empty", got: "''")
        try ConfigurationError.require(
            configuration.refreshLeeway >= .zero,
            field: "refreshLeeway",
            "must not be negative",
            got: configuration.refreshLeeway
        )
        self.configuration = configuration
        self.tokenURL = url
    }

    /// Tokens fetched so far (for tests and metrics).
    public var tokenRequests: Int { refreshes.load(ordering: .relaxed) }

    public func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws {
        let token = try await currentToken(context: context)
        request.headerFields[.authorization] = "\(token.tokenType) \(token.accessToken)"
    }

    public func credentialsRejected(for request: ClientRequest) async -> Bool {
        let sent = request.headerFields[.authorization]
        state.withLock { state in
            // Discard the token only if it is the one that was rejected; a newer one may already be in place.
            if case .valid(let token) = state, sent == "\(token.tokenType) \(token.accessToken)" {
                state = .empty
            }
        }
        return sent != nil
    }

    private enum Next {
        case use(Token)
        case wait
        case refresh
    }

    func currentToken(context: AuthenticationContext) async throws -> Token {
        while true {
            let now = context.now()
            let next: Next = state.withLock { state in
                switch state {
                case .valid(let token) where now < token.refreshAt:
                    return .use(token)
                case .refreshing:
                    return .wait
                case .valid, .empty:
                    state = .refreshing(waiters: [])
                    return .refresh
                }
            }
            switch next {
            case .use(let token):
                return token
            case .wait:
                do {
                    return try await withCheckedThrowingContinuation { continuation in
                        let resumeNow: Token?? = state.withLock { state in
                            switch state {
                            case .refreshing(var waiters):
                                waiters.append(continuation)
                                state = .refreshing(waiters: waiters)
                                return .none
                            case .valid(let token):
                                return .some(token)
                            case .empty:
                                return .some(nil)
                            }
                        }
                        switch resumeNow {
                        case .none: break
                        case .some(.some(let token)): continuation.resume(returning: token)
                        case .some(.none): continuation.resume(throwing: RefreshAbandoned())
                        }
                    }
                } catch is RefreshAbandoned {
                    continue  // the refreshing caller was cancelled: try again, perhaps refreshing ourselves
                }
            case .refresh:
                do {
                    let token = try await fetchToken(context: context)
                    let waiters = finish(with: .valid(token))
                    for waiter in waiters { waiter.resume(returning: token) }
                    return token
                } catch {
                    let waiters = finish(with: .empty)
                    let shared: any Error = error is CancellationError ? RefreshAbandoned() : error
                    for waiter in waiters { waiter.resume(throwing: shared) }
                    throw error
                }
            }
        }
    }

    private func finish(with newState: State) -> [CheckedContinuation<Token, any Error>] {
        state.withLock { state in
            defer { state = newState }
            if case .refreshing(let waiters) = state { return waiters }
            return []
        }
    }

    private struct RefreshAbandoned: Error {}

    private struct TokenResponse: Decodable {
        let access_token: String
        let token_type: String?
        let expires_in: Double?
    }

    private struct TokenErrorResponse: Decodable {
        let error: String
        let error_description: String?
    }

    private func fetchToken(context: AuthenticationContext) async throws -> Token {
        refreshes.wrappingAdd(1, ordering: .relaxed)
        var request = ClientRequest(method: .post, url: tokenURL)
        request.headerFields[.accept] = "application/json"
        var form = [("grant_type", "client_credentials")]
        if !configuration.scopes.isEmpty { form.append(("scope", configuration.scopes.joined(separator: " "))) }
        if let audience = configuration.audience { form.append(("audience", audience)) }
        switch configuration.clientAuthentication {
        case .basic:
            let credentials = "\(ClientRequest.formEncode(configuration.clientID)):\(ClientRequest.formEncode(configuration.clientSecret))"
            request.headerFields[.authorization] = "Basic \(Data(credentials.utf8).base64EncodedString())"
        case .requestBody:
            form.append(("client_id", configuration.clientID))
            form.append(("client_secret", configuration.clientSecret))
        }
        request.setFormBody(form)
        // The token endpoint is safe to retry: a second token is harmless.
        request.options.idempotent = true
        let requestedAt = context.now()
        let response = try await context.send(request)
        guard response.isSuccess else {
            // Never echo the body: some servers reflect the submitted credentials.
            let oauthError = try? JSONDecoder().decode(TokenErrorResponse.self, from: response.body)
            throw HTTPIntegrationError(
                code: .authentication,
                request: response.requestLine,
                status: response.status,
                attempts: response.attempts,
                reason: oauthError.map { "token endpoint refused: \($0.error)\($0.error_description.map { " (\($0))" } ?? "")" }
                    ?? "token endpoint answered \(response.status.code)"
            )
        }
        let decoded: TokenResponse
        do {
            decoded = try JSONDecoder().decode(TokenResponse.self, from: response.body)
        } catch {
            throw HTTPIntegrationError(
                code: .authentication,
                request: response.requestLine,
                status: response.status,
                attempts: response.attempts,
                reason: "token response is not a valid OAuth 2.0 token response"
            )
        }
        let lifetime = Duration.fromSecondsValue(decoded.expires_in ?? 3600)
        let leeway = min(configuration.refreshLeeway, lifetime / 2)
        let type = decoded.token_type.map { $0.lowercased() == "bearer" ? "Bearer" : $0 } ?? "Bearer"
        return Token(accessToken: decoded.access_token, tokenType: type, refreshAt: requestedAt + lifetime - leeway)
    }
}

extension Duration {
    static func fromSecondsValue(_ seconds: Double) -> Duration {
        .milliseconds(Int64((max(0, seconds) * 1000).rounded()))
    }
}
