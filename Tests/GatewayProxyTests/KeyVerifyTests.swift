import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeTesting
import NIOCore
import Testing

@testable import GatewayProxy

@Suite("Gateway plugins: key-auth with a credential service (verify_url)", .timeLimit(.minutes(2)))
struct KeyVerifyTests {
    /// A credential service: `good-key` belongs to user u-1 (key k-1); any other key is 401; `down` makes it 500.
    static func service(calls: LockedValue<[String]>, down: LockedValue<Bool>) -> AnyRequest {
        AnyRequest { request, _ in
            let body = try await request.body.collect(upTo: 4096)
            let key = (try? JSONDecoder().decode([String: String].self, from: Data(body.readableBytesView)))?["key"] ?? ""
            calls.append(key)
            if down.value { return Response(status: .internalServerError) }
            guard key == "good-key" else { return Response(status: .unauthorized) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"userId":"u-1","keyId":"k-1","extra":true}"#))
            )
        }
    }

    @Test("a key the file does not hold is checked once by the service: valid identifies the user, invalid is 401, down is 503")
    func verifyURL() async throws {
        let (calls, down) = (LockedValue<[String]>([]), LockedValue(false))
        let seen = LockedValue<[Seen]>([])
        try await LoopbackServer.run(Self.service(calls: calls, down: down)) { verifier in
            try await withUpstreams(1, seen: seen) { ports in
                let plugins = """
                      - name: key-auth
                        config: {verify_url: "\(verifier.baseURL)/verify", hide_credentials: true}
                      - name: rate-limiting
                        config: {minute: 2, limit_by: consumer}
                    """
                let yaml = GatewayPluginTests.yaml(upstream: ports[0], plugins: plugins, consumers: GatewayPluginTests.consumers)
                try await withGateway(yaml) { _, gateway in
                    let first = try await call(.GET, "\(gateway)/a", headers: [("apikey", "good-key"), ("X-Consumer-Username", "alice")])
                    let second = try await call(.GET, "\(gateway)/b", headers: [("apikey", "good-key")])
                    #expect([first.status, second.status] == [Int]([200, 200]))
                    #expect(calls.value == ["good-key"], "the second request used the remembered answer")
                    let request = try #require(seen.value.first)
                    #expect(request.headers["x-consumer-id"] == "u-1" && request.headers["x-credential-identifier"] == "k-1")
                    #expect(request.headers["x-consumer-username"] == nil, "the client's own consumer header is removed")
                    #expect(request.headers["apikey"] == nil, "hide_credentials")
                    // The user is the rate limit's consumer: a third request in the minute is over its limit of 2.
                    let third = try await call(.GET, "\(gateway)/c", headers: [("apikey", "good-key")]).status
                    #expect(third == 429)

                    let fileKey = try await call(.GET, "\(gateway)/d", headers: [("apikey", "alice-key-1")]).status
                    #expect(fileKey == 200, "a key the file holds is not sent to the service")
                    let bad = try await call(.GET, "\(gateway)/e", headers: [("apikey", "bad-key")])
                    #expect(bad.status == 401 && bad.body.contains("Invalid authentication credentials"))
                    down.withLock { $0 = true }
                    let unavailable = try await call(.GET, "\(gateway)/f", headers: [("apikey", "other-key")])
                    #expect(unavailable.status == 503 && unavailable.body.contains("credentials-unavailable"))
                    #expect(calls.value == ["good-key", "bad-key", "other-key"])
                }
            }
        }
    }
}
