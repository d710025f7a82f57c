import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPIntegration
import Hummingbird
import Logging
import NIOCore
import Persistence
import Shop
import StripeSimulator
import Synchronization

/// Checkout-session creation through the Stripe simulator, on loopback, three ways in the same run, rounds
/// interleaved: AsyncHTTPClient POSTing the shop's form by hand (the baseline), the shop's `StripeCheckoutClient`
/// (the resilient pipeline: retries, breaker, timeouts, metrics), and the shop's whole checkout
/// (`OrderCheckout.session(forOrder:)`: the order read from SQLite, the session opened, the attempt recorded).
/// Every request opens a new session (a new idempotency key; for the whole checkout, an order never checked out).
struct ShopCheckoutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop-checkout",
        abstract: "Checkout sessions through the Stripe simulator: raw AsyncHTTPClient vs StripeCheckoutClient vs the shop's checkout."
    )

    @Option(help: "Concurrent requests in flight.") var concurrency = 8
    @Option(help: "Seconds per measurement.") var seconds = 3
    @Option(help: "Rounds per mode, interleaved.") var rounds = 3
    @Option(help: "Orders placed before timing, for the whole-checkout mode (each is checked out once).") var orders = 20_000

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let engine = try await StripeSimulator.makeDeliveryEngine(databasePath: directory.appendingPathComponent("sim.sqlite").path, logger: logger)
        let simulator = StripeSimulator(engine: engine, logger: logger)
        try await simulator.prepare()
        let router = Router()
        try simulator.addRoutes(to: router)

        let database = try await Database.open(
            .sqlite(path: directory.appendingPathComponent("shop.sqlite").path),
            maxConnections: concurrency,
            logger: logger
        )
        let store = ShopStore(database: database)
        try await store.prepare()
        guard let product = try await store.products().first else { throw BenchmarkFailure("the catalog is empty") }
        let (concurrency, seconds, rounds, orderCount, quiet) = (concurrency, seconds, rounds, orders, logger)

        try await withBenchServer(router, concurrency: concurrency, logger: logger) { base, client in
            let stripe = try StripeCheckoutClient(
                configuration: .init(secretKey: StripeSimulator.Configuration.defaultAPIKey),
                apiBase: { base },
                logger: quiet
            )
            let checkout = try OrderCheckout(store: store, stripe: stripe, shopBaseURL: { "http://127.0.0.1:8080" }, logger: quiet)
            let template = try await store.createOrder(lines: [(product.id, 2)])
            let attempts = SharedCount()

            @Sendable func raw() async throws {
                let request = StripeCheckoutClient.SessionRequest(
                    order: template,
                    attempt: 1_000_000 + attempts.take(),
                    shopBaseURL: "http://127.0.0.1:8080",
                    now: Date()
                )
                var http = HTTPClientRequest(url: base + "/v1/checkout/sessions")
                http.method = .POST
                http.headers.add(name: "Authorization", value: "Bearer \(StripeSimulator.Configuration.defaultAPIKey)")
                http.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                http.headers.add(name: "Stripe-Version", value: StripeCheckoutClient.apiVersion)
                http.headers.add(name: "Idempotency-Key", value: request.idempotencyKey)
                http.body = .bytes(try formEncoded(request.formFields))
                let response = try await client.execute(http, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok, String(buffer: body).contains(#""cs_test_"#) else {
                    throw BenchmarkFailure("the simulator answered \(response.status.code): \(String(buffer: body).prefix(200))")
                }
            }
            @Sendable func pipeline() async throws {
                let request = StripeCheckoutClient.SessionRequest(
                    order: template,
                    attempt: 2_000_000 + attempts.take(),
                    shopBaseURL: "http://127.0.0.1:8080",
                    now: Date()
                )
                let session = try await stripe.createSession(request)
                guard session.id.hasPrefix("cs_test_") else { throw BenchmarkFailure("not a session: \(session.id)") }
            }
            // Orders for the whole checkout, placed before timing (each is checked out once).
            let placed = SharedCount()
            let orders = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var ids: [String] = []
                        while placed.take() < orderCount { ids.append(try await store.createOrder(lines: [(product.id, 1)]).id) }
                        return ids
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let orderPool = LockedIDs(orders)
            @Sendable func whole() async throws {
                guard let orderID = orderPool.pop() else { throw BenchmarkFailure("the \(orderCount) orders placed ran out; raise --orders") }
                let session = try await checkout.session(forOrder: orderID)
                guard session.attempt == 1 else { throw BenchmarkFailure("order \(orderID) was checked out before") }
            }

            let modes: [(String, @Sendable () async throws -> Void)] = [
                ("AsyncHTTPClient, the form by hand (baseline)", raw),
                ("StripeCheckoutClient.createSession (resilient pipeline)", pipeline),
                ("OrderCheckout.session(forOrder:) (store + Stripe + store)", whole),
            ]
            for (_, operation) in modes { _ = await runLoad(concurrency: concurrency, duration: .seconds(1), operation) }
            var results = Array(repeating: [LoadResult](), count: modes.count)
            for _ in 0..<rounds {
                for (index, (_, operation)) in modes.enumerated() {
                    results[index].append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), operation))
                }
            }
            print("## Checkout-session creation through the Stripe simulator (loopback), \(concurrency) in flight")
            print("| path | sessions/s | p50 ms | p99 ms | vs baseline (median of \(rounds) rounds) |")
            print("|---|---:|---:|---:|---:|")
            for (index, (mode, _)) in modes.enumerated() {
                let errors = results[index].reduce(0) { $0 + $1.errors }
                guard errors == 0 else { throw BenchmarkFailure("\(mode): \(errors) requests failed") }
                print(
                    String(
                        format: "| %@ | %.0f | %.3f | %.3f | %.2f× |",
                        mode,
                        median(results[index].map(\.requestsPerSecond)),
                        median(results[index].map(\.p50Milliseconds)),
                        median(results[index].map(\.p99Milliseconds)),
                        median(zip(results[index], results[0]).map { $0.requestsPerSecond / $1.requestsPerSecond })
                    )
                )
            }
            print()
            try await stripe.shutdown()
        }
        try await database.shutdown()
        try await engine.shutdown()
    }
}

/// Orders never checked out, handed to concurrent takers.
private final class LockedIDs: Sendable {
    private let storage: Mutex<[String]>
    init(_ ids: [String]) { storage = Mutex(ids) }
    func pop() -> String? { storage.withLock { $0.popLast() } }
}

/// `application/x-www-form-urlencoded`, encoded as the shop's client encodes it (HTTPIntegration's `setFormBody`).
private func formEncoded(_ fields: [(String, String)]) throws -> ByteBuffer {
    var request = try ClientRequest(method: .post, url: "http://127.0.0.1/")
    request.setFormBody(fields)
    return request.body ?? ByteBuffer()
}
