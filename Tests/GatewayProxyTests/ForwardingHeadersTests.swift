import HTTPTypes
import Testing

@testable import GatewayProxy

@Suite("Forwarding headers: hop-by-hop removed, who asked added")
struct ForwardingHeadersTests {
    @Test("hop-by-hop fields and every field Connection names are removed; end-to-end ones stay")
    func hopByHop() {
        var fields: HTTPFields = [
            .connection: "keep-alive, X-Session-Hint", .init("Keep-Alive")!: "timeout=5", .te: "trailers",
            .transferEncoding: "chunked", .upgrade: "websocket", .init("X-Session-Hint")!: "abc",
            .init("Proxy-Authorization")!: "Basic eA==", .accept: "application/json", .authorization: "Bearer t",
        ]
        ForwardingHeaders.removeHopByHop(&fields)
        #expect(fields.map(\.name.canonicalName).sorted() == ["accept", "authorization"])
    }

    @Test("the client is appended to X-Forwarded-For and Forwarded after earlier proxies; an IPv6 node is quoted")
    func forwarding() {
        var fields: HTTPFields = [.init("X-Forwarded-For")!: "203.0.113.7"]
        ForwardingHeaders.addForwarding(
            &fields,
            client: .init(address: "2001:db8::1", scheme: "http", host: "api.example.com:8000", port: 8000),
            strippedPrefix: "/orders"
        )
        #expect(fields[.init("X-Forwarded-For")!] == "203.0.113.7, 2001:db8::1")
        #expect(fields[.init("Forwarded")!] == #"for="[2001:db8::1]";host="api.example.com:8000";proto=http"#)
        #expect(fields[.init("X-Forwarded-Proto")!] == "http")
        #expect(fields[.init("X-Forwarded-Host")!] == "api.example.com:8000")
        #expect(fields[.init("X-Forwarded-Port")!] == "8000")
        #expect(fields[.init("X-Forwarded-Prefix")!] == "/orders")
        #expect(fields[.init("X-Real-IP")!] == "2001:db8::1")
        #expect(fields[.via] == "1.1 interchange-gateway")
    }
}
