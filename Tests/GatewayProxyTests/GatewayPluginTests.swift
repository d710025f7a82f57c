import AsyncHTTPClient
import Foundation
import Gateway
import GatewayProxy
import InterchangeCore
import InterchangeTesting
import NIOCore
import NIOHTTP1
import Testing

@Suite("Gateway plugins at work: key-auth, rate-limiting, request-size-limiting, correlation-id", .timeLimit(.minutes(2)))
struct GatewayPluginTests {
    static func yaml(upstream port: Int, plugins: String, consumers: String = "") -> String {
        """
        _format_version: "3.0"
        services:
          - name: api
            url: http://127.0.0.1:\(port)
            routes: [{name: api, paths: [/]}]
        \(consumers)
        plugins:
        \(plugins)
        """
    }

    static let consumers = """
        consumers:
          - username: alice
            id: 6a6f2d57-2b2b-4a30-8b3e-7e1d5b0a0001
            keyauth_credentials: [{key: alice-key-1}]
          - username: bob
            keyauth_credentials: [{key: bob-key-1}]
          - username: guest
        """

    @Test("key-auth: no key and a wrong key are 401 problems; a key in a header or the query identifies the consumer")
    func keyAuth() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: key-auth
                    config: {key_names: [apikey], hide_credentials: true}
                """
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers)) { _, gateway in
                let missing = try await call(.GET, "\(gateway)/orders")
                #expect(missing.status == 401)
                #expect(missing.headers["WWW-Authenticate"] == ["Key"])
                #expect(missing.body.contains("problems/unauthorized") && missing.body.contains("No API key found in request"))
                let wrong = try await call(.GET, "\(gateway)/orders", headers: [("apikey", "alice-key-2")])
                #expect(wrong.status == 401)
                #expect(wrong.body.contains("Invalid authentication credentials"))
                #expect(seen.value.isEmpty, "nothing reached the upstream")

                let status1 = try await call(.GET, "\(gateway)/orders", headers: [("ApiKey", "alice-key-1")]).status

                #expect(status1 == 200)
                let status2 = try await call(.GET, "\(gateway)/orders?page=2&apikey=bob-key-1").status
                #expect(status2 == 200)
                let (alice, bob) = (seen.value[0], seen.value[1])
                #expect(alice.headers["x-consumer-username"] == "alice")
                #expect(alice.headers["x-consumer-id"] == "6a6f2d57-2b2b-4a30-8b3e-7e1d5b0a0001")
                #expect(alice.headers["apikey"] == nil, "hide_credentials removes the header")
                #expect(bob.headers["x-consumer-username"] == "bob")
                #expect(bob.path == "/orders?page=2", "hide_credentials removes the query parameter")
            }
        }
    }

    @Test("key-auth with anonymous: a request without a key goes through as the anonymous consumer")
    func keyAuthAnonymous() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: key-auth
                    config: {anonymous: guest}
                """
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers)) { _, gateway in
                let status3 = try await call(.GET, "\(gateway)/").status
                #expect(status3 == 200)
                #expect(seen.value.first?.headers["x-consumer-username"] == "guest")
                #expect(seen.value.first?.headers["x-anonymous-consumer"] == "true")
            }
        }
    }

    @Test("rate-limiting (local): 64 concurrent requests against a limit of 10 a minute pass exactly 10; the next minute passes again")
    func rateLimitUnderConcurrency() async throws {
        let seen = LockedValue<[Seen]>([])
        let now = LockedValue(Date(timeIntervalSince1970: 1_767_225_630))  // 30 s into a minute
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: rate-limiting
                    config: {minute: 10, hour: 100, limit_by: ip}
                """
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins), now: { now.value }) { _, gateway in
                let statuses = try await withThrowingTaskGroup(of: (Int, HTTPHeaders).self) { group in
                    for _ in 0..<64 {
                        group.addTask {
                            let response = try await call(.GET, "\(gateway)/")
                            return (response.status, response.headers)
                        }
                    }
                    var all: [(Int, HTTPHeaders)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                #expect(statuses.filter { $0.0 == 200 }.count == 10)
                #expect(statuses.filter { $0.0 == 429 }.count == 54)
                #expect(seen.value.count == 10)
                let limited = try #require(statuses.first { $0.0 == 429 }?.1)
                #expect(limited["Retry-After"] == ["30"])
                #expect(limited["RateLimit-Limit"] == ["10"])
                #expect(limited["RateLimit-Remaining"] == ["0"])
                #expect(limited["X-RateLimit-Remaining-Minute"] == ["0"])
                #expect(limited["X-RateLimit-Remaining-Hour"] == ["90"])
                #expect(limited["Content-Type"] == ["application/problem+json"])

                now.withLock { $0 = $0.addingTimeInterval(30) }  // the next minute
                let next = try await call(.GET, "\(gateway)/")
                #expect(next.status == 200)
                #expect(next.headers["X-RateLimit-Remaining-Minute"] == ["9"])
                #expect(next.headers["X-RateLimit-Remaining-Hour"] == ["89"])
            }
        }
    }

    @Test("a consumer's own rate-limiting instance wins over the route's once key-auth has identified it")
    func consumerPrecedence() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: key-auth
                  - name: rate-limiting
                    config: {minute: 2}
                  - name: rate-limiting
                    consumer: alice
                    config: {minute: 5}
                """
            // A fixed clock: on the real one a minute can turn over mid-test and reset the windows.
            let now = Date(timeIntervalSince1970: 1_767_225_630)
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers), now: { now }) { _, gateway in
                var alice: [Int] = []
                var bob: [Int] = []
                for _ in 0..<6 {
                    let forAlice = try await call(.GET, "\(gateway)/", headers: [("apikey", "alice-key-1")]).status
                    let forBob = try await call(.GET, "\(gateway)/", headers: [("apikey", "bob-key-1")]).status
                    alice.append(forAlice)
                    bob.append(forBob)
                }
                #expect(alice == [200, 200, 200, 200, 200, 429])
                #expect(bob == [200, 200, 429, 429, 429, 429])
            }
        }
    }

    @Test("request-size-limiting: a declared length over the limit is 413 at once; a streamed body is cut off when it passes it")
    func requestSize() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: request-size-limiting
                    config: {allowed_payload_size: 1, size_unit: kilobytes}
                """
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins)) { _, gateway in
                let declared = try await call(.POST, "\(gateway)/", body: String(repeating: "x", count: 1025))
                #expect(declared.status == 413)
                #expect(declared.body.contains("problems/payload-too-large"))
                let status4 = try await call(.POST, "\(gateway)/", body: String(repeating: "x", count: 1024)).status
                #expect(status4 == 200)

                var streamed = HTTPClientRequest(url: "\(gateway)/")
                streamed.method = .POST
                let chunks = (0..<8).map { _ in ByteBuffer(repeating: 0x78, count: 512) }
                streamed.body = .stream(chunks.async, length: .unknown)
                let response = try await HTTPClient.shared.execute(streamed, timeout: .seconds(10))
                #expect(response.status.code == 413)
                #expect(seen.value.map(\.bodyBytes) == [1024], "only the request within the limit was handled")
            }
        }
    }

    @Test("correlation-id: a generated id goes upstream and back; a given id is kept; the gateway's own problems carry it")
    func correlationID() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: correlation-id
                    config: {header_name: X-Request-ID, generator: uuid, echo_downstream: true}
                  - name: key-auth
                """
            try await withGateway(Self.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers)) { _, gateway in
                let ok = try await call(.GET, "\(gateway)/", headers: [("apikey", "alice-key-1")])
                let generated = try #require(ok.headers["X-Request-ID"].first)
                #expect(UUID(uuidString: generated) != nil)
                #expect(seen.value.first?.headers["x-request-id"] == generated)
                let given = try await call(.GET, "\(gateway)/", headers: [("apikey", "alice-key-1"), ("X-Request-ID", "req-42")])
                #expect(given.headers["X-Request-ID"] == ["req-42"])
                let refused = try await call(.GET, "\(gateway)/", headers: [("X-Request-ID", "req-43")])
                #expect(refused.status == 401)
                #expect(refused.body.contains(#""correlationId":"req-43""#))
                #expect(refused.headers["X-Request-ID"] == ["req-43"])
            }
        }
    }

    @Test("a plugin that cannot be built stops start-up naming its field, instead of being skipped")
    func unbuildablePlugin() async throws {
        let configuration = try GatewayConfiguration.load(
            yaml: Self.yaml(upstream: 9, plugins: "  - name: rate-limiting\n    config: {minute: 5, policy: cluster}")
        )
        await #expect {
            // Shut down if it starts after all, so the failure is this expectation and not a leaked client.
            try await GatewayProxy(configuration: configuration, logger: LoopbackServer.quietLogger).shutdown()
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == "plugins[0] (rate-limiting).config.policy" && error.reason.contains("--database")
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for a streamed request body.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
