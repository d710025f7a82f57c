import Foundation
import Hummingbird
import ServiceRuntime

/// The dashboard page and its assets, served from memory (``StaticAssets``: only files that exist, content types,
/// ETags, a same-origin Content-Security-Policy — the page loads nothing from elsewhere and works offline). The
/// page's script is ES modules (`app.js` imports the others from `/assets/`), served as `text/javascript`.
///
/// `problem-types.json` is served for the page and also read here: ``problemTypes`` are the URIs the API answers with.
struct WebAssets: Sendable {
    private let assets: StaticAssets
    /// The problem types the page and the API share (`problem-types.json`).
    let problemTypes: DashboardProblemTypes

    /// The files under `Resources/web`.
    static func bundled() throws -> WebAssets {
        guard let directory = Bundle.module.url(forResource: "web", withExtension: nil) else { throw AssetsMissing() }
        let assets = try StaticAssets(directory: directory)
        guard assets["index.html"] != nil, let types = assets[DashboardProblemTypes.fileName] else { throw AssetsMissing() }
        return WebAssets(assets: assets, problemTypes: try DashboardProblemTypes(json: Data(types.body.readableBytesView)))
    }

    struct AssetsMissing: Error, CustomStringConvertible {
        var description: String { "the dashboard's web assets are missing from the bundle (Resources/web)" }
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try assets.response(for: "index.html", request: request) }
        router.get("/assets/:file") { request, context in
            // The page itself lives at `/` only.
            let name = context.parameters.get("file") ?? ""
            guard name != "index.html" else { throw HTTPError(.notFound, message: "no asset \(name)") }
            return try assets.response(for: name, request: request)
        }
    }
}
