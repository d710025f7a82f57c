import Foundation
import InterchangeCore
import OpenAPIRuntime
import ServiceRuntime

/// The users API (openapi.yaml): validates what the generated decoder cannot (email shape, blank names), asks the
/// store, and answers in the document's shapes. Refusals are ``ProblemError``s naming the field.
struct UsersAPI: APIProtocol {
    let store: UsersStore

    static let maxNameLength = 200
    static let maxEmailLength = 254

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw ProblemError.invalidBody("must not be empty", field: "name") }
        // Counted as the document counts (Unicode code points, before trimming).
        guard body.name.unicodeScalars.count <= Self.maxNameLength else {
            throw ProblemError.invalidBody("must be at most \(Self.maxNameLength) characters", field: "name")
        }
        guard Self.isEmailAddress(body.email) else {
            throw ProblemError.invalidBody("'\(body.email.prefix(80))' is not an email address (local@domain.tld)", field: "email")
        }
        do {
            let user = try await store.createUser(name: name, email: body.email)
            return .created(.init(headers: .init(location: "/users/api/users/\(user.id)"), body: .json(Self.user(user))))
        } catch let error as UsersStoreError {
            throw Self.problem(error)
        }
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        .ok(.init(body: .json(try await store.users().map(Self.user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        guard let user = try await store.user(id: input.path.userId) else {
            throw Self.problem(.userNotFound(input.path.userId))
        }
        return .ok(.init(body: .json(Self.user(user))))
    }

    func createApiKey(_ input: Operations.CreateApiKey.Input) async throws -> Operations.CreateApiKey.Output {
        do {
            let (key, secret) = try await store.createAPIKey(userID: input.path.userId)
            return .created(.init(body: .json(.init(id: key.id, key: secret, prefix: key.prefix, createdAt: key.createdAt))))
        } catch let error as UsersStoreError {
            throw Self.problem(error)
        }
    }

    func listApiKeys(_ input: Operations.ListApiKeys.Input) async throws -> Operations.ListApiKeys.Output {
        do {
            let keys = try await store.apiKeys(userID: input.path.userId)
            return .ok(.init(body: .json(keys.map { .init(id: $0.id, prefix: $0.prefix, createdAt: $0.createdAt, revokedAt: $0.revokedAt) })))
        } catch let error as UsersStoreError {
            throw Self.problem(error)
        }
    }

    func revokeApiKey(_ input: Operations.RevokeApiKey.Input) async throws -> Operations.RevokeApiKey.Output {
        do {
            try await store.revokeAPIKey(userID: input.path.userId, keyID: input.path.keyId)
            return .noContent(.init())
        } catch let error as UsersStoreError {
            throw Self.problem(error)
        }
    }

    func verifyApiKey(_ input: Operations.VerifyApiKey.Input) async throws -> Operations.VerifyApiKey.Output {
        guard case .json(let body) = input.body else { throw ProblemError.invalidBody("must be application/json") }
        guard !body.key.isEmpty, body.key.unicodeScalars.count <= 200 else {
            throw ProblemError.invalidBody("must be 1 to 200 characters", field: "key")
        }
        guard let key = try await store.verify(secret: body.key) else {
            // Deliberately one answer for unknown, malformed and revoked keys: a caller learns nothing more.
            throw ProblemError(
                ProblemDetails(
                    status: 401,
                    title: "Unauthorized",
                    detail: "the API key is not valid (unknown or revoked)",
                    type: ProblemError.typeBase + "invalid-api-key",
                    extensions: ["field": .string("key")]
                )
            )
        }
        return .ok(.init(body: .json(.init(userId: key.userID, keyId: key.id))))
    }

    // MARK: Helpers

    /// One `@`, a non-empty local part, a domain with a dot that neither starts nor ends it, no spaces or controls.
    static func isEmailAddress(_ email: String) -> Bool {
        guard email.unicodeScalars.count <= maxEmailLength else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty else { return false }
        guard domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else { return false }
        return email.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
    }

    static func user(_ user: FulfillmentUser) -> Components.Schemas.User {
        .init(id: user.id, name: user.name, email: user.email, createdAt: user.createdAt)
    }

    static func problem(_ error: UsersStoreError) -> ProblemError {
        switch error {
        case .emailTaken:
            ProblemError(
                ProblemDetails(
                    status: 409,
                    title: "Conflict",
                    detail: "email: \(error)",
                    type: ProblemError.typeBase + "email-taken",
                    extensions: ["field": .string("email")]
                )
            )
        case .userNotFound(let id):
            ProblemError(
                ProblemDetails(
                    status: 404,
                    title: "Not Found",
                    detail: "no user \(id)",
                    type: ProblemError.typeBase + "not-found",
                    extensions: ["parameter": .string("userId")]
                )
            )
        case .keyNotFound:
            ProblemError(
                ProblemDetails(
                    status: 404,
                    title: "Not Found",
                    detail: "\(error)",
                    type: ProblemError.typeBase + "not-found",
                    extensions: ["parameter": .string("keyId")]
                )
            )
        }
    }
}
