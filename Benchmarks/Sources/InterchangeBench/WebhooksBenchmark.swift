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

    func verification() throws {
        let payload = Data((0..<1024).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let now = Date()
        let iterations = 200_000
        print("## Signature verification, 1 KiB payloads (one core)")
        print("| operation | ops/s | vs raw HMAC |")
        print("|---|---:|---:|")
        let key = SymmetricKey(data: Data(secret.utf8))
        var sink = 0
        let raw = median(
            (0..<3).map { _ in
                rate(iterations) { sink &+= Int(HMAC<SHA256>.authenticationCode(for: payload, using: key).withUnsafeBytes { $0[0] }) }
            }
        )
        print(String(format: "| baseline: HMAC-SHA256 of the payload (swift-crypto) | %.0f | 1.00× |", raw))
        // The same with the key's pads absorbed once, as prepared verification keys do: the floor for verifying.
        let preparedHMAC = HMAC<SHA256>(key: key)
        let rawPrepared = median(
            (0..<3).map { _ in
                rate(iterations) {
                    var hmac = preparedHMAC
                    hmac.update(data: payload)
                    sink &+= Int(hmac.finalize().withUnsafeBytes { $0[0] })
                }
            }
        )
        print(
            String(
                format: "| baseline: the same from a prepared key (HMAC state copied, key absorbed once) | %.0f | %.2f× |",
                rawPrepared,
                rawPrepared / raw
            )
        )
        for scheme in WebhookSignatureScheme.allCases {
            let signer = WebhookSigner(scheme: scheme)
            // As a receiver gets them: the request's HTTPFields, and keys prepared once for the secret.
            let headers = try signer.sign(payload: payload, secrets: [secret], id: "msg_2Lh9wb3ZSmQUTWfZ1Yo5qTrM0tq", timestamp: now).httpFields
            let keys = try signer.verificationKeys(for: [secret])
            let verified = median(
                (0..<3).map { _ in
                    rate(iterations) { if (try? signer.verify(payload: payload, headers: headers, keys: keys, now: now)) != nil { sink &+= 1 } }
                }
            )
            let unprepared = median(
                (0..<3).map { _ in
                    rate(iterations) {
                        if (try? signer.verify(payload: payload, headers: headers, secrets: [secret], now: now)) != nil { sink &+= 1 }
                    }
                }
            )
            print(
                String(
                    format:
                        "| verify, %@ scheme, prepared keys (parse headers, tolerance, HMAC, constant-time compare) | %.0f | %.2f× (%.2f× of the prepared-key HMAC) |",
                    scheme.rawValue,
                    verified,
                    verified / raw,
                    verified / rawPrepared
                )
            )
            print(String(format: "| verify, %@ scheme, secrets decoded per call | %.0f | %.2f× |", scheme.rawValue, unprepared, unprepared / raw))
        }
        if sink == 42 { print("") }  // keep the work observable
        print()
    }

    private func rate(_ iterations: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations { body() }
        let elapsed = start.duration(to: clock.now)
        return Double(iterations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    // MARK: Inbound

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
        let counter = Atomic(0)
        let run = UUID().uuidString.prefix(8)  // rows from an earlier run on the same database must not collide

        // Baseline: a plain INSERT of the same payload size, same pool, same concurrency.
        let rawRate = await measure(seconds: seconds, concurrency: concurrency) {
            let id = "raw_\(run)_\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
            let payload = Data(#"{"id":"\#(id)","type":"bench","data":"\#(String(repeating: "x", count: 900))"}"#.utf8)
            try await database.withConnection { sql in
                try await sql.insert(into: "bench_raw_insert").columns("id", "payload").values(SQLBind(id), SQLBind(payload)).run()
            }
        }
        // Candidate: verify the signature, then record in the inbox (INSERT … ON CONFLICT DO NOTHING RETURNING).
        let receiveRate = await measure(seconds: seconds, concurrency: concurrency) {
            let id = "evt_\(run)_\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
            let payload = Data(#"{"id":"\#(id)","type":"bench","data":"\#(String(repeating: "x", count: 900))"}"#.utf8)
            let signed = try signer.sign(payload: payload, secrets: [secret], timestamp: Date())
            var headers = HTTPFields()
            headers[HTTPField.Name("Stripe-Signature")!] = signed["Stripe-Signature"]
            _ = try await receiver.receive(body: payload, headers: headers)
        }
        try await database.shutdown()
        let name = location.description.hasPrefix("sqlite") ? "SQLite (WAL, synchronous=NORMAL)" : "PostgreSQL (fsync off in the test server)"
        print("## Inbound: verify + durable dedupe vs raw insert, \(name), \(concurrency) concurrent, ~1 KiB events")
        print("| operation | events/s | vs raw insert |")
        print("|---|---:|---:|")
        print(String(format: "| baseline: INSERT of the payload | %.0f | 1.00× |", rawRate))
        print(
            String(
                format: "| WebhookReceiver.receive: verify + inbox INSERT … ON CONFLICT DO NOTHING RETURNING | %.0f | %.2f× |",
                receiveRate,
                receiveRate / rawRate
            )
        )
        print()
    }

    /// Operations per second when `concurrency` tasks run `operation` back to back for `seconds`.
    func measure(seconds: Int, concurrency: Int, _ operation: @escaping @Sendable () async throws -> Void) async -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        let done = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        do {
                            try await operation()
                            count += 1
                        } catch {
                            FileHandle.standardError.write(Data("benchmark operation failed: \(error)\n".utf8))
                            return count
                        }
                    }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        let elapsed = start.duration(to: clock.now)
        return Double(done) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    // MARK: Outbound

    func outbound(receiver: String, database location: Database.Location, logger: Logger) async throws {
        let messages = 4000
        // Baseline: the same POSTs with AsyncHTTPClient alone, no queue, no signing, no log.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let payload = Data(#"{"type":"order.created","data":{"orderId":"o_1","total":4200}}"#.utf8)
        let remaining = Countdown(messages)
        let clock = ContinuousClock()
        let rawStart = clock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while remaining.take() {
                        var request = HTTPClientRequest(url: receiver)
                        request.method = .POST
                        request.body = .bytes(ByteBuffer(data: payload))
                        _ = try? await client.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
                    }
                }
            }
        }
        let rawSeconds = seconds(rawStart.duration(to: clock.now))
        try await client.shutdown()

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
        for index in 0..<messages {
            try await engine.publish(eventType: "order.created", payload: payload, messageID: "msg_bench_\(index)")
        }
        let start = clock.now
        var delivered = 0
        while delivered < messages {
            let claimed = await engine.processDue()
            if claimed == 0 { break }
            delivered += claimed
        }
        let engineSeconds = seconds(start.duration(to: clock.now))
        let succeeded = try await engine.store.deliveryCounts()[.succeeded] ?? 0
        try await engine.shutdown()
        try await database.shutdown()
        print("## Outbound deliveries to a local receiver (nginx), \(concurrency) in flight, \(messages) messages, SQLite")
        print("| sender | deliveries/s | vs raw POSTs |")
        print("|---|---:|---:|")
        let rawRate = Double(messages) / rawSeconds
        let engineRate = Double(succeeded) / engineSeconds
        print(String(format: "| baseline: AsyncHTTPClient POSTs alone | %.0f | 1.00× |", rawRate))
        print(
            String(
                format: "| WebhookDeliveryEngine: claim, sign, POST, attempt log, state (%d succeeded) | %.0f | %.2f× |",
                succeeded,
                engineRate,
                engineRate / rawRate
            )
        )
        print()
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// A shared count of work left.
final class Countdown: Sendable {
    private let value: Atomic<Int>
    init(_ value: Int) { self.value = Atomic(value) }
    /// Takes one unit; false when none was left.
    func take() -> Bool { value.subtract(1, ordering: .relaxed).newValue >= 0 }
}
