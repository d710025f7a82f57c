import Foundation
import HTTPTypes
import InterchangeCore
import Resilience
import Synchronization

/// OAuth 2.0 client credentials (RFC 6749 §4.4): a token from the token endpoint, cached until shortly
/// before it expires, refreshed once however many requests need it at the same moment (a ``SingleFlightCache``
/// whose freshness is the token's own `expires_in`; a refused refresh fails every request waiting for it).
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

    public let configuration: Configuration
    private let tokenURL: URL
    /// One entry: the current token. The cache's own clock only ages it; `Token.refreshAt` decides freshness.
    private let tokens: SingleFlightCache<TokenSlot, Token>
    private let refreshes = Atomic(0)

    private enum TokenSlot: Hashable, Sendable { case current }

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
        // The TTL is unused: tokens are looked up with `freshWhile`, by their own expiry.
        self.tokens = try SingleFlightCache(ttl: .seconds(3600), maxEntries: 1)
    }

    /// Tokens fetched so far (for tests and metrics).
    public var tokenRequests: Int { refreshes.load(ordering: .relaxed) }

    public func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws {
        let token = try await currentToken(context: context)
        request.headerFields[.authorization] = "\(token.tokenType) \(token.accessToken)"
    }

    public func credentialsRejected(for request: ClientRequest) async -> Bool {
        let sent = request.headerFields[.authorization]
        // Discard the token only if it is the one that was rejected; a newer one may already be in place.
        tokens.invalidate(.current, if: { sent == "\($0.tokenType) \($0.accessToken)" })
        return sent != nil
    }

    /// Callers waiting now for a token refresh in flight (for tests).
    var callersWaitingForToken: Int { tokens.waitingCallers(for: .current) }

    func currentToken(context: AuthenticationContext) async throws -> Token {
        try await tokens.value(
            for: .current,
            freshWhile: { context.now() < $0.refreshAt },
            load: { try await self.fetchToken(context: context) }
        ).value
    }

    private struct TokenResponse: Decodable {
        let accessToken: String
        let tokenType: String?
        /// Seconds; a JSON number, or a string holding one (as some providers send it).
        let expiresIn: Double?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try container.decode(String.self, forKey: .accessToken)
            tokenType = try container.decodeIfPresent(String.self, forKey: .tokenType)
            if let seconds = try? container.decodeIfPresent(Double.self, forKey: .expiresIn) {
                expiresIn = seconds
            } else if let text = try? container.decodeIfPresent(String.self, forKey: .expiresIn) {
                guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite else {
                    throw UnusableExpiry(value: "'\(text.prefix(40))'")
                }
                expiresIn = seconds
            } else if container.contains(.expiresIn), try !container.decodeNil(forKey: .expiresIn) {
                throw UnusableExpiry(value: "of the wrong type")
            } else {
                expiresIn = nil
            }
        }
    }

    /// `expires_in` is neither a number nor a string holding one.
    private struct UnusableExpiry: Error {
        var value: String
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
                reason: (error as? UnusableExpiry).map { "token response has expires_in \($0.value), which is not a number of seconds" }
                    ?? "token response is not a valid OAuth 2.0 token response"
            )
        }
        let lifetime = Duration.fromSecondsValue(decoded.expiresIn ?? 3600)
        let leeway = min(configuration.refreshLeeway, lifetime / 2)
        let type = decoded.tokenType.map { $0.lowercased() == "bearer" ? "Bearer" : $0 } ?? "Bearer"
        return Token(accessToken: decoded.accessToken, tokenType: type, refreshAt: requestedAt + lifetime - leeway)
    }
}

extension Duration {
    static func fromSecondsValue(_ seconds: Double) -> Duration {
        .milliseconds(Int64((max(0, seconds) * 1000).rounded()))
    }
}
