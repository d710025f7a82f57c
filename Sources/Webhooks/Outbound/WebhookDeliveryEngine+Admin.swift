import Foundation
import InterchangeCore
import WebhooksSigning

/// What an admin operation refused.
public enum WebhookAdminError: Error, Hashable, CustomStringConvertible {
    case endpointNotFound(String)
    case deliveryNotFound(String)

    public var description: String {
        switch self {
        case .endpointNotFound(let id): "no webhook endpoint with id '\(id)'"
        case .deliveryNotFound(let id): "no webhook delivery with id '\(id)'"
        }
    }
}

extension WebhookDeliveryEngine {
    /// Registers an endpoint. Without a `secret`, one is generated in the scheme's format.
    ///
    /// - Throws: ``ConfigurationError`` naming `url` (malformed, or a forbidden target), `eventTypes`, `secret`
    ///   or `maxConcurrency`.
    public func createEndpoint(
        url: String,
        description: String = "",
        eventTypes: [String] = [],
        scheme: WebhookSignatureScheme = .standard,
        secret: String? = nil,
        maxConcurrency: Int? = nil
    ) async throws -> WebhookEndpoint {
        _ = try configuration.ssrfGuard.validate(url: url)
        for type in eventTypes { try Self.validate(eventType: type) }
        let secret = try secret.map { try Self.validated(secret: $0, scheme: scheme) } ?? Self.generateSecret(scheme: scheme)
        let concurrency = maxConcurrency ?? configuration.defaultEndpointConcurrency
        try ConfigurationError.require((1...100).contains(concurrency), field: "maxConcurrency", "must be between 1 and 100", got: concurrency)
        let timestamp = now()
        let endpoint = WebhookEndpoint(
            id: RandomIdentifier.make(prefix: "ep", length: 24),
            url: url,
            description: String(description.prefix(500)),
            eventTypes: eventTypes,
            scheme: scheme,
            secret: secret,
            previousSecret: nil,
            previousSecretExpiresAt: nil,
            enabled: true,
            disabledReason: nil,
            failingSince: nil,
            maxConcurrency: concurrency,
            createdAt: timestamp,
            updatedAt: timestamp
        )
        try await store.insert(endpoint)
        return endpoint
    }

    /// Changes an endpoint; `nil` leaves a field as it is. Re-enabling clears the disabled reason and the run of failures.
    public func updateEndpoint(
        id: String,
        url: String? = nil,
        description: String? = nil,
        eventTypes: [String]? = nil,
        enabled: Bool? = nil,
        maxConcurrency: Int? = nil
    ) async throws -> WebhookEndpoint {
        guard var endpoint = try await store.endpoint(id: id) else { throw WebhookAdminError.endpointNotFound(id) }
        if let url {
            _ = try configuration.ssrfGuard.validate(url: url)
            endpoint.url = url
        }
        if let description { endpoint.description = String(description.prefix(500)) }
        if let eventTypes {
            for type in eventTypes { try Self.validate(eventType: type) }
            endpoint.eventTypes = eventTypes
        }
        if let maxConcurrency {
            try ConfigurationError.require(
                (1...100).contains(maxConcurrency),
                field: "maxConcurrency",
                "must be between 1 and 100",
                got: maxConcurrency
            )
            endpoint.maxConcurrency = maxConcurrency
        }
        if let enabled {
            endpoint.enabled = enabled
            if enabled {
                endpoint.disabledReason = nil
                endpoint.failingSince = nil
            } else {
                endpoint.disabledReason = "disabled by an operator"
            }
        }
        endpoint.updatedAt = now()
        try await store.update(endpoint)
        return endpoint
    }

    /// Removes an endpoint; its pending deliveries end as failed, its log stays.
    public func deleteEndpoint(id: String) async throws {
        guard try await store.deleteEndpoint(id: id) else { throw WebhookAdminError.endpointNotFound(id) }
        forgetGuards(endpointID: id)
    }

    /// Replaces the endpoint's secret. The old one keeps signing (both signatures are sent) for `overlap`
    /// (default: the configured overlap), so the receiver can switch without dropping a delivery.
    public func rotateSecret(endpointID: String, newSecret: String? = nil, overlap: Duration? = nil) async throws -> WebhookEndpoint {
        guard var endpoint = try await store.endpoint(id: endpointID) else { throw WebhookAdminError.endpointNotFound(endpointID) }
        let secret = try newSecret.map { try Self.validated(secret: $0, scheme: endpoint.scheme) } ?? Self.generateSecret(scheme: endpoint.scheme)
        let timestamp = now()
        endpoint.previousSecret = endpoint.secret
        endpoint.previousSecretExpiresAt = timestamp.addingTimeInterval((overlap ?? configuration.secretRotationOverlap).inSeconds)
        endpoint.secret = secret
        endpoint.updatedAt = timestamp
        try await store.update(endpoint)
        return endpoint
    }

    /// Makes a failed (dead-lettered) delivery due again, for one more attempt.
    public func replay(deliveryID: String) async throws -> WebhookDelivery {
        guard try await store.delivery(id: deliveryID) != nil else { throw WebhookAdminError.deliveryNotFound(deliveryID) }
        _ = try await store.replay(deliveryIDs: [deliveryID], now: now())
        guard let delivery = try await store.delivery(id: deliveryID) else { throw WebhookAdminError.deliveryNotFound(deliveryID) }
        return delivery
    }

    /// Makes every delivery to `endpointID` that failed at or after `since` due again. Returns how many.
    public func replayFailed(endpointID: String, since: Date) async throws -> Int {
        guard try await store.endpoint(id: endpointID) != nil else { throw WebhookAdminError.endpointNotFound(endpointID) }
        return try await store.replay(endpointID: endpointID, failedSince: since, now: now())
    }

    static func generateSecret(scheme: WebhookSignatureScheme) -> String {
        switch scheme {
        case .standard: return WebhookSigner.generateStandardSecret()
        case .stripe:
            // Stripe's own shape: whsec_ and 32 letters and digits, used as-is as the HMAC key.
            return RandomIdentifier.make(prefix: "whsec", length: 32)
        }
    }

    static func validated(secret: String, scheme: WebhookSignatureScheme) throws -> String {
        switch scheme {
        case .standard:
            guard secret.hasPrefix("whsec_"), (try? WebhookSigner.standardKey(secret)) != nil else {
                throw ConfigurationError(field: "secret", reason: "a Standard Webhooks secret is 'whsec_' followed by base64")
            }
            let key = try WebhookSigner.standardKey(secret)
            try ConfigurationError.require(
                key.bitCount >= 128,
                field: "secret",
                "must hold at least 16 bytes of key",
                got: "\(key.bitCount / 8) bytes"
            )
        case .stripe:
            try ConfigurationError.require(secret.utf8.count >= 16, field: "secret", "must be at least 16 characters", got: "\(secret.utf8.count)")
        }
        return secret
    }
}

extension WebhookDeliveryEngine {
    /// Claims the due deliveries and does nothing with them: what a worker that crashes right after claiming
    /// leaves behind. For tests of lease expiry.
    package func claimForTesting() async throws -> Int {
        try await store.claimDue(limit: configuration.maxConcurrentDeliveries, lease: configuration.lease, now: now()).count
    }
}
