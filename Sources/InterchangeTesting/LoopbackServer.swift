import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A Hummingbird application on a random loopback port (`127.0.0.1:0`) for the length of a test, stopped
/// gracefully (kept-alive connections closed properly) however the test's body ends.
///
/// ```swift
/// let router = Router()
/// router.get("/hello") { _, _ in "hello" }
/// try await LoopbackServer.run(router) { server in
///     let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: server.baseURL + "/hello"), timeout: .seconds(5))
///     #expect(response.status == .ok)
/// }
/// ```
///
/// `services` run beside the server in the same `ServiceGroup` (a component's background work, a client that
/// must be shut down); they are started first and stopped after the server.
public struct LoopbackServer: Sendable {
    /// The port the server listens on.
    public let port: Int

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A logger that stays quiet unless something is critical.
    public static var quietLogger: Logger {
        var logger = Logger(label: "LoopbackServer")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with `router` served on a random loopback port, then stops the server and `services`.
    ///
    /// - Parameter shutdownGrace: how long requests still in flight when `body` returns may take before they are
    ///   cancelled.
    public static func run<Builder: HTTPResponderBuilder, T: Sendable>(
        _ router: Builder,
        services: [any Service] = [],
        shutdownGrace: Duration = .seconds(1),
        logger: Logger = quietLogger,
        _ body: (LoopbackServer) async throws -> T
    ) async throws -> T where Builder.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: services + [app], gracefulShutdownSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
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
                throw NotListening()
            }
            // Shut down gracefully: cancelling the server task while a connection is open trips SwiftNIO's
            // "writer not finished" precondition.
            let result: Result<T, any Error>
            do {
                result = .success(try await body(LoopbackServer(port: port)))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            return try result.get()
        }
    }

    /// The server stopped before it was listening.
    public struct NotListening: Error, CustomStringConvertible {
        public var description: String { "the test server did not start listening on 127.0.0.1" }
    }
}
