import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import ServiceRuntime
import Testing
import WebhooksInbound
import WebhooksOutbound
import WebhooksSigning

@testable import WebhooksAdmin

@Suite("Webhooks admin API", .timeLimit(.minutes(1)))
struct AdminAPITests {
    let token = "ixa_test_token"

    /// The admin API over a real engine on SQLite, delivering to a scripted receiver; `schedule` is the engine's
    /// retry schedule (one entry: a single attempt, so one failure dead-letters the delivery).
    func withAPI(
        schedule: [Duration] = WebhookDeliveryEngine.Configuration.svixSchedule,
        allowPrivateTargets: Bool = true,
        _ body: @escaping @Sendable (any TestClientProtocol, WebhookDeliveryEngine, ScriptedHTTPServer) async throws -> Void
    ) async throws {
        try await ScriptedHTTPServer.withServer { server in
            try await TestDatabase.with(.sqlite) { database in
                let clock = ManualClock()
                var configuration = WebhookDeliveryEngine.Configuration(schedule: schedule)
                configuration.ssrfGuard = SSRFGuard(allowPrivateNetworks: allowPrivateTargets)
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

    /// The response's JSON object; anything else fails the test, naming the body.
    func json(_ response: TestResponse) throws -> [String: Any] {
        let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body))
        return try #require(object as? [String: Any], "not a JSON object: \(String(buffer: response.body).prefix(300))")
    }

    /// Every operation in the document the component serves, read from its `paths` block (method and path, with
    /// ids in the documented shape), so an operation added to the contract is covered without editing this list.
    static func documentedOperations() throws -> [(method: HTTPRequest.Method, path: String)] {
        let text = String(buffer: try WebhooksComponent.openAPIDocument().contents)
        let methods: Set<String> = ["get", "put", "post", "patch", "delete"]
        var operations: [(method: HTTPRequest.Method, path: String)] = []
        var current: String?
        for line in text.split(separator: "\n") {
            if !line.hasPrefix(" ") {
                current = line == "paths:" ? "" : nil
            } else if current != nil, line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if let path = current, !path.isEmpty, line.hasPrefix("    "), !line.hasPrefix("     "),
                let key = line.split(separator: ":").first.map({ $0.trimmingCharacters(in: .whitespaces) }), methods.contains(key),
                let method = HTTPRequest.Method(key.uppercased())
            {
                let concrete = path.replacingOccurrences(of: "{endpointId}", with: "ep_a1").replacingOccurrences(of: "{deliveryId}", with: "dlv_a1")
                operations.append((method, "/admin/webhooks" + concrete))
            }
        }
        return operations
    }

    @Test("every operation needs the admin token: without it, or with a wrong one, each is 401 problem+json")
    func requiresToken() async throws {
        let operations = try Self.documentedOperations()
        let documented = Set(operations.map { "\($0.method.rawValue) \($0.path)" })
        // The parse found the operations the contract has today (and any added later).
        #expect(
            documented.isSuperset(of: [
                "GET /admin/webhooks/endpoints", "POST /admin/webhooks/endpoints", "GET /admin/webhooks/endpoints/ep_a1",
                "PATCH /admin/webhooks/endpoints/ep_a1", "DELETE /admin/webhooks/endpoints/ep_a1",
                "POST /admin/webhooks/endpoints/ep_a1/rotate-secret", "POST /admin/webhooks/endpoints/ep_a1/test",
                "POST /admin/webhooks/endpoints/ep_a1/replay", "POST /admin/webhooks/messages", "GET /admin/webhooks/deliveries",
                "GET /admin/webhooks/deliveries/dlv_a1", "POST /admin/webhooks/deliveries/dlv_a1/replay",
            ])
        )
        try await withAPI { client, _, _ in
            for (method, path) in operations {
                let body =
                    method == .post || method == .patch
                    ? ByteBuffer(string: #"{"url":"https://example.com/hooks","since":"2026-01-01T00:00:00Z"}"#) : nil
                for authorization in [nil, "Bearer nope", "Basic \(Data("admin:\(token)".utf8).base64EncodedString())", token] {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    headers[.authorization] = authorization
                    let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
                    let label = "\(method) \(path) with Authorization \(authorization.map { "'\($0.prefix(6))…'" } ?? "absent")"
                    #expect(response.status == .unauthorized, "\(label)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(label)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(label)")
                    #expect(try json(response)["status"] as? Int == 401, "\(label)")
                }
            }
            let right = try await client.execute(uri: "/admin/webhooks/endpoints", method: .get, headers: auth)
            #expect(right.status == .ok)
        }
    }

    @Test("replaying a failed delivery makes it due again, and the engine re-attempts it to success")
    func replayDelivery() async throws {
        try await withAPI(schedule: [.zero]) { client, engine, server in
            server.enqueue("/hooks", .status(500), .status(200))
            let endpointID = try await createEndpoint(client, url: "\(server.baseURL)/hooks")
            let deliveryID = try await publish(client)
            #expect(await engine.processDue() == 1)
            let failed = try json(try await client.execute(uri: "/admin/webhooks/deliveries/\(deliveryID)", method: .get, headers: auth))
            #expect((failed["delivery"] as? [String: Any])?["status"] as? String == "failed")
            #expect(await engine.processDue() == 0)  // dead-lettered: nothing more happens by itself

            let replay = try await client.execute(uri: "/admin/webhooks/deliveries/\(deliveryID)/replay", method: .post, headers: auth)
            #expect(replay.status == .accepted)
            #expect(try json(replay)["status"] as? String == "pending")
            #expect(try json(replay)["endpointId"] as? String == endpointID)
            #expect(await engine.processDue() == 1)

            #expect(server.requests(to: "/hooks").count == 2)
            #expect(server.requests(to: "/hooks").map(\.body) == Array(repeating: #"{"orderId":"o_1"}"#, count: 2))
            let shown = try json(try await client.execute(uri: "/admin/webhooks/deliveries/\(deliveryID)", method: .get, headers: auth))
            #expect((shown["delivery"] as? [String: Any])?["status"] as? String == "succeeded")
            #expect((shown["attempts"] as? [[String: Any]])?.compactMap { $0["statusCode"] as? Int } == [500, 200])
        }
    }

    @Test("replaying an endpoint's failures since a time re-attempts every one failed since then, and none before")
    func replayFailedSince() async throws {
        try await withAPI(schedule: [.zero]) { client, engine, server in
            server.enqueue("/hooks", .status(503), .status(503), .status(200))
            let endpointID = try await createEndpoint(client, url: "\(server.baseURL)/hooks")
            let first = try await publish(client, orderID: "o_1")
            let second = try await publish(client, orderID: "o_2")
            #expect(await engine.processDue() == 2)

            let none = try await client.execute(
                uri: "/admin/webhooks/endpoints/\(endpointID)/replay",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"since":"2026-01-02T00:00:00Z"}"#)  // a day after both failed
            )
            #expect(none.status == .ok)
            #expect(try json(none)["replayed"] as? Int == 0)
            #expect(await engine.processDue() == 0)

            let replay = try await client.execute(
                uri: "/admin/webhooks/endpoints/\(endpointID)/replay",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"since":"2026-01-01T00:00:00Z"}"#)  // the test clock's start
            )
            #expect(replay.status == .ok)
            #expect(try json(replay)["replayed"] as? Int == 2)
            #expect(await engine.processDue() == 2)
            #expect(server.requests(to: "/hooks").count == 4)
            for id in [first, second] {
                let shown = try json(try await client.execute(uri: "/admin/webhooks/deliveries/\(id)", method: .get, headers: auth))
                #expect((shown["delivery"] as? [String: Any])?["status"] as? String == "succeeded", "\(id)")
            }
        }
    }

    func createEndpoint(_ client: any TestClientProtocol, url: String) async throws -> String {
        let create = try await client.execute(
            uri: "/admin/webhooks/endpoints",
            method: .post,
            headers: auth,
            body: ByteBuffer(string: #"{"url":"\#(url)","eventTypes":["order.*"]}"#)
        )
        #expect(create.status == .created)
        return try #require((try json(create)["endpoint"] as? [String: Any])?["id"] as? String)
    }

    func publish(_ client: any TestClientProtocol, orderID: String = "o_1") async throws -> String {
        let publish = try await client.execute(
            uri: "/admin/webhooks/messages",
            method: .post,
            headers: auth,
            body: ByteBuffer(string: #"{"eventType":"order.created","payload":{"orderId":"\#(orderID)"}}"#)
        )
        #expect(publish.status == .accepted)
        return try #require((try json(publish)["deliveryIds"] as? [String])?.first)
    }

    @Test("create, publish, deliver, inspect, list, rotate, send a test event")
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

    @Test("a request that breaks the document is a 400 problem naming the field or parameter")
    func breaksTheDocument() async throws {
        try await withAPI { client, _, _ in
            let cases: [(method: HTTPRequest.Method, path: String, body: String?, field: String)] = [
                (.post, "/admin/webhooks/endpoints", #"{"url":"ftp://example.com"}"#, "url"),
                (.post, "/admin/webhooks/endpoints", #"{"url":"https://user:pw@example.com/"}"#, "url"),
                (.post, "/admin/webhooks/endpoints", #"{"url":"https://example.com","description":null}"#, "description"),
                (.post, "/admin/webhooks/endpoints", #"{"url":"https://example.com","eventTypes":["order created"]}"#, "eventTypes[0]"),
                (.post, "/admin/webhooks/endpoints", #"{"url":"https://example.com","secret":"not-a-whsec-secret-at-all-really"}"#, "secret"),
                (.post, "/admin/webhooks/endpoints", #"{"url":"https://example.com","maxConcurrency":0}"#, "maxConcurrency"),
                (
                    .post, "/admin/webhooks/endpoints", #"{"url":"https://example.com","description":"\#(String(repeating: "é", count: 501))"}"#,
                    "description"
                ),
                (.post, "/admin/webhooks/messages", #"{"eventType":"bad type!","payload":{}}"#, "eventType"),
                (.post, "/admin/webhooks/messages", #"{"eventType":"order.*","payload":{}}"#, "eventType"),
                (.post, "/admin/webhooks/messages", #"{"eventType":"order.created","payload":{},"id":"a b"}"#, "id"),
                (.get, "/admin/webhooks/deliveries?limit=0", nil, "limit"),
                (.get, "/admin/webhooks/deliveries/not-an-id", nil, "deliveryId"),
                (.get, "/admin/webhooks/endpoints/ep_bad-id", nil, "endpointId"),
            ]
            for (method, path, body, field) in cases {
                let response = try await client.execute(uri: path, method: method, headers: auth, body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == .badRequest, "\(method) \(path) \(body ?? "")")
                #expect(response.headers[.contentType] == "application/problem+json", "\(path)")
                let problem = try json(response)
                #expect((problem["field"] ?? problem["parameter"]) as? String == field, "\(method) \(path) \(body ?? "")")
            }
            let unknownProperty = try await client.execute(
                uri: "/admin/webhooks/endpoints",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"url":"https://example.com","eventType":["order.*"]}"#)  // a typo for eventTypes
            )
            #expect(unknownProperty.status == .badRequest)
            #expect(String(buffer: unknownProperty.body).contains("eventType"))
            let malformed = try await client.execute(
                uri: "/admin/webhooks/endpoints",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"url":"#)
            )
            #expect(malformed.status == .badRequest)
            #expect(try json(malformed)["detail"] as? String == "body is not valid JSON")
        }
    }

    @Test("404 for an unknown id; 422 naming the field for a value the document allows but the server refuses")
    func refusals() async throws {
        try await withAPI(allowPrivateTargets: false) { client, _, _ in
            let missing = try await client.execute(uri: "/admin/webhooks/endpoints/ep_doesNotExist", method: .get, headers: auth)
            #expect(missing.status == .notFound)
            #expect(try json(missing)["detail"] as? String == "no webhook endpoint with id 'ep_doesNotExist'")
            let replayMissing = try await client.execute(uri: "/admin/webhooks/deliveries/dlv_doesNotExist/replay", method: .post, headers: auth)
            #expect(replayMissing.status == .notFound)
            for url in ["http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://10.0.0.5/"] {
                let privateTarget = try await client.execute(
                    uri: "/admin/webhooks/endpoints",
                    method: .post,
                    headers: auth,
                    body: ByteBuffer(string: #"{"url":"\#(url)"}"#)
                )
                #expect(privateTarget.status == .unprocessableContent, "\(url)")
                #expect(try json(privateTarget)["field"] as? String == "url", "\(url)")
            }
        }
    }

    @Test("what the document allows is accepted: a bare rotate-secret POST, fractional and offset RFC 3339 dates")
    func documentAllows() async throws {
        try await withAPI { client, _, server in
            let endpointID = try await createEndpoint(client, url: "\(server.baseURL)/hooks")
            let rotate = try await client.execute(
                uri: "/admin/webhooks/endpoints/\(endpointID)/rotate-secret",
                method: .post,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(rotate.status == .ok)
            for since in ["2026-01-01T00:00:00.123456Z", "2025-12-31t19:00:00-05:00", "2026-01-01T05:30:00+05:30"] {
                let replay = try await client.execute(
                    uri: "/admin/webhooks/endpoints/\(endpointID)/replay",
                    method: .post,
                    headers: auth,
                    body: ByteBuffer(string: #"{"since":"\#(since)"}"#)
                )
                #expect(replay.status == .ok, "\(since)")
            }
            let page = try await client.execute(
                uri: "/admin/webhooks/deliveries?before=2026-01-01T00%3A00%3A00.5%2B01%3A00",
                method: .get,
                headers: auth
            )
            #expect(page.status == .ok)
        }
    }

    @Test("the request rules use the document's patterns, character for character")
    func patternsAreTheDocuments() throws {
        let document = String(buffer: try WebhooksComponent.openAPIDocument().contents)
        let patterns = [
            AdminRequestRules.targetURLPattern, AdminRequestRules.eventTypeFilterPattern, AdminRequestRules.eventTypePattern,
            AdminRequestRules.secretPattern, AdminRequestRules.messageIDPattern, AdminRequestRules.endpointIDPattern,
            AdminRequestRules.deliveryIDPattern,
        ]
        for pattern in patterns {
            // YAML double-quoted scalars escape each backslash.
            #expect(document.contains("pattern: \"\(pattern.replacingOccurrences(of: "\\", with: "\\\\"))\""), "\(pattern)")
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
