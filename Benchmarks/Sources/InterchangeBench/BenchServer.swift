import AsyncHTTPClient
import Hummingbird
import Logging

/// Serves `router` on a loopback port for the duration of `body`, which gets the base URL (`http://127.0.0.1:PORT`)
/// and an AsyncHTTPClient sized for `concurrency` connections; the server and client stop when `body` returns.
func withBenchServer<Result: Sendable>(
    _ router: Router<BasicRequestContext>,
    concurrency: Int,
    logger: Logger,
    _ body: @escaping @Sendable (_ baseURL: String, _ client: HTTPClient) async throws -> Result
) async throws -> Result {
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
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
    clientConfiguration.tracing.tracer = nil
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    do {
        let result = try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            defer { group.cancelAll() }
            guard let port = await ports.first(where: { _ in true }), port > 0 else { throw BenchmarkFailure("the server did not start") }
            return try await body("http://127.0.0.1:\(port)", client)
        }
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
