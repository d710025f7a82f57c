import Foundation
import HTTPTypes
import InterchangeCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// A response with its body read into memory (up to the client's size limit).
///
/// Any status comes back as a response; ``ensureSuccess()`` and ``decode(_:using:)`` turn a non-2xx status,
/// a wrong content type or malformed JSON into one ``HTTPIntegrationError`` carrying the status, the
/// problem+json the server sent, an excerpt of the body and the number of attempts.
public struct ClientResponse: Sendable {
    public var status: HTTPResponse.Status
    /// The response's header fields.
    ///
    /// Fields received from the network are converted to `HTTPFields` (each name validated) on first
    /// access, once: a caller that only looks at the status and body does not pay for it.
    public var headerFields: HTTPFields {
        get {
            switch headers {
            case .fields(let fields): fields
            case .received(let received): received.fields
            }
        }
        set { headers = .fields(newValue) }
    }
    private var headers: Headers
    public var body: ByteBuffer
    /// Where the response came from with respect to the cache.
    public var cacheStatus: CacheStatus
    /// Attempts made to get this response (1 when it was not retried; 0 when served from cache).
    public var attempts: Int
    /// The request's method and URL with secrets redacted, for error messages.
    public var requestLine: RequestLine

    public init(
        status: HTTPResponse.Status,
        headerFields: HTTPFields = [:],
        body: ByteBuffer = ByteBuffer(),
        cacheStatus: CacheStatus = .notCached,
        attempts: Int = 1,
        requestLine: RequestLine
    ) {
        self.status = status
        self.headers = .fields(headerFields)
        self.body = body
        self.cacheStatus = cacheStatus
        self.attempts = attempts
        self.requestLine = requestLine
    }

    /// A response whose header fields are converted from the wire's on first access.
    init(
        status: HTTPResponse.Status,
        receivedHeaders: HTTPHeaders,
        body: ByteBuffer,
        attempts: Int,
        requestLine: RequestLine
    ) {
        self.init(status: status, body: body, attempts: attempts, requestLine: requestLine)
        self.headers = .received(ReceivedHeaders(receivedHeaders))
    }

    /// The value of the field `name`, repeated fields combined with ", " as `HTTPFields` does; for received
    /// headers this looks at the wire's fields directly, without converting all of them.
    func field(_ name: HTTPField.Name) -> String? {
        switch headers {
        case .fields(let fields): fields[name]
        case .received(let received): received.field(name)
        }
    }

    private enum Headers: Sendable {
        case fields(HTTPFields)
        case received(ReceivedHeaders)
    }

    /// Header fields as AsyncHTTPClient received them, converted once, when first asked for.
    private final class ReceivedHeaders: Sendable {
        private let wire: HTTPHeaders
        private let converted = Mutex<HTTPFields?>(nil)

        init(_ wire: HTTPHeaders) { self.wire = wire }

        func field(_ name: HTTPField.Name) -> String? {
            let values = wire[name.canonicalName]
            switch values.count {
            case 0: return nil
            case 1: return values[0]
            default: return values.joined(separator: ", ")
            }
        }

        var fields: HTTPFields {
            converted.withLock { converted in
                if let converted { return converted }
                var fields = HTTPFields()
                fields.reserveCapacity(wire.count)
                for (name, value) in wire {
                    if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
                }
                converted = fields
                return fields
            }
        }
    }

    /// The body as UTF-8 text.
    public var text: String { String(buffer: body) }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { status.kind == .successful }

    /// The media type of the body, lowercased, without parameters (`application/json`).
    public var mediaType: String? {
        field(.contentType).map(Self.mediaType(of:))
    }

    /// `type/subtype` of a `Content-Type` value: parameters dropped, spaces trimmed, lowercased. Works on the
    /// UTF-8 bytes, since every decode asks for it.
    static func mediaType(of contentType: String) -> String {
        let bytes = contentType.utf8
        let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var slice = bytes[..<end]
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        let type = String(Substring(slice))
        return type.utf8.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) ? type.lowercased() : type
    }

    /// This response when its status is 2xx (or 304 served from cache).
    ///
    /// - Throws: ``HTTPIntegrationError`` with code ``HTTPIntegrationError/Code/unsuccessfulStatus`` otherwise.
    @discardableResult
    public func ensureSuccess() throws -> ClientResponse {
        guard isSuccess else { throw HTTPIntegrationError.unsuccessfulStatus(self) }
        return self
    }

    /// Decodes the JSON body after checking the status and the content type.
    ///
    /// - Throws: ``HTTPIntegrationError`` — ``HTTPIntegrationError/Code/unsuccessfulStatus`` for a non-2xx status,
    ///   ``HTTPIntegrationError/Code/invalidResponse`` for a non-JSON content type or a body that does not decode.
    public func decode<T: Decodable>(_ type: T.Type = T.self, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try ensureSuccess()
        guard let mediaType, mediaType == "application/json" || mediaType.hasSuffix("+json") else {
            throw HTTPIntegrationError.invalidResponse(
                self,
                reason: "expected a JSON body, got content type '\(field(.contentType) ?? "none")'"
            )
        }
        do {
            return try decoder.decode(T.self, from: body)
        } catch {
            throw HTTPIntegrationError.invalidResponse(self, reason: "body does not decode as \(T.self): \(Self.describe(error))", cause: error)
        }
    }

    /// The problem details in the body, when the server sent `application/problem+json` (or JSON shaped like one).
    public var problem: ProblemDetails? {
        guard let mediaType, mediaType == ProblemDetails.mediaType || mediaType == "application/json",
            let problem = try? JSONDecoder().decode(ProblemDetails.self, from: body),
            !problem.title.isEmpty || problem.detail != nil
        else { return nil }
        return problem
    }

    /// The first `limit` bytes of the body as text, for error messages.
    public func bodyExcerpt(limit: Int = 512) -> String? {
        guard body.readableBytes > 0 else { return nil }
        let bytes = body.getBytes(at: body.readerIndex, length: min(limit, body.readableBytes)) ?? []
        let text = String(decoding: bytes, as: UTF8.self)
        return body.readableBytes > limit ? text + "…" : text
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context):
            return "malformed JSON (\(context.debugDescription))"
        case .keyNotFound(let key, let context):
            return "missing key '\(Self.path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "expected \(type) at '\(Self.path(context.codingPath))'"
        case .valueNotFound(let type, let context):
            return "null where \(type) was expected at '\(Self.path(context.codingPath))'"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A request's method and URL with secrets redacted: safe to log and to put in error messages.
///
/// The redaction runs only when ``url`` is read (an error message, a debug log line), not on every request.
public struct RequestLine: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPRequest.Method
    private let storage: Storage

    private enum Storage: Sendable {
        case redacted(String)
        case deferred(URL, Redaction)
    }

    /// A request line whose `url` is already redacted.
    public init(method: HTTPRequest.Method, url: String) {
        self.method = method
        self.storage = .redacted(url)
    }

    init(method: HTTPRequest.Method, url: URL, redaction: Redaction) {
        self.method = method
        self.storage = .deferred(url, redaction)
    }

    /// The URL with secret query parameters and user-info replaced by `REDACTED`.
    public var url: String {
        switch storage {
        case .redacted(let url): url
        case .deferred(let url, let redaction): redaction.redact(url: url)
        }
    }

    public static func == (lhs: RequestLine, rhs: RequestLine) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(url)
    }

    public var description: String { "\(method.rawValue) \(url)" }
}

/// How the cache took part in a response.
public enum CacheStatus: Sendable, Hashable {
    /// The cache was not consulted or could not store it.
    case notCached
    /// Fetched from the origin and stored.
    case miss
    /// Served from the cache without contacting the origin.
    case hit(age: Duration)
    /// The origin confirmed the cached copy with `304 Not Modified`.
    case revalidated
    /// The origin failed and a stale copy was served (stale-if-error); `age` says how old it is.
    case stale(age: Duration, cause: String)
}
