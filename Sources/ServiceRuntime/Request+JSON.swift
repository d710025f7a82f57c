import Foundation
import Hummingbird

extension Request {
    /// Decodes the JSON body as `T`, up to `maxSize` bytes.
    ///
    /// Unlike Hummingbird's `decode(as:context:)`, a decoding failure reaches ``ProblemMiddleware`` as the
    /// `DecodingError` itself, so the problem+json response names the offending field (`quantity: is required`).
    /// A non-JSON content type is a `415` problem.
    public func decodeJSON<T: Decodable>(_ type: T.Type = T.self, maxSize: Int = 1024 * 1024, decoder: JSONDecoder = JSONDecoder()) async throws -> T
    {
        if let contentType = headers[.contentType]?.lowercased(), !contentType.hasPrefix("application/json"), !contentType.contains("+json") {
            throw ProblemError(
                .init(
                    status: 415,
                    title: "Unsupported Media Type",
                    detail: "expected Content-Type application/json, got \(contentType)",
                    type: ProblemError.typeBase + "unsupported-media-type"
                )
            )
        }
        var request = self
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxSize)
        } catch {
            throw ProblemError(
                .init(
                    status: 413,
                    title: "Content Too Large",
                    detail: "request body exceeds the limit of \(maxSize) bytes",
                    type: ProblemError.typeBase + "body-too-large"
                )
            )
        }
        return try decoder.decode(T.self, from: Data(buffer: body))
    }
}
