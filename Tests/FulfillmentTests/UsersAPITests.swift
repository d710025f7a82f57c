import Foundation
import FulfillmentUsers
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Logging
import Persistence
import SQLKit
import ServiceRuntime
import Testing

@Suite("Users service: users and API keys through the generated API", .timeLimit(.minutes(1)))
struct UsersAPITests {
    private func withUsers(_ kind: TestDatabase.Kind, _ body: @Sendable (any TestClientProtocol, UsersComponent) async throws -> Void) async throws {
        try await TestDatabase.with(kind) { database in
            let users = try await UsersComponent.make(database: database, logger: Logger(label: "test.users"), closesDatabase: false)
            let app = Application(router: try problemRouter(users.addRoutes))
            try await app.test(.router) { client in try await body(client, users) }
        }
    }

    @Test("a registered user is returned with its id, listed and fetched by id", arguments: TestDatabase.kinds)
    func registerGetList(kind: TestDatabase.Kind) async throws {
        try await withUsers(kind) { client, _ in
            let created = try await client.json(.post, "/users/api/users", #"{"name":"Ada Lovelace","email":"Ada@Example.com"}"#)
            #expect(created.status == .created)
            let user = try object(created.body)
            let id = try #require(user["id"] as? String)
            #expect(id.hasPrefix("usr_"))
            #expect(user["name"] as? String == "Ada Lovelace")
            #expect(user["email"] as? String == "ada@example.com")
            #expect(user["createdAt"] is String)

            let fetched = try await client.json(.get, "/users/api/users/\(id)")
            #expect(fetched.status == .ok)
            #expect(try object(fetched.body)["createdAt"] as? String == user["createdAt"] as? String)

            try await client.json(.post, "/users/api/users", #"{"name":"Grace","email":"grace@example.com"}"#)
            let list = try await client.json(.get, "/users/api/users")
            #expect(try objects(list.body).map { $0["name"] as? String } == ["Ada Lovelace", "Grace"])
        }
    }

    @Test("bad input is a problem naming the field: invalid email, empty name, missing field, taken email", arguments: TestDatabase.kinds)
    func badInputNamesTheField(kind: TestDatabase.Kind) async throws {
        try await withUsers(kind) { client, _ in
            let cases: [(body: String, status: Int, field: String)] = [
                (#"{"name":"Ada","email":"not-an-address"}"#, 400, "email"),
                (#"{"name":"Ada","email":"ada@localhost"}"#, 400, "email"),
                (#"{"name":"Ada","email":"a da@example.com"}"#, 400, "email"),
                (#"{"name":"   ","email":"ada@example.com"}"#, 400, "name"),
                (#"{"name":"","email":"ada@example.com"}"#, 400, "name"),
                (#"{"email":"ada@example.com"}"#, 400, "name"),
            ]
            for testCase in cases {
                let answer = try await client.json(.post, "/users/api/users", testCase.body)
                #expect(answer.status.code == testCase.status, "\(testCase.body)")
                #expect(answer.contentType == "application/problem+json", "\(testCase.body)")
                #expect(try object(answer.body)["field"] as? String == testCase.field, "\(testCase.body): \(String(describing: answer.body))")
            }
            #expect(try await client.json(.post, "/users/api/users", #"{"name":"Ada","email":"ada@example.com"}"#).status == .created)
            let taken = try await client.json(.post, "/users/api/users", #"{"name":"Ada 2","email":"ADA@example.com"}"#)
            #expect(taken.status == .conflict)
            #expect(try object(taken.body)["field"] as? String == "email")
            let list = try await client.json(.get, "/users/api/users")
            #expect(try objects(list.body).count == 1, "no refused request stored a user")
        }
    }

    @Test("an unknown user id is a 404 problem, for the user and for its keys", arguments: TestDatabase.kinds)
    func unknownUserIs404(kind: TestDatabase.Kind) async throws {
        try await withUsers(kind) { client, _ in
            for (method, uri) in [
                (HTTPRequest.Method.get, "/users/api/users/usr_missing"),
                (.post, "/users/api/users/usr_missing/api-keys"),
                (.get, "/users/api/users/usr_missing/api-keys"),
                (.delete, "/users/api/users/usr_missing/api-keys/key_missing"),
            ] {
                let answer = try await client.json(method, uri)
                #expect(answer.status == .notFound, "\(method) \(uri)")
                #expect(answer.contentType == "application/problem+json")
                #expect(try object(answer.body)["parameter"] as? String == "userId", "\(method) \(uri)")
            }
        }
    }

    @Test("an API key is shown once, stored only as its SHA-256, verifies to its user, and never again once revoked", arguments: TestDatabase.kinds)
    func apiKeyLifecycle(kind: TestDatabase.Kind) async throws {
        try await withUsers(kind) { client, users in
            let user = try object(try await client.json(.post, "/users/api/users", #"{"name":"Ada","email":"ada@example.com"}"#).body)
            let userID = try #require(user["id"] as? String)
            let created = try await client.json(.post, "/users/api/users/\(userID)/api-keys")
            #expect(created.status == .created)
            let key = try object(created.body)
            let secret = try #require(key["key"] as? String)
            let keyID = try #require(key["id"] as? String)
            let prefix = try #require(key["prefix"] as? String)
            #expect(secret.hasPrefix(prefix + "_") && secret.count == 3 + 8 + 1 + 64)

            // The database holds the hash, never the secret.
            let stored = try await users.store.database.withConnection { sql in
                try await sql.raw("SELECT key_hash FROM fulfillment_api_keys").all().map { try $0.decode(column: "key_hash", as: String.self) }
            }
            #expect(stored == [UsersStore.sha256Hex(secret)])
            #expect(!stored.contains(secret))

            let listed = try objects(try await client.json(.get, "/users/api/users/\(userID)/api-keys").body)
            #expect(listed.count == 1)
            #expect(listed[0]["key"] == nil && listed[0]["prefix"] as? String == prefix && listed[0]["revokedAt"] == nil)

            let verified = try await client.json(.post, "/users/api/api-keys/verify", #"{"key":"\#(secret)"}"#)
            #expect(verified.status == .ok)
            #expect(try object(verified.body)["userId"] as? String == userID)
            #expect(try object(verified.body)["keyId"] as? String == keyID)

            // A key that differs in its last character, an unknown prefix, garbage: all 401 problems.
            let tampered = String(secret.dropLast()) + (secret.last == "0" ? "1" : "0")
            for wrong in [tampered, "ik_00000000_" + String(repeating: "0", count: 64), "nonsense"] {
                let answer = try await client.json(.post, "/users/api/api-keys/verify", #"{"key":"\#(wrong)"}"#)
                #expect(answer.status == .unauthorized, "\(wrong)")
                #expect(answer.contentType == "application/problem+json")
            }

            #expect(try await client.json(.delete, "/users/api/users/\(userID)/api-keys/\(keyID)").status == .noContent)
            #expect(try await client.json(.delete, "/users/api/users/\(userID)/api-keys/\(keyID)").status == .noContent)
            #expect(try await client.json(.post, "/users/api/api-keys/verify", #"{"key":"\#(secret)"}"#).status == .unauthorized)
            let afterRevocation = try objects(try await client.json(.get, "/users/api/users/\(userID)/api-keys").body)
            #expect(afterRevocation.first?["revokedAt"] is String)
            let unknownKey = try await client.json(.delete, "/users/api/users/\(userID)/api-keys/key_missing")
            #expect(unknownKey.status == .notFound)
            #expect(try object(unknownKey.body)["parameter"] as? String == "keyId")
        }
    }

    @Test("verify without a key names the field")
    func verifyWithoutKey() async throws {
        try await withUsers(.sqlite) { client, _ in
            let answer = try await client.json(.post, "/users/api/api-keys/verify", #"{"key":""}"#)
            #expect(answer.status == .badRequest)
            #expect(try object(answer.body)["field"] as? String == "key")
            let missing = try await client.json(.post, "/users/api/api-keys/verify", #"{}"#)
            #expect(missing.status == .badRequest)
            #expect(try object(missing.body)["field"] as? String == "key")
        }
    }

    @Test("the service serves its OpenAPI document at /users/api/openapi.yaml")
    func servesItsDocument() async throws {
        try await withUsers(.sqlite) { client, _ in
            try await client.execute(uri: "/users/api/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("/users/api/api-keys/verify"))
                #expect(text.hasPrefix("openapi: 3.1.0"))
            }
        }
    }

    @Test("the constant-time comparison compares every byte")
    func constantTimeCompare() {
        #expect(UsersStore.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!UsersStore.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!UsersStore.constantTimeEquals([9, 2, 3], [1, 2, 3]))
        #expect(!UsersStore.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
