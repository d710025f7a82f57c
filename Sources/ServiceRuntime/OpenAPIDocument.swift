import Foundation
import HTTPTypes
import Hummingbird

/// The OpenAPI document a component implements, served at `<its mount>/openapi.yaml` so clients and tools
/// (code generators, schemathesis, API explorers) can discover the contract the server keeps.
///
/// The bytes are the very file swift-openapi-generator builds the server from: the target declares its
/// `openapi.yaml` as a resource too, so there is one source and no hand-kept copy.
///
/// ```swift
/// let document = try OpenAPIDocument(servedAt: "/api/openapi.yaml", contentsOf: Bundle.module.url(forResource: "openapi", withExtension: "yaml"))
/// document.addRoute(to: router)
/// ```
public struct OpenAPIDocument: Sendable {
    /// The media type of a YAML document (RFC 9512).
    public static let mediaType = "application/yaml"

    /// Where the document is served, e.g. `/api/openapi.yaml`.
    public let path: String
    /// The document as stored in the bundle.
    public let contents: ByteBuffer
    private let etag: String

    /// Reads the document at `url` (a bundle resource) to serve it at `path`.
    ///
    /// - Throws: ``OpenAPIDocument/Missing`` naming the path when the resource is absent or unreadable.
    public init(servedAt path: String, contentsOf url: URL?) throws {
        guard let url, let data = try? Data(contentsOf: url), !data.isEmpty else { throw Missing(path: path) }
        self.path = path
        self.contents = ByteBuffer(data: data)
        self.etag = EntityTag.of(data)
    }

    /// The bundle holds no `openapi.yaml` for the document served at `path` (a packaging fault).
    public struct Missing: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "the OpenAPI document for \(path) is missing from the bundle (resource openapi.yaml)" }
    }

    /// Adds `GET <path>`: the document as YAML, with an `ETag` so tools can revalidate cheaply.
    public func addRoute<Context: RequestContext>(to router: Router<Context>) {
        let document = self
        router.get(RouterPath(path)) { request, _ in document.response(to: request) }
    }

    func response(to request: Request) -> Response {
        var headers: HTTPFields = [.contentType: Self.mediaType, .eTag: etag, .cacheControl: "no-cache"]
        if request.headers[.ifNoneMatch] == etag {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = "\(contents.readableBytes)"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: contents))
    }
}
