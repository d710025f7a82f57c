import Foundation

/// A place the dashboard can show weather for.
struct City: Sendable, Hashable, Codable {
    var name: String
    /// ISO 3166-1 alpha-2, upper case.
    var country: String
    var region: String?
    var latitude: Double
    var longitude: Double
    var utcOffsetSeconds: Int?

    /// Whether `other` is the same place as far as a person choosing between them can tell.
    func isSamePlace(as other: City) -> Bool {
        name.lowercased() == other.name.lowercased() && country == other.country && (region ?? "") == (other.region ?? "")
            || (abs(latitude - other.latitude) < 0.05 && abs(longitude - other.longitude) < 0.05)
    }
}

enum Units: String, Sendable, Hashable, Codable {
    case metric
    case imperial
}

/// The dashboard's own condition vocabulary, which both providers map into.
struct Condition: Sendable, Hashable {
    enum Code: String, Sendable {
        case clear
        case partlyCloudy = "partly-cloudy"
        case cloudy, fog, drizzle, rain, snow, showers, thunderstorm
    }

    var code: Code
    var description: String
}

struct CurrentConditions: Sendable, Hashable {
    var temperature: Double
    var feelsLike: Double
    var humidity: Int
    var windSpeed: Double
    var condition: Condition
    var observedAt: Date
}

struct DailyForecast: Sendable, Hashable {
    /// `yyyy-MM-dd`, local to the city.
    var date: String
    var minimum: Double
    var maximum: Double
    var precipitationProbability: Int?
    var condition: Condition
}

/// What a weather provider returns for one place.
struct WeatherReport: Sendable, Hashable {
    var current: CurrentConditions
    var daily: [DailyForecast]
    var utcOffsetSeconds: Int?
}

struct RepositoryCard: Sendable, Hashable {
    struct Language: Sendable, Hashable {
        var name: String
        var color: String?
        var percent: Double
    }

    struct Release: Sendable, Hashable {
        var name: String?
        var tagName: String
        var publishedAt: Date
        var url: String?
    }

    struct Commit: Sendable, Hashable {
        var oid: String
        var message: String
        var author: String?
        var committedAt: Date
        var url: String?
    }

    struct RateLimit: Sendable, Hashable {
        var cost: Int?
        var remaining: Int
        var resetAt: Date
    }

    var nameWithOwner: String
    var description: String?
    var url: String
    var stars: Int
    var forks: Int
    var openIssues: Int
    var openPullRequests: Int
    var primaryLanguage: Language?
    var languages: [Language]
    var latestRelease: Release?
    var recentCommits: [Commit]
    var rateLimit: RateLimit?
}

/// Why an upstream call did not produce an answer, in the terms the page needs.
enum UpstreamFailure: Error, Sendable {
    /// The upstream answered that the thing does not exist.
    case notFound
    /// The upstream's rate limit is spent; `retryAfter` / `resetAt` say when it resets.
    case rateLimited(retryAfter: Duration?, resetAt: Date?)
    /// The upstream is down, failing, or its circuit is open.
    case unavailable(reason: String, retryAfter: Duration?)
    /// The upstream did not answer in time.
    case timeout
    /// The upstream answered something unusable, or rejected our credentials.
    case badGateway(reason: String)
}
