import Foundation
import HTTPTypes

/// Adds credentials to requests for a host.
///
/// Built in: ``APIKeyAuthentication`` (header or query), ``BearerAuthentication`` (static or provided token),
/// ``BasicAuthentication`` and ``OAuth2ClientCredentials`` (token cached, refreshed before expiry, one refresh
/// for any number of concurrent callers).
public protocol AuthenticationProvider: Sendable {
    /// Adds credentials to a request about to be sent; `context` can send requests of its own (to a token endpoint).
    func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws

    /// The server answered `401` to `request`; return `true` when fresh credentials make one more attempt worthwhile
    /// (for example after discarding a revoked token).
    func credentialsRejected(for request: ClientRequest) async -> Bool

    /// Query parameters that carry this provider's secrets, so logs and errors redact them.
    var secretQueryParameters: [String] { get }
}

extension AuthenticationProvider {
    public func credentialsRejected(for request: ClientRequest) async -> Bool { false }
    public var secretQueryParameters: [String] { [] }
}

/// What an ``AuthenticationProvider`` may use while authenticating.
public struct AuthenticationContext: Sendable {
    let sendWithoutAuthentication: @Sendable (ClientRequest) async throws -> ClientResponse
    /// Monotonic now, from the client's clock.
    public let now: @Sendable () -> Duration

    /// Sends `request` through the client's pipeline without authenticating it (token endpoints).
    public func send(_ request: ClientRequest) async throws -> ClientResponse {
        try await sendWithoutAuthentication(request)
    }
}

/// An API key in a header (`X-API-Key: …`) or a query parameter (`?appid=…`).
public struct APIKeyAuthentication: AuthenticationProvider {
    public enum Placement: Sendable, Hashable {
        case header(String)
        case query(String)
    }

    public let key: String
    public let placement: Placement

    public init(key: String, placement: Placement) {
        self.key = key
        self.placement = placement
    }

    public func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws {
        switch placement {
        case .header(let name):
            guard let field = HTTPField.Name(name) else { return }
            request.headerFields[field] = key
        case .query(let name):
            request.url = request.url.settingQueryItem(name, to: key)
        }
    }

    public var secretQueryParameters: [String] {
        if case .query(let name) = placement { return [name] }
        return []
    }
}

/// `Authorization: Bearer <token>`, with a fixed token or one fetched per request.
public struct BearerAuthentication: AuthenticationProvider {
    private let token: @Sendable () async throws -> String

    public init(token: String) {
        self.token = { token }
    }

    public init(tokenProvider: @escaping @Sendable () async throws -> String) {
        self.token = tokenProvider
    }

    public func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws {
        request.headerFields[.authorization] = "Bearer \(try await token())"
    }
}

/// `Authorization: Basic base64(user:password)` (RFC 7617).
public struct BasicAuthentication: AuthenticationProvider {
    private let encoded: String

    public init(username: String, password: String) {
        encoded = Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public func authenticate(_ request: inout ClientRequest, context: AuthenticationContext) async throws {
        request.headerFields[.authorization] = "Basic \(encoded)"
    }
}

extension AuthenticationProvider where Self == APIKeyAuthentication {
    /// An API key in the header `name`.
    public static func apiKey(_ key: String, header name: String) -> APIKeyAuthentication {
        APIKeyAuthentication(key: key, placement: .header(name))
    }

    /// An API key in the query parameter `name`.
    public static func apiKey(_ key: String, query name: String) -> APIKeyAuthentication {
        APIKeyAuthentication(key: key, placement: .query(name))
    }
}

extension AuthenticationProvider where Self == BearerAuthentication {
    /// A fixed bearer token.
    public static func bearer(_ token: String) -> BearerAuthentication { BearerAuthentication(token: token) }
}

extension AuthenticationProvider where Self == BasicAuthentication {
    /// HTTP Basic credentials.
    public static func basic(username: String, password: String) -> BasicAuthentication {
        BasicAuthentication(username: username, password: password)
    }
}

extension URL {
    /// This URL with the query parameter `name` set to `value` (replacing any existing value).
    public func settingQueryItem(_ name: String, to value: String) -> URL {
        guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false) else { return self }
        var items = components.queryItems ?? []
        items.removeAll { $0.name == name }
        items.append(URLQueryItem(name: name, value: value))
        components.queryItems = items
        // URLComponents leaves "+" unescaped in queries; servers read it as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.url ?? self
    }
}
