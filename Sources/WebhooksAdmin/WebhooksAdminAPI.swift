import Foundation
import InterchangeCore
import OpenAPIRuntime
import Webhooks

/// The webhooks admin API (openapi/webhooks-admin.yaml), implemented over ``WebhookDeliveryEngine``.
///
/// The handlers only translate: requests into engine calls, engine values into the contract's shapes, and domain
/// errors into problem responses (`404` for an unknown id, `422` naming the field for invalid input).
struct WebhooksAdminAPI: APIProtocol {
    let engine: WebhookDeliveryEngine

    func listEndpoints(_ input: Operations.ListEndpoints.Input) async throws -> Operations.ListEndpoints.Output {
        do {
            return .ok(.init(body: .json(.init(endpoints: try await engine.store.endpoints().map(Self.endpoint)))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func createEndpoint(_ input: Operations.CreateEndpoint.Input) async throws -> Operations.CreateEndpoint.Output {
        do {
            guard case .json(let body) = input.body else { throw ConfigurationError(field: "body", reason: "must be JSON") }
            let endpoint = try await engine.createEndpoint(
                url: body.url,
                description: body.description ?? "",
                eventTypes: body.eventTypes ?? [],
                scheme: body.scheme.map { WebhookSignatureScheme(rawValue: $0.rawValue) ?? .standard } ?? .standard,
                secret: body.secret,
                maxConcurrency: body.maxConcurrency
            )
            return .created(.init(body: .json(.init(endpoint: Self.endpoint(endpoint), secret: endpoint.secret))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func getEndpoint(_ input: Operations.GetEndpoint.Input) async throws -> Operations.GetEndpoint.Output {
        do {
            guard let endpoint = try await engine.store.endpoint(id: input.path.endpointId) else {
                throw WebhookAdminError.endpointNotFound(input.path.endpointId)
            }
            return .ok(.init(body: .json(Self.endpoint(endpoint))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func updateEndpoint(_ input: Operations.UpdateEndpoint.Input) async throws -> Operations.UpdateEndpoint.Output {
        do {
            guard case .json(let body) = input.body else { throw ConfigurationError(field: "body", reason: "must be JSON") }
            let endpoint = try await engine.updateEndpoint(
                id: input.path.endpointId,
                url: body.url,
                description: body.description,
                eventTypes: body.eventTypes,
                enabled: body.enabled,
                maxConcurrency: body.maxConcurrency
            )
            return .ok(.init(body: .json(Self.endpoint(endpoint))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func deleteEndpoint(_ input: Operations.DeleteEndpoint.Input) async throws -> Operations.DeleteEndpoint.Output {
        do {
            try await engine.deleteEndpoint(id: input.path.endpointId)
            return .noContent(.init())
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func rotateSecret(_ input: Operations.RotateSecret.Input) async throws -> Operations.RotateSecret.Output {
        do {
            var secret: String?
            var overlap: Duration?
            if case .json(let body) = input.body {
                secret = body.secret
                overlap = body.overlapSeconds.map { .seconds($0) }
            }
            let endpoint = try await engine.rotateSecret(endpointID: input.path.endpointId, newSecret: secret, overlap: overlap)
            return .ok(.init(body: .json(.init(endpoint: Self.endpoint(endpoint), secret: endpoint.secret))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func sendTestEvent(_ input: Operations.SendTestEvent.Input) async throws -> Operations.SendTestEvent.Output {
        do {
            return .accepted(.init(body: .json(Self.delivery(try await engine.sendTestEvent(to: input.path.endpointId)))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func replayFailed(_ input: Operations.ReplayFailed.Input) async throws -> Operations.ReplayFailed.Output {
        do {
            guard case .json(let body) = input.body else { throw ConfigurationError(field: "body", reason: "must be JSON") }
            let count = try await engine.replayFailed(endpointID: input.path.endpointId, since: body.since)
            return .ok(.init(body: .json(.init(replayed: count))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func publishMessage(_ input: Operations.PublishMessage.Input) async throws -> Operations.PublishMessage.Output {
        do {
            guard case .json(let body) = input.body else { throw ConfigurationError(field: "body", reason: "must be JSON") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let payload = try encoder.encode(body.payload)
            let publication = try await engine.publish(eventType: body.eventType, payload: payload, messageID: body.id)
            return .accepted(.init(body: .json(.init(messageId: publication.messageID, deliveryIds: publication.deliveryIDs))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func listDeliveries(_ input: Operations.ListDeliveries.Input) async throws -> Operations.ListDeliveries.Output {
        do {
            let limit = input.query.limit ?? 50
            guard (1...200).contains(limit) else { throw ConfigurationError(field: "limit", reason: "must be between 1 and 200 (got \(limit))") }
            let deliveries = try await engine.store.deliveries(
                endpointID: input.query.endpointId,
                status: input.query.status.flatMap { WebhookDelivery.Status(rawValue: $0.rawValue) },
                before: input.query.before,
                limit: limit
            )
            let next = deliveries.count == limit ? deliveries.last?.createdAt : nil
            return .ok(.init(body: .json(.init(deliveries: deliveries.map(Self.delivery), nextBefore: next))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func getDelivery(_ input: Operations.GetDelivery.Input) async throws -> Operations.GetDelivery.Output {
        do {
            guard let delivery = try await engine.store.delivery(id: input.path.deliveryId) else {
                throw WebhookAdminError.deliveryNotFound(input.path.deliveryId)
            }
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
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    func replayDelivery(_ input: Operations.ReplayDelivery.Input) async throws -> Operations.ReplayDelivery.Output {
        do {
            return .accepted(.init(body: .json(Self.delivery(try await engine.replay(deliveryID: input.path.deliveryId)))))
        } catch {
            return .default(statusCode: Self.status(error), try Self.problem(error))
        }
    }

    // MARK: Translation

    static func endpoint(_ endpoint: WebhookEndpoint) -> Components.Schemas.Endpoint {
        Components.Schemas.Endpoint(
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            eventTypes: endpoint.eventTypes,
            scheme: Components.Schemas.Scheme(rawValue: endpoint.scheme.rawValue) ?? .standard,
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
            status: Components.Schemas.DeliveryStatus(rawValue: delivery.status.rawValue) ?? .failed,
            attempts: delivery.attempts,
            maxAttempts: delivery.maxAttempts,
            nextAttemptAt: delivery.nextAttemptAt,
            lastStatusCode: delivery.lastStatusCode,
            lastError: delivery.lastError,
            createdAt: delivery.createdAt,
            updatedAt: delivery.updatedAt
        )
    }

    static func status(_ error: any Error) -> Int {
        switch error {
        case is WebhookAdminError: 404
        case is ConfigurationError: 422
        default: 500
        }
    }

    /// The problem for a domain error; anything unexpected is rethrown, for the server's 500 handling.
    static func problem(_ error: any Error) throws -> Components.Responses.Problem {
        let base = "https://interchange.dev/problems/"
        switch error {
        case let notFound as WebhookAdminError:
            return .init(
                body: .applicationProblemJson(.init(_type: base + "not-found", title: "Not Found", status: 404, detail: notFound.description))
            )
        case let invalid as ConfigurationError:
            return .init(
                body: .applicationProblemJson(
                    .init(_type: base + "invalid-field", title: "Invalid field", status: 422, detail: invalid.description, field: invalid.field)
                )
            )
        default:
            throw error
        }
    }
}
