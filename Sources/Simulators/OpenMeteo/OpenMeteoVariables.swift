import Foundation
import InterchangeCore

/// The units an Open-Meteo forecast request asked for (`temperature_unit`, `wind_speed_unit`,
/// `precipitation_unit`), with the unit strings the API writes (`mp/h`, not `mph`).
struct OpenMeteoUnits: Sendable {
    enum Temperature: String, Sendable { case celsius, fahrenheit }
    enum WindSpeed: String, Sendable { case kmh, ms, mph, kn }
    enum Precipitation: String, Sendable { case mm, inch }

    var temperature = Temperature.celsius
    var windSpeed = WindSpeed.kmh
    var precipitation = Precipitation.mm
    /// `timeformat=unixtime`: times (sunrise and sunset included) as epoch seconds.
    var unixTime = false

    var temperatureUnit: String { temperature == .celsius ? "°C" : "°F" }
    var windSpeedUnit: String {
        switch windSpeed {
        case .kmh: "km/h"
        case .ms: "m/s"
        case .mph: "mp/h"
        case .kn: "kn"
        }
    }
    var precipitationUnit: String { precipitation == .mm ? "mm" : "inch" }
    var snowfallUnit: String { precipitation == .mm ? "cm" : "inch" }
    var timeUnit: String { unixTime ? "unixtime" : "iso8601" }

    /// A time as the request wants it: local `2025-03-20T18:15`, or epoch seconds.
    func time(_ date: Date, utcOffset: Int) -> WireJSON {
        unixTime ? .int(Int(date.timeIntervalSince1970)) : .string(CivilTime(date, utcOffset: utcOffset).minuteString)
    }

    func temperature(_ celsius: Double) -> WireJSON {
        .fixed(temperature == .celsius ? celsius : celsius * 9 / 5 + 32, decimals: 1)
    }

    func windSpeed(_ metresPerSecond: Double) -> WireJSON {
        let value: Double =
            switch windSpeed {
            case .kmh: metresPerSecond * 3.6
            case .ms: metresPerSecond
            case .mph: metresPerSecond * 2.236_936
            case .kn: metresPerSecond * 1.943_844
            }
        return .fixed(value, decimals: 1)
    }

    func precipitation(_ millimetres: Double) -> WireJSON {
        precipitation == .mm ? .fixed(millimetres, decimals: 2) : .fixed(millimetres / 25.4, decimals: 3)
    }

    /// Snowfall from its water equivalent (1 mm of water ≈ 0.7 cm of snow, Open-Meteo's ratio).
    func snowfall(waterMillimetres: Double) -> WireJSON {
        let centimetres = waterMillimetres * 0.7
        return precipitation == .mm ? .fixed(centimetres, decimals: 2) : .fixed(centimetres / 2.54, decimals: 3)
    }
}

/// A variable of `current=` or `hourly=`: its unit and its value in one hourly sample.
struct OpenMeteoHourlyVariable: Sendable {
    var unit: @Sendable (OpenMeteoUnits) -> String
    var value: @Sendable (WeatherSample, OpenMeteoUnits) -> WireJSON

    static let all: [String: OpenMeteoHourlyVariable] = [
        "temperature_2m": .init(unit: { $0.temperatureUnit }, value: { $1.temperature($0.temperature) }),
        "relative_humidity_2m": .init(unit: { _ in "%" }, value: { sample, _ in .int(sample.relativeHumidity) }),
        "dew_point_2m": .init(unit: { $0.temperatureUnit }, value: { $1.temperature(dewPoint($0)) }),
        "apparent_temperature": .init(unit: { $0.temperatureUnit }, value: { $1.temperature($0.apparentTemperature) }),
        "is_day": .init(unit: { _ in "" }, value: { sample, _ in .int(sample.isDay ? 1 : 0) }),
        "precipitation": .init(unit: { $0.precipitationUnit }, value: { $1.precipitation($0.precipitation) }),
        "precipitation_probability": .init(unit: { _ in "%" }, value: { sample, _ in .int(sample.precipitationProbability) }),
        "rain": .init(unit: { $0.precipitationUnit }, value: { $1.precipitation($0.isSnow ? 0 : $0.precipitation) }),
        "showers": .init(unit: { $0.precipitationUnit }, value: { $1.precipitation((80...82).contains($0.weatherCode) ? $0.precipitation : 0) }),
        "snowfall": .init(unit: { $0.snowfallUnit }, value: { $1.snowfall(waterMillimetres: $0.isSnow ? $0.precipitation : 0) }),
        "weather_code": .init(unit: { _ in "wmo code" }, value: { sample, _ in .int(sample.weatherCode) }),
        "cloud_cover": .init(unit: { _ in "%" }, value: { sample, _ in .int(sample.cloudCover) }),
        "pressure_msl": .init(unit: { _ in "hPa" }, value: { sample, _ in .fixed(sample.pressure, decimals: 1) }),
        "surface_pressure": .init(unit: { _ in "hPa" }, value: { sample, _ in .fixed(sample.surfacePressure, decimals: 1) }),
        "visibility": .init(unit: { _ in "m" }, value: { sample, _ in .fixed(Double(sample.visibility), decimals: 1) }),
        "wind_speed_10m": .init(unit: { $0.windSpeedUnit }, value: { $1.windSpeed($0.windSpeed) }),
        "wind_direction_10m": .init(unit: { _ in "°" }, value: { sample, _ in .int(sample.windDirection) }),
        "wind_gusts_10m": .init(unit: { $0.windSpeedUnit }, value: { $1.windSpeed($0.windGust) }),
    ]

    /// The Magnus formula.
    static func dewPoint(_ sample: WeatherSample) -> Double {
        let gamma = log(max(Double(sample.relativeHumidity), 1) / 100) + 17.62 * sample.temperature / (243.12 + sample.temperature)
        return 243.12 * gamma / (17.62 - gamma)
    }
}

/// One local day of hourly samples, for the `daily=` aggregates.
struct OpenMeteoDay: Sendable {
    var date: CivilTime
    var hours: [WeatherSample]
    var sunrise: Date
    var sunset: Date
    var utcOffset: Int
}

/// A variable of `daily=`: its unit and its value for one day.
struct OpenMeteoDailyVariable: Sendable {
    var unit: @Sendable (OpenMeteoUnits) -> String
    var value: @Sendable (OpenMeteoDay, OpenMeteoUnits) -> WireJSON

    static let all: [String: OpenMeteoDailyVariable] = [
        // "The most severe weather condition on a given day" (Open-Meteo's docs): the highest code.
        "weather_code": .init(unit: { _ in "wmo code" }, value: { day, _ in .int(day.hours.map(\.weatherCode).max() ?? 0) }),
        "temperature_2m_max": .init(unit: { $0.temperatureUnit }, value: { $1.temperature(day: $0, \.temperature, max) }),
        "temperature_2m_min": .init(unit: { $0.temperatureUnit }, value: { $1.temperature(day: $0, \.temperature, min) }),
        "apparent_temperature_max": .init(unit: { $0.temperatureUnit }, value: { $1.temperature(day: $0, \.apparentTemperature, max) }),
        "apparent_temperature_min": .init(unit: { $0.temperatureUnit }, value: { $1.temperature(day: $0, \.apparentTemperature, min) }),
        "precipitation_sum": .init(unit: { $0.precipitationUnit }, value: { $1.precipitation($0.hours.reduce(0) { $0 + $1.precipitation }) }),
        "rain_sum": .init(
            unit: { $0.precipitationUnit },
            value: { $1.precipitation($0.hours.filter { !$0.isSnow }.reduce(0) { $0 + $1.precipitation }) }
        ),
        "snowfall_sum": .init(
            unit: { $0.snowfallUnit },
            value: { $1.snowfall(waterMillimetres: $0.hours.filter(\.isSnow).reduce(0) { $0 + $1.precipitation }) }
        ),
        "precipitation_hours": .init(
            unit: { _ in "h" },
            value: { day, _ in .fixed(Double(day.hours.filter { $0.precipitation > 0 }.count), decimals: 1) }
        ),
        "precipitation_probability_max": .init(unit: { _ in "%" }, value: { day, _ in .int(day.hours.map(\.precipitationProbability).max() ?? 0) }),
        "wind_speed_10m_max": .init(unit: { $0.windSpeedUnit }, value: { $1.windSpeed($0.hours.map(\.windSpeed).max() ?? 0) }),
        "wind_gusts_10m_max": .init(unit: { $0.windSpeedUnit }, value: { $1.windSpeed($0.hours.map(\.windGust).max() ?? 0) }),
        "wind_direction_10m_dominant": .init(unit: { _ in "°" }, value: { day, _ in .int(dominantDirection(day.hours)) }),
        "sunrise": .init(unit: { $0.timeUnit }, value: { $1.time($0.sunrise, utcOffset: $0.utcOffset) }),
        "sunset": .init(unit: { $0.timeUnit }, value: { $1.time($0.sunset, utcOffset: $0.utcOffset) }),
        "daylight_duration": .init(unit: { _ in "s" }, value: { day, _ in .fixed(day.sunset.timeIntervalSince(day.sunrise), decimals: 2) }),
    ]

    /// The vector mean of the hourly directions, weighted by speed.
    static func dominantDirection(_ hours: [WeatherSample]) -> Int {
        let radians = Double.pi / 180
        let x = hours.reduce(0) { $0 + $1.windSpeed * sin(Double($1.windDirection) * radians) }
        let y = hours.reduce(0) { $0 + $1.windSpeed * cos(Double($1.windDirection) * radians) }
        return Int(fmod(atan2(x, y) / radians + 360, 360).rounded()) % 360
    }
}

extension OpenMeteoUnits {
    fileprivate func temperature(day: OpenMeteoDay, _ field: KeyPath<WeatherSample, Double>, _ pick: (Double, Double) -> Double) -> WireJSON {
        temperature(day.hours.map { $0[keyPath: field] }.reduce(day.hours.first?[keyPath: field] ?? 0, pick))
    }
}
