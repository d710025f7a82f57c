import AsyncHTTPClient
import Foundation
import Gateway
import InterchangeCore
import InterchangeTesting
import Testing

@testable import GatewayProxy

@Suite("Gateway hot reload and admin API", .timeLimit(.minutes(2)))
struct LiveGatewayTests {
    static func yaml(upstream port: Int, path: String = "/", key: String = "alice-key") -> String {
        """
        _format_version: "3.0"
        services:
          - name: api
            url: http://127.0.0.1:\(port)
            routes: [{name: api, paths: ["\(path)"]}]
        consumers:
          - username: alice
            keyauth_credentials: [{key: \(key)}]
            acls: [{group: staff}]
        plugins:
          - name: correlation-id
            service: api
        """
    }

    static func live(_ yaml: String) async throws -> LiveGateway {
        let logger = LoopbackServer.quietLogger
        let proxy = try await GatewayProxy(configuration: try GatewayConfiguration.load(yaml: yaml), logger: logger)
        return LiveGateway(proxy, logger: logger) { try await GatewayProxy(configuration: $0, logger: logger) }
    }

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("not within 10 s: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("ten reloads under 32 concurrent clients: no request fails, traffic moves to the new upstream, old proxies drain")
    func reloadUnderLoad() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(2, seen: seen) { ports in
            let configurations = try ports.map { try GatewayConfiguration.load(yaml: Self.yaml(upstream: $0)) }
            let live = try await Self.live(Self.yaml(upstream: ports[0]))
            try await LoopbackServer.run(live) { server in
                let stop = LockedValue(false)
                let failures = LockedValue<[String]>([])
                let completed = LockedValue(0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while !stop.value {
                                do {
                                    let response = try await call(.GET, "\(server.baseURL)/orders")
                                    if response.status != 200 { failures.append("\(response.status): \(response.body)") }
                                } catch {
                                    failures.append("\(error)")
                                }
                                completed.withLock { $0 += 1 }
                            }
                        }
                    }
                    for reload in 1...10 {
                        // Let requests run on this configuration before replacing it.
                        let before = completed.value
                        try await Self.eventually("requests complete on generation \(reload)") {
                            completed.value >= before + 20
                        }
                        let next = configurations[reload % 2]
                        let generation = await live.reload { next }
                        #expect(generation == reload + 1)
                    }
                    let before = completed.value
                    try await Self.eventually("requests complete on the last generation") { completed.value >= before + 20 }
                    stop.withLock { $0 = true }
                    try await group.waitForAll()
                }
                #expect(failures.value.isEmpty, "\(failures.value.prefix(5))")
                #expect(completed.value >= 220)
                let byUpstream = Dictionary(grouping: seen.value, by: \.upstream).mapValues(\.count)
                #expect((byUpstream["u0"] ?? 0) > 0 && (byUpstream["u1"] ?? 0) > 0, "\(byUpstream)")
                try await Self.eventually("every replaced proxy drained and closed") { live.status.draining == 0 }
                #expect(live.status.generation == 11)
                #expect(live.status.lastReload?.outcome == "applied")
            }
            try await live.shutdown()
        }
    }

    @Test("a configuration that fails to load or to build keeps the live one serving and says why")
    func rejectedReload() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let live = try await Self.live(Self.yaml(upstream: ports[0]))
            try await LoopbackServer.run(live) { server in
                let badFile = "_format_version: \"3.0\"\nservices:\n  - name: api\n    url: http://127.0.0.1:1\n    colour: blue\n"
                let unreadable = await live.reload { try GatewayConfiguration.load(yaml: badFile) }
                #expect(unreadable == 1)
                #expect(live.status.lastReload?.outcome == "rejected")
                #expect(live.status.lastReload?.error?.contains("services[0].colour") == true, "\(String(describing: live.status.lastReload))")

                // Loads, but cannot be built: the cluster policy without a database to count in.
                let unbuildable = Self.yaml(upstream: ports[0]) + "\n  - name: rate-limiting\n    config: {minute: 5, policy: cluster}\n"
                let second = await live.reload { try GatewayConfiguration.load(yaml: unbuildable) }
                #expect(second == 1)
                #expect(live.status.lastReload?.error?.contains("rate-limiting") == true)

                let response = try await call(.GET, "\(server.baseURL)/still-served")
                #expect(response.status == 200)
                #expect(seen.value.map(\.path) == ["/still-served"])
            }
            try await live.shutdown()
        }
    }

    @Test("a reload can change the routes: a path that matched stops matching, a new one starts")
    func reloadChangesRoutes() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let live = try await Self.live(Self.yaml(upstream: ports[0], path: "/v1"))
            try await LoopbackServer.run(live) { server in
                let v1 = try await call(.GET, "\(server.baseURL)/v1/x").status
                let v2 = try await call(.GET, "\(server.baseURL)/v2/x").status
                #expect([v1, v2] == [Int]([200, 404]))
                let next = try GatewayConfiguration.load(yaml: Self.yaml(upstream: ports[0], path: "/v2"))
                await live.reload { next }
                let v1After = try await call(.GET, "\(server.baseURL)/v1/x").status
                let v2After = try await call(.GET, "\(server.baseURL)/v2/x").status
                #expect([v1After, v2After] == [Int]([404, 200]))
            }
            try await live.shutdown()
        }
    }

    @Test("admin API: status, config without credentials, targets; 404 for an unknown path, 405 for a write")
    func adminAPI() async throws {
        let live = try await Self.live(Self.yaml(upstream: deadPort, key: "alice-secret-key-123"))
        try await LoopbackServer.run(GatewayAdmin(live)) { admin in
            let status = try await call(.GET, "\(admin.baseURL)/_gateway/status")
            #expect(status.status == 200)
            #expect(status.headers["Content-Type"] == ["application/json"])
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let decoded = try decoder.decode(LiveGateway.Status.self, from: Data(status.body.utf8))
            #expect(decoded.generation == 1 && decoded.lastReload == nil && decoded.draining == 0)

            let config = try await call(.GET, "\(admin.baseURL)/_gateway/config")
            #expect(config.status == 200)
            let summary = try JSONDecoder().decode(ConfigSummary.self, from: Data(config.body.utf8))
            #expect(summary.services.map(\.url) == ["http://127.0.0.1:\(deadPort)"])
            #expect(summary.routes.map(\.paths) == [["/"]])
            #expect(summary.plugins.map(\.scope) == ["service api"])
            #expect(summary.consumers.first?.credentials == 1 && summary.consumers.first?.groups == ["staff"])
            #expect(!config.body.contains("alice-secret-key-123"), "no credential in the admin API")

            let targets = try await call(.GET, "\(admin.baseURL)/_gateway/targets")
            #expect(targets.status == 200)
            #expect(targets.body.contains(#""breaker":"closed""#) && targets.body.contains("127.0.0.1:\(deadPort)"))

            let document = try await call(.GET, "\(admin.baseURL)/_gateway/openapi.yaml")
            #expect(document.status == 200 && document.body.hasPrefix("openapi: 3.1.0"))

            let unknown = try await call(.GET, "\(admin.baseURL)/_gateway/nothing")
            #expect(unknown.status == 404)
            #expect(unknown.headers["Content-Type"] == ["application/problem+json"])
            let write = try await call(.POST, "\(admin.baseURL)/_gateway/status", body: "{}")
            #expect(write.status == 405)
            #expect(write.headers["Allow"] == ["GET"])
        }
        try await live.shutdown()
    }

    @Test("analytics: requests per route, consumer and status with latency percentiles, carried across a reload")
    func analytics() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = Self.yaml(upstream: ports[0], path: "/api") + "\n  - name: key-auth\n    config: {anonymous: null}\n"
            let logger = LoopbackServer.quietLogger
            let figures = GatewayAnalytics()
            let first = try await GatewayProxy(configuration: try GatewayConfiguration.load(yaml: yaml), analytics: figures, logger: logger)
            let live = LiveGateway(first, logger: logger) { try await GatewayProxy(configuration: $0, analytics: figures, logger: logger) }
            try await LoopbackServer.run(live) { server in
                for _ in 0..<3 {
                    let status = try await call(.GET, "\(server.baseURL)/api/x", headers: [("apikey", "alice-key")]).status
                    #expect(status == 200)
                }
                let unauthorized = try await call(.GET, "\(server.baseURL)/api/x").status
                let unrouted = try await call(.GET, "\(server.baseURL)/elsewhere").status
                #expect([unauthorized, unrouted] == [Int]([401, 404]))
                let next = try GatewayConfiguration.load(yaml: yaml)
                await live.reload { next }
                let afterReload = try await call(.GET, "\(server.baseURL)/api/y", headers: [("apikey", "alice-key")]).status
                #expect(afterReload == 200)
            }
            try await live.shutdown()
            let snapshot = figures.snapshot
            #expect(snapshot.requests == 6)
            let api = try #require(snapshot.routes.first { $0.route == "api" })
            #expect(api.service == "api")
            #expect(api.requests == 5 && api.statuses == ["200": 4, "401": 1])
            #expect(api.latencyMs.p50 > 0 && api.latencyMs.p50 <= api.latencyMs.p99 && api.latencyMs.p99 <= api.latencyMs.max)
            #expect(snapshot.routes.first { $0.route == GatewayAnalytics.noRoute }?.statuses == ["404": 1])
            #expect(snapshot.consumers == [.init(consumer: "alice", requests: 4, statuses: ["200": 4])])
        }
    }

    @Test("prometheus: Kong's request counter (by source and consumer), latency histogram and target health at /metrics")
    func prometheusMetrics() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """

                  - name: key-auth
                  - name: prometheus
                    config: {status_code_metrics: true, latency_metrics: true, per_consumer: true, upstream_health_metrics: true, bandwidth_metrics: true}
                """
            let live = try await Self.live(Self.yaml(upstream: ports[0]) + plugins)
            try await LoopbackServer.run(live) { server in
                for _ in 0..<2 {
                    let status = try await call(.GET, "\(server.baseURL)/x", headers: [("apikey", "alice-key")]).status
                    #expect(status == 200)
                }
                let upload = try await call(
                    .POST,
                    "\(server.baseURL)/x",
                    headers: [("apikey", "alice-key")],
                    body: String(repeating: "b", count: 5000)
                )
                #expect(upload.status == 200)
                let refused = try await call(.GET, "\(server.baseURL)/x").status
                #expect(refused == 401)
            }
            try await LoopbackServer.run(GatewayAdmin(live)) { admin in
                let response = try await call(.GET, "\(admin.baseURL)/metrics")
                #expect(response.status == 200)
                #expect(response.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = response.body
                let served =
                    #"kong_http_requests_total{service="api",route="api",code="200",source="service",workspace="default",consumer="alice"} 3"#
                let exited = #"kong_http_requests_total{service="api",route="api",code="401",source="exit",workspace="default",consumer=""} 1"#
                #expect(text.contains(served), "\(text)")
                #expect(text.contains(exited))
                #expect(text.contains(#"kong_request_latency_ms_bucket{service="api",route="api",workspace="default",le="+Inf"} 4"#))
                #expect(text.contains(#"kong_request_latency_ms_count{service="api",route="api",workspace="default"} 4"#))
                // Bandwidth: heads plus bodies. Alice's three requests carried 5000 body bytes in; each answer a 2-byte body
                // ("u0") out; the 401's problem body is counted for the anonymous label.
                func bytes(_ direction: String, _ consumer: String) -> Int? {
                    let prefix =
                        #"kong_bandwidth_bytes{service="api",route="api",direction="\#(direction)",workspace="default",consumer="\#(consumer)"} "#
                    return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
                }
                let ingress = try #require(bytes("ingress", "alice"))
                let egress = try #require(bytes("egress", "alice"))
                #expect(ingress > 5000 && ingress < 5000 + 3 * 400, "5000 body bytes and three request heads: \(ingress)")
                #expect(egress > 3 * 2 && egress < 3 * 2 + 3 * 400, "three 2-byte bodies and their heads: \(egress)")
                #expect(try #require(bytes("egress", "")) > 100, "the 401 problem's body")
                let target = "127.0.0.1:\(ports[0])"
                let healthy =
                    #"kong_upstream_target_health{upstream="127.0.0.1",target="\#(target)",address="\#(target)",state="healthy",subsystem="http"} 1"#
                #expect(text.contains(healthy))
                #expect(!text.contains("alice-key"))
            }
            try await live.shutdown()
        }
    }
}
