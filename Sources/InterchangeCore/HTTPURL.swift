import Foundation

/// The one check of an `http`/`https` URL that Interchange is given — by a caller (a request URL), by
/// configuration (an upstream's base URL), or by a user (a webhook endpoint): absolute, http or https, with a
/// host, and with a query, fragment or credentials only where the rules allow them.
///
/// ```swift
/// let base = try HTTPURL.parse("https://api.github.com", rules: .baseURL, field: "github.baseURL")
/// switch HTTPURL.check(userInput, rules: .request) { case .success(let checked): …; case .failure(let problem): … }
/// ```
public enum HTTPURL {
    /// What is allowed beyond scheme, host, port and path.
    public struct Rules: Sendable, Hashable {
        public var allowsQuery: Bool
        public var allowsFragment: Bool
        public var allowsCredentials: Bool

        public init(allowsQuery: Bool, allowsFragment: Bool, allowsCredentials: Bool) {
            self.allowsQuery = allowsQuery
            self.allowsFragment = allowsFragment
            self.allowsCredentials = allowsCredentials
        }

        /// A URL to send a request to: anything an http(s) URL may hold.
        public static let request = Rules(allowsQuery: true, allowsFragment: true, allowsCredentials: true)
        /// A base URL that paths are appended to: no query or fragment.
        public static let baseURL = Rules(allowsQuery: false, allowsFragment: false, allowsCredentials: true)
        /// A URL someone else will be sent to (a webhook endpoint): no credentials in it.
        public static let target = Rules(allowsQuery: true, allowsFragment: true, allowsCredentials: false)
    }

    /// Why a string is not an acceptable URL.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notAbsolute
        case scheme(String)
        case noHost
        case query
        case fragment
        case credentials

        public var description: String {
            switch self {
            case .notAbsolute: "is not an absolute URL"
            case .scheme(let scheme): "must be http or https, not '\(scheme)'"
            case .noHost: "has no host"
            case .query: "must not have a query"
            case .fragment: "must not have a fragment"
            case .credentials: "must not contain a user name or password"
            }
        }
    }

    /// A URL that passed the check, and its host (percent-decoded, as Foundation gives it).
    public struct Checked: Sendable, Hashable {
        public var url: URL
        public var host: String
    }

    /// Checks `string` against `rules`.
    public static func check(_ string: String, rules: Rules) -> Result<Checked, Problem> {
        guard let url = URL(string: string), let scheme = url.scheme?.lowercased() else { return .failure(.notAbsolute) }
        guard scheme == "http" || scheme == "https" else { return .failure(.scheme(scheme)) }
        guard let host = url.host, !host.isEmpty else { return .failure(.noHost) }
        if !rules.allowsQuery, url.query != nil { return .failure(.query) }
        if !rules.allowsFragment, url.fragment != nil { return .failure(.fragment) }
        if !rules.allowsCredentials, url.user != nil || url.password != nil { return .failure(.credentials) }
        return .success(Checked(url: url, host: host))
    }

    /// Checks `string` against `rules`, throwing a ``ConfigurationError`` that names `field` (and where the value
    /// came from) and shows the value.
    public static func parse(_ string: String, rules: Rules, field: String, source: String? = nil) throws -> URL {
        switch check(string, rules: rules) {
        case .success(let checked):
            return checked.url
        case .failure(let problem):
            throw ConfigurationError(field: field, reason: "'\(string.prefix(200))' \(problem)", source: source)
        }
    }
}
