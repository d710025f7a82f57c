import ArgumentParser
import AsyncHTTPClient
import Foundation
import FulfillmentEvents
import FulfillmentInventory
import FulfillmentOrders
import FulfillmentPayments
import FulfillmentUsers
import Histogram
import Hummingbird
import InterchangeCore
import InterchangeTesting
import Logging
import Messaging
import MessagingAMQP
import NIOCore
import Persistence
import SQLKit
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// The fulfillment saga end to end (issue #11's performance section): the four services (users, inventory,
/// payments, orders) in this process on one loopback server and one shared transport, as `interchange up` runs them;
/// `concurrency` placers each `POST /orders/api/orders` (orders validates the user and every SKU over HTTP first)
/// and wait for that order's `order.confirmed`, seen by a consumer group of the benchmark's own on the same
/// transport (``SagaObserver``). Layouts: the embedded transport with a SQLite file per service, or RabbitMQ with a
/// PostgreSQL database per service. Beside the sagas, the raw rate of the same broker from the same run: the
/// embedded store measured here (``EventRoundTrip``), RabbitMQ's by `Benchmarks/raw-amqp` just before
/// (`--raw-rate`, as `scripts/bench.sh fulfillment` does). Messages per saga are counted (``CountingTransport``).
struct FulfillmentBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment",
        abstract: "Completed sagas/s and placed → CONFIRMED latency through orders' HTTP API, embedded or RabbitMQ + PostgreSQL."
    )

    @Option(help: "embedded (SQLite files, the embedded transport) or rabbitmq (RabbitMQ, PostgreSQL).") var layout = "embedded"
    @Option(help: "RabbitMQ URL (layout rabbitmq).") var amqp: String?
    @Option(help: "PostgreSQL URL of a server where databases may be created (layout rabbitmq).") var postgres: String?
    @Option(help: "The raw rabbitmq-c rate measured on the same broker (msg/s), for the target.") var rawRate: Double?
    @Option(help: "classic or quorum (RabbitMQ queues).") var queueType = "classic"
    @Option(name: .customLong("style"), help: "orchestration or choreography; repeat for both (the default).")
    var styles: [String] = FulfillmentSagaStyle.allCases.map(\.rawValue)
    @Option(help: "Orders measured per saga style.") var orders = 3_000
    @Option(help: "Placers, each with one order in flight (placed, then awaited until its saga ended).") var concurrency = 32
    @Option(help: "Orders placed and completed before the measurement.") var warmup = 100
    @Option(help: "SKUs the orders spread over (two lines each).") var skus = 16
    @Option(help: "Events for the embedded store's raw rate (0: not measured).") var rawEvents = 20_000
    @Option(help: "Seconds a style's measurement may take before it fails.") var timeout = 600

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let layout = try Layout(self)
        let styles = try self.styles.map { text in
            guard let style = FulfillmentSagaStyle(rawValue: text) else {
                throw ValidationError("--style: '\(text)' is not orchestration or choreography")
            }
            return style
        }
        guard orders > 0, concurrency > 0, warmup >= 0, skus >= 2, timeout > 0 else {
            throw ValidationError("--orders and --concurrency must be positive, --warmup ≥ 0, --skus ≥ 2, --timeout > 0")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        print("## Fulfillment sagas, \(layout.title): \(orders) orders per style, \(concurrency) placers with one order in flight each")
        print(
            "(each order: 2 lines over \(skus) SKUs, POST /orders/api/orders with its validation calls to users and inventory; latency from the POST to the observer's order.confirmed)"
        )
        print()
        var raw: (label: String, rate: Double)?
        switch layout {
        case .embedded:
            if rawEvents > 0 {
                let rate = try await measureEmbeddedStore(directory: directory, logger: logger)
                raw = ("embedded store alone (EventBus.publish, \(concurrency) publishers, 1 event per call, publish → handler)", rate)
            }
        case .rabbitMQ:
            if let rawRate { raw = ("raw rabbitmq-c, \(queueType) queue (confirms, 1024 in flight; publish + consume/ack)", rawRate) }
        }
        if let raw { print("Raw rate of the same broker in this run — \(raw.label): **\(Int(raw.rate)) msgs/s**") }
        print()
        print(
            "| layout | saga style | sagas/s | p50 ms | p99 ms | max ms | 202 → CONFIRMED p50 / p99 ms | POST p50 / p99 ms | messages published per saga | deliveries per saga | target sagas/s | met |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        var breakdowns: [String] = []
        for style in styles {
            let result = try await measure(style: style, layout: layout, directory: directory, logger: logger)
            let target: Double? =
                switch layout {
                case .embedded: 300
                case .rabbitMQ: raw.map { 0.3 * $0.rate / result.publishedPerSaga }
                }
            let met = target.map { result.sagasPerSecond >= $0 ? "yes" : "no" } ?? "—"
            print(
                "| \(layout.short) | \(style.rawValue) | \(Int(result.sagasPerSecond)) | \(ms(result.total, 50)) | \(ms(result.total, 99)) | \(ms(result.total, 100)) | \(ms(result.saga, 50)) / \(ms(result.saga, 99)) | \(ms(result.post, 50)) / \(ms(result.post, 99)) | \(String(format: "%.2f", result.publishedPerSaga)) | \(String(format: "%.2f", result.deliveriesPerSaga)) | \(target.map { String(Int($0)) } ?? "—") | \(met)\(result.cancelled > 0 ? " (\(result.cancelled) cancelled)" : "") |"
            )
            breakdowns.append("- \(style.rawValue): " + result.breakdown)
        }
        print()
        print("Messages published per saga, by type (deliveries exclude the benchmark's observer group):")
        for line in breakdowns { print(line) }
        print()
    }

    private func ms(_ histogram: Histogram<UInt64>, _ percentile: Double) -> String {
        let micros = percentile >= 100 ? histogram.max : histogram.valueAtPercentile(percentile)
        return String(format: "%.1f", Double(micros) / 1000)
    }

    // MARK: Layouts

    enum Layout {
        case embedded
        case rabbitMQ(amqp: AMQPConfiguration, postgres: String)

        init(_ command: FulfillmentBenchmark) throws {
            switch command.layout {
            case "embedded": self = .embedded
            case "rabbitmq":
                guard let amqp = command.amqp, let postgres = command.postgres else {
                    throw ValidationError("--layout rabbitmq needs --amqp and --postgres")
                }
                var configuration = try AMQPConfiguration(url: amqp, field: "--amqp")
                guard let queueType = QueueType(rawValue: command.queueType) else {
                    throw ValidationError("--queue-type: '\(command.queueType)' is not classic or quorum")
                }
                configuration.queueType = queueType
                self = .rabbitMQ(amqp: configuration, postgres: postgres)
            default: throw ValidationError("--layout: '\(command.layout)' is not embedded or rabbitmq")
            }
        }

        var title: String {
            switch self {
            case .embedded: "embedded transport + SQLite (a file per service, as `interchange up`)"
            case .rabbitMQ(let amqp, _): "RabbitMQ (\(amqp.queueType) queues) + PostgreSQL (a database per service)"
            }
        }

        var short: String {
            switch self {
            case .embedded: "embedded + SQLite"
            case .rabbitMQ(let amqp, _): "RabbitMQ (\(amqp.queueType)) + PostgreSQL"
            }
        }
    }

    /// The embedded store's own rate, on a store file of its own in the same directory: the "raw broker" row.
    private func measureEmbeddedStore(directory: URL, logger: Logger) async throws -> Double {
        let store = try await Database.open(
            .sqlite(path: directory.appendingPathComponent("raw-events.sqlite").path),
            maxConnections: 8,
            logger: logger
        )
        try await store.migrate(EmbeddedTransport.migrations)
        let transport = EmbeddedTransport(database: store, logger: logger)
        let result = try await EventRoundTrip(events: rawEvents, publishers: concurrency, relayBatch: OutboxRelay.Configuration().batchSize)
            .measure(transport: transport, outbox: nil, batch: 1, logger: logger)
        try await store.shutdown()
        return result.rate
    }

    /// The shared transport and the four services' databases of one style's run, and what closes them.
    private struct Backing {
        var transport: any EventTransport
        var databases: [String: Database]
        var closeTransport: @Sendable () async throws -> Void
        var cleanUp: @Sendable () async -> Void = {}
    }

    private static let services = ["users", "inventory", "payments", "orders"]

    private func open(_ layout: Layout, run: String, directory: URL, logger: Logger) async throws -> Backing {
        switch layout {
        case .embedded:
            let folder = directory.appendingPathComponent(run)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // As ComponentCatalog+Fulfillment and SharedEventTransport open them under `interchange up`.
            let events = try await Database.open(
                .sqlite(path: folder.appendingPathComponent("events.sqlite").path),
                maxConnections: 8,
                logger: logger
            )
            try await events.migrate(EmbeddedTransport.migrations)
            var databases: [String: Database] = [:]
            for name in Self.services {
                databases[name] = try await Database.open(
                    .sqlite(path: folder.appendingPathComponent("\(name).sqlite").path),
                    maxConnections: 8,
                    logger: logger
                )
            }
            return Backing(
                transport: EmbeddedTransport(database: events, logger: logger),
                databases: databases,
                closeTransport: { try await events.shutdown() }
            )
        case .rabbitMQ(var amqp, let postgres):
            let admin = try await Database.open(.postgres(url: postgres), maxConnections: 1, logger: logger)
            var databases: [String: Database] = [:]
            var names: [String] = []
            for service in Self.services {
                let name = "bench_\(run)_\(service)"
                try await admin.withConnection { sql in try await sql.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
                names.append(name)
                databases[service] = try await Database.open(
                    .postgres(url: try Self.url(postgres, database: name)),
                    maxConnections: 8,
                    logger: logger
                )
            }
            // A fresh exchange (and so fresh queues) per run: nothing left over from an earlier style reaches this one.
            amqp.exchange = "bench.fulfillment.\(run)"
            let transport = AMQPTransport(configuration: amqp, logger: logger)
            try await transport.connect()
            let created = names
            return Backing(
                transport: transport,
                databases: databases,
                closeTransport: { await transport.shutdown() },
                cleanUp: {
                    for name in created {
                        try? await admin.withConnection { sql in try await sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
                    }
                    try? await admin.shutdown()
                }
            )
        }
    }

    /// `url` with its path (the database) replaced by `database`.
    private static func url(_ url: String, database: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw ValidationError("--postgres: not a URL") }
        components.path = "/" + database
        guard let result = components.string else { throw ValidationError("--postgres: not a URL") }
        return result
    }

    // MARK: One style

    struct Result {
        var sagasPerSecond: Double
        var total: Histogram<UInt64>
        var saga: Histogram<UInt64>
        var post: Histogram<UInt64>
        var cancelled: Int
        var publishedPerSaga: Double
        var deliveriesPerSaga: Double
        var breakdown: String
    }

    private func measure(style: FulfillmentSagaStyle, layout: Layout, directory: URL, logger: Logger) async throws -> Result {
        let run = "\(style.rawValue.prefix(5))\(UUID().uuidString.prefix(6).lowercased())"
        let backing = try await open(layout, run: run, directory: directory, logger: logger)
        do {
            let result = try await measure(style: style, layout: layout, backing: backing, logger: logger)
            await backing.cleanUp()
            return result
        } catch {
            await backing.cleanUp()
            throw error
        }
    }

    private func measure(style: FulfillmentSagaStyle, layout: Layout, backing: Backing, logger: Logger) async throws -> Result {
        let counting = CountingTransport(backing.transport)
        let address = BaseAddress()
        let (orders, concurrency, warmup, timeout) = (orders, concurrency, warmup, timeout)
        let catalogue = (0..<skus).map { index in
            // Prices in tens of cents: no total ends in 01, 02 or 08 (the simulated provider's decline/timeout triggers).
            StockItem(
                sku: "SKU-BENCH-\(index)",
                name: "Bench \(index)",
                priceCents: 250 + 10 * index,
                currency: "usd",
                available: 3 * (orders + warmup + 2 * concurrency)
            )
        }
        let users = try await UsersComponent.make(database: backing.databases["users"]!, logger: logger)
        let inventory = try await InventoryComponent.make(
            database: backing.databases["inventory"]!,
            transport: counting,
            configuration: InventoryConfiguration(seed: catalogue),
            logger: logger
        )
        let payments = try await PaymentsComponent.make(database: backing.databases["payments"]!, transport: counting, logger: logger)
        let ordersComponent = try await OrdersComponent.make(
            database: backing.databases["orders"]!,
            transport: counting,
            configuration: OrdersConfiguration(sagaStyle: style),
            logger: logger,
            selfBaseURL: { address.url }
        )
        let observer = SagaObserver()
        let observing = observer.consumer(bus: EventBus(transport: counting, registry: FulfillmentEvents.registry, logger: logger))
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        try users.addRoutes(to: router)
        try inventory.addRoutes(to: router)
        try payments.addRoutes(to: router)
        try ordersComponent.addRoutes(to: router)
        // First in the group, so it stops last: after every consumer and relay (as SharedEventTransport's closer).
        let services: [any Service] =
            [CloseOnShutdown(backing.closeTransport)] + users.services + inventory.services + payments.services + ordersComponent.services
            + [observing]

        return try await LoopbackServer.run(router, services: services, shutdownGrace: .seconds(5), logger: logger) { server in
            address.set(server.baseURL)
            let placer = try OrderPlacer(baseURL: server.baseURL, concurrency: concurrency, catalogue: catalogue.map(\.sku))
            do {
                let result = try await withThrowingTaskGroup(of: Void.self) { watchdog in
                    watchdog.addTask {
                        try await Task.sleep(for: .seconds(timeout))
                        observer.fail(BenchmarkFailure("a saga did not end within \(timeout) s (\(style.rawValue), \(layout.short))"))
                    }
                    defer { watchdog.cancelAll() }
                    let userIDs = try await placer.registerUsers(concurrency)
                    // Warm-up: until one order completes (on RabbitMQ the observer's queue must be bound first), then more.
                    var warmed = false
                    for attempt in 0..<30 where !warmed {
                        let placed = try await placer.place(user: userIDs[0], index: -1 - attempt)
                        warmed = try await withThrowingTaskGroup(of: Bool.self) { race in
                            race.addTask {
                                _ = try await observer.end(of: placed.id)
                                return true
                            }
                            race.addTask {
                                try await Task.sleep(for: .seconds(2))
                                return false
                            }
                            defer { race.cancelAll() }
                            return try await race.next()!
                        }
                    }
                    guard warmed else { throw BenchmarkFailure("no warm-up order's saga was seen ending within 30 attempts") }
                    _ = try await placer.placeAndAwait(count: warmup, users: userIDs, observer: observer, firstIndex: 1_000_000)
                    try await Self.quiesce(counting)
                    counting.reset()

                    let start = DispatchTime.now().uptimeNanoseconds
                    let placed = try await placer.placeAndAwait(count: orders, users: userIDs, observer: observer, firstIndex: 0)
                    let ends = observer.ends(of: placed.map(\.id))
                    try await Self.quiesce(counting)
                    let counts = counting.snapshot
                    return Self.result(placed: placed, ends: ends, start: start, counts: counts)
                }
                try await placer.shutdown()
                return result
            } catch {
                try? await placer.shutdown()
                throw error
            }
        }
    }

    /// Waits (at most 10 s) until no message crossed the transport for 300 ms: what a saga still causes after its
    /// order.confirmed (inventory turning the reservation into a sale) is counted as the saga's.
    private static func quiesce(_ counting: CountingTransport) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        var last = counting.snapshot
        var stableSince = clock.now
        while clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            let now = counting.snapshot
            if now != last {
                last = now
                stableSince = clock.now
            } else if stableSince.duration(to: clock.now) >= .milliseconds(300) {
                return
            }
        }
    }

    private static func result(
        placed: [OrderPlacer.Placed],
        ends: [String: SagaObserver.End],
        start: UInt64,
        counts: CountingTransport.Counts
    ) -> Result {
        func histogram() -> Histogram<UInt64> { Histogram(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three) }
        var (total, saga, post) = (histogram(), histogram(), histogram())
        var cancelled = 0
        var last = start
        for order in placed {
            guard let end = ends[order.id] else { continue }
            guard end.outcome == .confirmed else {
                cancelled += 1
                continue
            }
            last = max(last, end.at)
            total.record((end.at - min(end.at, order.postedAt)) / 1000)
            saga.record((end.at - min(end.at, order.acceptedAt)) / 1000)
            post.record((order.acceptedAt - order.postedAt) / 1000)
        }
        let confirmed = placed.count - cancelled
        let sagas = Double(placed.count)
        let prefix = FulfillmentEvents.typePrefix
        let breakdown = counts.publishedByType.sorted { $0.key < $1.key }.map { type, count in
            "\(type.hasPrefix(prefix) ? String(type.dropFirst(prefix.count)) : type) \(String(format: "%.2f", Double(count) / sagas))"
        }.joined(separator: ", ")
        return Result(
            sagasPerSecond: Double(confirmed) / (Double(last - start) / 1e9),
            total: total,
            saga: saga,
            post: post,
            cancelled: cancelled,
            publishedPerSaga: Double(counts.published) / sagas,
            deliveriesPerSaga: Double(counts.deliveries(excluding: SagaObserver.group)) / sagas,
            breakdown: breakdown + "; deliveries by group: "
                + counts.deliveriesByGroup.filter { $0.key != SagaObserver.group }.sorted { $0.key < $1.key }.map {
                    "\($0.key) \(String(format: "%.2f", Double($0.value) / sagas))"
                }.joined(separator: ", ")
        )
    }
}

/// Where the loopback server listens, known once it does (orders calls users and inventory there).
private final class BaseAddress: Sendable {
    private let value = Mutex("http://127.0.0.1:0")
    func set(_ url: String) { value.withLock { $0 = url } }
    var url: String { value.withLock { $0 } }
}

/// Hands out 0, 1, 2, … to the placers.
private final class OrderNumbers: Sendable {
    private let taken = Mutex(0)
    func take() -> Int {
        taken.withLock { taken in
            defer { taken += 1 }
            return taken
        }
    }
}

/// Places orders through orders' HTTP API, as a client would.
private struct OrderPlacer: Sendable {
    let baseURL: String
    let client: HTTPClient
    let catalogue: [String]

    struct Placed: Sendable {
        var id: String
        /// Monotonic nanoseconds: the POST was sent, and its 202 received.
        var postedAt: UInt64
        var acceptedAt: UInt64
    }

    init(baseURL: String, concurrency: Int, catalogue: [String]) throws {
        self.baseURL = baseURL
        self.catalogue = catalogue
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws { try await client.shutdown() }

    private func post(_ path: String, json: String) async throws -> (status: Int, body: [String: Any]?, text: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func registerUsers(_ count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            let response = try await post("/users/api/users", json: #"{"name":"Bench \#(index)","email":"bench-\#(index)@example.com"}"#)
            guard response.status == 201, let id = response.body?["id"] as? String else {
                throw BenchmarkFailure("users answered \(response.status): \(response.text.prefix(300))")
            }
            ids.append(id)
        }
        return ids
    }

    /// Order `index`: one unit of one SKU and two of another, half the catalogue apart.
    func place(user: String, index: Int) async throws -> Placed {
        let count = catalogue.count
        let first = ((index % count) + count) % count
        let second = (first + count / 2) % count
        let json = #"{"userId":"\#(user)","lines":[{"sku":"\#(catalogue[first])","quantity":1},{"sku":"\#(catalogue[second])","quantity":2}]}"#
        let postedAt = DispatchTime.now().uptimeNanoseconds
        let response = try await post("/orders/api/orders", json: json)
        let acceptedAt = DispatchTime.now().uptimeNanoseconds
        guard response.status == 202, let id = response.body?["id"] as? String else {
            throw BenchmarkFailure("orders answered \(response.status): \(response.text.prefix(300))")
        }
        return Placed(id: id, postedAt: postedAt, acceptedAt: acceptedAt)
    }

    /// `count` orders by `users.count` placers, each placing one, awaiting the end of its saga, then the next.
    func placeAndAwait(count: Int, users: [String], observer: SagaObserver, firstIndex: Int) async throws -> [Placed] {
        let next = OrderNumbers()
        return try await withThrowingTaskGroup(of: [Placed].self) { group in
            for user in users {
                group.addTask {
                    var placed: [Placed] = []
                    while true {
                        let index = next.take()
                        guard index < count else { return placed }
                        let order = try await place(user: user, index: firstIndex + index)
                        _ = try await observer.end(of: order.id)
                        placed.append(order)
                    }
                }
            }
            var all: [Placed] = []
            for try await placed in group { all += placed }
            return all
        }
    }
}
