import Foundation
import HTTPTypes
import InterchangeCore
import Resilience

/// The one error ``ResilientHTTPClient`` throws: what failed, with everything needed to act on it.
///
/// Shaped like AsyncHTTPClient's `HTTPClientError`: match on ``code`` (new codes can be added without breaking
/// callers), read the context: the HTTP ``status``, the RFC 9457 ``problem`` the server sent, a ``bodyExcerpt``,
/// how many ``attempts`` were made and the last ``underlyingError``.
///
/// ```swift
/// do {
///     let user = try await client.get(url).decode(User.self)
/// } catch let error as HTTPIntegrationError where error.code == .unsuccessfulStatus && error.status == .notFound {
///     // no such user
/// }
/// ```
public struct HTTPIntegrationError: Error, CustomStringConvertible, RetryClassifiable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case unsuccessfulStatus = "unsuccessful status"
            case transport = "transport failure"
            case timeout
            case circuitOpen = "circuit open"
            case rateLimited = "rate limited by the client"
            case bulkheadFull = "too many concurrent requests"
            case responseTooLarge = "response too large"
            case invalidResponse = "invalid response"
            case invalidRequest = "invalid request"
            case authentication = "authentication failed"
            case pagination = "pagination failed"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The server answered with a status outside 2xx.
        public static let unsuccessfulStatus = Code(.unsuccessfulStatus)
        /// The connection failed, was reset or closed before the response was complete.
        public static let transport = Code(.transport)
        /// An attempt or the whole call exceeded its time limit.
        public static let timeout = Code(.timeout)
        /// The host's circuit breaker is open; no request was sent.
        public static let circuitOpen = Code(.circuitOpen)
        /// The client's own rate limiter for the host had no permit in time; no request was sent.
        public static let rateLimited = Code(.rateLimited)
        /// The host's bulkhead was full; no request was sent.
        public static let bulkheadFull = Code(.bulkheadFull)
        /// The body exceeded ``ResilientHTTPClient/Configuration/maxResponseBodySize``.
        public static let responseTooLarge = Code(.responseTooLarge)
        /// The response is not what was expected: wrong content type, malformed or mis-shaped JSON.
        public static let invalidResponse = Code(.invalidResponse)
        /// The request could not be built (bad URL, bad parameters).
        public static let invalidRequest = Code(.invalidRequest)
        /// Credentials could not be obtained (for example the OAuth token endpoint refused them).
        public static let authentication = Code(.authentication)
        /// A pagination link left the origin, looped, or exceeded the page limit.
        public static let pagination = Code(.pagination)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The request's method and URL, secrets redacted.
    public var request: RequestLine
    /// The response status, when a response arrived.
    public var status: HTTPResponse.Status?
    /// The response headers, when a response arrived (rate-limit headers, request ids).
    public var responseHeaders: HTTPFields?
    /// The RFC 9457 problem details the server sent, if any.
    public var problem: ProblemDetails?
    /// The start of the response body, for a human to read.
    public var bodyExcerpt: String?
    /// Requests sent to the origin for this call (0 when rejected before sending, or when served from cache).
    public var attempts: Int
    /// The last underlying error (transport error, timeout, decoding error).
    public var underlyingError: (any Error)?
    /// How long the server (or the client's own limiter) asked to wait before trying again.
    public var retryAfter: Duration?
    /// A sentence on what went wrong, beyond the code.
    public var reason: String?

    public init(
        code: Code,
        request: RequestLine,
        status: HTTPResponse.Status? = nil,
        responseHeaders: HTTPFields? = nil,
        problem: ProblemDetails? = nil,
        bodyExcerpt: String? = nil,
        attempts: Int = 0,
        underlyingError: (any Error)? = nil,
        retryAfter: Duration? = nil,
        reason: String? = nil
    ) {
        self.code = code
        self.request = request
        self.status = status
        self.responseHeaders = responseHeaders
        self.problem = problem
        self.bodyExcerpt = bodyExcerpt
        self.attempts = attempts
        self.underlyingError = underlyingError
        self.retryAfter = retryAfter
        self.reason = reason
    }

    public var isRetryable: Bool {
        switch code {
        case .transport, .timeout: true
        case .unsuccessfulStatus: status.map { ResilientHTTPClient.defaultRetryableStatuses.contains($0.code) } ?? false
        default: false
        }
    }

    public var description: String {
        var text = "\(request) failed"
        if attempts > 1 { text += " after \(attempts) attempts" }
        text += ": \(code)"
        if let status { text += " \(status.code) \(status.reasonPhrase)" }
        if let reason { text += " — \(reason)" }
        if let problem { text += " — problem: \(problem)" }
        if let retryAfter { text += " — retry after \(retryAfter)" }
        if let bodyExcerpt, problem == nil { text += " — body: \(bodyExcerpt.prefix(200))" }
        if let underlyingError { text += " — cause: \(underlyingError)" }
        return text
    }

    static func unsuccessfulStatus(_ response: ClientResponse) -> HTTPIntegrationError {
        HTTPIntegrationError(
            code: .unsuccessfulStatus,
            request: response.requestLine,
            status: response.status,
            responseHeaders: response.headerFields,
            problem: response.problem,
            bodyExcerpt: response.bodyExcerpt(),
            attempts: response.attempts,
            retryAfter: RetryAfter.parse(response.field(.retryAfter), now: Date())
        )
    }

    static func invalidResponse(_ response: ClientResponse, reason: String, cause: (any Error)? = nil) -> HTTPIntegrationError {
        HTTPIntegrationError(
            code: .invalidResponse,
            request: response.requestLine,
            status: response.status,
            responseHeaders: response.headerFields,
            bodyExcerpt: response.bodyExcerpt(),
            attempts: response.attempts,
            underlyingError: cause,
            reason: reason
        )
    }

    static func invalidRequest(method: HTTPRequest.Method, url: String, reason: String) -> HTTPIntegrationError {
        HTTPIntegrationError(code: .invalidRequest, request: RequestLine(method: method, url: Redaction.standard.redact(url: url)), reason: reason)
    }
}
