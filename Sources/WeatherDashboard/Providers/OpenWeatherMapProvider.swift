import Foundation
import HTTPIntegration
import InterchangeCore

/// OpenWeatherMap: geocoding (`/geo/1.0/direct`), current weather (`/data/2.5/weather`) and the 5-day / 3-hour
/// forecast (`/data/2.5/forecast`), aggregated into five daily forecasts in the city's time zone.
/// The `appid` key is added by the client's authentication policy, never by this code.
struct OpenWeatherMapProvider: WeatherProvider {
    let upstream: Upstream
    let isSimulated: Bool
    var name: String { "openweathermap" }

    func searchCities(_ query: String, country: String?, limit: Int) async throws -> [City] {
        let q = country.map { "\(query),\($0)" } ?? query
        do {
            let places = try await upstream.get("/geo/1.0/direct", query: ["q": q, "limit": "\(limit)"]).decode([Place].self)
            return places.map { City(name: $0.name, country: $0.country.uppercased(), region: $0.state, latitude: $0.lat, longitude: $0.lon) }
        } catch {
            throw UpstreamFailure.from(error)
        }
    }

    func weather(at city: City, units: Units) async throws -> WeatherReport {
        let query: KeyValuePairs<String, String> = ["lat": "\(city.latitude)", "lon": "\(city.longitude)", "units": units.rawValue]
        do {
            async let currentResponse = upstream.get("/data/2.5/weather", query: query)
            async let forecastResponse = upstream.get("/data/2.5/forecast", query: query)
            let current = try await currentResponse.decode(Current.self)
            let forecast = try await forecastResponse.decode(Forecast.self)
            let offset = forecast.city.timezone ?? current.timezone ?? 0
            return WeatherReport(
                current: CurrentConditions(
                    temperature: current.main.temp,
                    feelsLike: current.main.feels_like,
                    humidity: current.main.humidity,
                    windSpeed: current.wind.speed,
                    condition: Self.condition(current.weather.first),
                    observedAt: Date(timeIntervalSince1970: TimeInterval(current.dt))
                ),
                daily: Self.daily(forecast.list, offset: offset, today: current.dt),
                utcOffsetSeconds: offset
            )
        } catch {
            throw UpstreamFailure.from(error)
        }
    }

    /// Five days of minimum, maximum, highest precipitation chance, and the conditions nearest local noon.
    static func daily(_ items: [Forecast.Item], offset: Int, today: Int) -> [DailyForecast] {
        var days: [String: [Forecast.Item]] = [:]
        var order: [String] = []
        let todayDate = localDate(today, offset: offset)
        for item in items {
            let date = localDate(item.dt, offset: offset)
            guard date >= todayDate else { continue }
            if days[date] == nil { order.append(date) }
            days[date, default: []].append(item)
        }
        return order.prefix(5).compactMap { date in
            guard let slots = days[date], !slots.isEmpty else { return nil }
            let noon = slots.min { abs(localHour($0.dt, offset: offset) - 12) < abs(localHour($1.dt, offset: offset) - 12) }
            return DailyForecast(
                date: date,
                minimum: slots.map(\.main.temp_min).min() ?? 0,
                maximum: slots.map(\.main.temp_max).max() ?? 0,
                precipitationProbability: slots.compactMap(\.pop).max().map { Int(($0 * 100).rounded()) },
                condition: condition(noon?.weather.first)
            )
        }
    }

    static func localDate(_ unix: Int, offset: Int) -> String {
        CivilTime(Date(timeIntervalSince1970: TimeInterval(unix)), utcOffset: offset).dateString
    }

    static func localHour(_ unix: Int, offset: Int) -> Int {
        ((unix + offset) % 86400 + 86400) % 86400 / 3600
    }

    /// OpenWeatherMap's condition ids (https://openweathermap.org/weather-conditions) in the dashboard's vocabulary.
    static func condition(_ weather: Weather?) -> Condition {
        guard let weather else { return Condition(code: .cloudy, description: "unknown conditions") }
        let code: Condition.Code =
            switch weather.id {
            case 200..<300: .thunderstorm
            case 300..<400: .drizzle
            case 500..<520: .rain
            case 520..<600: .showers
            case 600..<700: .snow
            case 700..<800: .fog
            case 800: .clear
            case 801, 802: .partlyCloudy
            default: .cloudy
            }
        return Condition(code: code, description: weather.description)
    }

    struct Place: Decodable {
        let name: String
        let lat: Double
        let lon: Double
        let country: String
        let state: String?
    }

    struct Weather: Decodable {
        let id: Int
        let description: String
    }

    struct Current: Decodable {
        struct Main: Decodable {
            let temp: Double
            let feels_like: Double
            let humidity: Int
        }
        struct Wind: Decodable { let speed: Double }
        let weather: [Weather]
        let main: Main
        let wind: Wind
        let dt: Int
        let timezone: Int?
    }

    struct Forecast: Decodable {
        struct Item: Decodable {
            struct Main: Decodable {
                let temp_min: Double
                let temp_max: Double
            }
            let dt: Int
            let main: Main
            let weather: [Weather]
            let pop: Double?
        }
        struct CityInfo: Decodable { let timezone: Int? }
        let list: [Item]
        let city: CityInfo
    }
}
