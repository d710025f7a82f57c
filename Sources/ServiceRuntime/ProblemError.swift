import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore

/// An error that becomes an RFC 9457 problem+json response.
///
/// Throw it from any handler; ``ProblemMiddleware`` renders it. The helpers cover what every API needs:
///
/// ```swift
/// guard let city = request.uri.queryParameters["city"], !city.isEmpty else {
///     throw ProblemError.invalidParameter("city", "must not be empty")
/// }
/// ```
public struct ProblemError: Error, HTTPResponseError, CustomStringConvertible {
    public var problem: ProblemDetails
    public var headers: HTTPFields

    public init(_ problem: ProblemDetails, headers: HTTPFields = [:]) {
        self.problem = problem
        self.headers = headers
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: problem.status) }

    public var description: String { problem.description }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = problem
        if problem.instance == nil { problem.instance = request.uri.path }
        var headers = self.headers
        headers[.contentType] = ProblemDetails.mediaType
        let body = try JSONEncoder.problem.encode(problem)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The base of Interchange's problem type URIs.
    public static let typeBase = "https://interchange.dev/problems/"

    /// `400`: a query or path parameter is missing or invalid.
    public static func invalidParameter(_ name: String, _ detail: String) -> ProblemError {
        ProblemError(
            ProblemDetails(
                status: 400,
                title: "Invalid parameter",
                detail: "\(name): \(detail)",
                type: typeBase + "invalid-parameter",
                extensions: ["parameter": .string(name)]
            )
        )
    }

    /// `400`/`422`: the request body is malformed or a field in it is invalid.
    public static func invalidBody(_ detail: String, field: String? = nil, status: Int = 400) -> ProblemError {
        ProblemError(
            ProblemDetails(
                status: status,
                title: "Invalid request body",
                detail: field.map { "\($0): \(detail)" } ?? detail,
                type: typeBase + "invalid-body",
                extensions: field.map { ["field": .string($0)] } ?? [:]
            )
        )
    }

    /// `404`: the resource does not exist.
    public static func notFound(_ detail: String) -> ProblemError {
        ProblemError(ProblemDetails(status: 404, title: "Not Found", detail: detail, type: typeBase + "not-found"))
    }

    /// `502`/`503`/`504`: an upstream dependency failed; `retryAfter` becomes a `Retry-After` header.
    public static func upstream(status: Int, title: String, detail: String, upstream: String, retryAfter: Duration? = nil) -> ProblemError {
        var headers = HTTPFields()
        var extensions: [String: JSONValue] = ["upstream": .string(upstream)]
        if let retryAfter {
            let seconds = retryAfter.wholeSecondsRoundedUp(minimum: 1)
            headers[.retryAfter] = "\(seconds)"
            extensions["retryAfterSeconds"] = .number(Double(seconds))
        }
        return ProblemError(
            ProblemDetails(status: status, title: title, detail: detail, type: typeBase + "upstream-failure", extensions: extensions),
            headers: headers
        )
    }
}

extension JSONEncoder {
    /// Stable, readable JSON for problem bodies.
    static let problem: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
