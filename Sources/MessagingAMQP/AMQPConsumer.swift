import Logging
import Messaging

/// One message a consumer connection received, handed to the async side.
struct AMQPInbound: Sendable {
    /// Which connection delivered it; a settlement for an older connection is dropped (the broker redelivers).
    var generation: Int
    var deliveryTag: UInt64
    var routingKey: String
    var redelivered: Bool
    var message: AMQPMessage

    /// The attempt this delivery is (1 unless the transport's retry copy says otherwise).
    var attempt: Int {
        if case .int(let attempt) = message.header(AMQPHeaderName.attempt), attempt >= 1 { return Int(attempt) }
        return 1
    }
}

/// A consumer connection's driver, confined to its ``AMQPConnectionThread``: declares the topology on every
/// (re)connect, forwards deliveries, and settles them as the handlers decide.
///
/// Settling a retry or a dead letter publishes a copy (to the retry queue via the default exchange, or to the
/// group's dead-letter exchange) on the same channel in confirm mode and acknowledges the original only once the
/// copy is confirmed; a refused copy requeues the original. So a crash between the two means a duplicate, never a
/// loss.
final class AMQPConsumer: AMQPConnectionDriver {
    enum Kind {
        case group(GroupTopology)
        case tail(TailTopology)
    }

    private let configuration: AMQPConfiguration
    private let kind: Kind
    private let logger: Logger
    private let deliver: @Sendable (AMQPInbound) -> Void
    /// Called once when the consumer cannot go on (the topology conflicts with the broker's).
    private let fail: @Sendable (AMQPError) -> Void
    private var session: AMQPSession?
    private var generation = 0
    private var schedule = ReconnectSchedule()
    private var unsettled: [UInt64: AMQPInbound] = [:]
    private var failedFatally = false
    /// An error raised inside a confirm callback (which runs while frames are read), handled after the read.
    private var deferredError: AMQPError?

    init(
        configuration: AMQPConfiguration,
        kind: Kind,
        logger: Logger,
        deliver: @escaping @Sendable (AMQPInbound) -> Void,
        fail: @escaping @Sendable (AMQPError) -> Void
    ) {
        self.configuration = configuration
        self.kind = kind
        self.logger = logger
        self.deliver = deliver
        self.fail = fail
    }

    /// The first connection: `completion` gets the failure when the broker is unreachable or refuses the topology
    /// (and the consumer then stays down), nil when consuming.
    func start(_ completion: (AMQPError?) -> Void) {
        openSession()
        if session != nil {
            completion(nil)
        } else {
            failedFatally = true
            completion(schedule.lastError ?? AMQPError(.notConnected, field: configuration.field, detail: "not connected"))
        }
    }

    private func openSession() {
        do throws(AMQPError) {
            let session = try AMQPSession(configuration: configuration)
            do throws(AMQPError) {
                switch kind {
                case .group(let topology): try topology.declare(on: session)
                case .tail(let topology): try topology.declare(on: session)
                }
            } catch {
                session.close()
                throw error
            }
            generation += 1
            self.session = session
            if schedule.failures > 0 { logger.debug("amqp consumer reconnected", metadata: ["broker": "\(configuration.redactedURL)"]) }
            schedule.succeeded()
        } catch {
            schedule.failed(error, backoff: configuration.reconnectDelay)
            logger.debug("amqp consumer cannot connect", metadata: ["error": "\(error)"])
            if error.code == .topologyMismatch, !failedFatally, generation > 0 {
                failedFatally = true
                fail(error)
            }
        }
    }

    private func disconnect(_ error: AMQPError) {
        logger.debug("amqp consumer connection lost", metadata: ["error": "\(error)"])
        generation += 1  // confirm callbacks of the old connection see a new generation and do nothing
        unsettled.removeAll()  // the broker requeues what this connection held
        let session = self.session
        self.session = nil
        session?.abandon(error)
        schedule.failed(error, backoff: configuration.reconnectDelay)
    }

    /// What the handler decided for one delivery.
    enum Settlement: Sendable {
        case ack
        case retry(reason: String)
        case deadLetter(reason: String)
    }

    func settle(deliveryTag: UInt64, generation: Int, _ settlement: Settlement) {
        guard generation == self.generation, let session, let inbound = unsettled.removeValue(forKey: deliveryTag) else { return }
        do throws(AMQPError) {
            switch (settlement, kind) {
            case (.ack, _):
                try session.ack(deliveryTag)
            case (.retry(let reason), .group(let topology)) where inbound.attempt < topology.maxAttempts:
                var copy = inbound.message
                copy.headers.removeAll { $0.key == "x-death" }
                copy.setHeader(AMQPHeaderName.attempt, .int(Int64(inbound.attempt + 1)))
                copy.setHeader(AMQPHeaderName.lastError, .string(String(reason.prefix(4096))))
                let queue = topology.retryQueue(afterAttempt: inbound.attempt)
                try republish(copy, exchange: "", routingKey: queue, replacing: deliveryTag)
            case (.retry(let reason), .group(let topology)), (.deadLetter(let reason), .group(let topology)):
                var copy = inbound.message
                copy.headers.removeAll { $0.key == "x-death" || $0.key == AMQPHeaderName.attempt }
                copy.setHeader(AMQPHeaderName.lastError, .string(String(reason.prefix(4096))))
                copy.setHeader(AMQPHeaderName.attempts, .int(Int64(inbound.attempt)))
                copy.setHeader(AMQPHeaderName.group, .string(topology.group))
                try republish(copy, exchange: topology.deadExchange, routingKey: inbound.routingKey, replacing: deliveryTag)
            case (_, .tail):
                break  // a tail's queue is consumed without acknowledgements
            }
        } catch {
            disconnect(error)
        }
    }

    /// Publishes `copy` (confirmed, mandatory) and then acknowledges the original; requeues it if the copy fails.
    private func republish(_ copy: AMQPMessage, exchange: String, routingKey: String, replacing deliveryTag: UInt64) throws(AMQPError) {
        guard let session else { return }
        let generation = self.generation
        try session.publish(exchange: exchange, routingKey: routingKey, message: copy, mandatory: true) { [weak self] result in
            guard let self, self.generation == generation, let session = self.session else { return }
            do throws(AMQPError) {
                switch result {
                case .success: try session.ack(deliveryTag)
                case .failure(let error):
                    self.logger.debug("amqp consumer could not move a message; requeued", metadata: ["error": "\(error)"])
                    try session.nack(deliveryTag, requeue: true)
                }
            } catch {
                self.deferredError = error
            }
        }
    }

    func turn() -> (socket: Int32?, milliseconds: Int32) {
        if failedFatally { return (nil, 1000) }
        if session == nil, schedule.isDue { openSession() }
        guard let session else { return (nil, schedule.millisecondsUntilDue) }
        do throws(AMQPError) {
            let generation = self.generation
            let manual: Bool
            if case .group = kind { manual = true } else { manual = false }
            try session.readAvailable { delivered in
                let inbound = AMQPInbound(
                    generation: generation,
                    deliveryTag: delivered.deliveryTag,
                    routingKey: delivered.routingKey,
                    redelivered: delivered.redelivered,
                    message: delivered.message
                )
                if manual { unsettled[delivered.deliveryTag] = inbound }
                deliver(inbound)
            }
            if let error = deferredError {
                deferredError = nil
                throw error
            }
        } catch {
            disconnect(error)
            return (nil, schedule.millisecondsUntilDue)
        }
        return (session.socketDescriptor, 250)
    }

    func stop() {
        unsettled.removeAll()
        session?.close()
        session = nil
    }
}
