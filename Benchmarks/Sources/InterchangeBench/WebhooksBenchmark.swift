import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Logging
import NIOCore
import Persistence
import SQLKit
import Synchronization
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

/// Webhook signing, inbound dedupe and outbound delivery, each against a baseline measured in the same run.
struct WebhooksBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhooks", abstract: "Webhook verification, inbound dedupe and delivery rates.")

    @Option(help: "A loopback URL answering POST with 200 (nginx), for outbound deliveries.") var receiver: String?
    @Option(help: "PostgreSQL URL to run the inbound benchmark on as well.") var postgres: String?
    @Option(help: "Concurrent tasks for the database and delivery benchmarks.") var concurrency = 8
    @Option(help: "Seconds per measurement.") var seconds = 3
    @Flag(help: "Only the verification benchmark (for profiling).") var verificationOnly = false

    func run() async throws {
        try verification()
        if verificationOnly { return }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await inbound(.sqlite(path: directory.appendingPathComponent("inbound.sqlite").path), logger: logger)
        if let postgres { try await inbound(.postgres(url: postgres), logger: logger) }
        if let receiver {
            try await outbound(receiver: receiver, database: .sqlite(path: directory.appendingPathComponent("outbound.sqlite").path), logger: logger)
        }
    }

    // MARK: Verification

    /// Per scheme, interleaved round by round: the scheme's own HMAC check done by hand with swift-crypto (the
    /// signed content — prefix and body — MACed and compared with the expected MAC, which must match), from the
    /// secret and from a prepared key, beside `WebhookSigner.verify`, which must succeed every time.
    func verification() throws {
        let payload = Data((0..<1024).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let id = "msg_2Lh9wb3ZSmQUTWfZ1Yo5qTrM0tq"
        let now = Date()
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let iterations = 200_000
        let rounds = 3
        print(
            "## Signature verification, 1 KiB payloads (one core, \(iterations) operations per measurement, median of \(rounds) interleaved rounds)"
        )
        print("| operation | ops/s | vs the scheme's HMAC check from the secret | vs the same from a prepared key |")
        print("|---|---:|---:|---:|")
        for scheme in WebhookSignatureScheme.allCases {
            let signer = WebhookSigner(scheme: scheme)
            // As a receiver gets them: the request's HTTPFields, and keys prepared once for the secret.
            let headers = try signer.sign(payload: payload, secrets: [secret], id: id, timestamp: now).httpFields
            let keys = try signer.verificationKeys(for: [secret])
            // What the scheme MACs and with which key (see WebhookSignatureScheme): the baselines check exactly that.
            let prefix: [UInt8]
            let key: SymmetricKey
            switch scheme {
            case .stripe:
                prefix = Array("\(seconds).".utf8)
                key = SymmetricKey(data: Array(secret.utf8))
            case .standard:
                prefix = Array("\(id).\(seconds).".utf8)
                key = SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst(6)))!)
            }
            let keyBytes = key.withUnsafeBytes { Array($0) }
            var expectedHMAC = HMAC<SHA256>(key: key)
            expectedHMAC.update(data: prefix)
            expectedHMAC.update(data: payload)
            let expected = expectedHMAC.finalize()
            let preparedHMAC = HMAC<SHA256>(key: key)

            let operations: [(String, () -> Bool)] = [
                (
                    "baseline: HMAC-SHA256 of the signed content from the key bytes, compared with the expected MAC",
                    {
                        var hmac = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
                        hmac.update(data: prefix)
                        hmac.update(data: payload)
                        return hmac.finalize() == expected  // swift-crypto's MAC == is constant-time
                    }
                ),
                (
                    "baseline: the same from a prepared key (HMAC state copied, key absorbed once)",
                    {
                        var hmac = preparedHMAC
                        hmac.update(data: prefix)
                        hmac.update(data: payload)
                        return hmac.finalize() == expected
                    }
                ),
                (
                    "**verify, \(scheme.rawValue), prepared keys** (header lookup and parse, tolerance, HMAC, constant-time compare)",
                    { (try? signer.verify(payload: payload, headers: headers, keys: keys, now: now)) != nil }
                ),
                (
                    "verify, \(scheme.rawValue), secrets decoded per call",
                    { (try? signer.verify(payload: payload, headers: headers, secrets: [secret], now: now)) != nil }
                ),
            ]
            var rates = Array(repeating: [Double](), count: operations.count)
            for (_, operation) in operations { _ = try rate(iterations / 10, operation) }  // warm-up
            for _ in 0..<rounds {
                for (index, (_, operation)) in operations.enumerated() { rates[index].append(try rate(iterations, operation)) }
            }
            for (index, (name, _)) in operations.enumerated() {
                let vsSecret = median(zip(rates[index], rates[0]).map { $0 / $1 })
                let vsPrepared = median(zip(rates[index], rates[1]).map { $0 / $1 })
                print(String(format: "| %@ | %.0f | %.2f× | %.2f× |", name, median(rates[index]), vsSecret, vsPrepared))
            }
        }
        print()
    }

    /// Operations per second; every operation must report success (a MAC that matched, a signature verified).
    private func rate(_ iterations: Int, _ body: () -> Bool) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var failed = 0
        for _ in 0..<iterations where !body() { failed += 1 }
        let elapsed = start.duration(to: clock.now)
        guard failed == 0 else { throw BenchmarkFailure("\(failed) of \(iterations) verifications failed") }
        return Double(iterations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    // MARK: Inbound

    /// The receiver (verify, read id and type, `INSERT … ON CONFLICT DO NOTHING RETURNING` into the inbox) beside
    /// the same statement written by hand for a row of the same payload; both count an event only when it was
    /// stored as new (the baseline's `RETURNING` gave a row back; the receipt says not a duplicate). Events are
    /// built and signed before each measurement, so the sender's work is not timed. Rounds interleave.
    func inbound(_ location: Database.Location, logger: Logger) async throws {
        let database = try await Database.open(location, maxConnections: concurrency, logger: logger)
        try await database.migrate(WebhookInbox.migrations)
        try await database.withConnection { sql in
            try await sql.create(table: "bench_raw_insert").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("payload", type: .blob, .notNull)
                .run()
        }
        let secret = "whsec_test_bench_secret_0000000001"
        let inbox = WebhookInbox(database: database)
        let receiver = WebhookReceiver(source: "bench", scheme: .stripe, secrets: { [secret] }, inbox: inbox)
        let signer = WebhookSigner(scheme: .stripe)
        let run = UUID().uuidString.prefix(8)  // rows from an earlier run on the same database must not collide
        let pool = 60_000  // more events than one measurement can store on this machine
        let rounds = 3
        func event(_ kind: String, _ round: Int, _ index: Int) -> (id: String, payload: Data) {
            let id = "\(kind)_\(run)_\(round)_\(index)"
            return (id, Data(#"{"id":"\#(id)","type":"bench","data":"\#(String(repeating: "x", count: 900))"}"#.utf8))
        }
        var rawRates: [Double] = []
        var receiveRates: [Double] = []
        for round in 1...rounds {
            let rawEvents = (0..<pool).map { event("raw", round, $0) }
            let signedEvents = try (0..<pool).map { index in
                let (_, payload) = event("evt", round, index)
                let signed = try signer.sign(payload: payload, secrets: [secret], timestamp: Date())
                var headers = HTTPFields()
                headers[HTTPField.Name("Stripe-Signature")!] = signed["Stripe-Signature"]
                return (payload: payload, headers: headers)
            }
            let baseline: @Sendable (Int) async throws -> Bool = { index in
                let (id, payload) = rawEvents[index]
                return try await database.withConnection { sql in
                    try await sql.insert(into: "bench_raw_insert").columns("id", "payload").values(SQLBind(id), SQLBind(payload))
                        .ignoringConflicts(with: ["id"])
                        .returning("id")
                        .first() != nil
                }
            }
            let candidate: @Sendable (Int) async throws -> Bool = { index in
                let receipt = try await receiver.receive(body: signedEvents[index].payload, headers: signedEvents[index].headers)
                return !receipt.duplicate
            }
            if round.isMultiple(of: 2) {
                receiveRates.append(try await measure(seconds: seconds, concurrency: concurrency, pool: pool, candidate))
                rawRates.append(try await measure(seconds: seconds, concurrency: concurrency, pool: pool, baseline))
            } else {
                rawRates.append(try await measure(seconds: seconds, concurrency: concurrency, pool: pool, baseline))
                receiveRates.append(try await measure(seconds: seconds, concurrency: concurrency, pool: pool, candidate))
            }
        }
        try await database.shutdown()
        let name = location.description.hasPrefix("sqlite") ? "SQLite (WAL, synchronous=NORMAL)" : "PostgreSQL (test server, fsync=off)"
        print("## Inbound: verify + durable dedupe vs the same insert by hand, \(name), \(concurrency) concurrent, ~1 KiB events")
        print("| operation (counted when stored as new) | events/s | vs baseline (median of \(rounds) paired rounds) |")
        print("|---|---:|---:|")
        print(String(format: "| baseline: INSERT … ON CONFLICT DO NOTHING RETURNING of the payload | %.0f | 1.00× |", median(rawRates)))
        print(
            String(
                format: "| WebhookReceiver.receive: verify + inbox INSERT … ON CONFLICT DO NOTHING RETURNING | %.0f | %.2f× |",
                median(receiveRates),
                median(zip(receiveRates, rawRates).map { $0 / $1 })
            )
        )
        print()
    }

    /// Operations per second when `concurrency` tasks run `operation` (on indexes 0, 1, … shared among them) back
    /// to back for `seconds`; an operation must return true (it did what is counted) and may not throw.
    func measure(seconds: Int, concurrency: Int, pool: Int, _ operation: @escaping @Sendable (Int) async throws -> Bool) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        let next = SharedCount()
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        let index = next.take()
                        guard index < pool else { throw BenchmarkFailure("the pool of \(pool) events ran out; raise it") }
                        guard try await operation(index) else { throw BenchmarkFailure("operation \(index) was not counted (not new)") }
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: clock.now)
        return Double(done) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    // MARK: Outbound

    /// The delivery engine beside AsyncHTTPClient POSTing the same payload to the same receiver; both count a
    /// message when the receiver answered 2xx. Rounds interleave; each engine round publishes its messages first
    /// (not timed) and times `processDue` until they are all sent.
    func outbound(receiver: String, database location: Database.Location, logger: Logger) async throws {
        let messages = 4000
        let rounds = 3
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let payload = Data(#"{"type":"order.created","data":{"orderId":"o_1","total":4200}}"#.utf8)
        let clock = ContinuousClock()
        let concurrency = self.concurrency

        let database = try await Database.open(location, logger: logger)
        var engineConfiguration = WebhookDeliveryEngine.Configuration()
        engineConfiguration.ssrfGuard = SSRFGuard(allowPrivateNetworks: true)
        engineConfiguration.maxConcurrentDeliveries = 64
        engineConfiguration.defaultEndpointConcurrency = concurrency
        engineConfiguration.endpointCircuitBreaker.minimumNumberOfCalls = 1_000_000
        // Secrets sealed at rest, as `interchange` runs the engine.
        engineConfiguration.secretSealer = try SecretSealer(base64Key: SecretSealer.generateKey(), field: "bench")
        let engine = try WebhookDeliveryEngine(database: database, configuration: engineConfiguration, logger: logger, tracer: nil)
        try await engine.prepare()
        _ = try await engine.createEndpoint(url: receiver, maxConcurrency: concurrency)

        // Baseline: the same POSTs with AsyncHTTPClient alone, no queue, no signing, no log.
        func rawRound() async throws -> Double {
            let remaining = Countdown(messages)
            let start = clock.now
            let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        var ok = 0
                        while remaining.take() {
                            var request = HTTPClientRequest(url: receiver)
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(data: payload))
                            let response = try await client.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            if (200..<300).contains(response.status.code) { ok += 1 }
                        }
                        return ok
                    }
                }
                return try await group.reduce(0, +)
            }
            return Double(succeeded) / seconds(start.duration(to: clock.now))
        }
        func engineRound(_ round: Int) async throws -> (rate: Double, succeeded: Int) {
            let before = try await engine.store.deliveryCounts()[.succeeded] ?? 0
            for index in 0..<messages {
                try await engine.publish(eventType: "order.created", payload: payload, messageID: "msg_bench_\(round)_\(index)")
            }
            let start = clock.now
            var claimedTotal = 0
            while claimedTotal < messages {
                let claimed = await engine.processDue()
                if claimed == 0 { break }
                claimedTotal += claimed
            }
            let elapsed = seconds(start.duration(to: clock.now))
            let succeeded = (try await engine.store.deliveryCounts()[.succeeded] ?? 0) - before
            return (Double(succeeded) / elapsed, succeeded)
        }

        _ = try await rawRound()  // warm-up: connections
        var rawRates: [Double] = []
        var engineRates: [Double] = []
        var engineSucceeded = 0
        for round in 1...rounds {
            if round.isMultiple(of: 2) {
                let result = try await engineRound(round)
                engineRates.append(result.rate)
                engineSucceeded += result.succeeded
                rawRates.append(try await rawRound())
            } else {
                rawRates.append(try await rawRound())
                let result = try await engineRound(round)
                engineRates.append(result.rate)
                engineSucceeded += result.succeeded
            }
        }
        try await engine.shutdown()
        try await database.shutdown()
        try await client.shutdown()
        print(
            "## Outbound deliveries to a local receiver (nginx), \(concurrency) in flight, \(messages) messages per round, SQLite, median of \(rounds) interleaved rounds"
        )
        print("| sender (counted when the receiver answered 2xx) | deliveries/s | vs raw POSTs |")
        print("|---|---:|---:|")
        print(String(format: "| baseline: AsyncHTTPClient POSTs alone | %.0f | 1.00× |", median(rawRates)))
        print(
            String(
                format: "| WebhookDeliveryEngine: claim, sign, POST, attempt log, state (%d of %d succeeded) | %.0f | %.2f× |",
                engineSucceeded,
                messages * rounds,
                median(engineRates),
                median(zip(engineRates, rawRates).map { $0 / $1 })
            )
        )
        print()
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// A shared counter handing out 0, 1, 2, … to concurrent takers.
final class SharedCount: Sendable {
    private let value = Atomic(0)
    /// The next number.
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    /// Adds `amount` (for totals).
    func add(_ amount: Int) { value.wrappingAdd(amount, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// A shared count of work left.
final class Countdown: Sendable {
    private let value: Atomic<Int>
    init(_ value: Int) { self.value = Atomic(value) }
    /// Takes one unit; false when none was left.
    func take() -> Bool { value.subtract(1, ordering: .relaxed).newValue >= 0 }
}

/// A benchmark whose operations did not do what they are counted for.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
