import Foundation
import InterchangeCore

/// The success bodies of the OpenWeatherMap simulator, member for member in upstream's order.
enum OpenWeatherMapBodies {
    /// The place a `/data/2.5/*` request resolved to.
    struct Location: Sendable {
        /// Echoed in `coord` (rounded to 4 decimals, as upstream).
        var latitude: Double
        var longitude: Double
        /// The city named in the answer (`name`, `id`, `sys.country`); none far from any city.
        var city: SimulatedWorld.City?
        var zone: SimulatedWorld.Zone
        var place: SimulatedWorld.Place
    }

    /// One `/geo/1.0/direct` entry: `name, local_names?, lat, lon, country, state`.
    static func geocodingEntry(_ city: SimulatedWorld.City) -> WireJSON {
        var members: [(String, WireJSON)] = [("name", .string(city.name))]
        if !city.localNames.isEmpty {
            var names = city.localNames
            names["ascii"] = names["ascii"] ?? SimulatedWorld.fold(city.name).capitalized
            names["feature_name"] = city.name
            members.append(("local_names", .object(names.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        members += [
            ("lat", .number(city.latitude)),
            ("lon", .number(city.longitude)),
            ("country", .string(city.countryCode)),
            ("state", .string(city.region)),
        ]
        return .object(members)
    }

    /// The `/data/2.5/weather` object.
    static func current(location: Location, units: OpenWeatherMapSimulator.Units, now: Date, world: SimulatedWorld) -> WireJSON {
        let sample = world.weather(at: location.place, hour: now)
        let spread = StableHash(seed: location.place.seed).mixing(Int(sample.time.timeIntervalSince1970))
        let sun = sunTimes(location, at: now, world: world)
        let condition = OpenWeatherMapCondition(sample)
        var members: [(String, WireJSON)] = [
            ("coord", .object([("lon", .rounded(location.longitude, 4)), ("lat", .rounded(location.latitude, 4))])),
            ("weather", .array([condition.json(isDay: sample.isDay)])),
            ("base", .string("stations")),
            (
                "main",
                .object([
                    ("temp", units.temperature(sample.temperature)),
                    ("feels_like", units.temperature(sample.apparentTemperature)),
                    ("temp_min", units.temperature(sample.temperature - spread.mixing("min").value(in: 0...1.6))),
                    ("temp_max", units.temperature(sample.temperature + spread.mixing("max").value(in: 0...1.6))),
                    ("pressure", .int(Int(sample.pressure.rounded()))),
                    ("humidity", .int(sample.relativeHumidity)),
                    ("sea_level", .int(Int(sample.pressure.rounded()))),
                    ("grnd_level", .int(Int(sample.surfacePressure.rounded()))),
                ])
            ),
            ("visibility", .int(sample.visibility)),
            (
                "wind",
                .object([
                    ("speed", units.speed(sample.windSpeed)),
                    ("deg", .int(sample.windDirection)),
                    ("gust", units.speed(sample.windGust)),
                ])
            ),
        ]
        if sample.precipitation > 0 {
            members.append((sample.isSnow ? "snow" : "rain", .object([("1h", .rounded(sample.precipitation, 2))])))
        }
        var system: [(String, WireJSON)] = []
        if let city = location.city {
            system += [
                ("type", .int(2)),
                ("id", .int(2_000_000 + StableHash(seed: city.id).integer(in: 0...99_999))),
                ("country", .string(city.countryCode)),
            ]
        }
        system += [("sunrise", .int(Int(sun.sunrise.timeIntervalSince1970))), ("sunset", .int(Int(sun.sunset.timeIntervalSince1970)))]
        members += [
            ("clouds", .object([("all", .int(sample.cloudCover))])),
            // Observations are reported on a 10-minute cadence.
            ("dt", .int(Int(now.timeIntervalSince1970) / 600 * 600)),
            ("sys", .object(system)),
            ("timezone", .int(location.zone.utcOffset(at: now))),
            ("id", .int(location.city?.id ?? 0)),
            ("name", .string(location.city?.name ?? "")),
            ("cod", .int(200)),
        ]
        return .object(members)
    }

    /// The `/data/2.5/forecast` object: `count` three-hourly entries from the next 3-hour slot after `now`.
    static func forecast(location: Location, units: OpenWeatherMapSimulator.Units, count: Int, now: Date, world: SimulatedWorld) -> WireJSON {
        let slot = 3 * 3_600
        let first = (Int(floor(now.timeIntervalSince1970)) / slot + 1) * slot
        let entries = (0..<count).map { index -> WireJSON in
            let start = first + index * slot
            let hours = (0..<3).map { world.weather(at: location.place, hour: Date(timeIntervalSince1970: Double(start + $0 * 3_600))) }
            let sample = hours[0]
            // The block's most significant weather names it: a shower at 01:00 makes a 00:00–03:00 entry "rain".
            let representative = hours.max { $0.weatherCode < $1.weatherCode } ?? sample
            let precipitation = hours.reduce(0) { $0 + $1.precipitation }
            // Upstream's first entries carry a temperature spread (`temp_kf`) that later ones don't.
            let kf = index < 2 ? StableHash(seed: location.place.seed).mixing(start).value(in: 0.4...2.4).rounded(toPlaces: 2) : 0
            var members: [(String, WireJSON)] = [
                ("dt", .int(start)),
                (
                    "main",
                    .object([
                        ("temp", units.temperature(sample.temperature)),
                        ("feels_like", units.temperature(sample.apparentTemperature)),
                        ("temp_min", units.temperature(sample.temperature - kf)),
                        ("temp_max", units.temperature(sample.temperature)),
                        ("pressure", .int(Int(sample.pressure.rounded()))),
                        ("sea_level", .int(Int(sample.pressure.rounded()))),
                        ("grnd_level", .int(Int(sample.surfacePressure.rounded()))),
                        ("humidity", .int(sample.relativeHumidity)),
                        ("temp_kf", units.temperatureDifference(kf)),
                    ])
                ),
                ("weather", .array([OpenWeatherMapCondition(representative).json(isDay: sample.isDay)])),
                ("clouds", .object([("all", .int(sample.cloudCover))])),
                (
                    "wind",
                    .object([
                        ("speed", units.speed(sample.windSpeed)),
                        ("deg", .int(sample.windDirection)),
                        ("gust", units.speed(sample.windGust)),
                    ])
                ),
                ("visibility", .int(sample.visibility)),
                ("pop", .rounded(Double(hours.map(\.precipitationProbability).max() ?? 0) / 100, 2)),
            ]
            if precipitation > 0 {
                members.append((representative.isSnow ? "snow" : "rain", .object([("3h", .rounded(precipitation, 2))])))
            }
            members += [
                ("sys", .object([("pod", .string(sample.isDay ? "d" : "n"))])),
                ("dt_txt", .string(CivilTime(Date(timeIntervalSince1970: Double(start))).spacedString)),
            ]
            return .object(members)
        }
        let sun = sunTimes(location, at: now, world: world)
        let city: WireJSON = .object([
            ("id", .int(location.city?.id ?? 0)),
            ("name", .string(location.city?.name ?? "")),
            ("coord", .object([("lat", .rounded(location.latitude, 4)), ("lon", .rounded(location.longitude, 4))])),
            ("country", .string(location.city?.countryCode ?? "")),
            ("population", .int(location.city?.population ?? 0)),
            ("timezone", .int(location.zone.utcOffset(at: now))),
            ("sunrise", .int(Int(sun.sunrise.timeIntervalSince1970))),
            ("sunset", .int(Int(sun.sunset.timeIntervalSince1970))),
        ])
        return .object([
            ("cod", .string("200")),
            ("message", .int(0)),
            ("cnt", .int(count)),
            ("list", .array(entries)),
            ("city", city),
        ])
    }

    private static func sunTimes(_ location: Location, at now: Date, world: SimulatedWorld) -> (sunrise: Date, sunset: Date) {
        world.sunTimes(
            latitude: location.place.latitude,
            longitude: location.place.longitude,
            solarDay: SimulatedWorld.solarDay(of: now, longitude: location.place.longitude)
        )
    }
}

/// An OpenWeatherMap weather condition (`id`, `main`, `description`, icon) for a WMO-coded sample.
struct OpenWeatherMapCondition: Sendable, Hashable {
    var id: Int
    var main: String
    var description: String
    /// The icon without its day/night suffix: `04` → `04d`/`04n`.
    var icon: String

    init(_ sample: WeatherSample) {
        switch sample.weatherCode {
        case 0: (id, main, description, icon) = (800, "Clear", "clear sky", "01")
        case 1: (id, main, description, icon) = (801, "Clouds", "few clouds", "02")
        case 2:
            (id, main, description, icon) =
                sample.cloudCover < 50 ? (802, "Clouds", "scattered clouds", "03") : (803, "Clouds", "broken clouds", "04")
        case 3: (id, main, description, icon) = (804, "Clouds", "overcast clouds", "04")
        case 45, 48: (id, main, description, icon) = (741, "Fog", "fog", "50")
        case 51: (id, main, description, icon) = (300, "Drizzle", "light intensity drizzle", "09")
        case 53, 55: (id, main, description, icon) = (301, "Drizzle", "drizzle", "09")
        case 61: (id, main, description, icon) = (500, "Rain", "light rain", "10")
        case 63: (id, main, description, icon) = (501, "Rain", "moderate rain", "10")
        case 65: (id, main, description, icon) = (502, "Rain", "heavy intensity rain", "10")
        case 80: (id, main, description, icon) = (520, "Rain", "light intensity shower rain", "09")
        case 81: (id, main, description, icon) = (521, "Rain", "shower rain", "09")
        case 82: (id, main, description, icon) = (522, "Rain", "heavy intensity shower rain", "09")
        case 71: (id, main, description, icon) = (600, "Snow", "light snow", "13")
        case 73: (id, main, description, icon) = (601, "Snow", "snow", "13")
        case 75: (id, main, description, icon) = (602, "Snow", "heavy snow", "13")
        case 95...99: (id, main, description, icon) = (201, "Thunderstorm", "thunderstorm with rain", "11")
        default: (id, main, description, icon) = (804, "Clouds", "overcast clouds", "04")
        }
    }

    func json(isDay: Bool) -> WireJSON {
        .object([
            ("id", .int(id)),
            ("main", .string(main)),
            ("description", .string(description)),
            ("icon", .string(icon + (isDay ? "d" : "n"))),
        ])
    }
}
