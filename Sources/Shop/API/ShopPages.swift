import Foundation
import Hummingbird
import ServiceRuntime

/// The shop's pages and their assets (`Resources/web`), served from memory at `/shop/` (``StaticAssets``: only files
/// that exist, content types, ETags, a same-origin Content-Security-Policy). The pages use URLs relative to
/// `/shop/`, so `/shop` redirects there.
struct ShopPages: Sendable {
    private let assets: StaticAssets

    static let basePath = "/shop"

    /// The files under `Resources/web`.
    static func bundled() throws -> ShopPages {
        guard let directory = Bundle.module.url(forResource: "web", withExtension: nil) else { throw AssetsMissing() }
        let assets = try StaticAssets(
            directory: directory,
            contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"
        )
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
            return try assets.response(for: "index.html", request: request)
        }
        router.get(RouterPath(Self.basePath + "/:file")) { request, context in
            try assets.response(for: context.parameters.get("file") ?? "", request: request)
        }
    }
}
