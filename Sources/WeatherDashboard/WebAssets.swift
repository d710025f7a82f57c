import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard page and its assets, read once from the target's resources and served from memory.
///
/// Only the files that exist are served (no path is ever joined from the URL), each with its content type,
/// an `ETag`, `X-Content-Type-Options: nosniff`, and a `Content-Security-Policy` allowing this origin only —
/// the page loads nothing from elsewhere and works offline. The page's script is ES modules (`app.js` imports
/// the others from `/assets/`), served as `text/javascript` as module scripts require.
///
/// `problem-types.json` is served for the page and also read here: ``problemTypes`` are the URIs the API
/// answers with. `package.json` (it tells Node the files are ES modules, for `node --test`) is not served.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    private let assets: [String: Asset]
    /// The problem types the page and the API share (`problem-types.json`).
    let problemTypes: DashboardProblemTypes

    /// Files under `Resources/web` that are there for tools, not for the browser.
    static let unserved: Set<String> = ["package.json"]

    /// The files under `Resources/web`.
    static func bundled() throws -> WebAssets {
        guard let directory = Bundle.module.url(forResource: "web", withExtension: nil) else {
            throw AssetsMissing()
        }
        var assets: [String: Asset] = [:]
        var problemTypes: DashboardProblemTypes?
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !name.hasPrefix(".") && !unserved.contains(name) {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            if name == DashboardProblemTypes.fileName { problemTypes = try DashboardProblemTypes(json: data) }
            let digest = SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(data: data), contentType: contentType(of: name), etag: "\"\(digest)\"")
        }
        guard assets["index.html"] != nil, let problemTypes else { throw AssetsMissing() }
        return WebAssets(assets: assets, problemTypes: problemTypes)
    }

    struct AssetsMissing: Error, CustomStringConvertible {
        var description: String { "the dashboard's web assets are missing from the bundle (Resources/web)" }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try respond("index.html", request: request) }
        router.get("/assets/:file") { request, context in
            try respond(context.parameters.get("file") ?? "", request: request)
        }
    }

    private func respond(_ name: String, request: Request) throws -> Response {
        guard name != "index.html" || request.uri.path == "/", let asset = assets[name] else {
            throw HTTPError(.notFound, message: "no asset \(name.prefix(64))")
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            // The page and its modules revalidate on every load (a 304 when unchanged), so a browser never runs
            // modules of two versions together; styles and images may be five minutes old.
            .cacheControl: Self.revalidated(name) ? "no-cache" : "public, max-age=300",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }

    private static func revalidated(_ name: String) -> Bool {
        name == "index.html" || name.hasSuffix(".js") || name.hasSuffix(".json")
    }

    private static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }
}
