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
    @Option(help: "What sends the webhooks: wrk (another process, as Stripe is) or in-process (AsyncHTTPClient in this process).")
    var loadGenerator: LoadGenerator = .wrk
    @Option(help: "Events signed ahead of each wrk round (more than one round can send).") var wrkEvents = 60_000

    enum LoadGenerator: String, ExpressibleByArgument, Sendable {
        case wrk
        case inProcess = "in-process"
    }

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

    private func inboxCount(_ database: Database) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM webhook_inbox").first()?.decode(column: "n", as: Int.self) ?? 0
        }
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
        let (concurrency, seconds, rounds, loadGenerator, wrkEvents) = (concurrency, seconds, rounds, loadGenerator, wrkEvents)
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
            // wrk sends events signed ahead (it cannot sign), cycling through a file; a round that would wrap
            // around (and send duplicates) fails, checked against the rows the inbox gained.
            var wrkRound = 0
            func deliverRound(_ duration: Duration) async throws -> RoundResult {
                switch loadGenerator {
                case .inProcess:
                    let result = await runLoad(concurrency: concurrency, duration: duration, deliver)
                    guard result.errors == 0 else { throw BenchmarkFailure("\(name): \(result.errors) deliveries failed") }
                    return RoundResult(result)
                case .wrk:
                    wrkRound += 1
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(run)-\(wrkRound).txt")
                    defer { try? FileManager.default.removeItem(at: file) }
                    var lines = ""
                    for index in 0..<wrkEvents {
                        let body = payload("evt_\(run)_w\(wrkRound)_\(index)")
                        let signed = try signer.sign(payload: body, secrets: [secret], timestamp: Date())
                        lines += (signed["Stripe-Signature"] ?? "") + "\n" + String(decoding: body, as: UTF8.self) + "\n"
                    }
                    try lines.write(to: file, atomically: true, encoding: .utf8)
                    let before = try await inboxCount(database)
                    let result = try runWrk(url: url, concurrency: concurrency, duration: duration, events: file.path)
                    let stored = try await inboxCount(database) - before
                    guard result.non2xx == 0 else { throw BenchmarkFailure("\(name): \(result.non2xx) deliveries were not answered 2xx") }
                    guard stored >= result.requests else {
                        throw BenchmarkFailure("\(name): wrk sent \(result.requests) events but \(stored) were new; raise --wrk-events")
                    }
                    return result.round
                }
            }
            func insertRound(_ duration: Duration) async throws -> RoundResult {
                let result = await runLoad(concurrency: concurrency, duration: duration, insert)
                guard result.errors == 0 else { throw BenchmarkFailure("\(name): \(result.errors) inserts failed") }
                return RoundResult(result)
            }
            _ = try await insertRound(.seconds(1))  // warm-up
            _ = try await deliverRound(.seconds(1))
            var raw: [RoundResult] = []
            var ingest: [RoundResult] = []
            for round in 0..<rounds {
                if round.isMultiple(of: 2) {
                    raw.append(try await insertRound(.seconds(seconds)))
                    ingest.append(try await deliverRound(.seconds(seconds)))
                } else {
                    ingest.append(try await deliverRound(.seconds(seconds)))
                    raw.append(try await insertRound(.seconds(seconds)))
                }
            }
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

/// One measurement: rate and latency.
struct RoundResult {
    var requestsPerSecond: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double

    init(requestsPerSecond: Double, p50Milliseconds: Double, p99Milliseconds: Double) {
        self.requestsPerSecond = requestsPerSecond
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
    }

    init(_ load: LoadResult) {
        self.init(requestsPerSecond: load.requestsPerSecond, p50Milliseconds: load.p50Milliseconds, p99Milliseconds: load.p99Milliseconds)
    }
}

/// What one wrk run reported.
struct WrkResult {
    var round: RoundResult
    var requests: Int
    var non2xx: Int
}

/// Runs `wrk -t1 -c<concurrency>` for `duration`, POSTing the signed events in `events` (signature line, body line)
/// to `url` in order, and parses its report.
func runWrk(url: String, concurrency: Int, duration: Duration, events: String) throws -> WrkResult {
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID().uuidString).lua")
    defer { try? FileManager.default.removeItem(at: script) }
    let path = URL(string: url)?.path ?? "/"
    try """
    local requests = {}
    local next = 0
    function init(args)
      local file = assert(io.open(args[1], "r"))
      while true do
        local signature = file:read("*l")
        if not signature then break end
        local body = file:read("*l")
        requests[#requests + 1] = wrk.format("POST", "\(path)", {["Content-Type"] = "application/json", ["Stripe-Signature"] = signature}, body)
      end
      file:close()
    end
    function request()
      next = next + 1
      if next > #requests then next = 1 end
      return requests[next]
    end
    """.write(to: script, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "wrk", "-t1", "-c\(concurrency)", "-d\(duration.components.seconds)s", "--latency", "-s", script.path, url, "--", events,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let report = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else { throw BenchmarkFailure("wrk failed: \(report)") }
    func number(_ pattern: String) -> Double? {
        guard let range = report.range(of: pattern, options: .regularExpression) else { return nil }
        let match = String(report[range])
        return match.split(whereSeparator: { $0 == " " || $0 == ":" }).last.flatMap { Double($0) }
    }
    func milliseconds(_ percentile: String) -> Double? {
        guard let range = report.range(of: "\(percentile)%\\s+[0-9.]+(us|ms|s)", options: .regularExpression) else { return nil }
        let match = report[range].split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        let unit = match.hasSuffix("us") ? 0.001 : match.hasSuffix("ms") ? 1 : 1000
        return Double(match.trimmingCharacters(in: .letters)).map { $0 * unit }
    }
    guard let rate = number("Requests/sec:\\s+[0-9.]+"), let p50 = milliseconds("50"), let p99 = milliseconds("99") else {
        throw BenchmarkFailure("cannot read wrk's report: \(report)")
    }
    let sent = report.range(of: "[0-9]+ requests in", options: .regularExpression).map { Int(report[$0].split(separator: " ")[0]) ?? 0 } ?? 0
    let non2xx = number("Non-2xx or 3xx responses:\\s+[0-9]+").map(Int.init) ?? 0
    return WrkResult(round: RoundResult(requestsPerSecond: rate, p50Milliseconds: p50, p99Milliseconds: p99), requests: sent, non2xx: non2xx)
}
