import Foundation
import HTTPTypes
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime

/// Two rules of openapi/webhooks-admin.yaml the generated decoder cannot keep by itself:
///
/// - a body that is not JSON is a `400` saying so;
/// - an empty body is no body, so an operation whose body is optional (`rotate-secret`) accepts a bare `POST`
///   (the transport hands the decoder an empty body, which it would read as malformed JSON);
/// - no top-level property may be `null` (the document types them as strings, integers, …; the decoder would
///   read `null` as absent): a `400` naming the field.
///
/// It reads at most `maxBodySize` bytes (a `413` beyond), the limit ``ProblemMiddleware`` applies to announced lengths.
struct RequestBodyRules: ServerMiddleware {
    var maxBodySize = 1024 * 1024

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        var bytes = Data()
        for try await chunk in body {
            guard bytes.count + chunk.count <= maxBodySize else {
                throw ProblemError(
                    ProblemDetails(
                        status: 413,
                        title: "Content Too Large",
                        detail: "request body exceeds the limit of \(maxBodySize) bytes",
                        type: ProblemError.typeBase + "body-too-large"
                    )
                )
            }
            bytes.append(contentsOf: chunk)
        }
        guard !bytes.isEmpty else { return try await next(request, nil, metadata) }
        guard let json = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]) else {
            throw ProblemError.invalidBody("body is not valid JSON")
        }
        if let object = json as? [String: Any], let field = object.keys.sorted().first(where: { object[$0] is NSNull }) {
            throw ProblemError.invalidBody("must not be null; leave it out instead", field: field)
        }
        return try await next(request, HTTPBody(bytes), metadata)
    }
}
