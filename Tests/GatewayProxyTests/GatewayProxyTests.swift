import AsyncHTTPClient
import Foundation
import Gateway
import GatewayProxy
import Hummingbird
import InterchangeTesting
import NIOCore
import Resilience
import Testing

@Suite("Gateway proxy over real sockets", .timeLimit(.minutes(2)))
struct GatewayProxyTests {
    @Test("forwards method, path (strip_path), query and body; hop-by-hop headers removed both ways; forwarding headers added")
    func forwards() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = """
                _format_version: "3.0"
                services:
                  - name: orders
                    url: http://127.0.0.1:\(ports[0])/v1
                    routes:
                      - name: orders
                        paths: [/orders]
                """
            try await withGateway(yaml) { _, gateway in
                let response = try await call(
                    .POST,
                    "\(gateway)/orders/42?expand=lines",
                    headers: [
                        ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("TE", "trailers"), ("X-Forwarded-For", "203.0.113.7"),
                        ("Authorization", "Bearer t"),
                    ],
                    body: #"{"n":1}"#
                )
                #expect(response.status == 200)
                #expect(response.body == "u0")
                #expect(response.headers["X-Upstream-Secret"].isEmpty)
                #expect(response.headers["Via"].contains("1.1 interchange-gateway"))
                let request = try #require(seen.value.first)
                #expect(request.method == "POST")
                #expect(request.path == "/v1/42?expand=lines")
                #expect(request.bodyBytes == 7)
                #expect(request.headers["x-hop"] == nil)
                #expect(request.headers["te"] == nil)
                #expect(request.headers["authorization"] == "Bearer t")
                #expect(request.headers["host"] == "127.0.0.1:\(ports[0])")
                #expect(request.headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1")
                #expect(request.headers["x-forwarded-proto"] == "http")
                #expect(request.headers["x-forwarded-host"] == gateway.replacingOccurrences(of: "http://", with: ""))
                #expect(request.headers["x-forwarded-prefix"] == "/orders")
                #expect(request.headers["forwarded"]?.hasPrefix("for=127.0.0.1;") == true)
                #expect(request.headers["via"] == "1.1 interchange-gateway")
            }
        }
    }

    @Test("no matching route is a 404 problem naming the request; a preserved host reaches the upstream")
    func noRouteAndPreserveHost() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = """
                _format_version: "3.0"
                services:
                  - name: api
                    url: http://127.0.0.1:\(ports[0])
                    routes:
                      - name: api
                        hosts: [api.example.com]
                        preserve_host: true
                """
            try await withGateway(yaml) { _, gateway in
                let missing = try await call(.GET, "\(gateway)/anything")
                #expect(missing.status == 404)
                #expect(missing.headers["Content-Type"] == ["application/problem+json"])
                #expect(missing.body.contains("problems\\/no-route") || missing.body.contains("problems/no-route"))
                #expect(missing.body.contains("GET"))
                let routed = try await call(.GET, "\(gateway)/x", headers: [("Host", "api.example.com")])
                #expect(routed.status == 200)
                #expect(seen.value.first?.headers["host"] == "api.example.com")
            }
        }
    }

    @Test("an upstream's targets share requests round robin, by weight")
    func roundRobin() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(3, seen: seen) { ports in
            let yaml = """
                _format_version: "3.0"
                upstreams:
                  - name: pool
                    targets:
                      - {target: "127.0.0.1:\(ports[0])", weight: 200}
                      - {target: "127.0.0.1:\(ports[1])", weight: 100}
                      - {target: "127.0.0.1:\(ports[2])", weight: 100}
                services:
                  - name: api
                    host: pool
                    routes: [{name: api, paths: [/]}]
                """
            try await withGateway(yaml) { _, gateway in
                for _ in 0..<40 {
                    let status = try await call(.GET, "\(gateway)/").status
                    #expect(status == 200)
                }
            }
            let counts = Dictionary(grouping: seen.value, by: \.upstream).mapValues(\.count)
            #expect(counts == ["u0": 20, "u1": 10, "u2": 10])
        }
    }

    @Test("consistent hashing on a header keeps each key on one target")
    func consistentHashing() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(3, seen: seen) { ports in
            let yaml = """
                _format_version: "3.0"
                upstreams:
                  - name: pool
                    algorithm: consistent-hashing
                    hash_on: header
                    hash_on_header: X-User
                    targets: [{target: "127.0.0.1:\(ports[0])"}, {target: "127.0.0.1:\(ports[1])"}, {target: "127.0.0.1:\(ports[2])"}]
                services:
                  - name: api
                    host: pool
                    routes: [{name: api, paths: [/]}]
                """
            try await withGateway(yaml) { _, gateway in
                for round in 0..<3 {
                    for user in 0..<12 {
                        let status = try await call(.GET, "\(gateway)/r\(round)", headers: [("X-User", "user-\(user)")]).status
                        #expect(status == 200)
                    }
                }
            }
            let byUser = Dictionary(grouping: seen.value, by: { $0.headers["x-user"] ?? "" }).mapValues { Set($0.map(\.upstream)) }
            #expect(byUser.count == 12)
            #expect(byUser.values.allSatisfy { $0.count == 1 }, "\(byUser)")
            #expect(Set(byUser.values.flatMap { $0 }).count > 1, "keys spread over more than one target")
        }
    }

    @Test("a dead target: GETs move to the healthy one, its breaker opens; all failing is a fast 503; recovery through half-open")
    func breakerPerTarget() async throws {
        let seen = LockedValue<[Seen]>([])
        let failing = LockedValue(true)
        let clock = ManualClock()
        let status: @Sendable (String) -> HTTPResponse.Status = { _ in failing.value ? .serviceUnavailable : .ok }
        try await withUpstreams(1, seen: seen, status: status) { ports in
            let yaml = """
                _format_version: "3.0"
                upstreams:
                  - name: pool
                    targets: [{target: "127.0.0.1:\(deadPort)"}, {target: "127.0.0.1:\(ports[0])"}]
                services:
                  - name: api
                    host: pool
                    retries: 1
                    routes: [{name: api, paths: [/]}]
                """
            var settings = GatewayProxy.Settings()
            settings.breaker = CircuitBreaker.Configuration(
                failureRateThreshold: 50,
                slidingWindow: .countBased(size: 4),
                minimumNumberOfCalls: 2,
                waitDurationInOpenState: .seconds(10),
                permittedCallsInHalfOpenState: 2
            )
            try await withGateway(yaml, settings: settings, clock: clock) { proxy, gateway in
                // GETs go to the dead target (refused, then retried on the other) or to the live one, which answers
                // 503 — a passive failure too — until both breakers are open.
                for _ in 0..<3 {
                    let status = try await call(.GET, "\(gateway)/").status
                    #expect([502, 503].contains(status))
                }
                #expect(proxy.targetStates(service: "api") == ["127.0.0.1:\(deadPort)": .open, "127.0.0.1:\(ports[0])": .open])
                let before = seen.value.count
                let fast = try await call(.GET, "\(gateway)/")
                #expect(fast.status == 503)
                #expect(fast.body.contains("no-healthy-target"))
                #expect(fast.headers["Retry-After"] == ["10"])
                #expect(seen.value.count == before, "no target was called while every breaker is open")

                // The live target recovers; after the open wait its breaker lets probes through and closes.
                failing.withLock { $0 = false }
                clock.advance(by: .seconds(10))
                for _ in 0..<2 {
                    let status = try await call(.GET, "\(gateway)/").status
                    #expect(status == 200)
                }
                #expect(proxy.targetStates(service: "api")["127.0.0.1:\(ports[0])"] == .closed)
                #expect(try await call(.GET, "\(gateway)/").status == 200)
            }
        }
    }

    @Test("a request with a body is not retried: a refused POST is 502 at once and the other target never sees it")
    func bodiesAreNotRetried() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = """
                _format_version: "3.0"
                upstreams:
                  - name: pool
                    targets: [{target: "127.0.0.1:\(deadPort)"}, {target: "127.0.0.1:\(ports[0])"}]
                services:
                  - name: api
                    host: pool
                    routes: [{name: api, paths: [/]}]
                """
            try await withGateway(yaml) { _, gateway in
                // Round robin starts at the first target: the dead one.
                let refused = try await call(.POST, "\(gateway)/orders", body: #"{"n":1}"#)
                #expect(refused.status == 502)
                #expect(refused.body.contains("upstream-unreachable"))
                #expect(seen.value.isEmpty)
                let next = try await call(.POST, "\(gateway)/orders", body: #"{"n":2}"#)
                #expect(next.status == 200)
                #expect(seen.value.map(\.bodyBytes) == [7])
            }
        }
    }

    @Test("request and response bodies are streamed: each side sees the first bytes before the other side sent the rest")
    func streams() async throws {
        let received = LockedValue(0)
        let clientGotFirstChunk = LockedValue(false)
        let chunk = ByteBuffer(repeating: 0x61, count: 64 * 1024)
        let upstream = AnyRequest { request, _ in
            for try await buffer in request.body { received.withLock { $0 += buffer.readableBytes } }
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await writer.write(chunk)
                    try await waitUntil("the client read the first chunk through the gateway") { clientGotFirstChunk.value }
                    for _ in 0..<15 { try await writer.write(chunk) }
                    try await writer.finish(nil)
                }
            )
        }
        try await LoopbackServer.run(upstream) { server in
            let yaml = """
                _format_version: "3.0"
                services:
                  - name: files
                    url: http://127.0.0.1:\(server.port)
                    routes: [{name: files, paths: [/files]}]
                """
            try await withGateway(yaml) { _, gateway in
                var request = HTTPClientRequest(url: "\(gateway)/files/big")
                request.method = .PUT
                let total = 32 * 1024 * 1024
                let chunks = AsyncStream<ByteBuffer> { continuation in
                    Task {
                        defer { continuation.finish() }  // early, on a timeout: the upload then fails short
                        continuation.yield(chunk)
                        // Buffered whole, the upstream would see nothing before the last byte was sent.
                        try await waitUntil("the upstream got the first chunk while the rest is unsent") { received.value > 0 }
                        for _ in 1..<(total / chunk.readableBytes) { continuation.yield(chunk) }
                    }
                }
                request.body = .stream(chunks, length: .known(Int64(total)))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                #expect(response.status == .ok)
                var bytes = 0
                for try await buffer in response.body {
                    bytes += buffer.readableBytes
                    clientGotFirstChunk.withLock { $0 = true }
                }
                #expect(bytes == 16 * chunk.readableBytes)
                #expect(received.value == total)
            }
        }
    }
}

@Suite("Gateway active health checks", .timeLimit(.minutes(2)))
struct ActiveHealthCheckTests {
    /// An upstream named `name` whose `/health` answers what `health` holds; every other path 200 with its name.
    static func upstream(_ name: String, health: LockedValue<HTTPResponse.Status>, probes: LockedValue<Int>) -> AnyRequest {
        AnyRequest { request, _ in
            if request.uri.path == "/health" {
                probes.withLock { $0 += 1 }
                return Response(status: health.value)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: name)))
        }
    }

    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("not within 10 s: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a target failing its probes gets no traffic though it still answers; all failing is a 503; passing probes bring it back")
    func probesMoveTraffic() async throws {
        let (health0, health1) = (LockedValue(HTTPResponse.Status.ok), LockedValue(HTTPResponse.Status.ok))
        let probes = LockedValue(0)
        try await LoopbackServer.run(Self.upstream("u0", health: health0, probes: probes)) { first in
            try await LoopbackServer.run(Self.upstream("u1", health: health1, probes: probes)) { second in
                let yaml = """
                    _format_version: "3.0"
                    upstreams:
                      - name: pool
                        targets: [{target: "127.0.0.1:\(first.port)"}, {target: "127.0.0.1:\(second.port)"}]
                        healthchecks:
                          active:
                            http_path: /health
                            timeout: 1
                            healthy: {interval: 0.05, successes: 2}
                            unhealthy: {interval: 0.05, http_failures: 2, http_statuses: [500, 503]}
                    services:
                      - name: api
                        host: pool
                        routes: [{name: api, paths: [/]}]
                    """
                try await withGateway(yaml) { proxy, gateway in
                    func bodies(_ count: Int) async throws -> Set<String> {
                        var seen = Set<String>()
                        for _ in 0..<count {
                            let response = try await call(.GET, "\(gateway)/work")
                            #expect(response.status == 200 || response.status == 503)
                            seen.insert(response.status == 200 ? response.body : "503")
                        }
                        return seen
                    }
                    #expect(try await bodies(4) == ["u0", "u1"])
                    health1.withLock { $0 = .internalServerError }
                    let u1 = "127.0.0.1:\(second.port)"
                    try await Self.eventually("u1 is found unhealthy") { proxy.activeHealth(service: "api")[u1] == "unhealthy" }
                    #expect(try await bodies(6) == ["u0"], "u1 still answers, but its probes fail")

                    health0.withLock { $0 = .serviceUnavailable }
                    try await Self.eventually("u0 is found unhealthy") {
                        proxy.activeHealth(service: "api")["127.0.0.1:\(first.port)"] == "unhealthy"
                    }
                    let none = try await call(.GET, "\(gateway)/work")
                    #expect(none.status == 503 && none.body.contains("no-healthy-target"))

                    health1.withLock { $0 = .ok }
                    try await Self.eventually("u1 is healthy again") { proxy.activeHealth(service: "api")[u1] == "healthy" }
                    #expect(try await bodies(3) == ["u1"])
                    #expect(proxy.targetStates(service: "api")[u1] == .closed, "the breaker never opened: no request failed")
                }
                let probed = probes.value
                try await Task.sleep(for: .milliseconds(200))
                #expect(probes.value == probed, "probing stops with the proxy")
            }
        }
    }
}
