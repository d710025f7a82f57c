import Foundation
import InterchangeCore
import ServiceRuntime
import Simulators
import WeatherDashboard

/// The dashboard and the simulators of the APIs it calls.
///
/// Under `up`, each simulator runs (at `/sim/…`) when the real API it stands for is not configured. Under
/// `serve weather`, the dashboard brings the simulators it needs itself. `serve <name>-sim` runs one simulator
/// alone at the real API's own paths.
extension ComponentCatalog {
    static let dashboardKeys: Set<String> = [
        "weather.provider", "weather.openWeatherMap.apiKey", "weather.openWeatherMap.baseURL", "weather.openMeteo.baseURL",
        "weather.openMeteo.geocodingBaseURL", "github.token", "github.baseURL", "weather.openWeatherMap.name", "weather.openMeteo.name",
        "weather.openMeteo.geocodingName", "github.name", "weather.microCacheSeconds",
    ]

    /// The dashboard's configuration from the settings; real APIs where a key or base URL is configured.
    static func dashboardConfiguration(_ settings: Settings) throws -> DashboardConfiguration {
        let sources = settings.sources
        let openWeatherMapKey = sources.optionalString("weather.openWeatherMap.apiKey", environment: ["OPENWEATHERMAP_API_KEY"])
        let openWeatherMapURL =
            try sources.baseURL("weather.openWeatherMap.baseURL", environment: ["INTERCHANGE_OPENWEATHERMAP_URL"])
            ?? (openWeatherMapKey == nil ? nil : "https://api.openweathermap.org")
        let openMeteoURL = try sources.baseURL("weather.openMeteo.baseURL", environment: ["INTERCHANGE_OPEN_METEO_URL"])
        let openMeteoGeocodingURL =
            try sources.baseURL("weather.openMeteo.geocodingBaseURL", environment: ["INTERCHANGE_OPEN_METEO_GEOCODING_URL"])
            ?? openMeteoURL.map { $0.replacingOccurrences(of: "://api.open-meteo.com", with: "://geocoding-api.open-meteo.com") }
        let provider = try sources.choice(
            "weather.provider",
            environment: ["INTERCHANGE_WEATHER_PROVIDER"],
            default: openWeatherMapKey == nil ? "open-meteo" : "openweathermap",
            choices: DashboardConfiguration.Provider.allCases.map(\.rawValue)
        )
        let githubToken = sources.optionalString("github.token", environment: ["GITHUB_TOKEN"])
        let githubURL =
            try sources.baseURL("github.baseURL", environment: ["INTERCHANGE_GITHUB_URL"]) ?? (githubToken == nil ? nil : "https://api.github.com")
        // Each upstream is labelled by what it is (metrics, logs, breaker names), not by the host it is on.
        func name(_ key: String, _ standard: String) -> String { sources.optionalString(key, environment: []) ?? standard }
        let configuration = DashboardConfiguration(
            provider: DashboardConfiguration.Provider(rawValue: provider) ?? .openMeteo,
            openWeatherMap: .init(
                name: name("weather.openWeatherMap.name", "openweathermap"),
                baseURL: openWeatherMapURL,
                simulatorPath: OpenWeatherMapSimulator.embeddedBasePath,
                credential: openWeatherMapKey
            ),
            openMeteoForecast: .init(
                name: name("weather.openMeteo.name", "open-meteo"),
                baseURL: openMeteoURL,
                simulatorPath: OpenMeteoSimulator.embeddedForecastBasePath
            ),
            openMeteoGeocoding: .init(
                name: name("weather.openMeteo.geocodingName", "open-meteo-geocoding"),
                baseURL: openMeteoGeocodingURL,
                simulatorPath: OpenMeteoSimulator.embeddedGeocodingBasePath
            ),
            github: .init(
                name: name("github.name", "github"),
                baseURL: githubURL,
                simulatorPath: GitHubSimulator.embeddedBasePath,
                credential: githubToken
            )
        )
        // How long a rendered /api/ answer is replayed; 0 turns the micro-cache off.
        let microCacheSeconds = try sources.int(
            "weather.microCacheSeconds",
            environment: ["INTERCHANGE_WEATHER_MICRO_CACHE_SECONDS"],
            default: 1,
            range: 0...3600
        )
        var withCache = configuration
        withCache.cachePolicy.responseMicroCacheTTL = microCacheSeconds == 0 ? nil : .seconds(microCacheSeconds)
        try withCache.validate()
        return withCache
    }

    /// The simulators `configuration` calls, mounted where the dashboard expects them.
    static func simulators(for configuration: DashboardConfiguration) -> [any Component] {
        var simulators: [any Component] = []
        switch configuration.provider {
        case .openWeatherMap where configuration.openWeatherMap.isSimulated:
            simulators.append(OpenWeatherMapSimulator(basePath: OpenWeatherMapSimulator.embeddedBasePath))
        case .openMeteo where configuration.openMeteoForecast.isSimulated || configuration.openMeteoGeocoding.isSimulated:
            simulators.append(
                OpenMeteoSimulator(
                    geocodingBasePath: OpenMeteoSimulator.embeddedGeocodingBasePath,
                    forecastBasePath: OpenMeteoSimulator.embeddedForecastBasePath
                )
            )
        default:
            break
        }
        if configuration.github.isSimulated {
            simulators.append(GitHubSimulator(basePath: GitHubSimulator.embeddedBasePath))
        }
        return simulators
    }

    static let weather = Entry(
        name: "weather",
        summary: "weather & repository dashboard (the page at /, its API under /api/)",
        make: { context in
            let configuration = try dashboardConfiguration(context.settings)
            let dashboard = try WeatherDashboardComponent(configuration: configuration, selfBaseURL: context.selfBaseURL, logger: context.logger)
            // Alone, the dashboard brings the simulators it calls; under `up` they are components of their own.
            return [dashboard] + (context.isEmbedded ? [] : simulators(for: configuration))
        },
        includedInUp: { _ in true }
    )

    /// The simulators as components of `up` (when their real API is not configured) or alone (`serve x-sim`).
    static let simulatorEntries: [Entry] = [
        Entry(
            name: "open-meteo-sim",
            summary: "Open-Meteo simulator (geocoding /v1/search, forecast /v1/forecast)",
            make: { context in
                [
                    context.isEmbedded
                        ? OpenMeteoSimulator(
                            geocodingBasePath: OpenMeteoSimulator.embeddedGeocodingBasePath,
                            forecastBasePath: OpenMeteoSimulator.embeddedForecastBasePath
                        ) : OpenMeteoSimulator()
                ]
            },
            includedInUp: { settings in
                guard let configuration = try? dashboardConfiguration(settings), configuration.provider == .openMeteo else { return false }
                return configuration.openMeteoForecast.isSimulated || configuration.openMeteoGeocoding.isSimulated
            }
        ),
        Entry(
            name: "openweathermap-sim",
            summary: "OpenWeatherMap simulator (/geo/1.0/direct, /data/2.5/weather, /data/2.5/forecast; key interchange-demo-key)",
            make: { context in [OpenWeatherMapSimulator(basePath: context.isEmbedded ? OpenWeatherMapSimulator.embeddedBasePath : "")] },
            includedInUp: { settings in
                guard let configuration = try? dashboardConfiguration(settings) else { return false }
                return configuration.provider == .openWeatherMap && configuration.openWeatherMap.isSimulated
            }
        ),
        Entry(
            name: "github-sim",
            summary: "GitHub GraphQL simulator (POST /graphql; token interchange-demo-token)",
            make: { context in [GitHubSimulator(basePath: context.isEmbedded ? GitHubSimulator.embeddedBasePath : "")] },
            includedInUp: { settings in (try? dashboardConfiguration(settings))?.github.isSimulated ?? true }
        ),
    ]
}
