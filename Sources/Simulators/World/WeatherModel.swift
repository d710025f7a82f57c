import Foundation

/// The simulated weather at one place for one hour, in SI units (the APIs convert on the way out).
public struct WeatherSample: Sendable, Hashable {
    /// The start of the hour (UTC).
    public var time: Date
    /// Air temperature at 2 m, °C.
    public var temperature: Double
    /// "Feels like", °C (Steadman's apparent temperature, as Open-Meteo computes it).
    public var apparentTemperature: Double
    /// Relative humidity, %.
    public var relativeHumidity: Int
    /// Mean sea-level pressure, hPa.
    public var pressure: Double
    /// Pressure at the ground, hPa.
    public var surfacePressure: Double
    /// Wind speed at 10 m, m/s.
    public var windSpeed: Double
    /// Wind direction, degrees from north.
    public var windDirection: Int
    /// Gusts, m/s.
    public var windGust: Double
    /// Cloud cover, %.
    public var cloudCover: Int
    /// Precipitation during the hour, mm (water equivalent when it snows).
    public var precipitation: Double
    /// Whether the precipitation falls as snow.
    public var isSnow: Bool
    /// Probability of precipitation, %.
    public var precipitationProbability: Int
    /// Visibility, m.
    public var visibility: Int
    /// The WMO weather interpretation code (0 clear … 3 overcast, 45 fog, 61 rain, 71 snow, 80 showers, 95 thunderstorm).
    public var weatherCode: Int
    /// Whether the sun is up.
    public var isDay: Bool
}

extension SimulatedWorld {
    /// The weather at `place` during the hour containing `date`: a pure function of (world seed, place, hour).
    ///
    /// Temperature is a seasonal base from latitude, day of year and elevation, plus a daily cycle peaking at
    /// 15:00 solar time, plus a day-to-day anomaly that is interpolated across the day so there are no jumps at
    /// midnight. Cloud, rain, wind and pressure follow a daily "wetness" and "windiness" with hourly noise.
    public func weather(at place: Place, hour date: Date) -> WeatherSample {
        let hourIndex = Int(floor(date.timeIntervalSince1970 / 3600))
        let time = Date(timeIntervalSince1970: Double(hourIndex) * 3600)
        let dayIndex = Self.floorDivide(hourIndex, 24)
        let hourOfDay = hourIndex - dayIndex * 24
        let base = StableHash(seed: seed ^ place.seed)
        let fraction = Double(hourOfDay) / 24
        func smooth(_ name: String) -> Double {
            let today = base.mixing(name).mixing(dayIndex).unitValue
            let tomorrow = base.mixing(name).mixing(dayIndex + 1).unitValue
            return today * (1 - fraction) + tomorrow * fraction
        }
        func noise(_ name: String, _ index: Int) -> Double { base.mixing(name).mixing(index).unitValue }

        let wetness = smooth("wetness")
        let cloud = Self.clamp(wetness * 110 - 15 + (noise("cloud", Self.floorDivide(hourIndex, 3)) - 0.5) * 50, 0, 100)

        let latitude = abs(place.latitude)
        let dayOfYear = fmod(Double(dayIndex), 365.2425)
        let warmestDay = place.latitude >= 0 ? 200.0 : 17.0
        let mean = 30 - 0.35 * latitude - 0.004 * place.elevation
        let seasonal = 0.15 * latitude * cos(2 * .pi * (dayOfYear - warmestDay) / 365.2425)
        let solarHour = fmod(Double(hourOfDay) + place.longitude / 15 + 48, 24)
        let diurnal = (2.5 + 3.0 * (1 - cloud / 100)) * cos(2 * .pi * (solarHour - 15) / 24)
        let anomaly = (smooth("temperature") - 0.5) * 8
        let temperature = mean + seasonal + diurnal + anomaly

        let rainNoise = noise("rain", hourIndex)
        let raining = cloud > 70 && wetness > 0.55 && rainNoise < (wetness - 0.4) * 1.6
        let precipitation = raining ? max(0.1, ((wetness - 0.5) * 6 * (0.3 + rainNoise)).rounded(toPlaces: 1)) : 0
        let isSnow = raining && temperature < 0.5

        let humidity = Int(Self.clamp(45 + 0.35 * cloud + (raining ? 15 : 0) - 1.5 * diurnal, 15, 100).rounded())
        let windSpeed = max(0.3, 0.8 + smooth("wind") * 7 + (noise("gust", hourIndex) - 0.5) * 2)
        let windDirection = Int(fmod(smooth("direction") * 360 + (noise("veer", hourIndex) - 0.5) * 40 + 360, 360))
        let windGust = windSpeed * (1.4 + 0.6 * noise("gust", hourIndex))
        let pressure = 1013 + (smooth("pressure") - 0.5) * 30 - (cloud - 50) * 0.08

        // Steadman's apparent temperature (the one Open-Meteo uses): humidity warms, wind cools.
        let vapourPressure = Double(humidity) / 100 * 6.105 * exp(17.27 * temperature / (237.7 + temperature))
        let apparent = temperature + 0.33 * vapourPressure - 0.70 * windSpeed - 4.00

        let foggy = !raining && humidity >= 95 && windSpeed < 2
        let code: Int
        if raining {
            if isSnow {
                code = precipitation < 0.5 ? 71 : precipitation < 2 ? 73 : 75
            } else if temperature > 24, precipitation >= 2 {
                code = 95
            } else if cloud < 85 {
                code = precipitation < 0.5 ? 80 : precipitation < 2 ? 81 : 82
            } else {
                code = precipitation < 0.3 ? 51 : precipitation < 0.8 ? 61 : precipitation < 2.5 ? 63 : 65
            }
        } else if foggy {
            code = 45
        } else {
            code = cloud < 10 ? 0 : cloud < 30 ? 1 : cloud < 70 ? 2 : 3
        }
        let probability =
            raining ? 55 + Int(wetness * 40) : Int(Self.clamp((wetness - 0.45) * 120 * cloud / 100, 0, 60).rounded())
        let visibility = foggy ? 800 : raining ? 10_000 - Int(min(precipitation * 1_500, 7_000)) : 10_000

        let sun = sunTimes(latitude: place.latitude, longitude: place.longitude, solarDay: Self.solarDay(of: time, longitude: place.longitude))
        return WeatherSample(
            time: time,
            temperature: temperature,
            apparentTemperature: apparent,
            relativeHumidity: humidity,
            pressure: pressure,
            surfacePressure: pressure - place.elevation / 8.3,
            windSpeed: windSpeed,
            windDirection: windDirection,
            windGust: windGust,
            cloudCover: Int(cloud.rounded()),
            precipitation: precipitation,
            isSnow: isSnow,
            precipitationProbability: probability,
            visibility: visibility,
            weatherCode: code,
            isDay: time >= sun.sunrise && time < sun.sunset
        )
    }

    /// Sunrise and sunset on a solar day (days since 1970-01-01, counted in local solar time), from the
    /// NOAA approximation: declination, equation of time and the −0.833° refraction correction.
    /// In polar night both are solar noon; in midnight sun they are noon ∓ 12 h.
    public func sunTimes(latitude: Double, longitude: Double, solarDay: Int) -> (sunrise: Date, sunset: Date) {
        let radians = Double.pi / 180
        let dayOfYear = fmod(Double(solarDay), 365.2425)
        let declination = 23.44 * radians * sin(2 * .pi * (284 + dayOfYear) / 365)
        let b = 2 * Double.pi * (dayOfYear - 81) / 364
        let equationOfTime = 9.87 * sin(2 * b) - 7.53 * cos(b) - 1.5 * sin(b)  // minutes
        let noon = Double(solarDay) * 86_400 + (12 - longitude / 15 - equationOfTime / 60) * 3_600
        let phi = latitude * radians
        let cosHourAngle = (sin(-0.833 * radians) - sin(phi) * sin(declination)) / (cos(phi) * cos(declination))
        let hourAngle = acos(Self.clamp(cosHourAngle, -1, 1)) / radians  // degrees
        let halfDay = hourAngle / 15 * 3_600
        return (Date(timeIntervalSince1970: (noon - halfDay).rounded()), Date(timeIntervalSince1970: (noon + halfDay).rounded()))
    }

    /// The solar day (days since the epoch, in local mean solar time) that `date` falls in at `longitude`.
    static func solarDay(of date: Date, longitude: Double) -> Int {
        Int(floor((date.timeIntervalSince1970 + longitude / 15 * 3_600) / 86_400))
    }

    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    static func clamp(_ value: Double, _ low: Double, _ high: Double) -> Double {
        min(max(value, low), high)
    }
}
