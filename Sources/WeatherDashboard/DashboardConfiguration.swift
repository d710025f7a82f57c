import AsyncHTTPClient
import Foundation
import HTTPIntegration
import InterchangeCore
import Logging
import Resilience

/// Which upstreams the dashboard talks to, and how carefully.
///
/// An upstream with a `baseURL` is the real API (or anything speaking its protocol); without one, the dashboard
/// calls Interchange's simulator of it, at `simulatorPath` on this process. Only base URLs and credentials
/// differ between the two: the client code is the same.
public struct DashboardConfiguration: Sendable {
    public enum Provider: String, Sendable, CaseIterable {
        case openWeatherMap = "openweathermap"
        case openMeteo = "open-meteo"
    }

    public struct Upstream: Sendable {
        /// What the upstream is called in metrics, logs and breaker names (`open-meteo`, `github`): each upstream
        /// keeps its own label even when all of them are simulated on this one host and port.
        public var name: String
        /// The real API's base URL (`https://api.openweathermap.org`); nil for the in-process simulator.
        public var baseURL: String?
        /// Where the simulator is mounted on this process.
        public var simulatorPath: String
        /// The API key (OpenWeatherMap) or token (GitHub); the simulator's demo credential when simulated.
        public var credential: String?

        public init(name: String, baseURL: String? = nil, simulatorPath: String, credential: String? = nil) {
            self.name = name
            self.baseURL = baseURL
            self.simulatorPath = simulatorPath
            self.credential = credential
        }

        public var isSimulated: Bool { baseURL == nil }
    }

    /// How long answers are fresh, and how long a stale copy may stand in for a failing upstream.
    public struct CachePolicy: Sendable {
        public var weatherTTL: Duration = .seconds(10 * 60)
        public var weatherStaleIfError: Duration = .seconds(2 * 3600)
        public var repositoryTTL: Duration = .seconds(5 * 60)
        public var repositoryStaleIfError: Duration = .seconds(3600)
        public var citiesTTL: Duration = .seconds(24 * 3600)
        /// How long a rendered `/api/` answer is replayed byte for byte before it is rendered again (`nil`: never).
        /// Bounds JSON encoding to once per URL per period under load; answers may be this much older.
        public var responseMicroCacheTTL: Duration? = .seconds(1)

        public init() {}
    }

    public var provider: Provider
    public var openWeatherMap: Upstream
    public var openMeteoForecast: Upstream
    public var openMeteoGeocoding: Upstream
    public var github: Upstream
    public var cachePolicy: CachePolicy
    /// Retries, breaker and timeouts for each upstream (each gets its own breaker and budget).
    public var upstreamPolicy: HostPolicy
    public var clock: AnyClock
    public var now: @Sendable () -> Date

    /// The simulators' demo credentials.
    public static let simulatorAPIKey = "interchange-demo-key"
    public static let simulatorToken = "interchange-demo-token"

    public init(
        provider: Provider = .openMeteo,
        openWeatherMap: Upstream = Upstream(name: "openweathermap", simulatorPath: "/sim/openweathermap"),
        openMeteoForecast: Upstream = Upstream(name: "open-meteo", simulatorPath: "/sim/open-meteo"),
        openMeteoGeocoding: Upstream = Upstream(name: "open-meteo-geocoding", simulatorPath: "/sim/open-meteo-geocoding"),
        github: Upstream = Upstream(name: "github", simulatorPath: "/sim/github"),
        cachePolicy: CachePolicy = CachePolicy(),
        upstreamPolicy: HostPolicy = DashboardConfiguration.defaultUpstreamPolicy,
        clock: AnyClock = AnyClock(ContinuousClock()),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.provider = provider
        self.openWeatherMap = openWeatherMap
        self.openMeteoForecast = openMeteoForecast
        self.openMeteoGeocoding = openMeteoGeocoding
        self.github = github
        self.cachePolicy = cachePolicy
        self.upstreamPolicy = upstreamPolicy
        self.clock = clock
        self.now = now
    }

    /// Three attempts with jittered backoff, a breaker opening at 50% failures of the last 20 calls (once 10 were
    /// made) for 30 s, 4 s per attempt and 10 s per call: a page should fail fast rather than hang.
    public static let defaultUpstreamPolicy = HostPolicy(
        retry: RetryPolicy(maxAttempts: 3, backoff: .standard),
        circuitBreaker: .init(
            failureRateThreshold: 50,
            slowCallDurationThreshold: .seconds(3),
            slidingWindow: .countBased(size: 20),
            minimumNumberOfCalls: 10,
            waitDurationInOpenState: .seconds(30),
            permittedCallsInHalfOpenState: 2
        ),
        attemptTimeout: .seconds(4),
        totalTimeout: .seconds(10)
    )

    /// Throws ``ConfigurationError`` naming the first bad field.
    public func validate() throws {
        for (field, upstream) in [
            ("weather.openWeatherMap.baseURL", openWeatherMap), ("weather.openMeteo.baseURL", openMeteoForecast),
            ("weather.openMeteo.geocodingBaseURL", openMeteoGeocoding), ("github.baseURL", github),
        ] {
            if let url = upstream.baseURL {
                _ = try HTTPURL.parse(url, rules: .baseURL, field: field)
            }
        }
        if provider == .openWeatherMap, !openWeatherMap.isSimulated, (openWeatherMap.credential ?? "").isEmpty {
            throw ConfigurationError(field: "weather.openWeatherMap.apiKey", reason: "is required to use the real OpenWeatherMap API")
        }
        try upstreamPolicy.validate()
    }

    func makeService(httpClient: HTTPClient, selfBaseURL: String, logger: Logger) throws -> DashboardService {
        func client(for upstream: Upstream, authentication: (any AuthenticationProvider)?) throws -> HTTPIntegration.Upstream {
            var policy = upstreamPolicy
            policy.authentication = authentication
            let client = try ResilientHTTPClient(
                configuration: .init(name: upstream.name, defaultPolicy: policy),
                httpClient: httpClient,
                logger: logger,
                clock: clock,
                now: now
            )
            return try client.upstream(baseURL: upstream.baseURL ?? selfBaseURL + upstream.simulatorPath)
        }
        let weather: any WeatherProvider
        switch provider {
        case .openWeatherMap:
            let key = openWeatherMap.credential ?? Self.simulatorAPIKey
            weather = OpenWeatherMapProvider(
                upstream: try client(for: openWeatherMap, authentication: .apiKey(key, query: "appid")),
                isSimulated: openWeatherMap.isSimulated
            )
        case .openMeteo:
            weather = OpenMeteoProvider(
                geocoding: try client(for: openMeteoGeocoding, authentication: nil),
                forecast: try client(for: openMeteoForecast, authentication: nil),
                isSimulated: openMeteoForecast.isSimulated
            )
        }
        let token = github.credential ?? Self.simulatorToken
        let github = GitHubClient(upstream: try client(for: github, authentication: .bearer(token)), isSimulated: github.isSimulated)
        return try DashboardService(weatherProvider: weather, github: github, cachePolicy: cachePolicy, clock: clock, now: now)
    }
}
