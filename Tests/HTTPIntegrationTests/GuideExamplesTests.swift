import Foundation
import HTTPIntegration
import HTTPTypes
import InterchangeTesting
import Testing

/// The examples of docs/http-client.md, run against a real server so the guide stays true.
@Suite("Guide examples (docs/http-client.md)", .timeLimit(.minutes(1)))
struct GuideExamplesTests {
    struct Repo: Decodable, Sendable {
        let name: String
        let stars: Int
    }

    @Test("calling an API and reading typed errors")
    func callingAnAPI() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let baseURL = server.baseURL
            server.enqueue("/repos/apple/swift", .json(#"{"name":"swift","stars":67000}"#))
            server.enqueue("/repos/apple/nope", .problem(404, title: "Not Found", detail: "no repository apple/nope"))
            try await ResilientHTTPClient.withClient { client in
                let repo = try await client.get("\(baseURL)/repos/apple/swift").decode(Repo.self)
                #expect(repo.stars == 67000)
                do {
                    _ = try await client.get("\(baseURL)/repos/apple/nope").decode(Repo.self)
                    Issue.record("expected an error")
                } catch let error as HTTPIntegrationError {
                    #expect(error.code == .unsuccessfulStatus)
                    #expect(error.status == .notFound)
                    #expect(error.problem?.detail == "no repository apple/nope")
                    #expect(error.attempts == 1)
                }
            }
        }
    }

    @Test("per-host policies, upstreams and pagination")
    func policiesAndPagination() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/repos") { request in
                request.queryValue("page") == "2"
                    ? .json(#"[{"name":"c","stars":3}]"#)
                    : .json(#"[{"name":"a","stars":1},{"name":"b","stars":2}]"#, headers: [("Link", #"</repos?page=2>; rel="next""#)])
            }
            var github = HostPolicy.standard
            github.authentication = .bearer("token")
            github.rateLimit = RateLimitPolicy(algorithm: .tokenBucket(capacity: 10, refillPerSecond: 5), maxWait: .seconds(1))
            github.retry.maxAttempts = 4
            try await ResilientHTTPClient.withClient(configuration: .init(hosts: ["127.0.0.1": github])) { client in
                let api = try client.upstream(baseURL: server.baseURL)
                var names: [String] = []
                for try await repo in client.items(of: api.request(.get, "/repos"), style: .linkHeader, as: Repo.self) {
                    names.append(repo.name)
                }
                #expect(names == ["a", "b", "c"])
                #expect(server.requests(to: "/repos").allSatisfy { $0.headers[.authorization] == "Bearer token" })
            }
        }
    }

    @Test("caching with stale-if-error")
    func caching() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/weather", .json(#"{"t":18}"#, headers: [("Cache-Control", "max-age=0"), ("ETag", #""w1""#)]), .status(503))
            let configuration = ResilientHTTPClient.Configuration(
                hosts: ["127.0.0.1": HostPolicy(retry: .disabled, staleIfError: .seconds(600))],
                cache: try HTTPCache(maxEntries: 1000)
            )
            try await ResilientHTTPClient.withClient(configuration: configuration) { client in
                #expect(try await client.get("\(server.baseURL)/weather").cacheStatus == .miss)
                let response = try await client.get("\(server.baseURL)/weather")
                guard case .stale = response.cacheStatus else {
                    Issue.record("expected stale, got \(response.cacheStatus)")
                    return
                }
                #expect(response.text == #"{"t":18}"#)
            }
        }
    }
}
