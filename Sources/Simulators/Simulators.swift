/// In-repo simulators of the third-party APIs the reference systems call: OpenWeatherMap, Open-Meteo and the
/// GitHub GraphQL API. Real paths, auth, response shapes, error bodies, status codes and headers (checked against
/// `Tests/WeatherDashboardTests/Fixtures/`); deterministic data from one ``SimulatedWorld``; switches for latency, error rate,
/// outage and rate limiting (``SimulatorControls``), so resilience can be shown live with curl.
///
/// Built on Hummingbird's router (each simulator is a ServiceRuntime `Component`) and, for GitHub, on Graphiti and
/// GraphQLSwift, so queries are parsed, validated and executed by a real GraphQL engine.
///
/// ```swift
/// let world = SimulatedWorld.standard
/// let components: [any Component] = [
///     OpenWeatherMapSimulator(basePath: OpenWeatherMapSimulator.embeddedBasePath, world: world),
///     OpenMeteoSimulator(
///         geocodingBasePath: OpenMeteoSimulator.embeddedGeocodingBasePath,
///         forecastBasePath: OpenMeteoSimulator.embeddedForecastBasePath,
///         world: world
///     ),
///     GitHubSimulator(basePath: GitHubSimulator.embeddedBasePath),
/// ]
/// ```
///
/// Mount each simulator under its own base path (or alone at `""`): every simulator adds `<base>/_sim/control`
/// and `<base>/_sim/reset`, and two at the same base path would add them twice.
public enum SimulatorsModule {}

extension OpenWeatherMapSimulator {
    /// The base path under `interchange up`.
    public static let embeddedBasePath = "/sim/openweathermap"
}

extension OpenMeteoSimulator {
    /// The geocoding host's base path under `interchange up`.
    public static let embeddedGeocodingBasePath = "/sim/open-meteo-geocoding"
    /// The forecast host's base path under `interchange up`.
    public static let embeddedForecastBasePath = "/sim/open-meteo"
}

extension GitHubSimulator {
    /// The base path under `interchange up`.
    public static let embeddedBasePath = "/sim/github"
}
