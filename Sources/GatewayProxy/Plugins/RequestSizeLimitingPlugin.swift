import Gateway
import HTTPTypes
import Hummingbird
import NIOCore

/// Kong's `request-size-limiting`: a body longer than `allowed_payload_size` is refused with 413 — at once when its
/// `Content-Length` says so, otherwise as soon as the streamed body passes the limit (the gateway does not buffer
/// bodies to measure them). With `require_content_length`, a body without one is refused with 411.
struct RequestSizeLimitingPlugin: GatewayPlugin {
    let configuration: RequestSizeLimitingConfiguration

    func access(_ context: inout PluginContext) async throws -> Response? {
        let limit = configuration.limitInBytes
        let fields = context.head.headerFields
        if let declared = fields[.contentLength].flatMap(Int.init) {
            guard declared <= limit else {
                return Self.tooLarge(limit, correlationID: context.correlationID)
            }
        } else if fields[.transferEncoding] != nil {
            if configuration.requireContentLength {
                return GatewayProblem.response(
                    411,
                    "length-required",
                    "Length Required",
                    "A valid Content-Length header is required",
                    correlationID: context.correlationID
                )
            }
            context.bodyLimit = min(context.bodyLimit ?? .max, limit)
        }
        return nil
    }

    /// The 413, with `Connection: close`: the rest of the body is not read (``RequestDeadlines`` closes the
    /// connection once the answer is written), so a client sending an endless body is cut off at once.
    static func tooLarge(_ limit: Int, correlationID: String?) -> Response {
        GatewayProblem.response(
            413,
            "payload-too-large",
            "Payload Too Large",
            "Request size limit exceeded: the body may have at most \(limit) bytes",
            headers: [.connection: "close"],
            correlationID: correlationID
        )
    }
}

/// A request body passed through until it exceeds `limit` bytes; then iteration throws ``BodyTooLarge``.
struct LimitedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit { throw BodyTooLarge(limit: limit) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}

struct BodyTooLarge: Error {
    let limit: Int
}
