import Foundation
import InterchangeCore
import Logging
import Messaging
import MessagingAMQP
import Persistence
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// The event transport the components of one process share, opened on first use: RabbitMQ when `messaging.broker`
/// is set (`--broker`, `INTERCHANGE_BROKER_URL`), otherwise the embedded store — `messaging.store`
/// (`INTERCHANGE_MESSAGING_STORE_URL`), by default `sqlite:<data dir>/events.sqlite`; a `postgres://` store lets
/// processes on several hosts share it.
public final class SharedEventTransport: Sendable {
    static let keys: Set<String> = ["messaging.broker", "messaging.store"]

    private let settings: Settings
    private let logger: Logger
    private enum Opened: Sendable {
        case embedded(EmbeddedTransport, Database)
        case amqp(AMQPTransport)

        var transport: any EventTransport {
            switch self {
            case .embedded(let transport, _): transport
            case .amqp(let transport): transport
            }
        }
    }
    private let opening = Mutex<Task<Opened, any Error>?>(nil)

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The transport, opened (and for the embedded store migrated) the first time it is asked for.
    ///
    /// - Throws: ``ConfigurationError`` naming `messaging.broker` or `messaging.store`.
    public func transport() async throws -> any EventTransport {
        let task = opening.withLock { task in
            if let task { return task }
            let opened = Task { [settings, logger] in try await Self.open(settings: settings, logger: logger) }
            task = opened
            return opened
        }
        return try await task.value.transport
    }

    private static func open(settings: Settings, logger: Logger) async throws -> Opened {
        let sources = settings.sources
        if let broker = sources.value("messaging.broker", environmentNames: ["INTERCHANGE_BROKER_URL"]) {
            do {
                let transport = AMQPTransport(configuration: try AMQPConfiguration(url: broker.text, field: "messaging.broker"), logger: logger)
                try await transport.connect()
                return .amqp(transport)
            } catch var error as ConfigurationError {
                error.source = error.source ?? broker.source
                throw error
            }
        }
        let store = sources.value("messaging.store", environmentNames: ["INTERCHANGE_MESSAGING_STORE_URL"])
        let location: Database.Location
        do {
            location = try Database.Location(url: store?.text ?? "sqlite:\(settings.dataDirectory)/events.sqlite", field: "messaging.store")
        } catch var error as ConfigurationError {
            error.source = error.source ?? store?.source
            throw error
        }
        let database = try await Database.open(location, maxConnections: 8, logger: logger)
        try await database.migrate(EmbeddedTransport.migrations)
        return .embedded(EmbeddedTransport(database: database, logger: logger), database)
    }

    /// Closes what was opened (nothing when no component asked for a transport).
    func shutdown() async {
        guard let task = opening.withLock({ $0 }), let opened = try? await task.value else { return }
        switch opened {
        case .amqp(let transport): await transport.shutdown()
        case .embedded(_, let database): try? await database.shutdown()
        }
    }

    /// A service that closes the transport on graceful shutdown; first in the service group, so it stops last,
    /// after every consumer and relay.
    var closer: any Service { CloseOnShutdown { await self.shutdown() } }
}
