import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import ServiceRuntime
import Testing

@Suite("ResponseMicroCache")
struct ResponseMicroCacheTests {
    /// An app whose handlers count their calls in `renders`, so a test sees which requests were rendered and
    /// which replayed.
    func app(
        clock: ManualClock,
        renders: CallCounter,
        ttl: Duration = .seconds(1),
        maxEntries: Int = 10,
        maxBodySize: Int = 1024,
        maxTotalBytes: Int = 1 << 20
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(
            middleware: ResponseMicroCache(
                pathPrefixes: ["/api/"],
                ttl: ttl,
                maxEntries: maxEntries,
                maxBodySize: maxBodySize,
                maxTotalBytes: maxTotalBytes,
                clock: clock
            )
        )
        router.get("/api/count") { _, _ in "render \(renders.increment())" }
        router.get("/api/big") { _, _ in String(repeating: "x", count: 2048) + "\(renders.increment())" }
        router.get("/api/private") { _, _ in
            Response(status: .ok, headers: [.cacheControl: "private"], body: .init(byteBuffer: .init(string: "\(renders.increment())")))
        }
        router.get("/api/missing") { _, _ -> Response in
            _ = renders.increment()
            return Response(status: .notFound)
        }
        router.post("/api/count") { _, _ in "posted \(renders.increment())" }
        router.get("/other") { _, _ in "other \(renders.increment())" }
        return Application(router: router)
    }

    @Test("replays a GET within the TTL with an Age header, renders again after it")
    func replayWithinTTL() async throws {
        let clock = ManualClock()
        let renders = CallCounter()
        try await app(clock: clock, renders: renders).test(.router) { client in
            let first = try await client.execute(uri: "/api/count?city=Oslo", method: .get)
            #expect(String(buffer: first.body) == "render 1")
            #expect(first.headers[.age] == nil)
            clock.advance(by: .milliseconds(900))
            let replayed = try await client.execute(uri: "/api/count?city=Oslo", method: .get)
            #expect(String(buffer: replayed.body) == "render 1")
            #expect(replayed.headers[.age] == "0")
            #expect(replayed.headers[.contentType] == first.headers[.contentType])
            clock.advance(by: .milliseconds(100))
            let fresh = try await client.execute(uri: "/api/count?city=Oslo", method: .get)
            #expect(String(buffer: fresh.body) == "render 2")
        }
        #expect(renders.count == 2)
    }

    @Test("Age counts whole seconds since the answer was rendered")
    func ageInSeconds() async throws {
        let clock = ManualClock()
        try await app(clock: clock, renders: CallCounter(), ttl: .seconds(5)).test(.router) { client in
            _ = try await client.execute(uri: "/api/count", method: .get)
            clock.advance(by: .milliseconds(2500))
            let replayed = try await client.execute(uri: "/api/count", method: .get)
            #expect(replayed.headers[.age] == "2")
            #expect(String(buffer: replayed.body) == "render 1")
        }
    }

    @Test("keys on path and query")
    func keyIncludesQuery() async throws {
        let renders = CallCounter()
        try await app(clock: ManualClock(), renders: renders).test(.router) { client in
            let oslo = try await client.execute(uri: "/api/count?city=Oslo", method: .get)
            let bergen = try await client.execute(uri: "/api/count?city=Bergen", method: .get)
            #expect(String(buffer: oslo.body) != String(buffer: bergen.body))
        }
        #expect(renders.count == 2)
    }

    @Test("does not store errors, POSTs, authorised requests, private answers, large bodies or other paths")
    func passesThrough() async throws {
        let renders = CallCounter()
        try await app(clock: ManualClock(), renders: renders).test(.router) { client in
            for _ in 0..<2 {
                #expect(try await client.execute(uri: "/api/missing", method: .get).status == .notFound)
                _ = try await client.execute(uri: "/api/count", method: .post)
                _ = try await client.execute(uri: "/api/count", method: .get, headers: [.authorization: "Bearer t"])
                _ = try await client.execute(uri: "/api/private", method: .get)
                let big = try await client.execute(uri: "/api/big", method: .get)
                #expect(big.body.readableBytes > 2048, "an oversized answer is still delivered whole")
                _ = try await client.execute(uri: "/other", method: .get)
            }
        }
        #expect(renders.count == 12)
    }

    @Test("holds at most maxEntries, dropping the oldest")
    func boundedEntries() async throws {
        let clock = ManualClock()
        let renders = CallCounter()
        try await app(clock: clock, renders: renders, maxEntries: 2).test(.router) { client in
            _ = try await client.execute(uri: "/api/count?n=1", method: .get)
            clock.advance(by: .milliseconds(10))
            _ = try await client.execute(uri: "/api/count?n=2", method: .get)
            clock.advance(by: .milliseconds(10))
            _ = try await client.execute(uri: "/api/count?n=3", method: .get)  // evicts n=1
            #expect(renders.count == 3)
            _ = try await client.execute(uri: "/api/count?n=3", method: .get)
            _ = try await client.execute(uri: "/api/count?n=2", method: .get)
            #expect(renders.count == 3)
            _ = try await client.execute(uri: "/api/count?n=1", method: .get)
            #expect(renders.count == 4)
        }
    }

    @Test("holds at most maxTotalBytes of bodies, dropping the oldest")
    func boundedBytes() async throws {
        let clock = ManualClock()
        let renders = CallCounter()
        // Each answer is "render N": 8 bytes; 20 bytes hold two.
        try await app(clock: clock, renders: renders, maxTotalBytes: 20).test(.router) { client in
            for n in 1...3 {
                _ = try await client.execute(uri: "/api/count?n=\(n)", method: .get)
                clock.advance(by: .milliseconds(10))
            }
            _ = try await client.execute(uri: "/api/count?n=3", method: .get)
            _ = try await client.execute(uri: "/api/count?n=2", method: .get)
            #expect(renders.count == 3)
            _ = try await client.execute(uri: "/api/count?n=1", method: .get)
            #expect(renders.count == 4)
        }
    }
}
