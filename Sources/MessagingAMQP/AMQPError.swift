/// A failure talking to RabbitMQ, naming the setting it concerns (`broker.url`) and never the password.
///
/// Match on ``code``: `catch let error as AMQPError where error.code == .unreachable`.
public struct AMQPError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreachable, loginRefused, connectionLost, notConnected, nacked, unroutable, channelClosed, topologyMismatch,
                shutdown
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// The broker could not be reached (refused, timed out, TLS handshake or certificate failure).
        public static let unreachable = Code(.unreachable)
        /// The broker refused the credentials or the vhost.
        public static let loginRefused = Code(.loginRefused)
        /// The connection dropped; publishes not yet confirmed were not accepted.
        public static let connectionLost = Code(.connectionLost)
        /// The transport is between connections (reconnecting with backoff).
        public static let notConnected = Code(.notConnected)
        /// The broker answered `basic.nack` for a publish.
        public static let nacked = Code(.nacked)
        /// The broker returned a `mandatory` publish: no queue is bound for its routing key.
        public static let unroutable = Code(.unroutable)
        /// The broker closed the channel (a protocol or permission error).
        public static let channelClosed = Code(.channelClosed)
        /// An exchange or queue exists with other arguments than this configuration declares (PRECONDITION_FAILED).
        public static let topologyMismatch = Code(.topologyMismatch)
        /// The transport was shut down.
        public static let shutdown = Code(.shutdown)
    }

    public var code: Code
    /// The configuration field the failure concerns (`broker.url`).
    public var field: String
    public var detail: String

    public init(_ code: Code, field: String, detail: String) {
        self.code = code
        self.field = field
        self.detail = detail
    }

    public var description: String { "\(field): \(detail)" }
}
