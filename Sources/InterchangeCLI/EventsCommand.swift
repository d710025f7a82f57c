import ArgumentParser
import Foundation
import InterchangeCore
import Logging
import Messaging
import MessagingAMQP
import Synchronization

/// `interchange events …`: publish and watch CloudEvents by hand, on RabbitMQ or on the embedded transport's store
/// (in the spirit of kcat and rabbitmqadmin).
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Publish one CloudEvent, or print the events flowing past, on RabbitMQ (--broker) or the embedded store (--data-dir).",
        subcommands: [Publish.self, Tail.self]
    )

    /// Where the events are: a broker, or the embedded transport's store in a data directory.
    struct Target: ParsableArguments {
        @Option(help: "A RabbitMQ URL, amqp://user:pass@host:port/vhost or amqps://…. Env: INTERCHANGE_BROKER_URL.")
        var broker: String?

        @Option(
            name: .customLong("data-dir"),
            help: "The data directory whose embedded event store (events.sqlite) to use when there is no broker. Default: ./.interchange."
        )
        var dataDir: String?

        @Option(help: "The topic exchange (RabbitMQ only).")
        var exchange: String = "interchange.events"

        func validate() throws {
            if broker != nil, dataDir != nil { throw ValidationError("give --broker or --data-dir, not both") }
            if exchange.isEmpty { throw ValidationError("--exchange must not be empty") }
        }

        /// The broker URL from the flag or the environment.
        var brokerURL: String? {
            broker ?? ProcessInfo.processInfo.environment["INTERCHANGE_BROKER_URL"].flatMap { $0.isEmpty ? nil : $0 }
        }

        /// Opens the transport, runs `body`, and closes it.
        func with<R: Sendable>(
            mode: CloudEventMode = .structured,
            logger: Logger,
            _ body:
                @Sendable (any EventTransport, _ tail: @Sendable ([TopicPattern], Bool) -> AsyncThrowingStream<CloudEvent, any Error>) async throws ->
                R
        ) async throws -> R {
            if let url = brokerURL {
                var configuration: AMQPConfiguration
                do {
                    configuration = try AMQPConfiguration(url: url, field: broker != nil ? "--broker" : "INTERCHANGE_BROKER_URL")
                } catch let error as ConfigurationError {
                    throw ValidationError("configuration error: \(error)")
                }
                configuration.exchange = exchange
                configuration.mode = mode
                let transport = AMQPTransport(configuration: configuration, logger: logger)
                do {
                    try await transport.connect()
                } catch let error as ConfigurationError {
                    await transport.shutdown()
                    throw ValidationError("configuration error: \(error)")
                }
                do {
                    let result = try await body(transport) { bindings, _ in transport.tail(bindings) }
                    await transport.shutdown()
                    return result
                } catch {
                    await transport.shutdown()
                    throw error
                }
            }
            let directory =
                dataDir ?? ProcessInfo.processInfo.environment["INTERCHANGE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./.interchange"
            let transport: EmbeddedTransport
            do {
                transport = try await EmbeddedTransport.open(dataDirectory: directory, logger: logger)
            } catch let error as ConfigurationError {
                throw ValidationError("configuration error: --data-dir: \(error.reason)")
            }
            do {
                let result = try await body(transport) { bindings, fromBeginning in transport.tail(bindings, fromBeginning: fromBeginning) }
                try await transport.shutdown()
                return result
            } catch {
                try? await transport.shutdown()
                throw error
            }
        }
    }

    struct Publish: AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish one CloudEvent and print its id.",
            discussion: """
                The routing key is the event's type. Structured mode (application/cloudevents+json) by default; --binary \
                sends the AMQP binding's binary mode (attributes as cloudEvents: headers, the data as the body).
                Examples:
                  interchange events publish --broker amqp://guest:guest@127.0.0.1:5672/ --type com.example.order.created \\
                    --source /orders --subject o_1 --data '{"orderId":"o_1"}'
                  interchange events publish --data-dir ./.interchange --type com.example.ping --source /cli
                """
        )

        @OptionGroup var target: Target
        @Option(help: "The event type (the routing key), e.g. com.example.order.created.") var type: String
        @Option(help: "The event source, a URI-reference, e.g. /orders.") var source: String
        @Option(help: "The subject within the source (an order id, say).") var subject: String?
        @Option(help: "The event id. Default: a new random id.") var id: String?
        @Option(help: "The data: JSON text (with the default content type) or any text.") var data: String?
        @Option(name: .customLong("data-content-type"), help: "The data's media type.") var dataContentType: String = "application/json"
        @Option(name: .customLong("data-schema"), help: "The data's schema URI.") var dataSchema: String?
        @Option(name: .customLong("extension"), help: "An extension attribute as name=value; repeat for several.") var extensions: [String] = []
        @Flag(help: "Send the AMQP binding's binary mode instead of structured mode (RabbitMQ only).") var binary = false

        func validate() throws {
            for pair in extensions where !pair.contains("=") {
                throw ValidationError("--extension '\(pair.prefix(40))' is not in name=value form")
            }
        }

        func execute() async throws {
            let event = try makeEvent()
            let logger = Logger(label: "interchange.events")
            try await target.with(mode: binary ? .binary : .structured, logger: logger) { transport, _ in
                try await transport.publish([event])
            }
            print(event.id)
        }

        /// The event the flags describe, validated (an error names the attribute).
        func makeEvent() throws -> CloudEvent {
            var attributes: [String: CloudEventAttributeValue] = [:]
            for pair in extensions {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                attributes[String(pair[..<equals])] = .string(String(pair[pair.index(after: equals)...]))
            }
            let body = data.map { Data($0.utf8) }
            if let body, dataContentType.lowercased().contains("json") {
                guard (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) != nil else {
                    throw ValidationError("--data is not valid JSON (or give --data-content-type for other text)")
                }
            }
            let event = CloudEvent(
                id: id ?? CloudEvent.newID(),
                source: source,
                type: type,
                subject: subject,
                datacontenttype: body == nil ? nil : dataContentType,
                dataschema: dataSchema,
                extensions: attributes,
                data: body
            )
            do {
                try event.validate()
            } catch {
                throw ValidationError("invalid event: \(error)")
            }
            return event
        }
    }

    struct Tail: AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as they are published, one structured CloudEvent (JSON) a line.",
            discussion: """
                On RabbitMQ a temporary queue is bound to the exchange with each --type pattern and removed on exit; on the \
                embedded store the log is read from its end (or from the start with --from-beginning). Patterns are AMQP \
                topic patterns: * matches one dot-separated word, # any number.
                Example:
                  interchange events tail --broker amqp://guest:guest@127.0.0.1:5672/ --type 'com.example.order.*' --count 10
                """
        )

        @OptionGroup var target: Target
        @Option(name: .customLong("type"), help: "A topic pattern over event types; repeat for several. Default: # (every event).")
        var types: [String] = []
        @Option(help: "Exit after this many events.") var count: Int?
        @Flag(name: .customLong("from-beginning"), help: "Embedded store: start at the oldest retained event.") var fromBeginning = false
        @Option(
            help: "Consume as a member of this consumer group (its durable queue), acknowledging each event printed, instead of watching."
        )
        var group: String?

        func validate() throws {
            if let count, count <= 0 { throw ValidationError("--count must be positive") }
        }

        func execute() async throws {
            let bindings = (types.isEmpty ? ["#"] : types).map { TopicPattern($0) }
            let limit = count
            let fromBeginning = fromBeginning
            let logger = Logger(label: "interchange.events")
            if let group {
                try await target.with(logger: logger) { transport, _ in
                    try await Self.consume(as: group, bindings: bindings, limit: limit, transport: transport, logger: logger)
                }
                return
            }
            try await target.with(logger: logger) { _, tail in
                var printed = 0
                for try await event in tail(bindings, fromBeginning) {
                    let line = try event.jsonEncoded()
                    FileHandle.standardOutput.write(line + Data("\n".utf8))
                    printed += 1
                    if let limit, printed >= limit { break }
                }
            }
        }

        /// Consumes through the bus as one of `group`'s consumers: printed events are acknowledged; after `limit` the
        /// consumer stops (an event already fetched but not printed is redelivered to the group).
        static func consume(as group: String, bindings: [TopicPattern], limit: Int?, transport: any EventTransport, logger: Logger) async throws {
            let bus = EventBus(transport: transport, logger: logger)
            let printed = Mutex(0)
            let (done, finish) = AsyncStream<Void>.makeStream()
            let consumer = bus.consumer(Subscription(group: group, bindings: bindings, prefetch: 1)) { event, _ in
                let line = try event.jsonEncoded()
                let reached = printed.withLock { count -> Bool in
                    count += 1
                    FileHandle.standardOutput.write(line + Data("\n".utf8))
                    return limit.map { count >= $0 } ?? false
                }
                if reached { finish.yield() }
            }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await consumer.run() }
                tasks.addTask {
                    for await _ in done { return }
                }
                _ = try await tasks.next()
                // Cancelling lets the handler that reached the limit settle (acknowledge) before the consumer stops.
                tasks.cancelAll()
            }
        }
    }
}
