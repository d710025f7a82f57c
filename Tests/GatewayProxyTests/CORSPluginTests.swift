import AsyncHTTPClient
import Foundation
import Gateway
import InterchangeTesting
import Testing

@testable import GatewayProxy

@Suite("Gateway plugins: cors", .timeLimit(.minutes(2)))
struct CORSPluginTests {
    func withCORS(_ config: String, _ body: (_ gateway: String, _ seen: LockedValue<[Seen]>) async throws -> Void) async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: cors\n    config: \(config)")
            try await withGateway(yaml) { _, gateway in try await body(gateway, seen) }
        }
    }

    static func preflight(_ origin: String, headers: [(String, String)] = []) -> [(String, String)] {
        [("Origin", origin), ("Access-Control-Request-Method", "POST")] + headers
    }

    @Test("a preflight is answered by the gateway: allowed origins echoed normalized, others not; methods, headers, max age")
    func preflight() async throws {
        let config =
            #"{origins: ["https://shop.example.com", "https://.*\\.example\\.org"], methods: [GET, POST], max_age: 600, credentials: true, private_network: true}"#
        try await withCORS(config) { gateway, seen in
            let allowed = try await call(
                .OPTIONS,
                "\(gateway)/orders",
                headers: Self.preflight(
                    "https://SHOP.example.com:443",
                    headers: [("Access-Control-Request-Headers", "content-type,x-api-key"), ("Access-Control-Request-Private-Network", "true")]
                )
            )
            #expect(allowed.status == 200)
            #expect(allowed.headers["Access-Control-Allow-Origin"] == ["https://shop.example.com"])
            #expect(allowed.headers["Access-Control-Allow-Credentials"] == ["true"])
            #expect(allowed.headers["Access-Control-Allow-Methods"] == ["GET,POST"])
            #expect(allowed.headers["Access-Control-Allow-Headers"] == ["content-type,x-api-key"])
            #expect(allowed.headers["Access-Control-Max-Age"] == ["600"])
            #expect(allowed.headers["Access-Control-Allow-Private-Network"] == ["true"])
            #expect(allowed.headers["Vary"] == ["Origin"])

            let byRegex = try await call(.OPTIONS, "\(gateway)/orders", headers: Self.preflight("https://eu.example.org"))
            #expect(byRegex.headers["Access-Control-Allow-Origin"] == ["https://eu.example.org"])
            // The regex is anchored at both ends: a look-alike suffix does not pass.
            for origin in ["https://eu.example.org.evil.com", "https://evil.com", "http://shop.example.com", "null"] {
                let refused = try await call(.OPTIONS, "\(gateway)/orders", headers: Self.preflight(origin))
                #expect(refused.status == 200)
                #expect(refused.headers["Access-Control-Allow-Origin"].isEmpty, "\(origin)")
            }
            #expect(seen.value.isEmpty, "preflights are the gateway's")
        }
    }

    @Test("other requests get Allow-Origin, Allow-Credentials and Expose-Headers on the upstream's response, Vary kept")
    func actualRequests() async throws {
        let config = #"{origins: ["https://shop.example.com", "https://admin.example.com"], credentials: true, exposed_headers: [X-Request-Id]}"#
        try await withCORS(config) { gateway, seen in
            let response = try await call(.GET, "\(gateway)/orders", headers: [("Origin", "https://admin.example.com")])
            #expect(response.status == 200)
            #expect(response.body == "u0")
            #expect(response.headers["Access-Control-Allow-Origin"] == ["https://admin.example.com"])
            #expect(response.headers["Access-Control-Allow-Credentials"] == ["true"])
            #expect(response.headers["Access-Control-Expose-Headers"] == ["X-Request-Id"])
            #expect(response.headers["Vary"] == ["Origin"])
            let other = try await call(.GET, "\(gateway)/orders", headers: [("Origin", "https://evil.com")])
            #expect(other.status == 200, "CORS is the browser's to enforce; the request still passes")
            #expect(other.headers["Access-Control-Allow-Origin"].isEmpty)
            // A preflight-looking OPTIONS without Access-Control-Request-Method is an ordinary request.
            let plainOptions = try await call(.OPTIONS, "\(gateway)/orders", headers: [("Origin", "https://shop.example.com")])
            #expect(plainOptions.body == "u0")
            #expect(seen.value.count == 3)
        }
    }

    @Test("origins * : any origin gets *, or its own origin when credentials are on (browsers refuse * with credentials)")
    func wildcard() async throws {
        try await withCORS("{origins: ['*']}") { gateway, _ in
            let response = try await call(.GET, "\(gateway)/", headers: [("Origin", "https://a.example")])
            #expect(response.headers["Access-Control-Allow-Origin"] == ["*"])
            #expect(response.headers["Access-Control-Allow-Credentials"].isEmpty)
            #expect(response.headers["Vary"].isEmpty)
        }
        try await withCORS("{credentials: true}") { gateway, _ in
            let response = try await call(.GET, "\(gateway)/", headers: [("Origin", "https://a.example")])
            #expect(response.headers["Access-Control-Allow-Origin"] == ["https://a.example"])
            #expect(response.headers["Access-Control-Allow-Credentials"] == ["true"])
            #expect(response.headers["Vary"] == ["Origin"])
        }
    }

    @Test("one plain origin is sent as configured; allow_origin_absent off adds nothing without Origin; preflight_continue proxies")
    func singleOriginAbsentAndContinue() async throws {
        try await withCORS("{origins: [https://shop.example.com], allow_origin_absent: false}") { gateway, _ in
            let withOrigin = try await call(.GET, "\(gateway)/", headers: [("Origin", "https://other.example")])
            #expect(withOrigin.headers["Access-Control-Allow-Origin"] == ["https://shop.example.com"])
            let without = try await call(.GET, "\(gateway)/")
            #expect(without.headers["Access-Control-Allow-Origin"].isEmpty)
        }
        try await withCORS("{preflight_continue: true}") { gateway, seen in
            let response = try await call(.OPTIONS, "\(gateway)/", headers: Self.preflight("https://a.example"))
            #expect(response.body == "u0")
            #expect(seen.value.map(\.method) == ["OPTIONS"])
        }
    }

    @Test("a bad origin regex stops start-up naming it")
    func badRegex() throws {
        #expect(throws: GatewayPluginError.self) {
            var configuration = CORSConfiguration()
            configuration.origins = ["https://(unclosed"]
            _ = try CORSPlugin(configuration)
        }
    }
}
