import AsyncHTTPClient
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import InterchangeTesting
import NIOCore
import Testing

@testable import GatewayProxy

@Suite("proxy-cache: hits, misses, refreshes and bypasses; Cache-Control; a memory bound", .timeLimit(.minutes(2)))
struct ProxyCachePluginTests {
    /// An upstream that counts the requests reaching it: `/<anything>` answers `{"n":N,"path":…}` as JSON, with the
    /// `Cache-Control` of the `cc` query parameter, `text/html` for `/page`, 2 KiB of JSON for `/big`, and for
    /// `/stream` 2 000 bytes of JSON in two chunks of unannounced length.
    static func upstream(_ hits: LockedValue<Int>) -> AnyRequest {
        AnyRequest { request, _ in
            let n = hits.withLock { value in
                value += 1
                return value
            }
            var headers: HTTPFields = [.contentType: request.uri.path == "/page" ? "text/html" : "application/json; charset=utf-8"]
            if let control = request.uri.queryParameters["cc"] { headers[.cacheControl] = String(control) }
            if request.uri.path == "/stream" {
                let parts = [
                    ByteBuffer(string: "[\"" + String(repeating: "s", count: 998)), ByteBuffer(string: String(repeating: "s", count: 998) + "\"]"),
                ]
                return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: parts.async))
            }
            let padding = request.uri.path == "/big" ? String(repeating: "x", count: 2048) : ""
            let body = #"{"n":\#(n),"path":"\#(request.uri.path)","pad":"\#(padding)"}"#
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func yaml(upstream port: Int, config: String) -> String {
        GatewayPluginTests.yaml(upstream: port, plugins: "  - name: proxy-cache\n    config: \(config)")
    }

    /// The `n` the upstream put in a body: which of its answers this is.
    static func n(_ body: String) -> Int? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["n"] as? Int
    }

    @Test("a repeated GET is a Hit with Age and the same key; another query or a POST is not; after cache_ttl a Refresh")
    func hitMissRefreshBypass() async throws {
        let hits = LockedValue(0)
        let now = LockedValue(Date(timeIntervalSince1970: 1_767_225_600))
        try await LoopbackServer.run(Self.upstream(hits)) { upstream in
            let yaml = Self.yaml(
                upstream: upstream.port,
                config: "{strategy: memory, cache_ttl: 30, storage_ttl: 60, content_type: [application/json], vary_query_params: [page]}"
            )
            try await withGateway(yaml, now: { now.value }) { _, gateway in
                let miss = try await call(.GET, "\(gateway)/items?page=1&tracking=a")
                #expect(miss.headers["X-Cache-Status"] == ["Miss"])
                let key = try #require(miss.headers["X-Cache-Key"].first)
                #expect(key.count == 32, "an MD5 in hex, as Kong's")

                now.withLock { $0 = $0.addingTimeInterval(7) }
                let hit = try await call(.GET, "\(gateway)/items?tracking=b&page=1")
                #expect(hit.headers["X-Cache-Status"] == ["Hit"])
                #expect(hit.headers["X-Cache-Key"] == [key], "parameters outside vary_query_params are not in the key")
                #expect(hit.headers["Age"] == ["7"])
                #expect(hit.headers["Content-Type"] == ["application/json; charset=utf-8"])
                #expect(Self.n(hit.body) == 1 && hit.body == miss.body)
                #expect(hits.value == 1, "the hit never reached the upstream")

                let otherPage = try await call(.GET, "\(gateway)/items?page=2")
                #expect(otherPage.headers["X-Cache-Status"] == ["Miss"])
                #expect(Self.n(otherPage.body) == 2)

                let post = try await call(.POST, "\(gateway)/items?page=1", body: "{}")
                #expect(post.headers["X-Cache-Status"] == ["Bypass"])
                #expect(Self.n(post.body) == 3)

                let html = try await call(.GET, "\(gateway)/page")
                #expect(html.headers["X-Cache-Status"] == ["Bypass"], "text/html is not in content_type")
                #expect(try await call(.GET, "\(gateway)/page").headers["X-Cache-Status"] == ["Bypass"])

                now.withLock { $0 = $0.addingTimeInterval(24) }  // 31 s after the miss: stale, but kept (storage_ttl)
                let refresh = try await call(.GET, "\(gateway)/items?page=1")
                #expect(refresh.headers["X-Cache-Status"] == ["Refresh"])
                #expect(Self.n(refresh.body) == 6)
                let again = try await call(.GET, "\(gateway)/items?page=1")
                #expect(again.headers["X-Cache-Status"] == ["Hit"])
                #expect(Self.n(again.body) == 6)
                #expect(hits.value == 6)

                let head = try await call(.HEAD, "\(gateway)/other")
                #expect(head.headers["X-Cache-Status"] == ["Miss"])
                let headHit = try await call(.HEAD, "\(gateway)/other")
                #expect(headHit.headers["X-Cache-Status"] == ["Hit"])
                #expect(headHit.body.isEmpty)
                #expect(hits.value == 7)
            }
        }
    }

    @Test("cache_control: private and no-store responses are not stored; max-age sets freshness; a request's no-cache bypasses")
    func cacheControl() async throws {
        let hits = LockedValue(0)
        let now = LockedValue(Date(timeIntervalSince1970: 1_767_225_600))
        try await LoopbackServer.run(Self.upstream(hits)) { upstream in
            let yaml = Self.yaml(upstream: upstream.port, config: "{strategy: memory, cache_control: true, cache_ttl: 300, storage_ttl: 60}")
            try await withGateway(yaml, now: { now.value }) { _, gateway in
                for control in ["private,max-age=60", "no-store", "no-cache", "max-age=0"] {
                    let escaped = control.replacingOccurrences(of: ",", with: "%2C").replacingOccurrences(of: "=", with: "%3D")
                    #expect(try await call(.GET, "\(gateway)/r?cc=\(escaped)").headers["X-Cache-Status"] == ["Bypass"], "\(control)")
                    #expect(try await call(.GET, "\(gateway)/r?cc=\(escaped)").headers["X-Cache-Status"] == ["Bypass"], "\(control)")
                }
                #expect(hits.value == 8)

                #expect(try await call(.GET, "\(gateway)/m?cc=max-age%3D5").headers["X-Cache-Status"] == ["Miss"])
                now.withLock { $0 = $0.addingTimeInterval(4) }
                #expect(try await call(.GET, "\(gateway)/m?cc=max-age%3D5").headers["X-Cache-Status"] == ["Hit"])
                let stricter = try await call(.GET, "\(gateway)/m?cc=max-age%3D5", headers: [("Cache-Control", "max-age=2")])
                #expect(stricter.headers["X-Cache-Status"] == ["Refresh"], "the request accepts nothing older than 2 s")
                now.withLock { $0 = $0.addingTimeInterval(6) }
                let stale = try await call(.GET, "\(gateway)/m?cc=max-age%3D5", headers: [("Cache-Control", "max-stale=10")])
                #expect(stale.headers["X-Cache-Status"] == ["Hit"], "max-stale accepts it 1 s past its max-age")
                #expect(try await call(.GET, "\(gateway)/m?cc=max-age%3D5").headers["X-Cache-Status"] == ["Refresh"])

                let noCache = try await call(.GET, "\(gateway)/m?cc=max-age%3D5", headers: [("Cache-Control", "no-cache")])
                #expect(noCache.headers["X-Cache-Status"] == ["Bypass"])
                let authorized = try await call(.GET, "\(gateway)/m?cc=max-age%3D5", headers: [("Authorization", "Bearer t")])
                #expect(authorized.headers["X-Cache-Status"] == ["Bypass"], "with cache_control an authorized request is not shared")
            }
        }
    }

    @Test("memory is bounded: the least recently used entries go first, and a response over max_entry_bytes passes unstored")
    func memoryBound() async throws {
        let hits = LockedValue(0)
        try await LoopbackServer.run(Self.upstream(hits)) { upstream in
            let yaml = Self.yaml(upstream: upstream.port, config: "{strategy: memory, memory: {max_bytes: 4096, max_entry_bytes: 1024}}")
            try await withGateway(yaml) { _, gateway in
                let big = try await call(.GET, "\(gateway)/big")
                #expect(big.body.utf8.count > 2048, "passed on whole")
                #expect(big.headers["X-Cache-Status"] == ["Bypass"])
                #expect(try await call(.GET, "\(gateway)/big").headers["X-Cache-Status"] == ["Bypass"], "never stored")
                #expect(hits.value == 2)
                // Of unannounced length, it is copied as it streams until it passes the bound, then only passed on.
                let streamed = try await call(.GET, "\(gateway)/stream")
                #expect(streamed.body.utf8.count == 2000)
                #expect(streamed.headers["X-Cache-Status"] == ["Miss"])
                #expect(try await call(.GET, "\(gateway)/stream").headers["X-Cache-Status"] == ["Miss"], "never stored")
                #expect(hits.value == 4)

                // Each entry counts some 200 bytes: 40 of them cannot all fit in 4 KiB.
                for index in 0..<40 { _ = try await call(.GET, "\(gateway)/p\(index)") }
                #expect(try await call(.GET, "\(gateway)/p39").headers["X-Cache-Status"] == ["Hit"], "the newest is kept")
                #expect(try await call(.GET, "\(gateway)/p0").headers["X-Cache-Status"] == ["Miss"], "the oldest was evicted")
            }
        }
    }

    @Test("the response cache holds at most its bytes, evicting least recently used first")
    func responseCacheBound() {
        let cache = ResponseCache(maxBytes: 2000)
        let now = Date(timeIntervalSince1970: 0)
        func entry(_ size: Int) -> ResponseCache.Entry {
            ResponseCache.Entry(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(repeating: 0x61, count: size),
                storedAt: now,
                ttl: 60,
                expires: now.addingTimeInterval(60)
            )
        }
        for index in 0..<5 { cache.store(entry(300), under: "k\(index)") }
        #expect(cache.entry("k0", at: now) != nil)  // k0 is now the most recently used
        cache.store(entry(600), under: "k5")
        #expect(cache.usage.bytes <= 2000)
        #expect(cache.entry("k0", at: now) != nil)
        #expect(cache.entry("k1", at: now) == nil, "the least recently used went first")
        #expect(cache.entry("k5", at: now) != nil)
        cache.store(entry(5000), under: "huge")
        #expect(cache.entry("huge", at: now) == nil, "larger than the whole bound: not stored")
        #expect(cache.entry("k5", at: now.addingTimeInterval(61)) == nil, "expired entries are gone")
    }
}
