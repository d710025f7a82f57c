import Foundation
import Resilience

/// What the dashboard does, independent of HTTP: resolve a city, fetch its weather, fetch a repository card —
/// each through a TTL cache with single-flight and stale-if-error.
///
/// - N concurrent identical requests cause one upstream call (``SingleFlightCache``).
/// - When an upstream fails and a cached value is younger than its stale window, that value is served,
///   marked stale with its age; the page shows a "stale" badge.
final class DashboardService: Sendable {
    /// Whether a value came fresh from upstream or stands in for a failed one.
    struct Freshness: Sendable, Hashable {
        var stale: Bool
        var age: Duration
        var fetchedAt: Date
    }

    enum WeatherResult: Sendable {
        case weather(city: City, units: Units, report: WeatherReport, freshness: Freshness)
        case ambiguous([City])
    }

    let weatherProvider: any WeatherProvider
    let github: GitHubClient
    private let weatherCache: SingleFlightCache<String, WeatherReport>
    private let cityCache: SingleFlightCache<String, [City]>
    private let repositoryCache: SingleFlightCache<String, RepositoryCard>

    init(
        weatherProvider: any WeatherProvider,
        github: GitHubClient,
        cachePolicy: DashboardConfiguration.CachePolicy = .init(),
        clock: some Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.weatherProvider = weatherProvider
        self.github = github
        weatherCache = try SingleFlightCache(ttl: cachePolicy.weatherTTL, staleIfError: cachePolicy.weatherStaleIfError, clock: clock, now: now)
        cityCache = try SingleFlightCache(ttl: cachePolicy.citiesTTL, staleIfError: cachePolicy.citiesTTL, clock: clock, now: now)
        repositoryCache = try SingleFlightCache(
            ttl: cachePolicy.repositoryTTL,
            staleIfError: cachePolicy.repositoryStaleIfError,
            clock: clock,
            now: now
        )
    }

    /// Up to five places matching `query`.
    func searchCities(_ query: String, country: String? = nil) async throws -> [City] {
        let cities = try await cityCache.value(for: Self.cityKey(query, country: country)) { [weatherProvider] in
            try await weatherProvider.searchCities(query, country: country, limit: 5)
        }.value
        return Self.distinct(cities)
    }

    /// The weather for `city` (by name, optionally narrowed by country) or for `latitude`/`longitude`.
    func weather(city: String?, country: String?, latitude: Double?, longitude: Double?, units: Units) async throws -> WeatherResult {
        let place: City
        if let latitude, let longitude {
            place = City(
                name: city ?? String(format: "%.3f, %.3f", latitude, longitude),
                country: country?.uppercased() ?? "",
                latitude: latitude,
                longitude: longitude
            )
        } else if let city {
            let candidates = try await searchCities(city, country: country)
            guard let first = candidates.first else { throw UpstreamFailure.notFound }
            guard candidates.count == 1 else { return .ambiguous(candidates) }
            place = first
        } else {
            throw UpstreamFailure.notFound
        }
        let key = weatherKey(latitude: place.latitude, longitude: place.longitude, units: units)
        let cached = try await weatherCache.value(for: key) { [weatherProvider] in
            try await weatherProvider.weather(at: place, units: units)
        }
        var resolved = place
        resolved.utcOffsetSeconds = cached.value.utcOffsetSeconds
        return .weather(
            city: resolved,
            units: units,
            report: cached.value,
            freshness: Freshness(stale: cached.isStale, age: cached.age, fetchedAt: cached.fetchedAt)
        )
    }

    /// The card for `owner/name`.
    func repository(owner: String, name: String) async throws -> (RepositoryCard, Freshness) {
        let cached = try await repositoryCache.value(for: "\(owner.lowercased())/\(name.lowercased())") { [github] in
            try await github.repository(owner: owner, name: name)
        }
        return (cached.value, Freshness(stale: cached.isStale, age: cached.age, fetchedAt: cached.fetchedAt))
    }

    /// Callers waiting now for a city search already in flight (not counting the one making it): tests wait for
    /// it to make calls overlap for real.
    func callersWaiting(forCitiesMatching query: String, country: String?) -> Int {
        cityCache.waitingCallers(for: Self.cityKey(query, country: country))
    }

    /// Callers waiting now for a forecast already in flight (not counting the one fetching it).
    func callersWaiting(forWeatherAt latitude: Double, _ longitude: Double, units: Units) -> Int {
        weatherCache.waitingCallers(for: weatherKey(latitude: latitude, longitude: longitude, units: units))
    }

    private static func cityKey(_ query: String, country: String?) -> String {
        "\(query.lowercased())|\(country?.uppercased() ?? "")"
    }

    /// Places closer than the third decimal (about 100 m) share a forecast.
    private func weatherKey(latitude: Double, longitude: Double, units: Units) -> String {
        String(format: "%@|%.3f|%.3f|%@", weatherProvider.name, latitude, longitude, units.rawValue)
    }

    /// `cities` without near-duplicates (the same place listed twice), in order.
    static func distinct(_ cities: [City]) -> [City] {
        var result: [City] = []
        for city in cities where !result.contains(where: { $0.isSamePlace(as: city) }) {
            result.append(city)
        }
        return result
    }
}
