import AsyncHTTPClient
import Foundation
import Gateway
import GatewayProxy
import Hummingbird
import InterchangeTesting
import Logging
import NIOCore
import NIOHTTP1
import Resilience

/// A Hummingbird responder for any method and path, for upstreams that record what reached them.
struct AnyRequest: HTTPResponderBuilder {
    let handle: @Sendable (Request, BasicRequestContext) async throws -> Response

    func buildResponder() -> CallbackResponder<BasicRequestContext> { CallbackResponder(callback: handle) }
}

/// What an echo upstream saw of one request.
struct Seen: Sendable {
    var upstream: String
    var method: String
    var path: String
    var headers: [String: String]
    var bodyBytes: Int
    /// The body's first 64 KiB as text.
    var body: String = ""
}

/// An upstream that answers 200 with its name and records each request (headers with repeated names joined by ", ").
func echo(_ name: String, into seen: LockedValue<[Seen]>, status: @escaping @Sendable () -> HTTPResponse.Status = { .ok }) -> AnyRequest {
    AnyRequest { request, _ in
        var bytes = 0
        var prefix = ByteBuffer()
        for try await var buffer in request.body {
            bytes += buffer.readableBytes
            if prefix.readableBytes < 65536 { prefix.writeBuffer(&buffer) }
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName, default: ""] += (headers[field.name.canonicalName] == nil ? "" : ", ") + field.value
        }
        if let authority = request.head.authority { headers["host"] = authority }
        seen.append(
            Seen(
                upstream: name,
                method: request.method.rawValue,
                path: request.uri.string,
                headers: headers,
                bodyBytes: bytes,
                body: String(buffer: prefix)
            )
        )
        return Response(
            status: status(),
            headers: [.contentType: "text/plain", .connection: "keep-alive, X-Upstream-Secret", .init("X-Upstream-Secret")!: "s"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: name))
        )
    }
}

/// Runs a gateway for `yaml` (Kong's declarative format) on a random loopback port for the body's length.
func withGateway<T: Sendable>(
    _ yaml: String,
    settings: GatewayProxy.Settings = GatewayProxy.Settings(),
    clock: some Clock<Duration> = ContinuousClock(),
    now: @escaping @Sendable () -> Date = Date.init,
    _ body: (GatewayProxy, String) async throws -> T
) async throws -> T {
    let configuration = try GatewayConfiguration.load(yaml: yaml)
    let proxy = try await GatewayProxy(configuration: configuration, settings: settings, clock: clock, now: now, logger: LoopbackServer.quietLogger)
    do {
        let result = try await LoopbackServer.run(proxy) { server in try await body(proxy, server.baseURL) }
        try await proxy.shutdown()
        return result
    } catch {
        try? await proxy.shutdown()
        throw error
    }
}

/// Runs `count` echo upstreams named u0, u1, … and hands their ports to `body`.
func withUpstreams<T: Sendable>(
    _ count: Int,
    seen: LockedValue<[Seen]>,
    status: @escaping @Sendable (String) -> HTTPResponse.Status = { _ in .ok },
    _ body: ([Int]) async throws -> T
) async throws -> T {
    func run(_ index: Int, _ ports: [Int]) async throws -> T {
        guard index < count else { return try await body(ports) }
        return try await LoopbackServer.run(echo("u\(index)", into: seen, status: { status("u\(index)") })) { server in
            try await run(index + 1, ports + [server.port])
        }
    }
    return try await run(0, [])
}

/// One request through the gateway; the body read whole.
func call(
    _ method: HTTPMethod = .GET,
    _ url: String,
    headers: [(String, String)] = [],
    body: String? = nil
) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let buffer = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), response.headers, String(buffer: buffer))
}

/// A port on loopback where nothing listens (connections are refused at once).
let deadPort = 1
