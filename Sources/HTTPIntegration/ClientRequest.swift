import Foundation
import HTTPTypes
import InterchangeCore
import NIOCore

/// An HTTP request with a buffered (and so replayable) body.
///
/// ```swift
/// var request = try ClientRequest(method: .post, url: "https://api.example.com/v1/orders")
/// try request.setJSONBody(NewOrder(sku: "A-1", quantity: 2))
/// request.options.attemptTimeout = .seconds(2)
/// ```
public struct ClientRequest: Sendable {
    public var method: HTTPRequest.Method
    public var url: URL {
        didSet { authority = Self.authority(of: url) }
    }
    /// `host:port` (the host lowercased; no port when the URL has none): the key under which per-host policies
    /// and their state are kept. Worked out once per URL, since every call looks it up.
    public private(set) var authority: String
    public var headerFields: HTTPFields
    public var body: ByteBuffer?
    public var options: RequestOptions

    public init(
        method: HTTPRequest.Method = .get,
        url: URL,
        headerFields: HTTPFields = [:],
        body: ByteBuffer? = nil,
        options: RequestOptions = RequestOptions()
    ) {
        self.method = method
        self.url = url
        self.authority = Self.authority(of: url)
        self.headerFields = headerFields
        self.body = body
        self.options = options
    }

    /// A request to `url`, which must be an absolute `http` or `https` URL.
    ///
    /// - Throws: ``HTTPIntegrationError`` with code ``HTTPIntegrationError/Code/invalidRequest`` naming the problem.
    public init(
        method: HTTPRequest.Method = .get,
        url: String,
        headerFields: HTTPFields = [:],
        body: ByteBuffer? = nil,
        options: RequestOptions = RequestOptions()
    ) throws {
        let (url, host) = try Self.validated(url, method: method)
        self.method = method
        self.url = url
        self.authority = Self.authority(host: host, port: url.port)
        self.headerFields = headerFields
        self.body = body
        self.options = options
    }

    /// Encodes `value` as the JSON body and sets `Content-Type: application/json`.
    public mutating func setJSONBody(_ value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws {
        body = ByteBuffer(bytes: try encoder.encode(value))
        headerFields[.contentType] = "application/json"
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    public mutating func setFormBody(_ parameters: [(String, String)]) {
        let encoded = parameters.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        body = ByteBuffer(string: encoded)
        headerFields[.contentType] = "application/x-www-form-urlencoded"
    }

    static func authority(of url: URL) -> String {
        authority(host: url.host ?? "", port: url.port)
    }

    static func authority(host: String, port: Int?) -> String {
        var host = host
        if host.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) { host = host.lowercased() }
        guard let port else { return host }
        return "\(host):\(port)"
    }

    /// Whether repeating this request cannot cause a second effect: an idempotent method (RFC 9110 §9.2.2),
    /// an `Idempotency-Key` header, or ``RequestOptions/idempotent`` set by the caller.
    public var isRetrySafe: Bool {
        if let override = options.idempotent { return override }
        switch method {
        case .get, .head, .options, .trace, .put, .delete: return true
        default: return headerFields[HTTPField.Name.idempotencyKey] != nil
        }
    }

    static func validatedURL(_ string: String, method: HTTPRequest.Method) throws -> URL {
        try validated(string, method: method).url
    }

    /// The URL and its (percent-decoded) host, when `string` is an absolute http(s) URL with a host.
    static func validated(_ string: String, method: HTTPRequest.Method) throws -> (url: URL, host: String) {
        switch HTTPURL.check(string, rules: .request) {
        case .success(let checked):
            return (checked.url, checked.host)
        case .failure(let problem):
            throw HTTPIntegrationError.invalidRequest(method: method, url: string, reason: "the URL \(problem)")
        }
    }

    static func formEncode(_ string: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return string.addingPercentEncoding(withAllowedCharacters: allowed) ?? string
    }
}

/// Per-request overrides of the host policy.
public struct RequestOptions: Sendable {
    /// Limit for each attempt; overrides ``HostPolicy/attemptTimeout``.
    public var attemptTimeout: Duration?
    /// Limit for the whole call including retries; overrides ``HostPolicy/totalTimeout``.
    public var totalTimeout: Duration?
    /// Attempts including the first; overrides the host's retry policy (`1` disables retries).
    public var maxAttempts: Int?
    /// Declares the request safe (or unsafe) to repeat, overriding the method-based rule.
    public var idempotent: Bool?
    /// How the response cache is used.
    public var cache: CacheMode

    public init(
        attemptTimeout: Duration? = nil,
        totalTimeout: Duration? = nil,
        maxAttempts: Int? = nil,
        idempotent: Bool? = nil,
        cache: CacheMode = .useCache
    ) {
        self.attemptTimeout = attemptTimeout
        self.totalTimeout = totalTimeout
        self.maxAttempts = maxAttempts
        self.idempotent = idempotent
        self.cache = cache
    }

    /// Whether a request may be answered from, or stored in, the ``HTTPCache``.
    public enum CacheMode: Sendable, Hashable {
        /// Serve fresh entries, revalidate stale ones, store cacheable responses.
        case useCache
        /// Go to the origin, then store the response.
        case reload
        /// Neither read nor write the cache.
        case bypass
    }

    /// Set internally so an authentication provider's own requests (token endpoints) skip authentication.
    var skipAuthentication = false
}

extension HTTPField.Name {
    /// `Idempotency-Key` (IETF draft-ietf-httpapi-idempotency-key-header, as used by Stripe).
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// `Link` (RFC 8288).
    public static let link = HTTPField.Name("Link")!
}
