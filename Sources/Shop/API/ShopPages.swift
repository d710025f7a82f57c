import Foundation
import HTTPTypes
import Hummingbird

/// The shop's pages and their assets (`Resources/web`), read once from the bundle and served from memory at `/shop/`.
///
/// Only files that exist are served (no path is joined from the URL), each with its content type, an `ETag`,
/// `X-Content-Type-Options: nosniff` and a `Content-Security-Policy` allowing this origin only, plus Stripe's
/// hosted page as a form target. The pages use URLs relative to `/shop/`, so `/shop` redirects there.
/// `package.json` (it tells Node the files are ES modules, for `node --test`) is not served.
struct ShopPages: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    private let assets: [String: Asset]

    static let basePath = "/shop"
    static let unserved: Set<String> = ["package.json"]

    /// The files under `Resources/web`.
    static func bundled() throws -> ShopPages {
        guard let directory = Bundle.module.url(forResource: "web", withExtension: nil) else { throw AssetsMissing() }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
        where !name.hasPrefix(".") && !unserved.contains(name) && !name.hasSuffix(".test.mjs") {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: url)
            // FNV-1a over the bytes: the tag only has to change when the file does.
            let digest = data.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
            assets[name] = Asset(
                body: ByteBuffer(data: data),
                contentType: contentType(of: name),
                etag: "\"\(String(digest, radix: 16))-\(data.count)\""
            )
        }
        guard assets["index.html"] != nil else { throw AssetsMissing() }
        return ShopPages(assets: assets)
    }

    struct AssetsMissing: Error, CustomStringConvertible {
        var description: String { "the shop's pages are missing from the bundle (Sources/Shop/Resources/web/index.html)" }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.basePath)) { request, _ in
            // Hummingbird matches /shop and /shop/ alike; the pages' relative URLs need the slash.
            guard request.uri.path.hasSuffix("/") else {
                return Response(status: .permanentRedirect, headers: [.location: Self.basePath + "/"])
            }
            return try respond("index.html", request: request)
        }
        router.get(RouterPath(Self.basePath + "/:file")) { request, context in
            try respond(context.parameters.get("file") ?? "", request: request)
        }
    }

    private func respond(_ name: String, request: Request) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound, message: "no page \(name.prefix(64))") }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            // Pages and modules revalidate on every load (a 304 when unchanged), so modules of two versions never mix.
            .cacheControl: Self.revalidated(name) ? "no-cache" : "public, max-age=300",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }

    private static func revalidated(_ name: String) -> Bool {
        name.hasSuffix(".html") || name.hasSuffix(".js") || name.hasSuffix(".json")
    }

    private static func contentType(of name: String) -> String {
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
