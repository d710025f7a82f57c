import Foundation
import OpenAPIRuntime
import ServiceRuntime

/// The backend-for-frontend (openapi/weather-dashboard.yaml): validates input (a `400` naming the parameter,
/// with no upstream call), asks ``DashboardService``, and shapes the answer for the page.
struct WeatherDashboardAPI: APIProtocol {
    let service: @Sendable () throws -> DashboardService
    /// The problem `type` URIs, from the file the page reads too.
    let problemTypes: DashboardProblemTypes

    func getWeather(_ input: Operations.GetWeather.Input) async throws -> Operations.GetWeather.Output {
        let query = input.query
        let city = try InputValidation.city(query.city)
        let country = try InputValidation.country(query.country)
        let latitude = try InputValidation.coordinate(query.lat, parameter: "lat", limit: 90)
        let longitude = try InputValidation.coordinate(query.lon, parameter: "lon", limit: 180)
        let units = try InputValidation.units(query.units)
        guard (latitude == nil) == (longitude == nil) else {
            throw ProblemError.invalidParameter(latitude == nil ? "lat" : "lon", "lat and lon must be given together")
        }
        guard city != nil || latitude != nil else { throw ProblemError.invalidParameter("city", "is required (or lat and lon)") }
        let service = try service()
        do {
            switch try await service.weather(city: city, country: country, latitude: latitude, longitude: longitude, units: units) {
            case .ambiguous(let candidates):
                return .multipleChoices(.init(body: .json(.init(candidates: candidates.map(Self.city)))))
            case .weather(let place, let units, let report, let freshness):
                return .ok(.init(body: .json(Self.weather(place, units, report, freshness, provider: service.weatherProvider))))
            }
        } catch {
            switch try failure(
                error,
                upstream: service.weatherProvider.name,
                notFound: (\.cityNotFound, "City not found", "no city called '\(city ?? "")'")
            ) {
            case .notFound(let problem): return .notFound(problem)
            case .tooManyRequests(let problem): return .tooManyRequests(problem)
            case .badGateway(let problem): return .badGateway(problem)
            case .serviceUnavailable(let problem): return .serviceUnavailable(problem)
            case .gatewayTimeout(let problem): return .gatewayTimeout(problem)
            }
        }
    }

    func searchCities(_ input: Operations.SearchCities.Input) async throws -> Operations.SearchCities.Output {
        guard let query = try InputValidation.city(input.query.q, parameter: "q") else { throw ProblemError.invalidParameter("q", "is required") }
        let service = try service()
        do {
            return .ok(.init(body: .json(.init(candidates: try await service.searchCities(query).map(Self.city)))))
        } catch {
            switch try failure(error, upstream: service.weatherProvider.name, notFound: nil) {
            case .notFound: return .ok(.init(body: .json(.init(candidates: []))))
            case .tooManyRequests(let problem): return .tooManyRequests(problem)
            case .badGateway(let problem): return .badGateway(problem)
            case .serviceUnavailable(let problem): return .serviceUnavailable(problem)
            case .gatewayTimeout(let problem): return .gatewayTimeout(problem)
            }
        }
    }

    func getRepository(_ input: Operations.GetRepository.Input) async throws -> Operations.GetRepository.Output {
        let owner = try InputValidation.owner(input.path.owner)
        let name = try InputValidation.repository(input.path.name)
        let service = try service()
        do {
            let (card, freshness) = try await service.repository(owner: owner, name: name)
            return .ok(.init(body: .json(Self.repository(card, freshness, simulated: service.github.isSimulated))))
        } catch {
            let notFound = (\DashboardProblemTypes.Kinds.repositoryNotFound, "Repository not found", "no repository \(owner)/\(name) on GitHub")
            switch try failure(error, upstream: "github", notFound: notFound) {
            case .notFound(let problem): return .notFound(problem)
            case .tooManyRequests(let problem): return .tooManyRequests(problem)
            case .badGateway(let problem): return .badGateway(problem)
            case .serviceUnavailable(let problem): return .serviceUnavailable(problem)
            case .gatewayTimeout(let problem): return .gatewayTimeout(problem)
            }
        }
    }

    // MARK: Failures

    /// The contract's problem response for an upstream failure (anything else is rethrown, for a 500).
    enum FailureResponse {
        case notFound(Components.Responses.Problem)
        case tooManyRequests(Components.Responses.RetryableProblem)
        case badGateway(Components.Responses.Problem)
        case serviceUnavailable(Components.Responses.RetryableProblem)
        case gatewayTimeout(Components.Responses.Problem)
    }

    func failure(
        _ error: any Error,
        upstream: String,
        notFound: (kind: KeyPath<DashboardProblemTypes.Kinds, String>, title: String, detail: String)?
    ) throws -> FailureResponse {
        guard let failure = error as? UpstreamFailure else { throw error }
        func problem(
            _ status: Int,
            _ kind: KeyPath<DashboardProblemTypes.Kinds, String>,
            _ title: String,
            _ detail: String,
            retryAfter: Int? = nil,
            resetAt: Date? = nil
        )
            -> Components.Schemas.Problem
        {
            Components.Schemas.Problem(
                _type: problemTypes.uri(kind),
                title: title,
                status: status,
                detail: detail,
                upstream: upstream,
                retryAfterSeconds: retryAfter,
                resetAt: resetAt
            )
        }
        switch failure {
        case .notFound:
            let (kind, title, detail) = notFound ?? (\.notFound, "Not Found", "\(upstream) has no such thing")
            return .notFound(.init(body: .applicationProblemJson(problem(404, kind, title, detail))))
        case .rateLimited(let retryAfter, let resetAt):
            let seconds = retryAfter.map { max(1, Int($0.components.seconds)) } ?? resetAt.map { max(1, Int($0.timeIntervalSinceNow.rounded(.up))) }
            let detail = "\(upstream)'s rate limit is used up" + (seconds.map { "; try again in \($0) s" } ?? "")
            return .tooManyRequests(
                .init(
                    headers: .init(retryAfter: seconds),
                    body: .applicationProblemJson(
                        problem(429, \.upstreamRateLimited, "Upstream rate limit reached", detail, retryAfter: seconds, resetAt: resetAt)
                    )
                )
            )
        case .unavailable(let reason, let retryAfter):
            let seconds = retryAfter.map { max(1, Int($0.components.seconds)) }
            return .serviceUnavailable(
                .init(
                    headers: .init(retryAfter: seconds),
                    body: .applicationProblemJson(
                        problem(503, \.upstreamUnavailable, "Upstream unavailable", "\(upstream): \(reason)", retryAfter: seconds)
                    )
                )
            )
        case .timeout:
            return .gatewayTimeout(
                .init(body: .applicationProblemJson(problem(504, \.upstreamTimeout, "Upstream timed out", "\(upstream) did not answer in time")))
            )
        case .badGateway(let reason):
            return .badGateway(
                .init(body: .applicationProblemJson(problem(502, \.upstreamUnavailable, "Bad upstream response", "\(upstream): \(reason)")))
            )
        }
    }

    // MARK: Shapes for the page

    static func city(_ city: City) -> Components.Schemas.City {
        Components.Schemas.City(
            name: city.name,
            country: city.country,
            region: city.region,
            latitude: city.latitude,
            longitude: city.longitude,
            utcOffsetSeconds: city.utcOffsetSeconds
        )
    }

    static func condition(_ condition: Condition) -> Components.Schemas.Condition {
        Components.Schemas.Condition(code: .init(rawValue: condition.code.rawValue) ?? .cloudy, description: condition.description)
    }

    static func freshness(_ freshness: DashboardService.Freshness) -> Components.Schemas.Freshness {
        Components.Schemas.Freshness(stale: freshness.stale, ageSeconds: Int(freshness.age.components.seconds), fetchedAt: freshness.fetchedAt)
    }

    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    static func weather(
        _ city: City,
        _ units: Units,
        _ report: WeatherReport,
        _ freshness: DashboardService.Freshness,
        provider: any WeatherProvider
    ) -> Components.Schemas.Weather {
        Components.Schemas.Weather(
            city: Self.city(city),
            units: units == .imperial ? .imperial : .metric,
            current: .init(
                temperature: rounded(report.current.temperature),
                feelsLike: rounded(report.current.feelsLike),
                humidity: report.current.humidity,
                windSpeed: rounded(report.current.windSpeed),
                condition: condition(report.current.condition),
                observedAt: report.current.observedAt
            ),
            forecast: report.daily.map { day in
                .init(
                    date: day.date,
                    minimum: rounded(day.minimum),
                    maximum: rounded(day.maximum),
                    precipitationProbability: day.precipitationProbability,
                    condition: condition(day.condition)
                )
            },
            source: .init(provider: provider.name == "open-meteo" ? .openMeteo : .openweathermap, simulated: provider.isSimulated),
            freshness: Self.freshness(freshness)
        )
    }

    static func repository(_ card: RepositoryCard, _ freshness: DashboardService.Freshness, simulated: Bool) -> Components.Schemas.Repository {
        Components.Schemas.Repository(
            nameWithOwner: card.nameWithOwner,
            description: card.description,
            url: card.url,
            stars: card.stars,
            forks: card.forks,
            openIssues: card.openIssues,
            openPullRequests: card.openPullRequests,
            primaryLanguage: card.primaryLanguage.map { .init(name: $0.name, color: $0.color) },
            languages: card.languages.map { .init(name: $0.name, color: $0.color, percent: $0.percent) },
            latestRelease: card.latestRelease.map { .init(name: $0.name, tagName: $0.tagName, publishedAt: $0.publishedAt, url: $0.url) },
            recentCommits: card.recentCommits.map {
                .init(oid: $0.oid, message: $0.message, author: $0.author, committedAt: $0.committedAt, url: $0.url)
            },
            rateLimit: card.rateLimit.map { .init(cost: $0.cost, remaining: $0.remaining, resetAt: $0.resetAt) },
            source: .init(provider: .github, simulated: simulated),
            freshness: Self.freshness(freshness)
        )
    }
}
