import Foundation
import HTTPIntegration

/// A source of geocoding and forecasts: OpenWeatherMap or Open-Meteo, real or simulated.
protocol WeatherProvider: Sendable {
    /// `openweathermap` or `open-meteo`.
    var name: String { get }
    /// Whether it talks to Interchange's simulator rather than the real API.
    var isSimulated: Bool { get }
    /// Up to `limit` places named `query` (optionally in `country`).
    func searchCities(_ query: String, country: String?, limit: Int) async throws -> [City]
    /// Current conditions and five daily forecasts, starting today in the city's time zone.
    func weather(at city: City, units: Units) async throws -> WeatherReport
}

extension UpstreamFailure {
    /// The failure an `HTTPIntegrationError` from a provider's client amounts to.
    static func from(_ error: any Error) -> any Error {
        guard let error = error as? HTTPIntegrationError else { return error }
        switch error.code {
        case .unsuccessfulStatus:
            let status = error.status?.code ?? 0
            switch status {
            case 404: return UpstreamFailure.notFound
            case 429: return UpstreamFailure.rateLimited(retryAfter: error.retryAfter, resetAt: nil)
            case 401, 403: return UpstreamFailure.badGateway(reason: "the upstream rejected Interchange's credentials (\(status))")
            case 500...599: return UpstreamFailure.unavailable(reason: "the upstream answered \(status)", retryAfter: error.retryAfter)
            default: return UpstreamFailure.badGateway(reason: "the upstream answered \(status)")
            }
        case .timeout:
            return UpstreamFailure.timeout
        case .circuitOpen:
            return UpstreamFailure.unavailable(reason: "the upstream has been failing; calls are paused", retryAfter: error.retryAfter)
        case .rateLimited:
            return UpstreamFailure.rateLimited(retryAfter: error.retryAfter, resetAt: nil)
        case .transport, .bulkheadFull:
            return UpstreamFailure.unavailable(reason: "the upstream cannot be reached", retryAfter: nil)
        default:
            return UpstreamFailure.badGateway(reason: error.reason ?? "\(error.code)")
        }
    }
}

/// Text and code for a WMO weather interpretation code (Open-Meteo's `weather_code`).
enum WMOCode {
    static func condition(_ code: Int) -> Condition {
        switch code {
        case 0: Condition(code: .clear, description: "clear sky")
        case 1: Condition(code: .partlyCloudy, description: "mainly clear")
        case 2: Condition(code: .partlyCloudy, description: "partly cloudy")
        case 3: Condition(code: .cloudy, description: "overcast")
        case 45, 48: Condition(code: .fog, description: code == 45 ? "fog" : "depositing rime fog")
        case 51, 53, 55: Condition(code: .drizzle, description: ["light", "moderate", "dense"][(code - 51) / 2] + " drizzle")
        case 56, 57: Condition(code: .drizzle, description: "freezing drizzle")
        case 61, 63, 65: Condition(code: .rain, description: ["light", "moderate", "heavy"][(code - 61) / 2] + " rain")
        case 66, 67: Condition(code: .rain, description: "freezing rain")
        case 71, 73, 75: Condition(code: .snow, description: ["light", "moderate", "heavy"][(code - 71) / 2] + " snow")
        case 77: Condition(code: .snow, description: "snow grains")
        case 80, 81, 82: Condition(code: .showers, description: ["light", "moderate", "violent"][code - 80] + " rain showers")
        case 85, 86: Condition(code: .snow, description: "snow showers")
        case 95: Condition(code: .thunderstorm, description: "thunderstorm")
        case 96, 97, 99: Condition(code: .thunderstorm, description: "thunderstorm with hail")
        default: Condition(code: .cloudy, description: "unknown conditions (code \(code))")
        }
    }
}
