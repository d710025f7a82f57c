import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import ServiceRuntime
import Testing
import Webhooks
import WebhooksAdmin

@Suite("Webhooks admin API")
struct AdminAPITests {
    let token = "ixa_test_token"

    func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, WebhookDeliveryEngine, ScriptedHTTPServer) async throws -> Void) async throws {
        try await ScriptedHTTPServer.withServer { server in
            try await TestDatabase.with(.sqlite) { database in
                let clock = ManualClock()
                var configuration = WebhookDeliveryEngine.Configuration()
                configuration.ssrfGuard = SSRFGuard(allowPrivateNetworks: true)
                let engine = try WebhookDeliveryEngine(
                    database: database,
                    configuration: configuration,
                    tracer: nil,
                    clock: clock,
                    now: clock.dateProvider
                )
                try await engine.prepare()
                let router = Router()
                router.add(middleware: ProblemMiddleware())
                try WebhooksComponent(engine: engine, adminToken: token).addRoutes(to: router)
                do {
                    try await Application(router: router).test(.router) { client in try await body(client, engine, server) }
                    try await engine.shutdown()
                } catch {
                    try? await engine.shutdown()
                    throw error
                }
            }
        }
    }

    var auth: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
    }

    @Test("every operation needs the admin token")
    func requiresToken() async throws {
        try await withAPI { client, _, _ in
            let anonymous = try await client.execute(uri: "/admin/webhooks/endpoints", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(anonymous.headers[.contentType] == "application/problem+json")
            let wrong = try await client.execute(uri: "/admin/webhooks/endpoints", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let right = try await client.execute(uri: "/admin/webhooks/endpoints", method: .get, headers: auth)
            #expect(right.status == .ok)
        }
    }

    @Test("create, publish, deliver, inspect, replay")
    func lifecycle() async throws {
        try await withAPI { client, engine, server in
            server.enqueue("/hooks", .status(500), .status(200))
            let create = try await client.execute(
                uri: "/admin/webhooks/endpoints",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"url":"\#(server.baseURL)/hooks","eventTypes":["order.*"],"maxConcurrency":2}"#)
            )
            #expect(create.status == .created)
            let created = try json(create)
            let secret = try #require(created["secret"] as? String)
            #expect(secret.hasPrefix("whsec_"))
            let endpointID = try #require((created["endpoint"] as? [String: Any])?["id"] as? String)
            let read = try await client.execute(uri: "/admin/webhooks/endpoints/\(endpointID)", method: .get, headers: auth)
            #expect(!String(buffer: read.body).contains(secret))  // the secret is shown on creation and rotation only

            let publish = try await client.execute(
                uri: "/admin/webhooks/messages",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"eventType":"order.created","payload":{"orderId":"o_1","total":42}}"#)
            )
            #expect(publish.status == .accepted)
            let deliveryID = try #require((try json(publish)["deliveryIds"] as? [String])?.first)
            await engine.processDue()

            let shown = try json(try await client.execute(uri: "/admin/webhooks/deliveries/\(deliveryID)", method: .get, headers: auth))
            #expect((shown["attempts"] as? [[String: Any]])?.first?["statusCode"] as? Int == 500)
            #expect((shown["delivery"] as? [String: Any])?["status"] as? String == "pending")
            #expect(server.requests(to: "/hooks").first?.body == #"{"orderId":"o_1","total":42}"#)

            let list = try json(
                try await client.execute(uri: "/admin/webhooks/deliveries?endpointId=\(endpointID)&status=pending", method: .get, headers: auth)
            )
            #expect((list["deliveries"] as? [[String: Any]])?.count == 1)

            let rotated = try json(
                try await client.execute(
                    uri: "/admin/webhooks/endpoints/\(endpointID)/rotate-secret",
                    method: .post,
                    headers: auth,
                    body: ByteBuffer(string: "{}")
                )
            )
            #expect((rotated["secret"] as? String) != secret)

            let test = try await client.execute(uri: "/admin/webhooks/endpoints/\(endpointID)/test", method: .post, headers: auth)
            #expect(test.status == .accepted)
        }
    }

    @Test("bad input: 422 naming the field, 404 for unknown ids, 400 for malformed JSON")
    func badInput() async throws {
        try await withAPI { client, _, _ in
            let badURL = try await client.execute(
                uri: "/admin/webhooks/endpoints",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"url":"ftp://example.com"}"#)
            )
            #expect(badURL.status == .unprocessableContent)
            #expect(badURL.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            #expect(try json(badURL)["field"] as? String == "url")
            let badType = try await client.execute(
                uri: "/admin/webhooks/messages",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"eventType":"bad type!","payload":{}}"#)
            )
            #expect(badType.status == .badRequest || badType.status == .unprocessableContent)
            let missing = try await client.execute(uri: "/admin/webhooks/endpoints/ep_doesNotExist", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["detail"] as? String == "no webhook endpoint with id 'ep_doesNotExist'")
            let malformed = try await client.execute(
                uri: "/admin/webhooks/endpoints",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"url":"#)
            )
            #expect(malformed.status == .badRequest)
            #expect(malformed.headers[.contentType] == "application/problem+json")
            let badID = try await client.execute(uri: "/admin/webhooks/deliveries/not-an-id", method: .get, headers: auth)
            #expect(badID.status == .badRequest || badID.status == .notFound)
        }
    }
}

@Suite("Webhooks component settings")
struct WebhooksComponentSettingsTests {
    func withDataDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    @Test("without a configured key, one is generated into the data directory (0600) and reused on restart")
    func generatedKey() throws {
        try withDataDirectory { directory in
            let first = try WebhooksComponent.secretSealer(configured: nil, dataDirectory: directory)
            let path = directory + "/webhook-secrets.key"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let key = try String(contentsOfFile: path, encoding: .utf8)
            #expect(Data(base64Encoded: key)?.count == 32)
            let again = try WebhooksComponent.secretSealer(configured: nil, dataDirectory: directory)
            #expect(first.seals && again.seals)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == key)  // not regenerated
        }
    }

    @Test("a configured key is used as given; a malformed one names webhooks.secretKey")
    func configuredKey() throws {
        try withDataDirectory { directory in
            _ = try WebhooksComponent.secretSealer(configured: SecretSealer.generateKey(), dataDirectory: directory)
            #expect(!FileManager.default.fileExists(atPath: directory + "/webhook-secrets.key"))
            #expect {
                try WebhooksComponent.secretSealer(configured: "too-short", dataDirectory: directory)
            } throws: { error in
                "\(error)".contains("webhooks.secretKey")
            }
        }
    }
}
