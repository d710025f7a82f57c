import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeCore
import InterchangeTesting
import Resilience
import Testing

@Suite("Resilient HTTP client: faults and policies", .timeLimit(.minutes(1)))
struct ResilienceOverHTTPTests {
    @Test("a 503 is retried and the call succeeds")
    func retries503() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .status(503), .json(#"{"ok":true}"#))
            try await withClient(policy: testPolicy()) { client in
                let response = try await client.get("\(server.baseURL)/items")
                #expect(response.status == .ok)
                #expect(response.attempts == 2)
                #expect(server.requests(to: "/items").count == 2)
            }
        }
    }

    @Test("Retry-After in seconds on 503 sets the delay")
    func retryAfterSeconds() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .status(503, headers: [("Retry-After", "7")]), .json("{}"))
            let clock = ManualClock(advancesOnSleep: true)
            try await withClient(policy: testPolicy(), clock: clock) { client in
                _ = try await client.get("\(server.baseURL)/items")
                #expect(clock.sleeps == [.seconds(7)])
            }
        }
    }

    @Test("Retry-After as an HTTP-date on 429 sets the delay")
    func retryAfterDate() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let clock = ManualClock(advancesOnSleep: true)
            let date = HTTPDate.format(clock.date.addingTimeInterval(12))
            server.enqueue("/items", .status(429, headers: [("Retry-After", date)]), .json("{}"))
            try await withClient(policy: testPolicy(), clock: clock) { client in
                _ = try await client.get("\(server.baseURL)/items")
                #expect(clock.sleeps == [.seconds(12)])
            }
        }
    }

    @Test("429 and 503 without Retry-After back off by the policy")
    func backoffWithoutRetryAfter() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .status(429), .status(503), .json("{}"))
            let clock = ManualClock(advancesOnSleep: true)
            try await withClient(policy: testPolicy(), clock: clock) { client in
                _ = try await client.get("\(server.baseURL)/items")
                #expect(clock.sleeps == [.milliseconds(100), .milliseconds(100)])
            }
        }
    }

    @Test("500 responses exhaust the attempts and the typed error carries status, excerpt and attempt count")
    func exhaustedRetries() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .status(500, body: "database is on fire"))
            try await withClient(policy: testPolicy(maxAttempts: 3)) { client in
                let response = try await client.get("\(server.baseURL)/items")
                #expect(response.status == .internalServerError)
                let error = try await integrationError { _ = try response.ensureSuccess() }
                #expect(error.code == .unsuccessfulStatus)
                #expect(error.status == .internalServerError)
                #expect(error.attempts == 3)
                #expect(error.bodyExcerpt == "database is on fire")
                #expect(server.requests(to: "/items").count == 3)
            }
        }
    }

    @Test("a problem+json error body is decoded into the error")
    func problemDetails() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items/9", .problem(404, title: "Not Found", detail: "no item 9"))
            try await withClient(policy: testPolicy()) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/items/9").decode([String: String].self) }
                #expect(error.code == .unsuccessfulStatus)
                #expect(error.problem?.detail == "no item 9")
                #expect(error.problem?.status == 404)
                #expect(server.requests(to: "/items/9").count == 1)  // 404 is not retried
            }
        }
    }

    @Test("POST is not retried unless it carries an Idempotency-Key")
    func postNotRetried() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/orders", .status(503), .json(#"{"id":"o_1"}"#, status: .created))
            try await withClient(policy: testPolicy()) { client in
                let response = try await client.send(.post, "\(server.baseURL)/orders", json: ["sku": "A-1"])
                #expect(response.status == .serviceUnavailable)
                #expect(server.requests(to: "/orders").count == 1)
            }
        }
    }

    @Test("a POST with an Idempotency-Key is retried with the same key")
    func postWithKeyRetried() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/orders", .status(503), .json(#"{"id":"o_1"}"#, status: .created))
            try await withClient(policy: testPolicy()) { client in
                var request = try ClientRequest(method: .post, url: "\(server.baseURL)/orders")
                request.headerFields[.idempotencyKey] = "order-42"
                try request.setJSONBody(["sku": "A-1"])
                let response = try await client.send(request)
                #expect(response.status == .created)
                #expect(server.requests(to: "/orders").map { $0.headers[.idempotencyKey] } == ["order-42", "order-42"])
                #expect(server.requests(to: "/orders").allSatisfy { $0.body == #"{"sku":"A-1"}"# })
            }
        }
    }

    @Test("generated idempotency keys are identical across the attempts of one call and differ between calls")
    func generatedKeys() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/orders", .status(502), .json("{}", status: .created), .status(502), .json("{}", status: .created))
            var policy = try testPolicy()
            policy.generateIdempotencyKeys = true
            try await withClient(policy: policy) { client in
                _ = try await client.send(.post, "\(server.baseURL)/orders", json: ["n": 1])
                _ = try await client.send(.post, "\(server.baseURL)/orders", json: ["n": 2])
                let keys = server.requests(to: "/orders").map { $0.headers[.idempotencyKey] ?? "" }
                #expect(keys.count == 4)
                #expect(keys[0] == keys[1] && keys[2] == keys[3])
                #expect(keys[0] != keys[2] && !keys[0].isEmpty)
            }
        }
    }

    @Test("a connection reset in the middle of the body is retried for GET")
    func resetMidBodyRetried() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/big",
                .init(
                    status: .ok,
                    headers: [("Content-Type", "application/json")],
                    body: #"{"items":[1,2,3,4,5,6,7,8,9]}"#,
                    behaviour: .resetMidBody(afterBytes: 10)
                ),
                .json(#"{"items":[1]}"#)
            )
            try await withClient(policy: testPolicy()) { client in
                let response = try await client.get("\(server.baseURL)/big")
                #expect(response.text == #"{"items":[1]}"#)
                #expect(response.attempts == 2)
            }
        }
    }

    @Test("a connection reset on a non-idempotent request is a transport error, not retried")
    func resetMidBodyPost() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/orders", .init(status: .ok, body: String(repeating: "x", count: 100), behaviour: .resetMidBody(afterBytes: 5)))
            try await withClient(policy: testPolicy()) { client in
                let error = try await integrationError { _ = try await client.send(.post, "\(server.baseURL)/orders", json: ["a": 1]) }
                #expect(error.code == .transport)
                #expect(error.attempts == 1)
                #expect(error.underlyingError != nil)
            }
        }
    }

    @Test("a slow response hits the attempt timeout; each attempt is cancelled and retried")
    func attemptTimeout() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/slow", .init(status: .ok, body: "late", delay: .seconds(60)))
            var policy = try testPolicy(maxAttempts: 2)
            policy.attemptTimeout = .milliseconds(150)
            // Real time: the timeout races real network I/O. Backoff is 100 ms; the call takes well under a second on
            // a quiet machine. The bound is far below one un-cancelled attempt (60 s) and loose enough for a loaded
            // CI machine (a parallel test run once took 3.3 s).
            try await withRealTimeClient(policy: policy) { client in
                let started = ContinuousClock.now
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/slow") }
                #expect(error.code == .timeout)
                #expect(error.attempts == 2)
                #expect(ContinuousClock.now - started < .seconds(15))
            }
        }
    }

    @Test("the total timeout bounds the whole call, retries included")
    func totalTimeout() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/slow", .init(status: .ok, body: "late", delay: .seconds(5)))
            var policy = try testPolicy(maxAttempts: 5)
            policy.totalTimeout = .milliseconds(200)
            try await withRealTimeClient(policy: policy) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/slow") }
                #expect(error.code == .timeout)
                #expect(error.attempts == 1)
            }
        }
    }

    @Test("malformed JSON is a typed error with the decoder's reason and an excerpt")
    func malformedJSON() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .json(#"{"items": [1, 2"#))
            try await withClient(policy: testPolicy()) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/items").decode([String: [Int]].self) }
                #expect(error.code == .invalidResponse)
                #expect(error.reason?.contains("malformed JSON") == true)
                #expect(error.bodyExcerpt == #"{"items": [1, 2"#)
            }
        }
    }

    @Test("a wrong content type is a typed error naming it")
    func wrongContentType() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .init(status: .ok, headers: [("Content-Type", "text/html")], body: "<html>maintenance</html>"))
            try await withClient(policy: testPolicy()) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/items").decode([Int].self) }
                #expect(error.code == .invalidResponse)
                #expect(error.reason?.contains("text/html") == true)
            }
        }
    }

    @Test("a shape mismatch names the missing key")
    func shapeMismatch() async throws {
        struct Item: Decodable {
            let id: String
            let name: String
        }
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/item", .json(#"{"id":"1"}"#))
            try await withClient(policy: testPolicy()) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/item").decode(Item.self) }
                #expect(error.reason?.contains("missing key 'name'") == true)
            }
        }
    }

    @Test("an oversized body fails with responseTooLarge and is not retried")
    func tooLarge() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/huge", .init(status: .ok, body: String(repeating: "a", count: 5000)))
            try await withClient(policy: testPolicy(), maxResponseBodySize: 1000) { client in
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/huge") }
                #expect(error.code == .responseTooLarge)
                #expect(server.requests(to: "/huge").count == 1)
            }
        }
    }

    @Test("the circuit breaker opens after failures and then rejects without sending")
    func circuitBreakerOpens() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/flaky", .status(500))
            let breaker = CircuitBreaker.Configuration(
                slidingWindow: .countBased(size: 4),
                minimumNumberOfCalls: 4,
                waitDurationInOpenState: .seconds(30)
            )
            try await withClient(policy: testPolicy(maxAttempts: 1, breaker: breaker)) { client in
                for _ in 0..<4 { _ = try await client.get("\(server.baseURL)/flaky") }
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/flaky") }
                #expect(error.code == .circuitOpen)
                #expect(error.attempts == 0)
                #expect(error.retryAfter == .seconds(30))
                #expect(server.requests(to: "/flaky").count == 4)
                #expect(client.circuitBreaker(for: "127.0.0.1")?.state == .open)
            }
        }
    }

    @Test("4xx responses do not trip the breaker")
    func clientErrorsDoNotTrip() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/missing", .status(404))
            let breaker = CircuitBreaker.Configuration(slidingWindow: .countBased(size: 4), minimumNumberOfCalls: 4)
            try await withClient(policy: testPolicy(maxAttempts: 1, breaker: breaker)) { client in
                for _ in 0..<8 { _ = try await client.get("\(server.baseURL)/missing") }
                let tripless = try #require(client.circuitBreaker(for: "127.0.0.1"))
                #expect(tripless.state == .closed)
                // Counted by the breaker, as successes: the 404s went through it and did not count against the host.
                #expect(tripless.snapshot.totals == WindowTotals(calls: 4, failures: 0, slowCalls: 0))
            }
        }
    }

    @Test("the client's rate limiter refuses calls beyond its rate without sending them")
    func rateLimited() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .json("[]"))
            var policy = try testPolicy()
            policy.rateLimit = RateLimitPolicy(algorithm: .tokenBucket(capacity: 2, refillPerSecond: 0.5))
            try await withClient(policy: policy) { client in
                _ = try await client.get("\(server.baseURL)/items")
                _ = try await client.get("\(server.baseURL)/items")
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/items") }
                #expect(error.code == .rateLimited)
                #expect(error.retryAfter == .seconds(2))
                #expect(server.requests(to: "/items").count == 2)
            }
        }
    }

    @Test("the bulkhead rejects a call beyond its concurrency limit")
    func bulkheadFull() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/slow", .init(status: .ok, body: "done", delay: .milliseconds(400)))
            server.enqueue("/fast", .json("{}"))
            var policy = try testPolicy()
            policy.bulkhead = BulkheadPolicy(maxConcurrentCalls: 1, maxQueuedCalls: 0)
            try await withClient(policy: policy) { client in
                async let slow = client.get("\(server.baseURL)/slow")
                try await waitUntil("the slow call reached the server") { !server.requests(to: "/slow").isEmpty }
                let error = try await integrationError { _ = try await client.get("\(server.baseURL)/fast") }
                #expect(error.code == .bulkheadFull)
                #expect(try await slow.text == "done")
                #expect(server.requests(to: "/fast").isEmpty)
            }
        }
    }

    @Test("the retry budget stops retries from multiplying an outage")
    func retryBudget() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/down", .status(503))
            let policy = try testPolicy(maxAttempts: 4, budget: RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: 0, window: .seconds(10)))
            try await withClient(policy: policy, clock: ManualClock(advancesOnSleep: true)) { client in
                for _ in 0..<20 { _ = try await client.get("\(server.baseURL)/down") }
                // 20 calls; without the budget 80 requests, with it at most 20 + 20% = 24.
                #expect(server.requests(to: "/down").count <= 24)
                #expect(server.requests(to: "/down").count >= 20)
            }
        }
    }

    @Test("invalid configuration fails at construction, naming the field")
    func configurationErrors() throws {
        var bad = HostPolicy.standard
        bad.retry.maxAttempts = 0
        #expect {
            try ResilientHTTPClient(configuration: .init(hosts: ["api.github.com": bad]))
        } throws: { ($0 as? ConfigurationError)?.field == #"hosts["api.github.com"].retry.maxAttempts"# }
        var badBreaker = HostPolicy.standard
        badBreaker.circuitBreaker?.failureRateThreshold = 120
        #expect {
            try ResilientHTTPClient(configuration: .init(defaultPolicy: badBreaker))
        } throws: { ($0 as? ConfigurationError)?.field == "defaultPolicy.circuitBreaker.failureRateThreshold" }
        var badTimeout = HostPolicy.standard
        badTimeout.attemptTimeout = .seconds(-1)
        #expect {
            try ResilientHTTPClient(configuration: .init(defaultPolicy: badTimeout))
        } throws: { ($0 as? ConfigurationError)?.field == "defaultPolicy.attemptTimeout" }
    }

    @Test("malformed URLs are rejected before anything is sent")
    func badURLs() async throws {
        try await withClient(policy: testPolicy()) { client in
            for url in ["not a url", "ftp://example.com/file", "http://"] {
                let error = try await integrationError { _ = try await client.get(url) }
                #expect(error.code == .invalidRequest, "\(url)")
            }
            #expect { try client.upstream(baseURL: "api.example.com") } throws: { ($0 as? ConfigurationError)?.field == "baseURL" }
            #expect { try client.upstream(baseURL: "https://api.example.com/?q=1") } throws: { ($0 as? ConfigurationError)?.field == "baseURL" }
        }
    }
}

@Suite("Resilient HTTP client: per-request overrides", .timeLimit(.minutes(1)))
struct RequestOverrideTests {
    @Test("a request can ask for retries and timeouts on a host whose policy has none")
    func overridesOnBarePolicy() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/items", .status(503), .json("{}"))
            let bare = HostPolicy(retry: .disabled, circuitBreaker: nil, attemptTimeout: nil, totalTimeout: nil)
            try await withClient(policy: bare) { client in
                #expect(try await client.get("\(server.baseURL)/items").status == .serviceUnavailable)
                server.enqueue("/items", .status(503), .json("{}"))
                let retried = try await client.get("\(server.baseURL)/items", options: RequestOptions(maxAttempts: 2))
                #expect(retried.status == .ok)
                #expect(retried.attempts == 2)
            }
            server.enqueue("/slow", .init(status: .ok, body: "late", delay: .seconds(5)))
            try await withRealTimeClient(policy: bare) { client in
                let error = try await integrationError {
                    _ = try await client.get("\(server.baseURL)/slow", options: RequestOptions(attemptTimeout: .milliseconds(100)))
                }
                #expect(error.code == .timeout)
            }
        }
    }
}
