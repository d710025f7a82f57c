import ArgumentParser
import Foundation
import Logging
import Messaging
import MessagingAMQP
import Persistence

/// Events end to end — published (directly, or through the transactional outbox and its relay), routed by the
/// transport, handled by one consumer group — on the embedded transport and on RabbitMQ, beside the raw rabbitmq-c
/// rate of the same broker (`Benchmarks/raw-amqp`, run by `scripts/bench.sh messaging` just before, passed in as
/// `--raw-rate`). The issue asks for ≥ 0.5× raw for the bus alone, ≥ 0.3× with the outbox on PostgreSQL, and
/// ≥ 5 000 events/s on the embedded transport with SQLite.
struct MessagingBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messaging",
        abstract: "EventBus end to end (publish → transport → handler) on the embedded transport and RabbitMQ."
    )

    @Option(help: "RabbitMQ URL; without it only the embedded transport runs.") var amqp: String?
    @Option(help: "PostgreSQL URL for the outbox-on-PostgreSQL rows.") var postgres: String?
    @Option(help: "The raw rabbitmq-c rate measured on the same broker (msg/s), for the ratios.") var rawRate: Double?
    @Option(help: "Events per measurement.") var events = 20_000
    @Option(help: "Concurrent publishers.") var publishers = 32
    @Option(name: .customLong("batch"), help: "Events per publish call / per outbox transaction; repeat for several rows.")
    var batches: [Int] = [1, 32]
    @Option(help: "classic or quorum (RabbitMQ queues).") var queueType: String = "classic"
    @Flag(inversion: .prefixedNo, help: "Measure the embedded transport too.") var embedded = true
    @Option(help: "The outbox relay's batch size.") var relayBatch = OutboxRelay.Configuration().batchSize

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        print(
            "## Events end to end: \(events) events, \(publishers) concurrent publishers, relay batches of up to \(relayBatch), one consumer group"
        )
        print("| transport | published through | events per call | events/s | p50 ms | p99 ms | ratio to raw rabbitmq-c |")
        print("|---|---|---:|---:|---:|---:|---:|")
        if let rawRate {
            print("| RabbitMQ, raw rabbitmq-c (confirms, 1024 in flight; publish + consume/ack) | — | — | \(Int(rawRate)) | | | 1.00 |")
        }

        // Embedded: its own store (the "broker" file), and the producer's outbox in the producer's database.
        if embedded {
            let store = try await Database.open(
                .sqlite(path: directory.appendingPathComponent("events.sqlite").path),
                maxConnections: 4,
                logger: logger
            )
            try await store.migrate(EmbeddedTransport.migrations)
            let transport = EmbeddedTransport(database: store, logger: logger)
            for batch in batches {
                try await report(
                    "embedded (SQLite store)",
                    "EventBus.publish",
                    batch,
                    measure(transport: transport, outbox: nil, batch: batch, logger: logger)
                )
            }
            let service = try await Database.open(
                .sqlite(path: directory.appendingPathComponent("service.sqlite").path),
                maxConnections: 4,
                logger: logger
            )
            try await service.migrate(Outbox.migrations)
            for batch in batches {
                try await report(
                    "embedded (SQLite store)",
                    "outbox on SQLite + relay",
                    batch,
                    measure(transport: transport, outbox: service, batch: batch, logger: logger)
                )
            }
            try await service.shutdown()
            try await store.shutdown()
        }
        if let amqp {
            var configuration = try AMQPConfiguration(url: amqp, field: "--amqp")
            configuration.exchange = "bench.events.\(UUID().uuidString.prefix(8).lowercased())"
            configuration.queueType = queueType == "quorum" ? .quorum : .classic
            let transport = AMQPTransport(configuration: configuration, logger: logger)
            try await transport.connect()
            for batch in batches {
                try await report(
                    "RabbitMQ (\(queueType) queue)",
                    "EventBus.publish",
                    batch,
                    measure(transport: transport, outbox: nil, batch: batch, logger: logger)
                )
            }
            let service = try await Database.open(
                .sqlite(path: directory.appendingPathComponent("service-amqp.sqlite").path),
                maxConnections: 4,
                logger: logger
            )
            try await service.migrate(Outbox.migrations)
            for batch in batches {
                try await report(
                    "RabbitMQ (\(queueType) queue)",
                    "outbox on SQLite + relay",
                    batch,
                    measure(transport: transport, outbox: service, batch: batch, logger: logger)
                )
            }
            try await service.shutdown()
            if let postgres {
                let pg = try await Database.open(.postgres(url: postgres), maxConnections: publishers, logger: logger)
                try await pg.migrate(Outbox.migrations)
                try await pg.withConnection { sql in try await sql.raw("DELETE FROM messaging_outbox").run() }
                for batch in batches {
                    try await report(
                        "RabbitMQ (\(queueType) queue)",
                        "outbox on PostgreSQL + relay",
                        batch,
                        measure(transport: transport, outbox: pg, batch: batch, logger: logger)
                    )
                }
                try await pg.shutdown()
            }
            await transport.shutdown()
        }
        print()
    }

    private func report(_ transport: String, _ path: String, _ batch: Int, _ result: Measurement) {
        let ratio = rawRate.map { String(format: "%.2f", result.rate / $0) } ?? "—"
        print(
            "| \(transport) | \(path) | \(batch) | \(Int(result.rate)) | \(String(format: "%.2f", result.p50)) | \(String(format: "%.2f", result.p99)) | \(transport.hasPrefix("RabbitMQ") ? ratio : "—") |"
        )
    }

    typealias Measurement = EventRoundTrip.Measurement

    private func measure(transport: any EventTransport, outbox database: Database?, batch: Int, logger: Logger) async throws -> Measurement {
        try await EventRoundTrip(events: events, publishers: publishers, relayBatch: relayBatch)
            .measure(transport: transport, outbox: database, batch: batch, logger: logger)
    }
}
