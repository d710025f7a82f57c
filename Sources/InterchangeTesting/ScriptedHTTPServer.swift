import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server on a random loopback port that answers from a script, for testing clients against the
/// faults real APIs produce: 5xx with and without `Retry-After`, 429, slow responses, connections reset in
/// the middle of a body, malformed JSON, the wrong content type.
///
/// ```swift
/// try await ScriptedHTTPServer.withServer { server in
///     server.enqueue("/v1/items", .status(503, headers: ["Retry-After": "1"]), .json(#"{"ok":true}"#))
///     let response = try await client.get("\(server.baseURL)/v1/items")
///     #expect(server.requests(to: "/v1/items").count == 2)
/// }
/// ```
///
/// Replies for a path are served in order; the last one repeats. The server stops when `withServer` returns.
public final class ScriptedHTTPServer: Sendable {
    /// One scripted answer.
    public struct Reply: Sendable {
        public enum Behaviour: Sendable {
            /// Send the whole reply.
            case normal
            /// Announce the full length, send `bytes` bytes of the body, then drop the connection.
            case resetMidBody(afterBytes: Int)
        }

        public var status: HTTPResponse.Status
        public var headers: [(String, String)]
        public var body: String
        /// Wait this long (real time) before answering.
        public var delay: Duration
        public var behaviour: Behaviour

        public init(
            status: HTTPResponse.Status = .ok,
            headers: [(String, String)] = [],
            body: String = "",
            delay: Duration = .zero,
            behaviour: Behaviour = .normal
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.behaviour = behaviour
        }

        /// A `200` (or `status`) with a JSON body.
        public static func json(_ body: String, status: HTTPResponse.Status = .ok, headers: [(String, String)] = []) -> Reply {
            Reply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
        }

        /// A reply with `status`, optional headers and a plain-text body.
        public static func status(_ code: Int, headers: [(String, String)] = [], body: String = "") -> Reply {
            Reply(status: HTTPResponse.Status(code: code), headers: headers, body: body)
        }

        /// An RFC 9457 problem response.
        public static func problem(_ code: Int, title: String, detail: String, headers: [(String, String)] = []) -> Reply {
            let body = #"{"type":"about:blank","title":"\#(title)","status":\#(code),"detail":"\#(detail)"}"#
            return Reply(
                status: HTTPResponse.Status(code: code),
                headers: [("Content-Type", "application/problem+json")] + headers,
                body: body
            )
        }
    }

    /// A request as the server received it.
    public struct RecordedRequest: Sendable {
        public var method: HTTPRequest.Method
        public var path: String
        public var query: String?
        /// The `Host` the client sent (HTTP/1.1) or `:authority` (HTTP/2).
        public var authority: String?
        public var headers: HTTPFields
        public var body: String

        /// The value of the query parameter `name`, percent-decoded.
        public func queryValue(_ name: String) -> String? {
            guard let query else { return nil }
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.first.map(String.init)?.removingPercentEncoding == name {
                    return parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding : ""
                }
            }
            return nil
        }
    }

    public typealias Handler = @Sendable (RecordedRequest) async throws -> Reply

    private struct State {
        var scripts: [String: [Reply]] = [:]
        var handlers: [String: Handler] = [:]
        var requests: [RecordedRequest] = []
    }

    private let state = Mutex(State())
    private let portBox = Mutex(0)

    private init() {}

    /// The port the server listens on.
    public var port: Int { portBox.withLock { $0 } }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Scripts the replies for `path` (no query string), replacing any earlier script.
    public func enqueue(_ path: String, _ replies: Reply...) {
        state.withLock { $0.scripts[path] = replies }
    }

    /// Answers `path` with `handler`, which sees each request.
    public func handle(_ path: String, _ handler: @escaping Handler) {
        state.withLock { $0.handlers[path] = handler }
    }

    /// Every request received, in order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// The requests received for `path`.
    public func requests(to path: String) -> [RecordedRequest] {
        state.withLock { $0.requests.filter { $0.path == path } }
    }

    /// Runs `body` with a server listening on a random loopback port, and stops the server after.
    public static func withServer<T: Sendable>(_ body: (ScriptedHTTPServer) async throws -> T) async throws -> T {
        let server = ScriptedHTTPServer()
        var logger = Logger(label: "ScriptedHTTPServer")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: CallbackResponder { (request: Request, _: BasicRequestContext) in
                try await server.respond(to: request)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger)
        // Requests still in flight (a scripted delay) get a moment, then are cancelled.
        configuration.maximumGracefulShutdownDuration = .milliseconds(500)
        let group = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { portContinuation.finish() }  // a server that fails to start must not leave the test waiting
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port != 0 else {
                tasks.cancelAll()
                try await tasks.waitForAll()
                throw LoopbackServer.NotListening()
            }
            server.portBox.withLock { $0 = port }
            // Shut down gracefully, closing kept-alive connections properly: cancelling the server task while a
            // connection is open trips SwiftNIO's "writer not finished" precondition.
            let result: Result<T, any Error>
            do {
                result = .success(try await body(server))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            return try result.get()
        }
    }

    private func respond(to request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024 * 1024)
        let recorded = RecordedRequest(
            method: request.method,
            path: request.uri.path,
            query: request.uri.query,
            authority: request.head.authority,
            headers: request.headers,
            body: String(buffer: body)
        )
        let handler: Handler? = state.withLock { state in
            state.requests.append(recorded)
            return state.handlers[recorded.path]
        }
        let reply: Reply
        if let handler {
            reply = try await handler(recorded)
        } else {
            reply = state.withLock { state in
                guard var script = state.scripts[recorded.path], !script.isEmpty else {
                    return Reply.status(404, body: "no script for \(recorded.path)")
                }
                let next = script.count > 1 ? script.removeFirst() : script[0]
                state.scripts[recorded.path] = script
                return next
            }
        }
        if reply.delay > .zero {
            try await Task.sleep(for: reply.delay)
        }
        var headers = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let bytes = ByteBuffer(string: reply.body)
        switch reply.behaviour {
        case .normal:
            return Response(status: reply.status, headers: headers, body: ResponseBody(byteBuffer: bytes))
        case .resetMidBody(let count):
            let partial = bytes.getSlice(at: 0, length: min(count, bytes.readableBytes)) ?? ByteBuffer()
            return Response(
                status: reply.status,
                headers: headers,
                body: ResponseBody(contentLength: bytes.readableBytes) { writer in
                    try await writer.write(partial)
                    throw ConnectionReset()
                }
            )
        }
    }

    private struct ConnectionReset: Error {}
}
