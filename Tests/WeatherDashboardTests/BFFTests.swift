import AsyncHTTPClient
import Foundation
import Hummingbird
import InterchangeTesting
import Logging
import NIOCore
import Resilience
import ServiceRuntime
import Simulators
import Synchronization
import Testing

@testable import WeatherDashboard

/// The backend-for-frontend against the simulators, mounted as under `interchange up`, on a real port.
/// Answers are decoded into the contract's generated types (`Components.Schemas`).
@Suite("Dashboard BFF against the simulators", .serialized, .timeLimit(.minutes(1)))
struct BFFTests {
    struct Harness: Sendable {
        let baseURL: String
        let client: HTTPClient
        let openMeteo: SimulatorControls
        let github: SimulatorControls
        /// The dashboard's clock: it moves to a sleep's deadline at once (backoff, TTLs and ages move with it).
        let clock: ManualClock
        /// The simulators' latency clock: with a latency set, upstream answers wait until the test advances it.
        let upstreamClock: ManualClock
        /// The dashboard's service, to see how many requests wait for a call in flight.
        let service: @Sendable () throws -> DashboardService

        func get(_ path: String) async throws -> Answer {
            let response = try await client.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for (name, value) in response.headers { headers[name.lowercased()] = value }
            return Answer(status: Int(response.status.code), headers: headers, body: Data(buffer: body))
        }
    }

    struct Answer: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        /// The body as the contract's type; the error names the type and quotes the body.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            do {
                return try decoder.decode(type, from: body)
            } catch {
                throw UnexpectedBody(type: "\(type)", status: status, body: String(decoding: body.prefix(500), as: UTF8.self), cause: "\(error)")
            }
        }

        var problem: Components.Schemas.Problem {
            get throws {
                #expect(headers["content-type"]?.hasPrefix("application/problem+json") == true, "HTTP \(status) is not problem+json")
                return try decode(Components.Schemas.Problem.self)
            }
        }
    }

    struct UnexpectedBody: Error, CustomStringConvertible {
        var type: String
        var status: Int
        var body: String
        var cause: String
        var description: String { "HTTP \(status) is not a \(type) (\(cause)): \(body)" }
    }

    /// Runs `body` against a live dashboard whose upstreams are in-process simulators.
    func withDashboard(_ body: (Harness) async throws -> Void) async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let upstreamClock = ManualClock()
        let openMeteo = SimulatorControls(clock: upstreamClock)
        let github = SimulatorControls(clock: upstreamClock)
        let address = Mutex("")
        let configuration = DashboardConfiguration(clock: AnyClock(clock), now: clock.dateProvider)
        let dashboard = try WeatherDashboardComponent(
            configuration: configuration,
            selfBaseURL: { address.withLock { $0 } },
            logger: LoopbackServer.quietLogger
        )
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
        // Its own client: the shared one keeps 8 connections per host, too few for 30 requests held at once.
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        do {
            try await LoopbackServer.run(router, services: components.flatMap(\.services)) { server in
                address.withLock { $0 = server.baseURL }
                try await body(
                    Harness(
                        baseURL: server.baseURL,
                        client: client,
                        openMeteo: openMeteo,
                        github: github,
                        clock: clock,
                        upstreamClock: upstreamClock,
                        service: { try dashboard.runtime.service() }
                    )
                )
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// The problem types as the page reads them: `/assets/problem-types.json` from the running server.
    func pageProblemTypes(_ harness: Harness) async throws -> DashboardProblemTypes {
        let answer = try await harness.get("/assets/problem-types.json")
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == "application/json")
        return try DashboardProblemTypes(json: answer.body)
    }

    @Test("a city's weather: five days, in the requested units, marked simulated and fresh")
    func weather() async throws {
        try await withDashboard { harness in
            let metric = try await harness.get("/api/weather?city=Berlin")
            #expect(metric.status == 200)
            let celsius = try metric.decode(Components.Schemas.Weather.self)
            #expect(celsius.forecast.count == 5)
            #expect(celsius.units == .metric)
            #expect(celsius.city.country == "DE")
            #expect(celsius.source.simulated)
            #expect(celsius.source.provider == .openMeteo)
            #expect(!celsius.freshness.stale)
            let imperial = try await harness.get("/api/weather?city=Berlin&units=imperial")
            let fahrenheit = try imperial.decode(Components.Schemas.Weather.self)
            #expect(fahrenheit.units == .imperial)
            #expect(abs(fahrenheit.current.temperature - (celsius.current.temperature * 9 / 5 + 32)) < 0.2)
        }
    }

    @Test("an ambiguous name is 300 with candidates; an unknown one is a 404 city-not-found problem")
    func ambiguityAndUnknown() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
            let london = try await harness.get("/api/weather?city=London")
            #expect(london.status == 300)
            let candidates = try london.decode(Components.Schemas.CityCandidates.self).candidates
            #expect(Set(candidates.map(\.country)).isSuperset(of: ["GB", "CA", "US"]))
            let ontario = try await harness.get("/api/weather?city=London&country=CA")
            #expect(ontario.status == 200)
            #expect(try ontario.decode(Components.Schemas.Weather.self).city.country == "CA")
            let atlantis = try await harness.get("/api/weather?city=Atlantis")
            #expect(atlantis.status == 404)
            let problem = try atlantis.problem
            #expect(problem._type == types.uri(\.cityNotFound))
            #expect(problem.status == 404)
        }
    }

    @Test("bad input is a 400 invalid-parameter problem naming the parameter, and no upstream is called")
    func badInput() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
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
                let problem = try response.problem
                #expect(problem.parameter == parameter, "\(path)")
                #expect(problem._type == types.uri(\.invalidParameter), "\(path)")
            }
            #expect(harness.openMeteo.totalRequests == 0)
            #expect(harness.github.totalRequests == 0)
        }
    }

    @Test("a repository card; an unknown repository is a 404 repository-not-found problem")
    func repositories() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
            let answer = try await harness.get("/api/repos/apple/swift-nio")
            #expect(answer.status == 200)
            let card = try answer.decode(Components.Schemas.Repository.self)
            #expect(card.nameWithOwner == "apple/swift-nio")
            #expect(card.recentCommits.count == 5)
            #expect(card.rateLimit?.remaining != nil)
            #expect(card.source.provider == .github)
            let missing = try await harness.get("/api/repos/apple/no-such-repository")
            #expect(missing.status == 404)
            #expect(try missing.problem._type == types.uri(\.repositoryNotFound))
        }
    }

    @Test("upstream rate limits are 429 upstream-rate-limited problems with Retry-After")
    func rateLimited() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
            harness.github.rateLimited = true
            let github = try await harness.get("/api/repos/apple/swift-nio")
            #expect(github.status == 429)
            let problem = try github.problem
            #expect(problem._type == types.uri(\.upstreamRateLimited))
            #expect(problem.upstream == "github")
            #expect(Int(github.headers["retry-after"] ?? "") ?? 0 > 0)
            #expect((problem.retryAfterSeconds ?? 0) > 0)
            harness.openMeteo.rateLimited = true
            let weather = try await harness.get("/api/weather?city=Berlin")
            #expect(weather.status == 429)
            #expect(try weather.problem._type == types.uri(\.upstreamRateLimited))
        }
    }

    @Test("an upstream outage is a 503 upstream-unavailable problem; a cached answer is served stale, with its age")
    func outageAndStale() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
            #expect(try await harness.get("/api/weather?city=Berlin").status == 200)
            harness.openMeteo.outage = true
            let uncached = try await harness.get("/api/weather?city=Tokyo")
            #expect(uncached.status == 503)
            #expect(try uncached.problem._type == types.uri(\.upstreamUnavailable))
            harness.clock.advance(by: .seconds(20 * 60))  // past the 10-minute TTL
            let answer = try await harness.get("/api/weather?city=Berlin")
            #expect(answer.status == 200)
            let stale = try answer.decode(Components.Schemas.Weather.self)
            #expect(stale.freshness.stale)
            #expect(stale.freshness.ageSeconds >= 20 * 60)
        }
    }

    /// Starts 30 identical requests and returns once 29 of them wait for the 30th's forecast call, held at the
    /// upstream: nothing is cached yet, so only single-flight keeps it to one call.
    func thirtyHeldRequests(
        _ harness: Harness,
        into group: inout ThrowingTaskGroup<Answer, any Error>
    ) async throws {
        let path = "/api/weather?lat=52.52&lon=13.41&city=Berlin"
        for _ in 0..<30 { group.addTask { try await harness.get(path) } }
        let service = try harness.service()
        try await waitUntil("29 requests wait for the one forecast call, held at the upstream") {
            harness.upstreamClock.sleeperCount == 1 && service.callersWaiting(forWeatherAt: 52.52, 13.41, units: .metric) == 29
        }
        #expect(harness.openMeteo.requestCount(for: "/v1/forecast") == 1)
    }

    @Test("30 overlapping requests for one city make one forecast call upstream, and every one gets the forecast")
    func singleFlight() async throws {
        try await withDashboard { harness in
            harness.openMeteo.latency = .seconds(1)  // on upstreamClock: held until the test advances it
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                try await thirtyHeldRequests(harness, into: &group)
                harness.upstreamClock.advance(by: .seconds(1))
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 30)
            let forecasts = try answers.map { answer in
                #expect(answer.status == 200)
                return try answer.decode(Components.Schemas.Weather.self)
            }
            #expect(forecasts.allSatisfy { $0.forecast.count == 5 && !$0.freshness.stale })
            #expect(Set(forecasts.map(\.current)).count == 1, "every waiter got the one answer")
            #expect(harness.openMeteo.requestCount(for: "/v1/forecast") == 1)
        }
    }

    @Test("when the one held forecast call fails, every one of the 30 waiting requests gets its 503 problem")
    func singleFlightFailure() async throws {
        try await withDashboard { harness in
            let types = try await pageProblemTypes(harness)
            harness.openMeteo.update {
                $0.latency = .seconds(1)
                $0.outage = true
            }
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                try await thirtyHeldRequests(harness, into: &group)
                harness.openMeteo.latency = .zero  // the call's retries fail at once
                harness.upstreamClock.advance(by: .seconds(1))
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 30)
            for answer in answers {
                #expect(answer.status == 503)
                let problem = try answer.problem
                #expect(problem._type == types.uri(\.upstreamUnavailable))
                #expect(problem.upstream == "open-meteo")
            }
            // One call for all 30: its attempts (the policy allows 3), not 30 × 3.
            let attempts = DashboardConfiguration.defaultUpstreamPolicy.retry.maxAttempts
            #expect(harness.openMeteo.requestCount(for: "/v1/forecast") == attempts)
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
            #expect(try rejected.problem.detail?.contains("paused") == true)
        }
    }
}

/// The problem `type` URIs: one list (`Resources/web/problem-types.json`) that the page fetches and the server
/// answers from.
@Suite("Dashboard problem types, shared by the page and the server")
struct DashboardProblemTypesTests {
    let types: DashboardProblemTypes

    init() throws {
        types = try WebAssets.bundled().problemTypes
    }

    func problemType(of response: WeatherDashboardAPI.FailureResponse) -> String {
        switch response {
        case .notFound(let problem), .badGateway(let problem), .gatewayTimeout(let problem):
            guard case .applicationProblemJson(let body) = problem.body else { return "" }
            return body._type
        case .tooManyRequests(let problem), .serviceUnavailable(let problem):
            guard case .applicationProblemJson(let body) = problem.body else { return "" }
            return body._type
        }
    }

    @Test("every upstream failure is answered with a type from the page's list")
    func upstreamFailures() throws {
        let api = WeatherDashboardAPI(service: { throw UpstreamFailure.timeout }, problemTypes: types)
        let cases: [(UpstreamFailure, String)] = [
            (.notFound, types.uri(\.notFound)),
            (.rateLimited(retryAfter: .seconds(30), resetAt: nil), types.uri(\.upstreamRateLimited)),
            (.unavailable(reason: "down", retryAfter: nil), types.uri(\.upstreamUnavailable)),
            (.timeout, types.uri(\.upstreamTimeout)),
            (.badGateway(reason: "not JSON"), types.uri(\.upstreamUnavailable)),
        ]
        for (failure, expected) in cases {
            #expect(problemType(of: try api.failure(failure, upstream: "open-meteo", notFound: nil)) == expected, "\(failure)")
        }
        let city = try api.failure(UpstreamFailure.notFound, upstream: "open-meteo", notFound: (\.cityNotFound, "City not found", "no city"))
        #expect(problemType(of: city) == "https://interchange.dev/problems/city-not-found")
    }

    @Test("the types ServiceRuntime names for every component are the page's too")
    func serviceRuntimeTypes() {
        #expect(ProblemError.typeBase == types.base)
        #expect(ProblemError.invalidParameter("city", "is required").problem.type == types.uri(\.invalidParameter))
        #expect(ProblemError.notFound("no such thing").problem.type == types.uri(\.notFound))
    }

    @Test("a types file without a kind is refused, naming the file")
    func incompleteFile() {
        #expect {
            _ = try DashboardProblemTypes(json: Data(#"{"base":"https://interchange.dev/problems/","kinds":{"cityNotFound":"x"}}"#.utf8))
        } throws: { error in
            "\(error)".contains("problem-types.json") && "\(error)".contains("invalidParameter")
        }
    }
}
