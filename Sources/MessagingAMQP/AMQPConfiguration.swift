import Foundation
import InterchangeCore
import Resilience

/// How a CloudEvent travels in an AMQP message (the CloudEvents AMQP binding's two modes).
public enum CloudEventMode: String, Sendable, Hashable, CaseIterable {
    /// The whole event as JSON in the body, content type `application/cloudevents+json`.
    case structured
    /// Attributes in `cloudEvents:`-prefixed headers, `data` as the body, content type = `datacontenttype`.
    case binary
}

/// The RabbitMQ queue type of a consumer group's queues (main, retry and dead-letter queues alike).
public enum QueueType: String, Sendable, Hashable, CaseIterable {
    /// A classic queue (one node).
    case classic
    /// A quorum queue (Raft-replicated; retry queues then dead-letter at least once).
    case quorum
}

/// Where and how the RabbitMQ transport connects, read from an `amqp://` or `amqps://` URL.
///
/// ```swift
/// var configuration = try AMQPConfiguration(url: "amqps://svc:secret@rabbit.internal/prod?heartbeat=30")
/// configuration.queueType = .quorum
/// let transport = AMQPTransport(configuration: configuration, logger: logger)
/// ```
///
/// The URL follows RabbitMQ's URI spec: user and password (default `guest`), host, port (5672, or 5671 for `amqps`),
/// the vhost as the path (`/` when absent, `%2F` for a vhost named `/`), and the query options `heartbeat` (seconds,
/// default 30), `connection_timeout` (milliseconds, default 5000), and for `amqps` `cacertfile` (default the system
/// bundle), `certfile` and `keyfile` (a client certificate). TLS always verifies the server's certificate and name.
public struct AMQPConfiguration: Sendable, CustomStringConvertible {
    /// The configuration field errors name (`broker.url`, or a flag such as `--broker`).
    public var field: String
    public var host: String
    public var port: Int
    public var user: String
    var password: String
    public var vhost: String
    /// Seconds between heartbeats (0: none).
    public var heartbeat: Int
    public var connectionTimeout: Duration
    /// TLS settings; `nil` for plain `amqp://`.
    public var tls: TLS?
    /// The topic exchange events are published to; the routing key is the event's `type`.
    public var exchange: String = "interchange.events"
    public var mode: CloudEventMode = .structured
    public var queueType: QueueType = .classic
    /// Publishes in flight awaiting the broker's confirm, over all callers of one transport.
    public var maxUnconfirmed: Int = 1024
    /// Publish with `mandatory`: an event no queue is bound for makes ``AMQPTransport/publish(_:)`` throw instead of
    /// being dropped by the broker. Off by default: an event type nobody subscribes to yet is not an error and must
    /// not stall the outbox.
    public var failUnroutable: Bool = false
    /// How long a publish may wait for its confirm before the connection is given up (and re-established): a broker
    /// that blocks publishers (a memory or disk alarm) makes ``AMQPTransport/publish(_:)`` throw instead of hang.
    public var confirmTimeout: Duration = .seconds(30)
    /// The wait between reconnection attempts after the broker went away.
    public var reconnectDelay: Backoff = Backoff.standard

    public struct TLS: Sendable, Hashable {
        /// CA certificates (PEM) the server's certificate must chain to.
        public var caCertificateFile: String
        public var certificateFile: String?
        public var keyFile: String?
    }

    /// The URL with the password replaced by `***`: safe to log and to put in errors.
    public var redactedURL: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        let escapedVhost = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? vhost
        return "\(scheme)://\(user):***@\(host):\(port)/\(escapedVhost)"
    }

    /// The settings without the password (so logging a configuration never shows it).
    public var description: String {
        "AMQPConfiguration(\(redactedURL), exchange: \(exchange), mode: \(mode), queueType: \(queueType), maxUnconfirmed: \(maxUnconfirmed))"
    }

    /// The system's CA bundle on Debian, used when an `amqps` URL names no `cacertfile`.
    public static let systemCABundle = "/etc/ssl/certs/ca-certificates.crt"

    /// Reads `url`; a bad URL throws ``ConfigurationError`` naming `field` and what is wrong.
    public init(url: String, field: String = "broker.url") throws {
        self.field = field
        func invalid(_ reason: String) -> ConfigurationError {
            ConfigurationError(field: field, reason: reason + " (expected amqp://user:password@host:port/vhost or amqps://…)")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw invalid("is not a URL")
        }
        guard scheme == "amqp" || scheme == "amqps" else { throw invalid("the scheme must be amqp or amqps, not \(scheme)") }
        guard let host = components.host, !host.isEmpty else { throw invalid("names no host") }
        self.host = host
        let secure = scheme == "amqps"
        if let port = components.port {
            guard (1...65535).contains(port) else { throw invalid("the port must be 1–65535, not \(port)") }
            self.port = port
        } else {
            self.port = secure ? 5671 : 5672
        }
        self.user = components.user ?? "guest"
        self.password = components.password ?? "guest"
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            self.vhost = "/"
        } else {
            let encoded = path.dropFirst()
            guard !encoded.contains("/") else { throw invalid("the vhost must be one path segment (write %2F for a slash), not \(path)") }
            self.vhost = String(encoded).removingPercentEncoding ?? String(encoded)
        }
        var heartbeat = 30
        var timeoutMilliseconds = 5000
        var caFile: String?
        var certFile: String?
        var keyFile: String?
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "heartbeat":
                guard let seconds = Int(value), (0...65535).contains(seconds) else {
                    throw invalid("heartbeat must be 0–65535 seconds, not \(value)")
                }
                heartbeat = seconds
            case "connection_timeout":
                guard let milliseconds = Int(value), milliseconds > 0 else {
                    throw invalid("connection_timeout must be a positive number of milliseconds, not \(value)")
                }
                timeoutMilliseconds = milliseconds
            case "cacertfile", "certfile", "keyfile":
                guard secure else { throw invalid("\(item.name) needs an amqps:// URL") }
                guard !value.isEmpty else { throw invalid("\(item.name) is empty") }
                switch item.name {
                case "cacertfile": caFile = value
                case "certfile": certFile = value
                default: keyFile = value
                }
            default:
                throw invalid("unknown query option \(item.name) (known: heartbeat, connection_timeout, cacertfile, certfile, keyfile)")
            }
        }
        guard (certFile == nil) == (keyFile == nil) else { throw invalid("certfile and keyfile go together") }
        self.heartbeat = heartbeat
        self.connectionTimeout = .milliseconds(timeoutMilliseconds)
        self.tls = secure ? TLS(caCertificateFile: caFile ?? Self.systemCABundle, certificateFile: certFile, keyFile: keyFile) : nil
    }

    /// Checks the settings that are not in the URL; `AMQPTransport` calls it before connecting.
    func validate() throws {
        try ConfigurationError.require(!exchange.isEmpty && exchange.utf8.count <= 255, field: "exchange", "must be 1–255 bytes", got: exchange)
        try ConfigurationError.require(confirmTimeout > .zero, field: "confirmTimeout", "must be positive", got: confirmTimeout)
        try ConfigurationError.require(maxUnconfirmed >= 1, field: "maxUnconfirmed", "must be at least 1", got: maxUnconfirmed)
    }
}
