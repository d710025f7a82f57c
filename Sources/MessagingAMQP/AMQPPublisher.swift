import Logging

/// The publishing connection's driver, confined to its ``AMQPConnectionThread``.
///
/// Batches from every caller go into one window of at most `maxUnconfirmed` messages awaiting confirms: a batch is
/// written whole (window permitting) before any confirm is read, concurrent callers' batches interleave in the same
/// window, and `basic.ack` with `multiple` settles many at once. A batch's continuation resumes once every message of
/// it is settled: success when all were confirmed, else the first failure (nack, return, lost connection).
final class AMQPPublisher: AMQPConnectionDriver {
    /// Counts one caller's messages down to its continuation. Thread-confined.
    final class Batch {
        private var remaining: Int
        private var failure: AMQPError?
        private let continuation: CheckedContinuation<Void, any Error>

        init(count: Int, continuation: CheckedContinuation<Void, any Error>) {
            remaining = count
            self.continuation = continuation
        }

        func settle(_ result: Result<Void, AMQPError>) {
            if case .failure(let error) = result, failure == nil { failure = error }
            remaining -= 1
            guard remaining == 0 else { return }
            if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
    }

    private struct Waiting {
        var routingKey: String
        var message: AMQPMessage
        var batch: Batch
    }

    private let configuration: AMQPConfiguration
    private let logger: Logger
    private var session: AMQPSession?
    private var wantsConnection = false
    private var schedule = ReconnectSchedule()
    private var waiting: [Waiting] = []
    private var waitingHead = 0

    init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Connects now unless connected; resumes with the failure (naming the URL's field) when the broker is unreachable.
    func connect(_ continuation: CheckedContinuation<Void, any Error>) {
        wantsConnection = true
        if session == nil { openSession() }
        if session != nil {
            continuation.resume()
        } else {
            continuation.resume(throwing: schedule.lastError ?? AMQPError(.notConnected, field: configuration.field, detail: "not connected"))
        }
    }

    func publish(_ messages: [(routingKey: String, message: AMQPMessage)], _ continuation: CheckedContinuation<Void, any Error>) {
        guard !messages.isEmpty else { return continuation.resume() }
        wantsConnection = true
        if session == nil, schedule.isDue || schedule.failures == 0 { openSession() }
        guard session != nil else {
            let reason = schedule.lastError.map { " (last attempt: \($0.detail))" } ?? ""
            return continuation.resume(
                throwing: AMQPError(.notConnected, field: configuration.field, detail: "not connected to RabbitMQ, reconnecting\(reason)")
            )
        }
        let batch = Batch(count: messages.count, continuation: continuation)
        for (routingKey, message) in messages { waiting.append(Waiting(routingKey: routingKey, message: message, batch: batch)) }
        pump()
    }

    /// Writes waiting messages while the confirm window has room.
    private func pump() {
        guard let session else { return }
        while waitingHead < waiting.count, session.unconfirmedCount < configuration.maxUnconfirmed {
            let next = waiting[waitingHead]
            waitingHead += 1
            do throws(AMQPError) {
                try session.publish(
                    exchange: configuration.exchange,
                    routingKey: next.routingKey,
                    message: next.message,
                    mandatory: configuration.failUnroutable,
                    confirmed: next.batch.settle
                )
            } catch {
                next.batch.settle(.failure(error))
                disconnect(error)
                return
            }
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
    }

    private func openSession() {
        do throws(AMQPError) {
            let session = try AMQPSession(configuration: configuration)
            do throws(AMQPError) {
                try session.declareExchange(configuration.exchange, type: "topic")
            } catch {
                session.close()
                throw error
            }
            self.session = session
            if schedule.failures > 0 { logger.debug("amqp publisher reconnected", metadata: ["broker": "\(configuration.redactedURL)"]) }
            schedule.succeeded()
        } catch {
            schedule.failed(error, backoff: configuration.reconnectDelay)
            logger.debug("amqp publisher cannot connect", metadata: ["error": "\(error)"])
        }
    }

    /// The connection failed: every unconfirmed and waiting publish fails with `error` (the outbox publishes them again).
    private func disconnect(_ error: AMQPError) {
        logger.debug("amqp publisher connection lost", metadata: ["error": "\(error)"])
        let session = self.session
        self.session = nil
        session?.abandon(error)
        failWaiting(error)
        schedule.failed(error, backoff: configuration.reconnectDelay)
    }

    private func failWaiting(_ error: AMQPError) {
        let failed = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        for item in failed { item.batch.settle(.failure(error)) }
    }

    func turn() -> (socket: Int32?, milliseconds: Int32) {
        if session == nil, wantsConnection, schedule.isDue { openSession() }
        guard let session else { return (nil, wantsConnection ? schedule.millisecondsUntilDue : 1000) }
        do throws(AMQPError) {
            try session.readAvailable { _ in }
            if let oldest = session.oldestUnconfirmedSentAt, ContinuousClock.now - oldest > configuration.confirmTimeout {
                throw AMQPError(
                    .connectionLost,
                    field: configuration.field,
                    detail:
                        "RabbitMQ confirmed no publish for \(configuration.confirmTimeout) (is it blocking publishers on a resource alarm?); reconnecting"
                )
            }
            pump()
        } catch {
            disconnect(error)
            return (nil, schedule.millisecondsUntilDue)
        }
        return (session.socketDescriptor, 250)
    }

    func stop() {
        let error = AMQPError(.shutdown, field: configuration.field, detail: "the RabbitMQ transport was shut down before the broker confirmed")
        failWaiting(error)
        session?.failUnconfirmed(error)
        session?.close()
        session = nil
    }
}
