import Foundation
import HTTPIntegration
import InterchangeTesting
import Testing

@testable import WeatherDashboard

@Suite("Dashboard caching: single-flight and stale-if-error, counted at the upstream", .timeLimit(.minutes(1)))
struct DashboardCachingTests {
    func service(_ server: ScriptedHTTPServer, clock: ManualClock) throws -> DashboardService {
        let provider = OpenMeteoProvider(geocoding: try upstream(server), forecast: try upstream(server), isSimulated: false)
        let github = GitHubClient(upstream: try upstream(server), isSimulated: false)
        return try DashboardService(weatherProvider: provider, github: github, clock: clock, now: clock.dateProvider)
    }

    /// London's weather by coordinates; fails the test unless the service answered with a report.
    func londonWeather(_ service: DashboardService) async throws -> (WeatherReport, DashboardService.Freshness) {
        let result = try await service.weather(city: "London", country: "GB", latitude: 51.5, longitude: -0.12, units: .metric)
        guard case .weather(_, _, let report, let freshness) = result else {
            throw ExpectedWeather(got: "\(result)")
        }
        return (report, freshness)
    }

    struct ExpectedWeather: Error { let got: String }

    @Test("30 concurrent identical requests cause one geocoding and one forecast call")
    func singleFlight() async throws {
        try await ScriptedHTTPServer.withServer { server in
            // Each upstream holds its answer until the test opens its gate, so the 30 calls overlap for real:
            // nothing is cached while they wait, and only single-flight keeps each upstream to one call.
            let geocoding = Gate()
            let forecast = Gate()
            defer {  // a failed wait must not leave the server's handlers stuck at a gate
                geocoding.open()
                forecast.open()
            }
            let cities = try fixture("open-meteo/geocoding-london")
            let report = try fixture("open-meteo/forecast-london-metric")
            server.handle("/v1/search") { _ in
                await geocoding.wait()
                return .json(cities)
            }
            server.handle("/v1/forecast") { _ in
                await forecast.wait()
                return .json(report)
            }
            let service = try service(server, clock: ManualClock())
            let results = try await withThrowingTaskGroup(of: DashboardService.WeatherResult.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        try await service.weather(city: "London", country: "GB", latitude: nil, longitude: nil, units: .metric)
                    }
                }
                try await waitUntil("29 callers wait for the one geocoding call, held at the upstream") {
                    server.requests(to: "/v1/search").count == 1 && service.callersWaiting(forCitiesMatching: "London", country: "GB") == 29
                }
                geocoding.open()
                // London, GB in the geocoding fixture.
                try await waitUntil("29 callers wait for the one forecast call, held at the upstream") {
                    server.requests(to: "/v1/forecast").count == 1 && service.callersWaiting(forWeatherAt: 51.50853, -0.12574, units: .metric) == 29
                }
                forecast.open()
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 30)
            for result in results {
                guard case .weather(let city, _, let report, let freshness) = result else {
                    Issue.record("expected weather, got \(result)")
                    continue
                }
                #expect(city.name == "London" && city.country == "GB")
                #expect(report.daily.count == 5)
                #expect(!freshness.stale)
            }
            #expect(server.requests(to: "/v1/search").count == 1)
            #expect(server.requests(to: "/v1/forecast").count == 1)
        }
    }

    @Test("when the upstream fails after the TTL, the cached forecast is served stale with its age")
    func staleIfError() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.enqueue("/v1/forecast", .json(try fixture("open-meteo/forecast-london-metric")), .status(503))
            let clock = ManualClock()
            let service = try service(server, clock: clock)
            let (_, fresh) = try await londonWeather(service)
            #expect(!fresh.stale)
            clock.advance(by: .seconds(15 * 60))
            let (report, stale) = try await londonWeather(service)
            #expect(stale.stale)
            #expect(stale.age == .seconds(15 * 60))
            #expect(report.daily.count == 5)
            #expect(server.requests(to: "/v1/forecast").count == 2)  // it did try the upstream
            clock.advance(by: .seconds(3 * 3600))
            await #expect(throws: UpstreamFailure.self) {
                _ = try await londonWeather(service)
            }
        }
    }

    @Test("an ambiguous name gives candidates; a country narrows it to one")
    func ambiguity() async throws {
        try await ScriptedHTTPServer.withServer { server in
            server.handle("/v1/search") { _ in .json(try fixture("open-meteo/geocoding-london")) }
            server.enqueue("/v1/forecast", .json(try fixture("open-meteo/forecast-london-metric")))
            let service = try service(server, clock: ManualClock())
            guard
                case .ambiguous(let candidates) = try await service.weather(
                    city: "London",
                    country: nil,
                    latitude: nil,
                    longitude: nil,
                    units: .metric
                )
            else {
                Issue.record("expected candidates")
                return
            }
            #expect(Set(candidates.map(\.country)).count > 1)
            let narrowed = try await service.weather(city: "London", country: "CA", latitude: nil, longitude: nil, units: .metric)
            if case .weather(let city, _, _, _) = narrowed { #expect(city.country == "CA") } else { Issue.record("expected weather") }
        }
    }
}
