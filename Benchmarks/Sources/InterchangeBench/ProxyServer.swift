import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// The smallest proxy that Hummingbird and AsyncHTTPClient make: every request forwarded to `--upstream` with its
/// method, path and headers, the body streamed both ways, through one client with the gateway's pool size and no
/// tracing — and nothing else (no routing, plugins, forwarding headers, breakers or analytics). Set beside
/// `interchange serve gateway`, it separates what the gateway's own work costs from what its transport does.
struct ProxyServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-server",
        abstract: "Forward every request to one upstream with Hummingbird + AsyncHTTPClient, nothing else."
    )

    @Option(help: "Port to listen on.") var port = 0
    @Option(help: "The upstream's base URL, e.g. http://127.0.0.1:8080.") var upstream: String
    @Option(help: "Kept-alive upstream connections per host (the gateway's default).") var connections = 256
    @Option(help: "The upstream client: ahc (AsyncHTTPClient) or lean (the LeanUpstream experiment: GET only, bodies buffered).")
    var client = "ahc"

    func run() async throws {
        var logger = Logger(label: "proxy")
        logger.logLevel = .error
        if client == "lean" { return try await runLean(logger: logger) }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let (base, clientLogger) = (upstream, logger)
        let responder = CallbackResponder { (request: Request, _: BasicRequestContext) in
            var outgoing = HTTPClientRequest(url: base + Self.target(of: request))
            outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
            outgoing.headers = Self.forwardedHeaders(of: request)
            if let length = request.headers[.contentLength].flatMap(Int.init), length > 0 {
                outgoing.body = .stream(request.body, length: .known(Int64(length)))
            }
            let response = try await client.execute(outgoing, deadline: .distantFuture, logger: clientLogger)
            return Response(
                status: HTTPResponse.Status(code: Int(response.status.code)),
                headers: Self.relayedFields(of: response.headers),
                body: ResponseBody(asyncSequence: response.body)
            )
        }
        do {
            try await serveOnLoopback(responder, port: port, logger: logger)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func runLean(logger: Logger) async throws {
        guard let url = URL(string: upstream), let host = url.host, let port = url.port else {
            throw ValidationError("--upstream must be http://HOST:PORT")
        }
        let lean = LeanUpstream(host: host, port: port)
        let responder = CallbackResponder { (request: Request, context: LoopRequestContext) in
            var headers = Self.forwardedHeaders(of: request)
            if headers["host"].isEmpty { headers.add(name: "host", value: "\(host):\(port)") }
            let head = HTTPRequestHead(
                version: .http1_1,
                method: HTTPMethod(rawValue: request.method.rawValue),
                uri: Self.target(of: request),
                headers: headers
            )
            let (response, body) = try await lean.execute(head, on: context.eventLoop).get()
            return Response(
                status: HTTPResponse.Status(code: Int(response.status.code)),
                headers: Self.relayedFields(of: response.headers),
                body: .init(byteBuffer: body)
            )
        }
        try await serveOnLoopback(responder, port: self.port, logger: logger)
    }

    /// Hop-by-hop headers (RFC 9110 §7.6.1), which a proxy does not pass on.
    private static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"]

    private static func target(of request: Request) -> String { request.uri.string.isEmpty ? "/" : request.uri.string }

    private static func forwardedHeaders(of request: Request) -> HTTPHeaders {
        HTTPHeaders(request.headers.filter { !hopByHop.contains($0.name.canonicalName) }.map { ($0.name.rawName, $0.value) })
    }

    private static func relayedFields(of headers: HTTPHeaders) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers where !hopByHop.contains(name.lowercased()) {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return fields
    }
}

/// A request context that knows its connection's event loop, so the lean client writes upstream on it.
struct LoopRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
    }
}
