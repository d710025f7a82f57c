import Foundation
import WebhooksSigning

/// Where webhooks are sent: a URL, the event types it wants, and the secret its payloads are signed with.
public struct WebhookEndpoint: Sendable, Hashable, Codable {
    public var id: String
    public var url: String
    public var description: String
    /// Event types delivered here: exact (`order.created`) or a prefix wildcard (`order.*`); empty means all.
    public var eventTypes: [String]
    public var scheme: WebhookSignatureScheme
    public var secret: String
    /// The secret before the last rotation, still signing until ``previousSecretExpiresAt``.
    public var previousSecret: String?
    public var previousSecretExpiresAt: Date?
    public var enabled: Bool
    public var disabledReason: String?
    /// When the current run of failures began (nil while deliveries succeed).
    public var failingSince: Date?
    /// Deliveries in flight to this endpoint at once.
    public var maxConcurrency: Int
    public var createdAt: Date
    public var updatedAt: Date

    /// Whether an event of `type` goes to this endpoint.
    public func accepts(_ type: String) -> Bool {
        eventTypes.isEmpty
            || eventTypes.contains { filter in
                filter == "*" || filter == type || (filter.hasSuffix(".*") && type.hasPrefix(String(filter.dropLast())))
            }
    }

    /// The secrets to sign with now: the current one, plus the previous one during the rotation overlap.
    public func signingSecrets(at now: Date) -> [String] {
        if let previousSecret, let expiry = previousSecretExpiresAt, now < expiry {
            return [secret, previousSecret]
        }
        return [secret]
    }
}

/// One event to be delivered to every endpoint that wants it.
public struct WebhookMessage: Sendable, Hashable, Codable {
    public var id: String
    public var eventType: String
    public var payload: Data
    public var createdAt: Date
}

/// One message on its way to one endpoint.
public struct WebhookDelivery: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// Waiting for its next attempt.
        case pending
        /// The endpoint answered 2xx.
        case succeeded
        /// Dead-lettered: attempts ran out, the endpoint was disabled, or the target is forbidden. Replayable.
        case failed
    }

    public var id: String
    public var messageID: String
    public var endpointID: String
    public var eventType: String
    public var status: Status
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptAt: Date?
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// One HTTP attempt of a delivery, as logged.
public struct WebhookAttempt: Sendable, Hashable, Codable {
    public var deliveryID: String
    public var attempt: Int
    public var startedAt: Date
    public var durationMilliseconds: Int
    public var statusCode: Int?
    /// The first 1 KiB of the endpoint's answer.
    public var responseExcerpt: String?
    public var error: String?
}
