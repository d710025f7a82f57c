import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore
import Logging
import OpenAPIRuntime

/// Turns every error a handler throws into an RFC 9457 problem+json response, and refuses bodies over a limit.
///
/// - ``ProblemError`` → its problem;
/// - Hummingbird's `HTTPError` (unknown route, wrong method, body too large) → a problem with its status and message;
/// - a `DecodingError` (a malformed JSON body) → `400` naming the field;
/// - anything else → `500` with a request id and no internals (the error is logged, not sent).
///
/// ```swift
/// let router = Router()
/// router.add(middleware: ProblemMiddleware(maxBodySize: 1_048_576))
/// ```
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Requests announcing a larger body get `413` before the handler runs.
    public let maxBodySize: Int

    public init(maxBodySize: Int = 1024 * 1024) {
        self.maxBodySize = maxBodySize
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodySize {
            return try Self.render(
                ProblemDetails(
                    status: 413,
                    title: "Content Too Large",
                    detail: "request body of \(length) bytes exceeds the limit of \(maxBodySize) bytes",
                    type: ProblemError.typeBase + "body-too-large",
                    extensions: ["maxBodySize": .number(Double(maxBodySize))]
                ),
                request: request,
                context: context
            )
        }
        do {
            return try await next(request, context)
        } catch let error as ProblemError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            var problem = ProblemDetails(status: error.status.code, title: error.status.reasonPhrase, detail: error.body)
            if error.status == .notFound && error.body == nil {
                problem.detail = "no route for \(request.method.rawValue) \(request.uri.path)"
            }
            return try ProblemError(problem, headers: error.headers).response(from: request, context: context)
        } catch let error as ServerError {
            // An OpenAPI-generated handler wraps what failed; answer for the underlying error.
            if let problem = error.underlyingError as? ProblemError { return try problem.response(from: request, context: context) }
            if let decoding = error.underlyingError as? DecodingError {
                return try ProblemError.invalidBody(Self.describe(decoding), field: Self.field(decoding)).response(from: request, context: context)
            }
            guard error.httpStatus.kind == .clientError else {
                return try internalError(error.underlyingError, request: request, context: context)
            }
            let problem = ProblemDetails(status: error.httpStatus.code, title: error.httpStatus.reasonPhrase, detail: "\(error.underlyingError)")
            return try ProblemError(problem, headers: error.httpHeaderFields).response(from: request, context: context)
        } catch let error as DecodingError {
            return try ProblemError.invalidBody(Self.describe(error), field: Self.field(error)).response(from: request, context: context)
        } catch let error as HTTPResponseError {
            let problem = ProblemDetails(status: error.status.code, title: error.status.reasonPhrase, detail: "\(error)")
            return try ProblemError(problem).response(from: request, context: context)
        } catch {
            return try internalError(error, request: request, context: context)
        }
    }

    /// A `500` that names a request id to quote, and logs the error (never sends it).
    private func internalError(_ error: any Error, request: Request, context: Context) throws -> Response {
        let requestID = context.id
        context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "request_id": "\(requestID)"])
        let problem = ProblemDetails(
            status: 500,
            title: "Internal Server Error",
            detail: "the server failed to handle the request; quote request id \(requestID) when reporting it",
            extensions: ["requestId": .string(requestID)]
        )
        return try ProblemError(problem).response(from: request, context: context)
    }

    static func render(_ problem: ProblemDetails, request: Request, context: Context) throws -> Response {
        try ProblemError(problem).response(from: request, context: context)
    }

    static func field(_ error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: return nil
        }
        guard !path.isEmpty else { return nil }
        return path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "is required"
        case .typeMismatch(let type, _): "must be of type \(type)"
        case .valueNotFound(let type, _): "must not be null (expected \(type))"
        case .dataCorrupted(let context):
            // Foundation's syntax error says so (with no underlying error on Linux); any other refusal at the top (an
            // unknown property, a parameter no type accepts) says what it refused.
            if context.codingPath.isEmpty {
                context.underlyingError != nil || context.debugDescription.contains("not valid JSON")
                    ? "body is not valid JSON" : context.debugDescription
            } else {
                "has an invalid value: \(context.debugDescription)"
            }
        @unknown default: "is invalid"
        }
    }
}
