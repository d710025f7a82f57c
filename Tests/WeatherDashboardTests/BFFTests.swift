import AsyncHTTPClient
import Foundation
import Hummingbird
import InterchangeTesting
import Logging
import NIOCore
import Resilience
import ServiceLifecycle
import ServiceRuntime
import Simulators
import Synchronization
import Testing

@testable import WeatherDashboard

/// The backend-for-frontend against the simulators, mounted as under `interchange up`, on a real port.
@Suite("Dashboard BFF against the simulators", .serialized)
struct BFFTests {
    struct Harness: Sendable {
        let baseURL: String
        let openMeteo: SimulatorControls
        let github: SimulatorControls
        let clock: ManualClock

        func get(_ path: String) async throws -> (status: Int, headers: [String: String], json: [String: Any]) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            var headers: [String: String] = [:]
            for (name, value) in response.headers { headers[name.lowercased()] = value }
            return (Int(response.status.code), headers, json)
        }
    }

    /// Runs `body` against a live dashboard whose upstreams are in-process simulators.
    func withDashboard(_ body: (Harness) async throws -> Void) async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let openMeteo = SimulatorControls()
        let github = SimulatorControls()
        let address = Mutex("")
        let configuration = DashboardConfiguration(clock: AnyClock(clock), now: clock.dateProvider)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let dashboard = try WeatherDashboardComponent(configuration: configuration, selfBaseURL: { address.withLock { $0 } }, logger: logger)
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        let components: [any Component] = [
            dashboard,
            OpenMeteoSimulator(
                geocodingBasePath: OpenMeteoSimulator.embeddedGeocodingBasePath,
                forecastBasePath: OpenMeteoSimulator.embeddedForecastBasePath,
                controls: openMeteo
            ),
            GitHubSimulator(basePath: GitHubSimulator.embeddedBasePath, controls: github),
        ]
        for component in components { try component.addRoutes(to: router) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        var groupConfiguration = ServiceGroupConfiguration(
            services: components.flatMap(\.services) + [app],
            gracefulShutdownSignals: [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            address.withLock { $0 = "http://127.0.0.1:\(port)" }
            let result: Result<Void, any Error>
            do {
                result = .success(try await body(Harness(baseURL: "http://127.0.0.1:\(port)", openMeteo: openMeteo, github: github, clock: clock)))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            try result.get()
        }
    }

    @Test("a city's weather: five days, in the requested units, marked simulated and fresh")
    func weather() async throws {
        try await withDashboard { harness in
            let metric = try await harness.get("/api/weather?city=Berlin")
            #expect(metric.status == 200)
            #expect((metric.json["forecast"] as? [[String: Any]])?.count == 5)
            #expect(metric.json["units"] as? String == "metric")
            #expect((metric.json["source"] as? [String: Any])?["simulated"] as? Bool == true)
            #expect((metric.json["freshness"] as? [String: Any])?["stale"] as? Bool == false)
            let imperial = try await harness.get("/api/weather?city=Berlin&units=imperial")
            let celsius = try #require((metric.json["current"] as? [String: Any])?["temperature"] as? Double)
            let fahrenheit = try #require((imperial.json["current"] as? [String: Any])?["temperature"] as? Double)
            #expect(abs(fahrenheit - (celsius * 9 / 5 + 32)) < 0.2)
        }
    }

    @Test("an ambiguous name is 300 with candidates; an unknown one is a 404 problem")
    func ambiguityAndUnknown() async throws {
        try await withDashboard { harness in
            let london = try await harness.get("/api/weather?city=London")
            #expect(london.status == 300)
            #expect(((london.json["candidates"] as? [[String: Any]])?.count ?? 0) >= 2)
            let ontario = try await harness.get("/api/weather?city=London&country=CA")
            #expect(ontario.status == 200)
            let atlantis = try await harness.get("/api/weather?city=Atlantis")
            #expect(atlantis.status == 404)
            #expect(atlantis.headers["content-type"]?.hasPrefix("application/problem+json") == true)
            #expect(atlantis.json["type"] as? String == "https://interchange.dev/problems/city-not-found")
        }
    }

    @Test("bad input is a 400 naming the parameter, and no upstream is called")
    func badInput() async throws {
        try await withDashboard { harness in
            let cases: [(String, String)] = [
                ("/api/weather?city=", "city"),
                ("/api/weather?city=\(String(repeating: "x", count: 101))", "city"),
                ("/api/weather?city=Ber%07lin", "city"),
                ("/api/weather?city=Berlin&units=kelvin", "units"),
                ("/api/weather?lat=abc&lon=1", "lat"),
                ("/api/weather?lat=91&lon=1", "lat"),
                ("/api/weather?city=Paris&country=FRA", "country"),
                ("/api/weather", "city"),
                ("/api/cities?q=", "q"),
                ("/api/repos/-bad-/swift", "owner"),
                ("/api/repos/apple/..", "name"),
                ("/api/repos/apple/a%20b", "name"),
            ]
            for (path, parameter) in cases {
                let response = try await harness.get(path)
                #expect(response.status == 400, "\(path)")
                #expect(response.json["parameter"] as? String == parameter, "\(path)")
                #expect(response.headers["content-type"]?.hasPrefix("application/problem+json") == true, "\(path)")
            }
            #expect(harness.openMeteo.totalRequests == 0)
            #expect(harness.github.totalRequests == 0)
        }
    }

    @Test("a repository card; an unknown repository is a 404 problem")
    func repositories() async throws {
        try await withDashboard { harness in
            let card = try await harness.get("/api/repos/apple/swift-nio")
            #expect(card.status == 200)
            #expect(card.json["nameWithOwner"] as? String == "apple/swift-nio")
            #expect((card.json["recentCommits"] as? [Any])?.count == 5)
            #expect((card.json["rateLimit"] as? [String: Any])?["remaining"] != nil)
            let missing = try await harness.get("/api/repos/apple/no-such-repository")
            #expect(missing.status == 404)
            #expect(missing.json["type"] as? String == "https://interchange.dev/problems/repository-not-found")
        }
    }

    @Test("upstream rate limits are 429 problems with Retry-After")
    func rateLimited() async throws {
        try await withDashboard { harness in
            harness.github.rateLimited = true
            let github = try await harness.get("/api/repos/apple/swift-nio")
            #expect(github.status == 429)
            #expect(github.json["type"] as? String == "https://interchange.dev/problems/upstream-rate-limited")
            #expect(github.json["upstream"] as? String == "github")
            #expect(Int(github.headers["retry-after"] ?? "") ?? 0 > 0)
            #expect((github.json["retryAfterSeconds"] as? Int ?? 0) > 0)
            harness.openMeteo.rateLimited = true
            let weather = try await harness.get("/api/weather?city=Berlin")
            #expect(weather.status == 429)
        }
    }

    @Test("an upstream outage is a 503 problem; a cached answer is served stale, with its age")
    func outageAndStale() async throws {
        try await withDashboard { harness in
            #expect(try await harness.get("/api/weather?city=Berlin").status == 200)
            harness.openMeteo.outage = true
            let uncached = try await harness.get("/api/weather?city=Tokyo")
            #expect(uncached.status == 503)
            #expect(uncached.json["type"] as? String == "https://interchange.dev/problems/upstream-unavailable")
            harness.clock.advance(by: .seconds(20 * 60))  // past the 10-minute TTL
            let stale = try await harness.get("/api/weather?city=Berlin")
            #expect(stale.status == 200)
            let freshness = stale.json["freshness"] as? [String: Any]
            #expect(freshness?["stale"] as? Bool == true)
            #expect((freshness?["ageSeconds"] as? Int ?? 0) >= 20 * 60)
        }
    }

    @Test("30 concurrent requests for one city make one forecast call upstream")
    func singleFlight() async throws {
        try await withDashboard { harness in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 { group.addTask { try await harness.get("/api/weather?lat=52.52&lon=13.41&city=Berlin").status } }
                for try await status in group { #expect(status == 200) }
            }
            #expect(harness.openMeteo.requestCount(for: "/v1/forecast") == 1)
        }
    }

    @Test("a failing upstream opens the breaker: later calls fail fast without reaching it")
    func breakerOpens() async throws {
        try await withDashboard { harness in
            harness.openMeteo.outage = true
            let cities = [
                "Tokyo", "Sydney", "Cairo", "Mumbai", "Madrid", "Rome", "Toronto", "Dubai", "Nairobi", "Anchorage", "Singapore", "Reykjavík",
            ]
            for city in cities { _ = try await harness.get("/api/cities?q=\(city.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)") }
            let before = harness.openMeteo.totalRequests
            let rejected = try await harness.get("/api/cities?q=Zurich")
            #expect(rejected.status == 503)
            #expect(harness.openMeteo.totalRequests == before)  // the open breaker answered, not the upstream
            #expect((rejected.json["detail"] as? String)?.contains("paused") == true)
        }
    }
}
