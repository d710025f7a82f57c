import Foundation
import HTTPIntegration
import InterchangeTesting
import Testing

@testable import WeatherDashboard

@Suite("Dashboard caching: single-flight and stale-if-error, counted at the upstream")
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
            server.enqueue("/v1/search", .json(try fixture("open-meteo/geocoding-london")))
            var slow = ScriptedHTTPServer.Reply.json(try fixture("open-meteo/forecast-london-metric"))
            slow.delay = .milliseconds(100)
            server.enqueue("/v1/forecast", slow)
            let service = try service(server, clock: ManualClock())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        _ = try await service.weather(city: nil, country: nil, latitude: 51.5, longitude: -0.12, units: .metric)
                    }
                }
                try await group.waitForAll()
            }
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
