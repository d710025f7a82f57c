import AsyncHTTPClient
import Foundation
import Gateway
import GatewayProxy
import HTTPTypes
import Hummingbird
import InterchangeCore
import InterchangeTesting
import Testing

@testable import GatewayProxy

@Suite("Gateway plugins: basic-auth, acl, ip-restriction", .timeLimit(.minutes(2)))
struct GatewayAccessPluginTests {
    static let consumers = """
        consumers:
          - username: alice
            basicauth_credentials: [{username: alice, password: "s3cret:with:colons"}]
            acls: [{group: admins}, {group: staff}]
          - username: bob
            basicauth_credentials: [{username: bob, password: hunter2}]
            acls: [{group: staff}]
          - username: guest
        """

    static func basic(_ username: String, _ password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
    }

    @Test("basic-auth: missing and wrong credentials are 401 with the realm; right ones identify the consumer and can be hidden")
    func basicAuth() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: basic-auth
                    config: {hide_credentials: true, realm: shop}
                """
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers)
            try await withGateway(yaml) { _, gateway in
                let missing = try await call(.GET, "\(gateway)/")
                #expect(missing.status == 401)
                #expect(missing.headers["WWW-Authenticate"] == [#"Basic realm="shop""#])
                let wrong = try await call(.GET, "\(gateway)/", headers: [Self.basic("alice", "s3cret")])
                #expect(wrong.status == 401)
                #expect(wrong.body.contains("Invalid authentication credentials"))
                let garbage = try await call(.GET, "\(gateway)/", headers: [("Authorization", "Basic !!!")])
                #expect(garbage.status == 401)
                #expect(seen.value.isEmpty)

                let right = try await call(.GET, "\(gateway)/", headers: [Self.basic("alice", "s3cret:with:colons")])
                #expect(right.status == 200)
                #expect(seen.value.first?.headers["x-consumer-username"] == "alice")
                #expect(seen.value.first?.headers["x-credential-identifier"] == "alice")
                #expect(seen.value.first?.headers["authorization"] == nil, "hide_credentials")
            }
        }
    }

    @Test("a client cannot pass its own X-Consumer-* headers through an authentication plugin")
    func spoofedConsumerHeaders() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: basic-auth", consumers: Self.consumers)
            try await withGateway(yaml) { _, gateway in
                let headers = [Self.basic("bob", "hunter2"), ("X-Consumer-Username", "alice"), ("X-Consumer-Custom-ID", "root")]
                let response = try await call(.GET, "\(gateway)/", headers: headers)
                #expect(response.status == 200)
                #expect(seen.value.first?.headers["x-consumer-username"] == "bob")
                #expect(seen.value.first?.headers["x-consumer-custom-id"] == nil)
            }
        }
    }

    @Test("acl: an allowed group passes with X-Consumer-Groups; another consumer is 403; no consumer is 401")
    func acl() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let plugins = """
                  - name: basic-auth
                    config: {anonymous: guest}
                  - name: acl
                    config: {allow: [admins]}
                """
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins, consumers: Self.consumers)
            try await withGateway(yaml) { _, gateway in
                let alice = try await call(.GET, "\(gateway)/", headers: [Self.basic("alice", "s3cret:with:colons")])
                #expect(alice.status == 200)
                #expect(seen.value.first?.headers["x-consumer-groups"] == "admins, staff")
                let bob = try await call(.GET, "\(gateway)/", headers: [Self.basic("bob", "hunter2")])
                #expect(bob.status == 403)
                #expect(bob.body.contains("You cannot consume this service"))
                let anonymous = try await call(.GET, "\(gateway)/")
                #expect(anonymous.status == 403, "the anonymous consumer is a consumer, and not in admins")
                #expect(seen.value.count == 1)
            }
        }
        try await withUpstreams(1, seen: seen) { ports in
            let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: acl\n    config: {deny: [staff]}")
            try await withGateway(yaml) { _, gateway in
                let response = try await call(.GET, "\(gateway)/")
                #expect(response.status == 401)
            }
        }
    }

    @Test("ip-restriction: deny wins, allow lists are exclusive, CIDR blocks in IPv4 and IPv6, custom status and message")
    func ipRestriction() async throws {
        let seen = LockedValue<[Seen]>([])
        try await withUpstreams(1, seen: seen) { ports in
            let denied = GatewayPluginTests.yaml(
                upstream: ports[0],
                plugins: "  - name: ip-restriction\n    config: {allow: [127.0.0.0/8], deny: [127.0.0.1], status: 451, message: not you}"
            )
            try await withGateway(denied) { _, gateway in
                let response = try await call(.GET, "\(gateway)/")
                #expect(response.status == 451)
                #expect(response.body.contains("not you") && response.body.contains("problems/ip-not-allowed"))
            }
            let outside = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: ip-restriction\n    config: {allow: [10.0.0.0/8]}")
            try await withGateway(outside) { _, gateway in
                let status1 = try await call(.GET, "\(gateway)/").status
                #expect(status1 == 403)
            }
            let inside = GatewayPluginTests.yaml(upstream: ports[0], plugins: "  - name: ip-restriction\n    config: {allow: [127.0.0.0/24]}")
            try await withGateway(inside) { _, gateway in
                let status2 = try await call(.GET, "\(gateway)/").status
                #expect(status2 == 200)
            }
        }
        #expect(seen.value.count == 1)
    }

    @Test("CIDR blocks: prefixes, IPv6, IPv4-mapped addresses, and bad input")
    func cidr() throws {
        let block = try #require(CIDR("192.168.16.0/20"))
        #expect(block.contains(try #require(IPAddress("192.168.31.255"))))
        #expect(!block.contains(try #require(IPAddress("192.168.32.0"))))
        #expect(block.contains(try #require(IPAddress("::ffff:192.168.20.1"))), "IPv4-mapped is judged as IPv4")
        let v6 = try #require(CIDR("2001:db8::/33"))
        #expect(v6.contains(try #require(IPAddress("2001:db8:7fff::1"))))
        #expect(!v6.contains(try #require(IPAddress("2001:db8:8000::1"))))
        #expect(!v6.contains(try #require(IPAddress("192.168.20.1"))))
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("nonsense") == nil)
        #expect(try #require(CIDR("0.0.0.0/0")).contains(try #require(IPAddress("8.8.8.8"))))
    }
}

@Suite("Rate limiting's counters")
struct RateLimitingCounterTests {
    @Test("once there are many counts, those of ended windows are dropped")
    func pruning() async throws {
        let now = LockedValue(Date(timeIntervalSince1970: 1_767_225_600))
        let configuration = try GatewayConfiguration.load(
            yaml: GatewayPluginTests.yaml(upstream: 9, plugins: "  - name: rate-limiting\n    config: {minute: 5, limit_by: ip}")
        )
        guard case .rateLimiting(let config) = configuration.plugins[0].configuration else {
            Issue.record("not a rate-limiting plugin")
            return
        }
        let plugin = try RateLimitingPlugin(config, gateway: configuration, now: { now.value })
        func request(from address: String) async throws -> Response? { try await RateLimitPolicyTests.request(plugin, from: address).0 }
        for client in 0..<100_001 { _ = try await request(from: "10.\(client >> 16).\((client >> 8) & 255).\(client & 255)") }
        #expect(plugin.heldCounts == 100_001)
        now.withLock { $0 = $0.addingTimeInterval(60) }  // every window so far has ended
        #expect(try await request(from: "192.0.2.1") == nil)
        #expect(plugin.heldCounts == 1, "only the new window's count is left")
    }
}
