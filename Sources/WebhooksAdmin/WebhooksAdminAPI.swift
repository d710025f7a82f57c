import Foundation
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime
import WebhooksOutbound
import WebhooksSigning

/// The webhooks admin API (openapi/webhooks-admin.yaml), implemented over ``WebhookDeliveryEngine``.
///
/// The handlers only translate: requests into engine calls, engine values into the contract's shapes, and domain
/// errors into problem responses. A request that breaks the document is a `400` naming the field or parameter
/// (``AdminRequestRules`` checks what the generated decoder does not: patterns, lengths, ranges); an unknown id is
/// a `404`; a value the document allows but the engine refuses (a private target, a payload over its limit) is a
/// `422` naming the field. Errors are thrown as ``ProblemError`` and rendered by ``ProblemMiddleware``.
struct WebhooksAdminAPI: APIProtocol {
    let engine: WebhookDeliveryEngine

    func listEndpoints(_ input: Operations.ListEndpoints.Input) async throws -> Operations.ListEndpoints.Output {
        try await answering { .ok(.init(body: .json(.init(endpoints: try await engine.store.endpoints().map(Self.endpoint))))) }
    }

    func createEndpoint(_ input: Operations.CreateEndpoint.Input) async throws -> Operations.CreateEndpoint.Output {
        try await answering {
            guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be JSON") }
            try AdminRequestRules.check(url: body.url)
            try AdminRequestRules.check(description: body.description)
            try AdminRequestRules.check(eventTypes: body.eventTypes)
            try AdminRequestRules.check(secret: body.secret)
            try AdminRequestRules.check(maxConcurrency: body.maxConcurrency)
            let endpoint = try await engine.createEndpoint(
                url: body.url,
                description: body.description ?? "",
                eventTypes: body.eventTypes ?? [],
                scheme: body.scheme.map(Self.scheme) ?? .standard,
                secret: body.secret,
                maxConcurrency: body.maxConcurrency
            )
            return .created(.init(body: .json(.init(endpoint: Self.endpoint(endpoint), secret: endpoint.secret))))
        }
    }

    func getEndpoint(_ input: Operations.GetEndpoint.Input) async throws -> Operations.GetEndpoint.Output {
        try await answering {
            let id = try AdminRequestRules.endpointID(input.path.endpointId)
            guard let endpoint = try await engine.store.endpoint(id: id) else { throw WebhookAdminError.endpointNotFound(id) }
            return .ok(.init(body: .json(Self.endpoint(endpoint))))
        }
    }

    func updateEndpoint(_ input: Operations.UpdateEndpoint.Input) async throws -> Operations.UpdateEndpoint.Output {
        try await answering {
            let id = try AdminRequestRules.endpointID(input.path.endpointId)
            guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be JSON") }
            if let url = body.url { try AdminRequestRules.check(url: url) }
            try AdminRequestRules.check(description: body.description)
            try AdminRequestRules.check(eventTypes: body.eventTypes)
            try AdminRequestRules.check(maxConcurrency: body.maxConcurrency)
            let endpoint = try await engine.updateEndpoint(
                id: id,
                url: body.url,
                description: body.description,
                eventTypes: body.eventTypes,
                enabled: body.enabled,
                maxConcurrency: body.maxConcurrency
            )
            return .ok(.init(body: .json(Self.endpoint(endpoint))))
        }
    }

    func deleteEndpoint(_ input: Operations.DeleteEndpoint.Input) async throws -> Operations.DeleteEndpoint.Output {
        try await answering {
            try await engine.deleteEndpoint(id: try AdminRequestRules.endpointID(input.path.endpointId))
            return .noContent(.init())
        }
    }

    func rotateSecret(_ input: Operations.RotateSecret.Input) async throws -> Operations.RotateSecret.Output {
        try await answering {
            let id = try AdminRequestRules.endpointID(input.path.endpointId)
            var secret: String?
            var overlap: Duration?
            if case .json(let body) = input.body {
                try AdminRequestRules.check(secret: body.secret)
                try AdminRequestRules.check(overlapSeconds: body.overlapSeconds)
                secret = body.secret
                overlap = body.overlapSeconds.map { .seconds($0) }
            }
            let endpoint = try await engine.rotateSecret(endpointID: id, newSecret: secret, overlap: overlap)
            return .ok(.init(body: .json(.init(endpoint: Self.endpoint(endpoint), secret: endpoint.secret))))
        }
    }

    func sendTestEvent(_ input: Operations.SendTestEvent.Input) async throws -> Operations.SendTestEvent.Output {
        try await answering {
            let id = try AdminRequestRules.endpointID(input.path.endpointId)
            return .accepted(.init(body: .json(Self.delivery(try await engine.sendTestEvent(to: id)))))
        }
    }

    func replayFailed(_ input: Operations.ReplayFailed.Input) async throws -> Operations.ReplayFailed.Output {
        try await answering {
            let id = try AdminRequestRules.endpointID(input.path.endpointId)
            guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be JSON") }
            let count = try await engine.replayFailed(endpointID: id, since: body.since)
            return .ok(.init(body: .json(.init(replayed: count))))
        }
    }

    func publishMessage(_ input: Operations.PublishMessage.Input) async throws -> Operations.PublishMessage.Output {
        try await answering {
            guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be JSON") }
            try AdminRequestRules.check(messageID: body.id)
            try AdminRequestRules.check(eventType: body.eventType)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let payload = try encoder.encode(body.payload)
            let publication = try await engine.publish(eventType: body.eventType, payload: payload, messageID: body.id)
            return .accepted(.init(body: .json(.init(messageId: publication.messageID, deliveryIds: publication.deliveryIDs))))
        }
    }

    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        try await answering {
            let limit = input.query.limit ?? 50
            guard (1...200).contains(limit) else { throw ProblemError.invalidParameter("limit", "must be between 1 and 200 (got \(limit))") }
            let deliveries = try await engine.store.deliveries(
                endpointID: input.query.endpointId,
                status: input.query.status.map { status -> WebhookDelivery.Status in
                    switch status {
                    case .pending: .pending
                    case .succeeded: .succeeded
                    case .failed: .failed
                    }
                },
                before: input.query.before,
                limit: limit
            )
            let next = deliveries.count == limit ? deliveries.last?.createdAt : nil
            return .ok(.init(body: .json(.init(deliveries: deliveries.map(Self.delivery), nextBefore: next))))
        }
    }

    func getDelivery(_ input: Operations.GetDelivery.Input) async throws -> Operations.GetDelivery.Output {
        try await answering {
            let id = try AdminRequestRules.deliveryID(input.path.deliveryId)
            guard let delivery = try await engine.store.delivery(id: id) else { throw WebhookAdminError.deliveryNotFound(id) }
            let attempts = try await engine.store.attempts(deliveryID: delivery.id).map { attempt in
                Components.Schemas.Attempt(
                    attempt: attempt.attempt,
                    startedAt: attempt.startedAt,
                    durationMilliseconds: attempt.durationMilliseconds,
                    statusCode: attempt.statusCode,
                    responseExcerpt: attempt.responseExcerpt,
                    error: attempt.error
                )
            }
            return .ok(.init(body: .json(.init(delivery: Self.delivery(delivery), attempts: attempts))))
        }
    }

    func replayDelivery(_ input: Operations.ReplayDelivery.Input) async throws -> Operations.ReplayDelivery.Output {
        try await answering {
            let id = try AdminRequestRules.deliveryID(input.path.deliveryId)
            return .accepted(.init(body: .json(Self.delivery(try await engine.replay(deliveryID: id)))))
        }
    }

    /// Runs a handler body, turning domain errors into the contract's problems: an unknown id is a `404`, a value
    /// the engine refuses is a `422` naming the field; anything unexpected is rethrown, for the server's 500.
    private func answering<Output>(_ body: () async throws -> Output) async throws -> Output {
        do {
            return try await body()
        } catch let notFound as WebhookAdminError {
            throw ProblemError.notFound(notFound.description)
        } catch let invalid as ConfigurationError {
            throw ProblemError(
                ProblemDetails(
                    status: 422,
                    title: "Invalid field",
                    detail: invalid.description,
                    type: ProblemError.typeBase + "invalid-field",
                    extensions: ["field": .string(invalid.field)]
                )
            )
        }
    }

    // MARK: Translation (exhaustive: a new case in the domain fails to compile here rather than mapping silently)

    static func scheme(_ scheme: WebhookSignatureScheme) -> Components.Schemas.Scheme {
        switch scheme {
        case .standard: .standard
        case .stripe: .stripe
        }
    }

    static func scheme(_ scheme: Components.Schemas.Scheme) -> WebhookSignatureScheme {
        switch scheme {
        case .standard: .standard
        case .stripe: .stripe
        }
    }

    static func status(_ status: WebhookDelivery.Status) -> Components.Schemas.DeliveryStatus {
        switch status {
        case .pending: .pending
        case .succeeded: .succeeded
        case .failed: .failed
        }
    }

    static func endpoint(_ endpoint: WebhookEndpoint) -> Components.Schemas.Endpoint {
        Components.Schemas.Endpoint(
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            eventTypes: endpoint.eventTypes,
            scheme: scheme(endpoint.scheme),
            enabled: endpoint.enabled,
            disabledReason: endpoint.disabledReason,
            failingSince: endpoint.failingSince,
            previousSecretExpiresAt: endpoint.previousSecretExpiresAt,
            maxConcurrency: endpoint.maxConcurrency,
            createdAt: endpoint.createdAt,
            updatedAt: endpoint.updatedAt
        )
    }

    static func delivery(_ delivery: WebhookDelivery) -> Components.Schemas.Delivery {
        Components.Schemas.Delivery(
            id: delivery.id,
            messageId: delivery.messageID,
            endpointId: delivery.endpointID,
            eventType: delivery.eventType,
            status: status(delivery.status),
            attempts: delivery.attempts,
            maxAttempts: delivery.maxAttempts,
            nextAttemptAt: delivery.nextAttemptAt,
            lastStatusCode: delivery.lastStatusCode,
            lastError: delivery.lastError,
            createdAt: delivery.createdAt,
            updatedAt: delivery.updatedAt
        )
    }
}
