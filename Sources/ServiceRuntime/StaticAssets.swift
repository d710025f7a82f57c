import Foundation
import HTTPTypes
import Hummingbird

/// A directory of web assets (a page, its ES modules, styles, images) read once and served from memory.
///
/// Only files that were in the directory are served — no path is ever joined from a URL — each with its content
/// type, an `ETag` (a `304` for a matching `If-None-Match`), `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer` and the given `Content-Security-Policy`. Pages, modules and JSON revalidate on every
/// load (`no-cache`: a `304` when unchanged), so a browser never runs modules of two versions together; styles and
/// images may be five minutes old. Dotfiles, `package.json` (it tells Node the files are ES modules, for
/// `node --test`) and `*.test.mjs` are tools' files and are not served.
///
/// ```swift
/// let assets = try StaticAssets(directory: Bundle.module.url(forResource: "web", withExtension: nil)!)
/// router.get("/assets/:file") { request, context in
///     try assets.response(for: context.parameters.get("file") ?? "", request: request)
/// }
/// ```
public struct StaticAssets: Sendable {
    public struct Asset: Sendable {
        public var body: ByteBuffer
        public var contentType: String
        public var etag: String
    }

    /// This origin only, no framing, images also from `data:` URLs.
    public static let sameOriginPolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    private let assets: [String: Asset]
    private let contentSecurityPolicy: String

    /// Reads every file directly in `directory` (not its subdirectories).
    ///
    /// - Throws: the file system's error when the directory cannot be read.
    public init(directory: URL, contentSecurityPolicy: String = StaticAssets.sameOriginPolicy) throws {
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where Self.isServed(name) {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: url)
            assets[name] = Asset(
                body: ByteBuffer(data: data),
                contentType: Self.contentType(of: name),
                etag: EntityTag.of(data)
            )
        }
        self.assets = assets
        self.contentSecurityPolicy = contentSecurityPolicy
    }

    /// The asset named `name`, if it is served.
    public subscript(name: String) -> Asset? { assets[name] }

    /// The answer to a `GET` of `name`: the asset, or `304` when the client has it.
    ///
    /// - Throws: `HTTPError(.notFound)` for a name that is not an asset.
    public func response(for name: String, request: Request) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound, message: "no asset \(name.prefix(64))") }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            .cacheControl: Self.revalidated(name) ? "no-cache" : "public, max-age=300",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .contentSecurityPolicy: contentSecurityPolicy,
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }

    static func isServed(_ name: String) -> Bool {
        !name.hasPrefix(".") && name != "package.json" && !name.hasSuffix(".test.mjs")
    }

    static func revalidated(_ name: String) -> Bool {
        name.hasSuffix(".html") || name.hasSuffix(".js") || name.hasSuffix(".mjs") || name.hasSuffix(".json")
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }
}
