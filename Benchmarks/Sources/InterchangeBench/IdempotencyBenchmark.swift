import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Idempotency
import Logging
import NIOCore
import Persistence
import SQLKit
import Shop

/// A POST endpoint that creates an order (one row inserted) served without and with `IdempotencyMiddleware`, on one
/// loopback server and one database, measured in the same run, rounds interleaved: first-time keys (a new key per
/// request: the key is claimed, the handler runs, the response is stored) and replays (a retry of a stored key:
/// answered from the database, the handler does not run). The issue asks for ≥ 0.7× (first-time) and ≥ 0.9× (replays)
/// of the endpoint without the middleware.
struct IdempotencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idempotency",
        abstract: "A POST endpoint with and without IdempotencyMiddleware: first-time keys and replays."
    )

    @Option(help: "PostgreSQL URL to run the benchmark on as well.") var postgres: String?
    @Option(help: "Concurrent requests in flight.") var concurrency = 16
    @Option(help: "Database connections (default: one per request in flight).") var connections: Int?
    @Option(help: "Seconds per measurement.") var seconds = 3
    @Option(help: "Rounds per mode, interleaved.") var rounds = 3
    @Option(help: "Stored keys the replay mode cycles through.") var replayKeys = 64
    @Flag(help: "Only first-time keys, one long run (for profiling).") var firstTimeOnly = false
    @Option(
        help: "The endpoint: 'toy' (one row inserted) or 'shop' (the shop's POST /shop/api/orders: catalog read, order and lines in a transaction)."
    )
    var endpoint: Endpoint = .toy

    enum Endpoint: String, ExpressibleByArgument, Sendable {
        case toy
        case shop
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        switch endpoint {
        case .toy: print("## Idempotency middleware on POST /orders (one order row inserted per execution), \(concurrency) in flight")
        case .shop: print("## Idempotency middleware on the shop's POST /shop/api/orders (ShopComponent, one line), \(concurrency) in flight")
        }
        print("| database | mode | req/s | p50 ms | p99 ms | vs the endpoint without the middleware (median of \(rounds) rounds) |")
        print("|---|---|---:|---:|---:|---:|")
        try await measure(.sqlite(path: directory.appendingPathComponent("idempotency.sqlite").path), name: "SQLite", logger: logger)
        if let postgres { try await measure(.postgres(url: postgres), name: "PostgreSQL", logger: logger) }
        print()
    }

    /// `POST /plain/orders`, `/idempotent/orders` and `/idempotent-uncached/orders`: one order row inserted per execution.
    private static func addToyEndpoint(to router: Router<BasicRequestContext>, database: Database) async throws {
        @Sendable func createOrder(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            let id = UUID().uuidString
            try await database.withConnection { sql in
                try await sql.insert(into: "bench_orders").columns("id", "body", "created_at")
                    .values(SQLBind(id), SQLBind(Data(body.readableBytesView)), SQLBind(Date().millisecondsSince1970))
                    .run()
            }
            return Response(
                status: .created,
                headers: [.contentType: "application/json", .location: "/orders/\(id)"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"id":"\#(id)","status":"pending"}"#))
            )
        }
        router.post("/plain/orders", use: createOrder)
        router.group("/idempotent").add(middleware: try IdempotencyMiddleware<BasicRequestContext>(database: database)).post(
            "orders",
            use: createOrder
        )
        // The same, with no replay cache: every replay is read from the database (a retry reaching another process).
        router.group("/idempotent-uncached")
            .add(middleware: try IdempotencyMiddleware<BasicRequestContext>(database: database, configuration: .init(replayCacheBytes: 0)))
            .post("orders", use: createOrder)

    }

    private func measure(_ location: Database.Location, name: String, logger: Logger) async throws {
        let database = try await Database.open(location, maxConnections: connections ?? concurrency, logger: logger)
        try await database.migrate(IdempotencyStore.migrations)
        try await database.withConnection { sql in
            try await sql.drop(table: "bench_orders").ifExists().run()
            try await sql.create(table: "bench_orders")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("body", type: .blob, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await sql.delete(from: "idempotency_keys").run()
        }

        let router = Router()
        let paths: (plain: String, idempotent: String, uncached: String?)
        var requestBody = #"{"lines":[{"productId":"p_1","quantity":2}]}"#
        switch endpoint {
        case .toy:
            try await Self.addToyEndpoint(to: router, database: database)
            paths = ("/plain/orders", "/idempotent/orders", "/idempotent-uncached/orders")
        case .shop:
            // The shop's own route: without a key the middleware steps aside, with one it runs; no replay-cache knob.
            let shop = try await ShopComponent.make(
                configuration: .init(stripeWebhookSecrets: ["whsec_bench"], processesWebhooks: false),
                database: database,
                selfBaseURL: { "http://127.0.0.1:1" },
                logger: logger,
                closesDatabase: false
            )
            try shop.addRoutes(to: router)
            guard let product = try await shop.store.products().first else { throw BenchmarkFailure("the shop's catalog is empty") }
            requestBody = #"{"lines":[{"productId":"\#(product.id)","quantity":2}]}"#
            paths = ("/shop/api/orders", "/shop/api/orders", nil)
        }
        let (concurrency, seconds, rounds, replayKeys, firstTimeOnly, body) = (concurrency, seconds, rounds, replayKeys, firstTimeOnly, requestBody)
        try await withBenchServer(router, concurrency: concurrency, logger: logger) { base, client in
            @Sendable func post(_ path: String, key: String?, expectReplay: Bool) async throws {
                var request = HTTPClientRequest(url: base + path)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                if let key { request.headers.add(name: "Idempotency-Key", value: key) }
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .created else { throw BenchmarkFailure("answered \(response.status.code), not 201") }
                guard (response.headers.first(name: "Idempotent-Replayed") == "true") == expectReplay else {
                    throw BenchmarkFailure(expectReplay ? "a replay executed the handler" : "a first-time key was answered as a replay")
                }
            }

            // The keys the replay mode retries, each executed once now.
            let keys = (0..<replayKeys).map { "replay-\($0)-\(UUID().uuidString)" }
            for key in keys { try await post(paths.idempotent, key: key, expectReplay: false) }

            var modes: [(String, @Sendable () async throws -> Void)] = [
                ("without the middleware", { try await post(paths.plain, key: nil, expectReplay: false) }),
                ("first-time keys", { try await post(paths.idempotent, key: UUID().uuidString, expectReplay: false) }),
                (
                    "replays (this process has the answer in memory)",
                    { try await post(paths.idempotent, key: keys.randomElement()!, expectReplay: true) }
                ),
            ]
            if let uncached = paths.uncached {
                let uncachedKeys = (0..<replayKeys).map { "uncached-\($0)-\(UUID().uuidString)" }
                for key in uncachedKeys { try await post(uncached, key: key, expectReplay: false) }
                modes.append(
                    (
                        "replays read from the database (replay cache off)",
                        { try await post(uncached, key: uncachedKeys.randomElement()!, expectReplay: true) }
                    )
                )
            }
            if firstTimeOnly {
                _ = await runLoad(concurrency: concurrency, duration: .seconds(seconds), modes[1].1)
                return
            }
            for (_, operation) in modes { _ = await runLoad(concurrency: concurrency, duration: .seconds(1), operation) }  // warm-up
            var results = Array(repeating: [LoadResult](), count: modes.count)
            for _ in 0..<rounds {
                for (index, (_, operation)) in modes.enumerated() {
                    results[index].append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), operation))
                }
            }
            for (index, (mode, _)) in modes.enumerated() {
                let errors = results[index].reduce(0) { $0 + $1.errors }
                guard errors == 0 else { throw BenchmarkFailure("\(mode) on \(name): \(errors) requests failed") }
                let ratio = median(zip(results[index], results[0]).map { $0.requestsPerSecond / $1.requestsPerSecond })
                let rate = median(results[index].map(\.requestsPerSecond))
                let p50 = median(results[index].map(\.p50Milliseconds))
                let p99 = median(results[index].map(\.p99Milliseconds))
                print(String(format: "| %@ | %@ | %.0f | %.3f | %.3f | %.2f× |", name, mode, rate, p50, p99, ratio))
            }
        }
        try await database.shutdown()
    }
}
