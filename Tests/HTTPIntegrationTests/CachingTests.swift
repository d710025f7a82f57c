import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeTesting
import Testing

@Suite("Resilient HTTP client: HTTP caching", .timeLimit(.minutes(1)))
struct CachingTests {
    @Test("a fresh response is served from the cache without contacting the origin")
    func maxAge() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/weather", .json(#"{"t":20}"#, headers: [("Cache-Control", "max-age=60")]))
            let clock = ManualClock()
            try await withClient(policy: testPolicy(), clock: clock, cache: HTTPCache(clock: clock)) { client in
                #expect(try await client.get("\(server.baseURL)/weather").cacheStatus == .miss)
                clock.advance(by: .seconds(30))
                let cached = try await client.get("\(server.baseURL)/weather")
                #expect(cached.cacheStatus == .hit(age: .seconds(30)))
                #expect(cached.text == #"{"t":20}"#)
                #expect(cached.headerFields[.age] == "30")
                #expect(server.requests(to: "/weather").count == 1)
            }
        }
    }

    @Test("a stale response is revalidated with If-None-Match and reused on 304")
    func etagRevalidation() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/repo",
                .json(#"{"stars":5}"#, headers: [("ETag", #""v1""#), ("Cache-Control", "max-age=10")]),
                .status(304, headers: [("ETag", #""v1""#), ("Cache-Control", "max-age=10")])
            )
            let clock = ManualClock()
            try await withClient(policy: testPolicy(), clock: clock, cache: HTTPCache(clock: clock)) { client in
                _ = try await client.get("\(server.baseURL)/repo")
                clock.advance(by: .seconds(11))
                let revalidated = try await client.get("\(server.baseURL)/repo")
                #expect(revalidated.cacheStatus == .revalidated)
                #expect(revalidated.status == .ok)
                #expect(revalidated.text == #"{"stars":5}"#)
                #expect(server.requests(to: "/repo").last?.headers[.ifNoneMatch] == #""v1""#)
                // Freshness restarted with the 304.
                #expect(try await client.get("\(server.baseURL)/repo").cacheStatus == .hit(age: .zero))
                #expect(server.requests(to: "/repo").count == 2)
            }
        }
    }

    @Test("Last-Modified is revalidated with If-Modified-Since")
    func lastModified() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
            server.enqueue("/doc", .json("{}", headers: [("Last-Modified", stamp)]), .status(304))
            let clock = ManualClock()
            try await withClient(policy: testPolicy(), clock: clock, cache: HTTPCache(clock: clock)) { client in
                _ = try await client.get("\(server.baseURL)/doc")
                #expect(try await client.get("\(server.baseURL)/doc").cacheStatus == .revalidated)
                #expect(server.requests(to: "/doc").last?.headers[.ifModifiedSince] == stamp)
            }
        }
    }

    @Test("when the origin fails, a stale copy is served within the stale-if-error window")
    func staleIfError() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/weather", .json(#"{"t":20}"#, headers: [("Cache-Control", "max-age=60, stale-if-error=600")]), .status(503))
            let clock = ManualClock(advancesOnSleep: true)
            try await withClient(policy: testPolicy(maxAttempts: 2), clock: clock, cache: HTTPCache(clock: clock)) { client in
                _ = try await client.get("\(server.baseURL)/weather")
                clock.advance(by: .seconds(120))
                let stale = try await client.get("\(server.baseURL)/weather")
                guard case .stale(let age, let cause) = stale.cacheStatus else {
                    Issue.record("expected a stale response, got \(stale.cacheStatus)")
                    return
                }
                #expect(age >= .seconds(120))
                #expect(cause.contains("503"))
                #expect(stale.text == #"{"t":20}"#)
                #expect(stale.attempts == 2)  // the retries ran first
                clock.advance(by: .seconds(600))
                #expect(try await client.get("\(server.baseURL)/weather").status == .serviceUnavailable)  // beyond the window
            }
        }
    }

    @Test("the policy's stale-if-error covers an origin that is down entirely")
    func staleWhenUnreachable() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let cache = try HTTPCache(clock: clock)
        var policy = try testPolicy(maxAttempts: 1)
        policy.staleIfError = .seconds(3600)
        let baseURL = try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/weather", .json(#"{"t":21}"#, headers: [("Cache-Control", "max-age=60")]))
            try await withClient(policy: policy, clock: clock, cache: cache) { client in _ = try await client.get("\(server.baseURL)/weather") }
            return server.baseURL
        }
        clock.advance(by: .seconds(300))
        try await withClient(policy: policy, clock: clock, cache: cache) { client in
            let stale = try await client.get("\(baseURL)/weather")
            #expect(stale.text == #"{"t":21}"#)
            if case .stale(_, let cause) = stale.cacheStatus { #expect(cause == "transport failure") } else { Issue.record("not stale") }
        }
    }

    @Test("no-store responses are not cached, and unsafe requests invalidate")
    func noStoreAndInvalidation() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/private", .json("{}", headers: [("Cache-Control", "no-store")]))
            server.enqueue("/cart", .json("{}", headers: [("Cache-Control", "max-age=600")]))
            let clock = ManualClock()
            try await withClient(policy: testPolicy(), clock: clock, cache: HTTPCache(clock: clock)) { client in
                _ = try await client.get("\(server.baseURL)/private")
                #expect(try await client.get("\(server.baseURL)/private").cacheStatus == .notCached)
                #expect(server.requests(to: "/private").count == 2)
                _ = try await client.get("\(server.baseURL)/cart")
                _ = try await client.send(.put, "\(server.baseURL)/cart", json: ["sku": "A"])
                #expect(try await client.get("\(server.baseURL)/cart").cacheStatus == .miss)
            }
        }
    }

    @Test("Vary keeps responses for different header values apart")
    func vary() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/greeting", .json(#""hello""#, headers: [("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")]))
            let clock = ManualClock()
            try await withClient(policy: testPolicy(), clock: clock, cache: HTTPCache(clock: clock)) { client in
                _ = try await client.get("\(server.baseURL)/greeting", headers: [.acceptLanguage: "en"])
                #expect(try await client.get("\(server.baseURL)/greeting", headers: [.acceptLanguage: "en"]).cacheStatus == .hit(age: .zero))
                #expect(try await client.get("\(server.baseURL)/greeting", headers: [.acceptLanguage: "de"]).cacheStatus == .miss)
            }
        }
    }

    @Test("the cache evicts the least recently used entry beyond its limit")
    func eviction() async throws {
        try await ScriptedHTTPServer.withServer { server in
            for path in ["/a", "/b", "/c"] { server.enqueue(path, .json("{}", headers: [("Cache-Control", "max-age=600")])) }
            let clock = ManualClock()
            let cache = try HTTPCache(maxEntries: 2, clock: clock)
            try await withClient(policy: testPolicy(), clock: clock, cache: cache) { client in
                _ = try await client.get("\(server.baseURL)/a")
                _ = try await client.get("\(server.baseURL)/b")
                _ = try await client.get("\(server.baseURL)/a")  // a is now more recent than b
                _ = try await client.get("\(server.baseURL)/c")
                #expect(cache.count == 2)
                #expect(try await client.get("\(server.baseURL)/a").cacheStatus == .hit(age: .zero))
                #expect(try await client.get("\(server.baseURL)/b").cacheStatus == .miss)
            }
        }
    }
}
