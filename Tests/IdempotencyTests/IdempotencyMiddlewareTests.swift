import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Idempotency
import InterchangeCore
import InterchangeTesting
import NIOCore
import Persistence
import ServiceRuntime
import Testing

@Suite("IdempotencyMiddleware", .timeLimit(.minutes(1)))
struct IdempotencyMiddlewareTests {
    static let costHeader = HTTPField.Name("X-Order-Cost")!
    static let clientHeader = HTTPField.Name("X-Client")!

    /// Counts what the handlers actually did, so a test sees which requests executed and which were answered
    /// from storage.
    final class Handlers: Sendable {
        let orders = CallCounter()
        let flaky = CallCounter()
        let thrown = CallCounter()
        let declined = CallCounter()
        let held = CallCounter()
        let gate = Gate()
    }

    /// An app whose `/orders…` routes sit behind the middleware; the client scope is the `X-Client` header.
    static func app(
        _ database: Database,
        clock: ManualClock,
        handlers: Handlers,
        configuration: IdempotencyMiddleware<BasicRequestContext>.Configuration = .init(storedHeaders: [costHeader])
    ) throws -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        let idempotency = try IdempotencyMiddleware<BasicRequestContext>(
            database: database,
            configuration: configuration,
            now: clock.dateProvider
        ) { request, _ in request.headers[clientHeader] ?? "default" }
        let orders = router.group("orders").add(middleware: idempotency)
        @Sendable func created(_ number: Int, request: Request) async throws -> Response {
            var request = request
            let body = try await request.collectBody(upTo: 1024)
            return Response(
                status: .created,
                headers: [
                    .contentType: "application/json", .location: "/orders/\(number)", costHeader: "\(number * 10)",
                    .setCookie: "session=\(number)", .cacheControl: "no-store",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"order":\#(number),"request":\#(String(buffer: body))}"#))
            )
        }
        orders.post { request, _ in try await created(handlers.orders.increment(), request: request) }
        orders.put { request, _ in try await created(handlers.orders.increment(), request: request) }
        orders.post("held") { request, _ in
            let number = handlers.held.increment()
            await handlers.gate.wait()
            return try await created(number, request: request)
        }
        // 503 the first time, 201 after: a transient failure.
        orders.post("flaky") { request, _ in
            let number = handlers.flaky.increment()
            if number == 1 { return Response(status: .serviceUnavailable) }
            return try await created(number, request: request)
        }
        // Throws the first time (as a validation failure does), 201 after.
        orders.post("thrown") { request, _ in
            let number = handlers.thrown.increment()
            if number == 1 { throw ProblemError.invalidBody("out of stock, try again", field: "lines[0]") }
            return try await created(number, request: request)
        }
        orders.post("declined") { _, _ in
            let number = handlers.declined.increment()
            return Response(
                status: HTTPResponse.Status(code: 402),
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"declined":\#(number)}"#))
            )
        }
        return Application(router: router)
    }

    static func run(
        _ kind: TestDatabase.Kind,
        clock: ManualClock = ManualClock(),
        handlers: Handlers = Handlers(),
        configuration: IdempotencyMiddleware<BasicRequestContext>.Configuration = .init(storedHeaders: [costHeader]),
        _ body: @escaping @Sendable (any TestClientProtocol, Database) async throws -> Void
    ) async throws {
        try await TestDatabase.with(kind) { database in
            try await database.migrate(IdempotencyStore.migrations)
            try await app(database, clock: clock, handlers: handlers, configuration: configuration).test(.router) { client in
                try await body(client, database)
            }
        }
    }

    static func headers(key: String?, client: String? = nil) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.idempotencyKey] = key }
        if let client { headers[clientHeader] = client }
        return headers
    }

    static func problem(_ response: TestResponse) throws -> ProblemDetails {
        #expect(response.headers[.contentType] == ProblemDetails.mediaType)
        return try JSONDecoder().decode(ProblemDetails.self, from: Data(buffer: response.body))
    }

    @Test(
        "a retry with the same key replays the identical status, headers and body, marked Idempotent-Replayed — from memory or from the database",
        arguments: TestDatabase.kinds,
        [true, false]
    )
    func replay(kind: TestDatabase.Kind, cached: Bool) async throws {
        let handlers = Handlers()
        let configuration = IdempotencyMiddleware<BasicRequestContext>.Configuration(
            storedHeaders: [Self.costHeader],
            replayCacheBytes: cached ? 1 << 20 : 0
        )
        try await Self.run(kind, handlers: handlers, configuration: configuration) { client, _ in
            let body = ByteBuffer(string: #"{"sku":"A","quantity":2}"#)
            let first = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "order-1"), body: body)
            #expect(first.status == .created)
            #expect(first.headers[.idempotentReplayed] == nil)
            #expect(first.headers[.setCookie] == "session=1")

            let replayed = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "order-1"), body: body)
            #expect(replayed.status == .created)
            #expect(replayed.headers[.idempotentReplayed] == "true")
            #expect(replayed.body == first.body)
            #expect(String(buffer: replayed.body) == #"{"order":1,"request":{"sku":"A","quantity":2}}"#)
            #expect(replayed.headers[.contentType] == first.headers[.contentType])
            #expect(replayed.headers[.location] == "/orders/1")
            #expect(replayed.headers[Self.costHeader] == "10")
            // Not in the stored list, and Set-Cookie never is.
            #expect(replayed.headers[.setCookie] == nil)
            #expect(replayed.headers[.cacheControl] == nil)
        }
        #expect(handlers.orders.count == 1)
    }

    @Test("the same key with a different body, path, method or content type is 422 naming the header", arguments: TestDatabase.kinds)
    func mismatch(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers, configuration: .init(methods: [.post, .put])) { client, _ in
            _ = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k"), body: ByteBuffer(string: "{\"n\":1}"))
            var textPlain = Self.headers(key: "k")
            textPlain[.contentType] = "text/plain"
            let variants: [(String, HTTPRequest.Method, HTTPFields, String)] = [
                ("/orders", .post, Self.headers(key: "k"), "{\"n\":2}"),
                ("/orders?coupon=x", .post, Self.headers(key: "k"), "{\"n\":1}"),
                ("/orders", .put, Self.headers(key: "k"), "{\"n\":1}"),
                ("/orders", .post, textPlain, "{\"n\":1}"),
            ]
            for (uri, method, headers, body) in variants {
                let response = try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(method) \(uri) \(body)")
                let problem = try Self.problem(response)
                #expect(problem.type == ProblemError.typeBase + "idempotency-key-reused")
                #expect(problem.extensions["header"] == .string("Idempotency-Key"))
                #expect(problem.detail?.hasPrefix("Idempotency-Key:") == true)
            }
        }
        #expect(handlers.orders.count == 1)
    }

    @Test("50 concurrent identical requests with one key: the handler runs once, the others get 409 then replays", arguments: TestDatabase.kinds)
    func concurrentRequests(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers) { client, _ in
            let body = ByteBuffer(string: #"{"sku":"A"}"#)
            let answered = CallCounter()
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await client.execute(uri: "/orders/held", method: .post, headers: Self.headers(key: "same"), body: body)
                        answered.increment()
                        return response
                    }
                }
                // The one that executes holds at the gate until every other request has its answer. 49 claims on one
                // SQLite file take turns; a loaded CI machine running the whole suite once needed more than 10 s.
                try await waitUntil("49 requests answered while the first holds", timeout: .seconds(45)) { answered.count == 49 }
                try await handlers.gate.waitForWaiters(1)
                handlers.gate.open()
                var responses: [TestResponse] = []
                for try await response in group { responses.append(response) }
                return responses
            }
            #expect(handlers.held.count == 1)
            let executed = responses.filter { $0.status == .created }
            let conflicts = responses.filter { $0.status == .conflict }
            #expect(executed.count == 1)
            #expect(conflicts.count == 49)
            for conflict in conflicts {
                #expect(conflict.headers[.retryAfter] == "1")
                #expect(try Self.problem(conflict).type == ProblemError.typeBase + "idempotency-key-in-use")
            }
            // Retried after the first finished, each gets its response.
            let retries = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<49 {
                    group.addTask { try await client.execute(uri: "/orders/held", method: .post, headers: Self.headers(key: "same"), body: body) }
                }
                var responses: [TestResponse] = []
                for try await response in group { responses.append(response) }
                return responses
            }
            for retry in retries {
                #expect(retry.status == .created)
                #expect(retry.headers[.idempotentReplayed] == "true")
                #expect(retry.body == executed.first?.body)
            }
        }
        #expect(handlers.held.count == 1)
    }

    @Test("a request without a key runs the handler every time", arguments: TestDatabase.kinds)
    func noKey(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers) { client, database in
            for number in 1...3 {
                let response = try await client.execute(
                    uri: "/orders",
                    method: .post,
                    headers: Self.headers(key: nil),
                    body: ByteBuffer(string: "{}")
                )
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/orders/\(number)")
                #expect(response.headers[.idempotentReplayed] == nil)
            }
            // A key on a method the middleware is not configured for (POST only here) is ignored.
            for _ in 1...2 {
                let put = try await client.execute(uri: "/orders", method: .put, headers: Self.headers(key: "k"), body: ByteBuffer(string: "{}"))
                #expect(put.status == .created && put.headers[.idempotentReplayed] == nil)
            }
            #expect(try await IdempotencyStore(database: database).counts().isEmpty)
        }
        #expect(handlers.orders.count == 5)
    }

    @Test("a request body over the limit is 413 before anything is stored or run", arguments: TestDatabase.kinds)
    func requestBodyTooLarge(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers, configuration: .init(maxRequestBodySize: 8)) { client, database in
            let response = try await client.execute(
                uri: "/orders",
                method: .post,
                headers: Self.headers(key: "k"),
                body: ByteBuffer(string: #"{"sku":"longer than eight bytes"}"#)
            )
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == ProblemDetails.mediaType)
            #expect(try await IdempotencyStore(database: database).counts().isEmpty)
        }
        #expect(handlers.orders.count == 0)
    }

    @Test("a bad key is 400 naming the Idempotency-Key header, and the handler does not run", arguments: TestDatabase.kinds)
    func badKey(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers) { client, _ in
            var twice = Self.headers(key: "a")
            twice.append(HTTPField(name: .idempotencyKey, value: "b"))
            let cases: [(HTTPFields, String)] = [
                (Self.headers(key: ""), "must not be empty"),
                (Self.headers(key: String(repeating: "k", count: 256)), "at most 255"),
                (Self.headers(key: "clé"), "printable ASCII"),
                (twice, "sent once"),
            ]
            for (headers, reason) in cases {
                let response = try await client.execute(uri: "/orders", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
                #expect(response.status == .badRequest, "\(reason)")
                let problem = try Self.problem(response)
                #expect(problem.type == ProblemError.typeBase + "invalid-idempotency-key")
                #expect(problem.extensions["header"] == .string("Idempotency-Key"))
                #expect(problem.detail?.contains(reason) == true, "\(problem.detail ?? "")")
            }
            let longest = try await client.execute(
                uri: "/orders",
                method: .post,
                headers: Self.headers(key: String(repeating: "k", count: 255)),
                body: ByteBuffer(string: "{}")
            )
            #expect(longest.status == .created)
        }
        #expect(handlers.orders.count == 1)
    }

    @Test("the same key from two clients is two executions, each replaying its own", arguments: TestDatabase.kinds)
    func scopes(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers) { client, _ in
            let body = ByteBuffer(string: "{}")
            let alice = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k", client: "alice"), body: body)
            let bob = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k", client: "bob"), body: body)
            #expect(alice.headers[.location] == "/orders/1")
            #expect(bob.headers[.location] == "/orders/2")
            let aliceAgain = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k", client: "alice"), body: body)
            let bobAgain = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k", client: "bob"), body: body)
            #expect(aliceAgain.headers[.location] == "/orders/1")
            #expect(bobAgain.headers[.location] == "/orders/2")
            #expect(aliceAgain.headers[.idempotentReplayed] == "true" && bobAgain.headers[.idempotentReplayed] == "true")
        }
        #expect(handlers.orders.count == 2)
    }

    @Test("a key expires 24 hours after its execution began: then it executes again, and the purge deletes it", arguments: TestDatabase.kinds)
    func expiry(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let handlers = Handlers()
        try await Self.run(kind, clock: clock, handlers: handlers) { client, database in
            let store = IdempotencyStore(database: database, now: clock.dateProvider)
            let body = ByteBuffer(string: "{}")
            _ = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k"), body: body)
            clock.advance(by: .seconds(86_399))
            let replayed = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "k"), body: body)
            #expect(replayed.headers[.idempotentReplayed] == "true")
            #expect(try await store.purgeExpired(retention: .seconds(86_400)) == 0)
            clock.advance(by: .seconds(1))
            // An expired key is a new key, even for another request.
            let fresh = try await client.execute(
                uri: "/orders",
                method: .post,
                headers: Self.headers(key: "k"),
                body: ByteBuffer(string: #"{"x":1}"#)
            )
            #expect(fresh.status == .created)
            #expect(fresh.headers[.idempotentReplayed] == nil)
            #expect(fresh.headers[.location] == "/orders/2")
            // Keys whose execution began 24 hours ago are purged (in batches of one here); a key a second younger is not.
            _ = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "other"), body: body)
            clock.advance(by: .seconds(1))
            _ = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "recent"), body: body)
            clock.advance(by: .seconds(86_399))
            #expect(try await store.purgeExpired(retention: .seconds(86_400), batchSize: 1) == 2)
            #expect(try await store.counts() == ["completed": 1])
            #expect(try await store.find(scope: "default", key: "recent") != nil)
            #expect(try await store.find(scope: "default", key: "k") == nil)
        }
        #expect(handlers.orders.count == 4)
    }

    @Test("a 5xx answer or a thrown error releases the key, so the retry executes; a 4xx answer is stored", arguments: TestDatabase.kinds)
    func failuresRelease(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers) { client, database in
            let body = ByteBuffer(string: "{}")
            let unavailable = try await client.execute(uri: "/orders/flaky", method: .post, headers: Self.headers(key: "f"), body: body)
            #expect(unavailable.status == .serviceUnavailable)
            #expect(try await IdempotencyStore(database: database).counts().isEmpty)
            let retried = try await client.execute(uri: "/orders/flaky", method: .post, headers: Self.headers(key: "f"), body: body)
            #expect(retried.status == .created)
            #expect(retried.headers[.idempotentReplayed] == nil)
            let replayed = try await client.execute(uri: "/orders/flaky", method: .post, headers: Self.headers(key: "f"), body: body)
            #expect(replayed.headers[.idempotentReplayed] == "true" && replayed.status == .created)

            let thrown = try await client.execute(uri: "/orders/thrown", method: .post, headers: Self.headers(key: "t"), body: body)
            #expect(thrown.status == .badRequest)
            #expect(try Self.problem(thrown).extensions["field"] == .string("lines[0]"))
            let afterThrow = try await client.execute(uri: "/orders/thrown", method: .post, headers: Self.headers(key: "t"), body: body)
            #expect(afterThrow.status == .created && afterThrow.headers[.idempotentReplayed] == nil)

            let declined = try await client.execute(uri: "/orders/declined", method: .post, headers: Self.headers(key: "d"), body: body)
            let declinedAgain = try await client.execute(uri: "/orders/declined", method: .post, headers: Self.headers(key: "d"), body: body)
            #expect(declined.status == HTTPResponse.Status(code: 402) && declinedAgain.status == HTTPResponse.Status(code: 402))
            #expect(declinedAgain.headers[.idempotentReplayed] == "true")
            #expect(String(buffer: declinedAgain.body) == #"{"declined":1}"#)
        }
        #expect(handlers.flaky.count == 2)
        #expect(handlers.thrown.count == 2)
        #expect(handlers.declined.count == 1)
    }

    @Test(
        "a response over the stored-body limit reaches its client; a replay says it was not kept and nothing runs again",
        arguments: TestDatabase.kinds
    )
    func oversizedResponse(kind: TestDatabase.Kind) async throws {
        let handlers = Handlers()
        try await Self.run(kind, handlers: handlers, configuration: .init(maxStoredBodySize: 16)) { client, _ in
            let body = ByteBuffer(string: #"{"sku":"a long enough body"}"#)
            let first = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "big"), body: body)
            #expect(String(buffer: first.body).hasPrefix(#"{"order":1"#))
            let replayed = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "big"), body: body)
            #expect(replayed.status == .created)
            #expect(replayed.headers[.idempotentReplayed] == "true")
            #expect(try Self.problem(replayed).type == ProblemError.typeBase + "idempotent-response-not-kept")
        }
        #expect(handlers.orders.count == 1)
    }

    @Test("after a restart, a completed key replays and a started key older than the lock timeout executes again", arguments: TestDatabase.kinds)
    func restart(kind: TestDatabase.Kind) async throws {
        let clock = ManualClock()
        let before = Handlers()
        let after = Handlers()
        try await TestDatabase.with(kind) { database in
            try await database.migrate(IdempotencyStore.migrations)
            let body = ByteBuffer(string: "{}")
            try await Self.app(database, clock: clock, handlers: before).test(.router) { client in
                let first = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "done"), body: body)
                #expect(first.status == .created)
            }
            // A run that crashed: its key stored as started, never completed.
            let fingerprintOfRetry = try await Self.fingerprint(uri: "/orders", headers: Self.headers(key: "crashed"), body: body)
            #expect(
                try await IdempotencyStore(database: database).insertStarted(
                    scope: "default",
                    key: "crashed",
                    fingerprint: fingerprintOfRetry,
                    executionID: "idx_dead",
                    at: clock.date
                )
            )
            // The restarted process: a new pool on the same database (the first one is no longer used).
            let reopened = try await Database.open(database.location, logger: LoopbackServer.quietLogger)
            do {
                try await reopened.migrate(IdempotencyStore.migrations)
                try await Self.app(reopened, clock: clock, handlers: after).test(.router) { client in
                    let replayed = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "done"), body: body)
                    #expect(replayed.status == .created && replayed.headers[.idempotentReplayed] == "true")
                    #expect(replayed.headers[.location] == "/orders/1")

                    clock.advance(by: .seconds(59))
                    let stillLocked = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "crashed"), body: body)
                    #expect(stillLocked.status == .conflict)
                    clock.advance(by: .seconds(1))
                    let reexecuted = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "crashed"), body: body)
                    #expect(reexecuted.status == .created && reexecuted.headers[.idempotentReplayed] == nil)
                    let replayedAfter = try await client.execute(uri: "/orders", method: .post, headers: Self.headers(key: "crashed"), body: body)
                    #expect(replayedAfter.headers[.idempotentReplayed] == "true")
                }
                try await reopened.shutdown()
            } catch {
                try? await reopened.shutdown()
                throw error
            }
        }
        #expect(before.orders.count == 1)
        #expect(after.orders.count == 1)
    }

    /// The fingerprint the middleware computes for a request, read through a route that computes it the same way.
    static func fingerprint(uri: String, headers: HTTPFields, body: ByteBuffer) async throws -> String {
        let router = Router()
        router.post("/orders") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1024)
            return IdempotencyFingerprint.of(request, body: body, headers: [.contentType])
        }
        return try await Application(router: router).test(.router) { client in
            String(buffer: try await client.execute(uri: uri, method: .post, headers: headers, body: body).body)
        }
    }

    @Test("a configuration that cannot work names its field")
    func configurationErrors() {
        let cases: [(IdempotencyMiddleware<BasicRequestContext>.Configuration, String)] = [
            (.init(retention: .seconds(60), lockTimeout: .seconds(60)), "idempotency.lockTimeout"),
            (.init(retention: .zero), "idempotency.retention"),
            (.init(methods: []), "idempotency.methods"),
            (.init(maxStoredBodySize: 0), "idempotency.maxStoredBodySize"),
        ]
        for (configuration, field) in cases {
            #expect(throws: ConfigurationError.self) { try configuration.validate() }
            do {
                try configuration.validate()
            } catch let error as ConfigurationError {
                #expect(error.field == field)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: Never.self) { try IdempotencyMiddleware<BasicRequestContext>.Configuration().validate() }
    }
}
