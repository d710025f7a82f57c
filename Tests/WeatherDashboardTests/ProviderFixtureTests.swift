import Foundation
import HTTPIntegration
import InterchangeTesting
import Testing

@testable import WeatherDashboard

/// The clients against recorded responses of the real APIs, served at the real paths.
@Suite("Upstream clients against recorded responses", .timeLimit(.minutes(1)))
struct ProviderFixtureTests {
    @Test("OpenWeatherMap: geocoding candidates, current conditions, five daily forecasts; the key goes in appid")
    func openWeatherMap() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/geo/1.0/direct", .json(try fixture("openweathermap/geo-direct-london")))
            server.enqueue("/data/2.5/weather", .json(try fixture("openweathermap/weather-london-metric")))
            server.enqueue("/data/2.5/forecast", .json(try fixture("openweathermap/forecast-london-metric")))
            let provider = OpenWeatherMapProvider(
                upstream: try upstream(server, authentication: .apiKey("k-123", query: "appid")),
                isSimulated: false
            )
            let cities = try await provider.searchCities("London", country: nil, limit: 5)
            #expect(cities.map(\.country) == ["GB", "GB", "CA", "US", "US"])
            #expect(cities[2].region == "Ontario")
            #expect(server.requests(to: "/geo/1.0/direct").first?.queryValue("appid") == "k-123")
            let report = try await provider.weather(at: cities[0], units: .metric)
            #expect(report.daily.count == 5)
            #expect(report.daily.map(\.date) == ["2025-03-20", "2025-03-21", "2025-03-22", "2025-03-23", "2025-03-24"])
            #expect(report.daily.allSatisfy { $0.minimum <= $0.maximum })
            #expect(report.current.observedAt == Date(timeIntervalSince1970: 1_742_494_512))
            #expect(server.requests(to: "/data/2.5/forecast").first?.queryValue("units") == "metric")
        }
    }

    @Test("OpenWeatherMap: an unknown place is an empty list; a bad key is a bad-gateway failure naming the credentials")
    func openWeatherMapErrors() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/geo/1.0/direct", .json(try fixture("openweathermap/geo-direct-empty")))
            server.enqueue("/data/2.5/weather", .json(try fixture("openweathermap/error-401"), status: .unauthorized))
            let provider = OpenWeatherMapProvider(upstream: try upstream(server), isSimulated: false)
            #expect(try await provider.searchCities("Qwxyzzyville", country: nil, limit: 5).isEmpty)
            do {
                _ = try await provider.weather(at: City(name: "X", country: "GB", latitude: 1, longitude: 1), units: .metric)
                Issue.record("expected a failure")
            } catch UpstreamFailure.badGateway(let reason) {
                #expect(reason.contains("credentials"))
            }
        }
    }

    @Test("OpenWeatherMap: 429 becomes a rate-limited failure with the server's Retry-After")
    func openWeatherMapRateLimited() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue(
                "/geo/1.0/direct",
                .json(try fixture("openweathermap/error-429"), status: .tooManyRequests, headers: [("Retry-After", "42")])
            )
            let provider = OpenWeatherMapProvider(upstream: try upstream(server), isSimulated: false)
            do {
                _ = try await provider.searchCities("London", country: nil, limit: 5)
                Issue.record("expected a failure")
            } catch UpstreamFailure.rateLimited(let retryAfter, _) {
                #expect(retryAfter == .seconds(42))
            }
        }
    }

    @Test("Open-Meteo: geocoding (no results key when nothing matches) and the forecast in both unit systems")
    func openMeteo() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/v1/search") { request in
                request.queryValue("name") == "London"
                    ? .json(try fixture("open-meteo/geocoding-london")) : .json(try fixture("open-meteo/geocoding-empty"))
            }
            server.handle("/v1/forecast") { request in
                request.queryValue("temperature_unit") == "fahrenheit"
                    ? .json(try fixture("open-meteo/forecast-london-imperial")) : .json(try fixture("open-meteo/forecast-london-metric"))
            }
            let provider = OpenMeteoProvider(geocoding: try upstream(server), forecast: try upstream(server), isSimulated: false)
            let cities = try await provider.searchCities("London", country: nil, limit: 5)
            #expect(cities.first?.country == "GB")
            #expect(try await provider.searchCities("London", country: "CA", limit: 5).allSatisfy { $0.country == "CA" })
            #expect(try await provider.searchCities("Qwxyzzyville", country: nil, limit: 5).isEmpty)
            let metric = try await provider.weather(at: cities[0], units: .metric)
            let imperial = try await provider.weather(at: cities[0], units: .imperial)
            #expect(metric.daily.count == 5 && imperial.daily.count == 5)
            #expect(imperial.current.temperature > metric.current.temperature)  // °F above °C for these temperatures
            #expect(server.requests(to: "/v1/forecast").last?.queryValue("wind_speed_unit") == "mph")
            #expect(metric.current.observedAt == Date(timeIntervalSince1970: 1_742_494_500))  // 2025-03-20T18:15 local, offset 0
        }
    }

    @Test("Open-Meteo: its 400 error body is a bad-gateway failure with the reason")
    func openMeteoError() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/v1/forecast", .json(try fixture("open-meteo/error-400"), status: .badRequest))
            let provider = OpenMeteoProvider(geocoding: try upstream(server), forecast: try upstream(server), isSimulated: false)
            await #expect(throws: UpstreamFailure.self) {
                _ = try await provider.weather(at: City(name: "X", country: "GB", latitude: 1, longitude: 1), units: .metric)
            }
        }
    }

    @Test("GitHub: the card from one GraphQL query with variables, and the rate limit surfaced")
    func github() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/graphql", .json(try fixture("github/repository-apple-swift-nio")))
            let client = GitHubClient(upstream: try upstream(server, authentication: .bearer("t-1")), isSimulated: false)
            let card = try await client.repository(owner: "apple", name: "swift-nio")
            #expect(card.nameWithOwner == "apple/swift-nio")
            #expect(card.stars == 8218)
            #expect(card.recentCommits.count == 5)
            #expect(card.recentCommits.allSatisfy { $0.oid.count == 7 })
            #expect(abs(card.languages.map(\.percent).reduce(0, +) - 100) < 1)
            #expect(card.rateLimit != nil)
            let request = try #require(server.requests(to: "/graphql").first)
            #expect(request.headers[.authorization] == "Bearer t-1")
            let body = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any]
            #expect((body?["variables"] as? [String: String]) == ["owner": "apple", "name": "swift-nio"])
            #expect((body?["query"] as? String)?.contains("$owner: String!") == true)
            #expect((body?["query"] as? String)?.contains("swift-nio") == false)  // variables, never interpolation
        }
    }

    @Test("GitHub: NOT_FOUND, rate limits (old and new spellings), bad credentials, validation errors")
    func githubErrors() async throws {
        try await ScriptedHTTPServer.withServer { server in
            let client = GitHubClient(upstream: try upstream(server), isSimulated: false)
            server.enqueue("/graphql", .json(try fixture("github/error-not-found")))
            await #expect { try await client.repository(owner: "a", name: "b") } throws: {
                if case UpstreamFailure.notFound = $0 { return true } else { return false }
            }
            let reset = "1767229200"
            for name in ["error-rate-limited", "error-rate-limited-legacy"] {
                server.enqueue(
                    "/graphql",
                    .json(try fixture("github/\(name)"), headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset)])
                )
                do {
                    _ = try await client.repository(owner: "a", name: "b")
                    Issue.record("expected a rate-limit failure for \(name)")
                } catch UpstreamFailure.rateLimited(_, let resetAt) {
                    #expect(resetAt == Date(timeIntervalSince1970: 1_767_229_200))
                }
            }
            server.enqueue("/graphql", .json(try fixture("github/error-bad-credentials"), status: .unauthorized))
            await #expect { try await client.repository(owner: "a", name: "b") } throws: {
                if case UpstreamFailure.badGateway = $0 { return true } else { return false }
            }
            server.enqueue("/graphql", .json(try fixture("github/error-validation")))
            await #expect { try await client.repository(owner: "a", name: "b") } throws: {
                if case UpstreamFailure.badGateway(let reason) = $0 { return reason.contains("GitHub") } else { return false }
            }
        }
    }
}
