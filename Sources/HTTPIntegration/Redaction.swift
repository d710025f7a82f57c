import Foundation

/// Removes secrets from what is logged and put into errors: credentials in query strings and user-info.
///
/// Headers are never logged at all, so only URLs need redacting. Query parameters are matched
/// case-insensitively; authentication providers add the names they use (an API key in `appid`, say).
public struct Redaction: Sendable, Hashable {
    /// Query parameter names whose values are replaced by `REDACTED`.
    public var secretQueryParameters: Set<String>

    public init(secretQueryParameters: Set<String>) {
        self.secretQueryParameters = Set(secretQueryParameters.map { $0.lowercased() })
    }

    /// The names APIs commonly use for credentials.
    public static let standard = Redaction(secretQueryParameters: [
        "access_token", "api_key", "apikey", "api-key", "appid", "auth", "client_secret", "code", "key",
        "password", "refresh_token", "secret", "sig", "signature", "token", "x-amz-signature",
    ])

    /// `self` plus `names`.
    public func adding(_ names: some Sequence<String>) -> Redaction {
        Redaction(secretQueryParameters: secretQueryParameters.union(names.map { $0.lowercased() }))
    }

    /// `url` with secret query values and any user-info replaced.
    public func redact(url: URL) -> String {
        redact(url: url.absoluteString)
    }

    /// `url` with secret query values and any user-info replaced.
    public func redact(url string: String) -> String {
        guard var components = URLComponents(string: string) else { return "<unparseable URL>" }
        if components.user != nil || components.password != nil {
            components.user = "REDACTED"
            components.password = nil
        }
        if let items = components.percentEncodedQueryItems, !items.isEmpty {
            components.percentEncodedQueryItems = items.map { item in
                secretQueryParameters.contains(item.name.lowercased()) && item.value != nil
                    ? URLQueryItem(name: item.name, value: "REDACTED") : item
            }
        }
        return components.string ?? "<unparseable URL>"
    }
}
