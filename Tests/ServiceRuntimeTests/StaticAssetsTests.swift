import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceRuntime
import Testing

@Suite("StaticAssets", .timeLimit(.minutes(1)))
struct StaticAssetsTests {
    /// A directory with a page, a module, a style, a tool's file, a test module, a dotfile and a subdirectory.
    static func withAssets(_ body: (StaticAssets) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("nested"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = [
            "index.html": "<!doctype html><title>t</title>", "app.js": "export const a = 1", "styles.css": "body{}",
            "package.json": #"{"type":"module"}"#, "app.test.mjs": "test()", ".secret": "s", "nested/inner.js": "x",
        ]
        for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        try await body(try StaticAssets(directory: directory, contentSecurityPolicy: "default-src 'self'"))
    }

    static func app(_ assets: StaticAssets) -> some ApplicationProtocol {
        let router = Router()
        router.get("/assets/:file") { request, context in try assets.response(for: context.parameters.get("file") ?? "", request: request) }
        return Application(router: router)
    }

    @Test("serves the directory's own files with content type, ETag, policy headers and caching by kind")
    func serves() async throws {
        try await Self.withAssets { assets in
            try await Self.app(assets).test(.router) { client in
                let page = try await client.execute(uri: "/assets/index.html", method: .get)
                #expect(page.status == .ok)
                #expect(String(buffer: page.body) == "<!doctype html><title>t</title>")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(page.headers[.cacheControl] == "no-cache")
                #expect(page.headers[.contentSecurityPolicy] == "default-src 'self'")
                #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(page.headers[.eTag]?.hasPrefix("\"") == true)
                let module = try await client.execute(uri: "/assets/app.js", method: .get)
                #expect(module.headers[.contentType] == "text/javascript; charset=utf-8")
                let style = try await client.execute(uri: "/assets/styles.css", method: .get)
                #expect(style.headers[.cacheControl] == "public, max-age=300")
            }
        }
    }

    @Test("a matching If-None-Match is 304 with no body; a changed tag gets the file")
    func revalidation() async throws {
        try await Self.withAssets { assets in
            try await Self.app(assets).test(.router) { client in
                let tag = try #require(assets["app.js"]?.etag)
                let unchanged = try await client.execute(uri: "/assets/app.js", method: .get, headers: [.ifNoneMatch: tag])
                #expect(unchanged.status == .notModified)
                #expect(unchanged.body.readableBytes == 0)
                let changed = try await client.execute(uri: "/assets/app.js", method: .get, headers: [.ifNoneMatch: "\"other\""])
                #expect(changed.status == .ok)
            }
        }
    }

    @Test("tools' files, dotfiles, subdirectories and paths outside the directory are 404")
    func onlyTheDirectorysFiles() async throws {
        try await Self.withAssets { assets in
            try await Self.app(assets).test(.router) { client in
                for name in ["package.json", "app.test.mjs", ".secret", "nested", "inner.js", "..%2FPackage.swift", "missing.js"] {
                    let response = try await client.execute(uri: "/assets/\(name)", method: .get)
                    #expect(response.status == .notFound, "\(name) answered \(response.status)")
                }
            }
        }
    }
}
