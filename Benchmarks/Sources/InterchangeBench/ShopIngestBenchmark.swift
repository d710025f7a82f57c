import ArgumentParser
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Persistence
import SQLKit
import WebhooksInbound
import WebhooksSigning

/// The shop's Stripe webhook ingest over HTTP — verify the `Stripe-Signature`, dedupe on the event id, write the event
/// durably, answer 200 — beside the raw single-row insert rate of the same database, measured in the same run with
/// rounds interleaved. The issue asks for ≥ 0.5× of the raw insert.
struct ShopIngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop-ingest",
        abstract: "Stripe webhook ingest through the shop's route vs the raw single-row insert of the same database."
    )

    @Option(help: "PostgreSQL URL to run the benchmark on as well.") var postgres: String?
    @Option(help: "Concurrent requests (and concurrent inserts for the baseline).") var concurrency = 8
    @Option(help: "Seconds per measurement.") var seconds = 3
    @Option(help: "Rounds per side, interleaved.") var rounds = 3

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        print(
            "## Stripe webhook ingest (HTTP POST, verify + dedupe + durable write + 200) vs the raw single-row insert, \(concurrency) concurrent, ~1.2 KiB events"
        )
        print(
            "| database | raw INSERT of (id, payload), events/s | webhook ingest over HTTP, events/s | p50 ms | p99 ms | ratio (median of \(rounds) paired rounds) |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        try await measure(
            .sqlite(path: directory.appendingPathComponent("ingest.sqlite").path),
            name: "SQLite (WAL, synchronous=NORMAL)",
            logger: logger
        )
        if let postgres { try await measure(.postgres(url: postgres), name: "PostgreSQL (test server)", logger: logger) }
        print()
    }

    private func measure(_ location: Database.Location, name: String, logger: Logger) async throws {
        let database = try await Database.open(location, maxConnections: concurrency, logger: logger)
        try await database.migrate(WebhookInbox.migrations)
        try await database.withConnection { sql in
            try await sql.drop(table: "bench_raw_insert").ifExists().run()
            try await sql.create(table: "bench_raw_insert")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("payload", type: .blob, .notNull)
                .run()
        }
        let secret = "whsec_bench_\(UUID().uuidString.prefix(8))"
        let inbox = WebhookInbox(database: database)
        // The route the shop mounts (ShopComponent adds exactly this receiver at /shop/webhooks/stripe).
        let receiver = WebhookReceiver(source: "stripe", scheme: .stripe, secrets: { [secret] }, inbox: inbox)
        let router = Router()
        receiver.addRoute(to: router, path: "/shop/webhooks/stripe")

        let signer = WebhookSigner(scheme: .stripe)
        let run = UUID().uuidString.prefix(8)
        let events = SharedCount()
        @Sendable func payload(_ id: String) -> Data {
            // The shape of a checkout.session.completed event (about the size Stripe sends).
            Data(
                #"{"id":"\#(id)","object":"event","api_version":"2024-06-20","created":1764633600,"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed","data":{"object":{"id":"cs_test_\#(id)","object":"checkout.session","amount_subtotal":4200,"amount_total":4200,"currency":"usd","client_reference_id":"ord_bench","metadata":{"order_id":"ord_bench"},"mode":"payment","payment_intent":"pi_bench","payment_status":"paid","status":"complete","success_url":"http://127.0.0.1/shop/success.html","cancel_url":"http://127.0.0.1/shop/cancel.html","url":null,"customer":null,"customer_details":{"email":"shopper@example.com","name":"A Shopper"},"created":1764633500,"expires_at":1764635300,"padding":"\#(String(repeating: "x", count: 400))"}}}"#
                    .utf8
            )
        }
        let (concurrency, seconds, rounds) = (concurrency, seconds, rounds)
        try await withBenchServer(router, concurrency: concurrency, logger: logger) { base, client in
            let url = base + "/shop/webhooks/stripe"
            // The sender's work (building and signing) happens inside the loop but is not the receiver's: it is a
            // few microseconds against a request of hundreds, and signing ahead would need a pool per round.
            @Sendable func deliver() async throws {
                let id = "evt_\(run)_\(events.take())"
                let body = payload(id)
                let signed = try signer.sign(payload: body, secrets: [secret], timestamp: Date())
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Stripe-Signature", value: signed["Stripe-Signature"] ?? "")
                request.body = .bytes(ByteBuffer(data: body))
                let response = try await client.execute(request, timeout: .seconds(10))
                let answer = try await response.body.collect(upTo: 1 << 16)
                guard response.status == .ok, String(buffer: answer).contains(#""duplicate":false"#) else {
                    throw BenchmarkFailure("the ingest answered \(response.status.code) \(String(buffer: answer)), not a new event")
                }
            }
            @Sendable func insert() async throws {
                let id = "raw_\(run)_\(events.take())"
                let body = payload(id)
                try await database.withConnection { sql in
                    try await sql.insert(into: "bench_raw_insert").columns("id", "payload").values(SQLBind(id), SQLBind(body)).run()
                }
            }
            _ = await runLoad(concurrency: concurrency, duration: .seconds(1), insert)  // warm-up
            _ = await runLoad(concurrency: concurrency, duration: .seconds(1), deliver)
            var raw: [LoadResult] = []
            var ingest: [LoadResult] = []
            for round in 0..<rounds {
                if round.isMultiple(of: 2) {
                    raw.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), insert))
                    ingest.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), deliver))
                } else {
                    ingest.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), deliver))
                    raw.append(await runLoad(concurrency: concurrency, duration: .seconds(seconds), insert))
                }
            }
            let errors = (raw + ingest).reduce(0) { $0 + $1.errors }
            guard errors == 0 else { throw BenchmarkFailure("\(name): \(errors) operations failed") }
            let ratio = median(zip(ingest, raw).map { $0.requestsPerSecond / $1.requestsPerSecond })
            print(
                String(
                    format: "| %@ | %.0f | %.0f | %.3f | %.3f | **%.2f×** |",
                    name,
                    median(raw.map(\.requestsPerSecond)),
                    median(ingest.map(\.requestsPerSecond)),
                    median(ingest.map(\.p50Milliseconds)),
                    median(ingest.map(\.p99Milliseconds)),
                    ratio
                )
            )
        }
        try await database.shutdown()
    }
}
