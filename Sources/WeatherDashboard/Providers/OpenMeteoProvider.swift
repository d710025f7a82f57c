import Foundation
import HTTPIntegration
import InterchangeCore

/// Open-Meteo: its geocoding API (`/v1/search`, its own host) and forecast API (`/v1/forecast`), no key.
struct OpenMeteoProvider: WeatherProvider {
    let geocoding: Upstream
    let forecast: Upstream
    let isSimulated: Bool
    var name: String { "open-meteo" }

    func searchCities(_ query: String, country: String?, limit: Int) async throws -> [City] {
        do {
            // Ask for more when filtering by country, since the filter happens here.
            let count = country == nil ? limit : max(limit, 20)
            let response = try await geocoding.get(
                "/v1/search",
                query: ["name": query, "count": "\(count)", "language": "en", "format": "json"]
            ).decode(Search.self)
            let cities = (response.results ?? []).compactMap { result -> City? in
                guard let code = result.country_code else { return nil }
                return City(
                    name: result.name,
                    country: code.uppercased(),
                    region: result.admin1,
                    latitude: result.latitude,
                    longitude: result.longitude
                )
            }
            let filtered = country.map { country in cities.filter { $0.country == country.uppercased() } } ?? cities
            return Array(filtered.prefix(limit))
        } catch {
            throw UpstreamFailure.from(error)
        }
    }

    func weather(at city: City, units: Units) async throws -> WeatherReport {
        let imperial = units == .imperial
        do {
            let response = try await forecast.get(
                "/v1/forecast",
                query: [
                    "latitude": "\(city.latitude)",
                    "longitude": "\(city.longitude)",
                    "current": "temperature_2m,relative_humidity_2m,apparent_temperature,weather_code,wind_speed_10m",
                    "daily": "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max",
                    "timezone": "auto",
                    "forecast_days": "5",
                    "temperature_unit": imperial ? "fahrenheit" : "celsius",
                    "wind_speed_unit": imperial ? "mph" : "ms",
                ]
            ).decode(Forecast.self)
            let days = response.daily
            let count = [days.time.count, days.weather_code.count, days.temperature_2m_max.count, days.temperature_2m_min.count].min() ?? 0
            return WeatherReport(
                current: CurrentConditions(
                    temperature: response.current.temperature_2m,
                    feelsLike: response.current.apparent_temperature,
                    humidity: Int(response.current.relative_humidity_2m.rounded()),
                    windSpeed: response.current.wind_speed_10m,
                    condition: WMOCode.condition(response.current.weather_code),
                    observedAt: Self.date(localTime: response.current.time, offset: response.utc_offset_seconds)
                ),
                daily: (0..<min(count, 5)).map { index in
                    DailyForecast(
                        date: days.time[index],
                        minimum: days.temperature_2m_min[index],
                        maximum: days.temperature_2m_max[index],
                        precipitationProbability: days.precipitation_probability_max.flatMap { index < $0.count ? $0[index] : nil },
                        condition: WMOCode.condition(days.weather_code[index])
                    )
                },
                utcOffsetSeconds: response.utc_offset_seconds
            )
        } catch {
            throw UpstreamFailure.from(error)
        }
    }

    /// Open-Meteo gives local times without an offset ("2026-11-25T10:15"); its `utc_offset_seconds` places them.
    static func date(localTime: String, offset: Int) -> Date {
        let numbers = localTime.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 5 else { return Date() }
        let time = CivilTime(
            year: numbers[0],
            month: numbers[1],
            day: numbers[2],
            hour: numbers[3],
            minute: numbers[4],
            second: numbers.count > 5 ? numbers[5] : 0
        )
        return time.date(utcOffset: offset)
    }

    struct Search: Decodable {
        struct Result: Decodable {
            let name: String
            let latitude: Double
            let longitude: Double
            let country_code: String?
            let admin1: String?
        }
        let results: [Result]?
    }

    struct Forecast: Decodable {
        struct Current: Decodable {
            let time: String
            let temperature_2m: Double
            let relative_humidity_2m: Double
            let apparent_temperature: Double
            let weather_code: Int
            let wind_speed_10m: Double
        }
        struct Daily: Decodable {
            let time: [String]
            let weather_code: [Int]
            let temperature_2m_max: [Double]
            let temperature_2m_min: [Double]
            let precipitation_probability_max: [Int?]?
        }
        let utc_offset_seconds: Int
        let current: Current
        let daily: Daily
    }
}
