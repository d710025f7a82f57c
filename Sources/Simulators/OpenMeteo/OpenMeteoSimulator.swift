import Foundation
import HTTPTypes
import Hummingbird
import InterchangeCore
import ServiceRuntime

/// A simulator of Open-Meteo's two keyless APIs: geocoding (`https://geocoding-api.open-meteo.com/v1/search`)
/// and forecast (`https://api.open-meteo.com/v1/forecast`), as two route groups of one component.
///
/// ```swift
/// let simulator = OpenMeteoSimulator(geocodingBasePath: "/sim/open-meteo-geocoding", forecastBasePath: "/sim/open-meteo")
/// // GET /sim/open-meteo-geocoding/v1/search?name=Berlin&count=1
/// // GET /sim/open-meteo/v1/forecast?latitude=52.52&longitude=13.41&current=temperature_2m&daily=weather_code&timezone=auto
/// ```
///
/// **Covers**
/// - `GET /v1/search?name=&count=&language=&format=json&countryCode=`: `results[]` in the proto3 field order
///   (`id, name, latitude, longitude, elevation, feature_code, country_code, timezone, population, country_id,
///   country, admin1`) and `generationtime_ms`; **no `results` key** when nothing matches; names of 0–1
///   characters match nothing, 2 characters match exactly, 3 or more by prefix (accent- and case-insensitive).
/// - `GET /v1/forecast?latitude=&longitude=&current=&hourly=&daily=&timezone=&forecast_days=&temperature_unit=&wind_speed_unit=&precipitation_unit=&timeformat=`:
///   `current_units`/`current`, `hourly_units`/`hourly`, `daily_units`/`daily` with the requested variables
///   in the requested order. `current`/`hourly`: temperature_2m, relative_humidity_2m, dew_point_2m,
///   apparent_temperature, is_day, precipitation, precipitation_probability, rain, showers, snowfall,
///   weather_code, cloud_cover, pressure_msl, surface_pressure, visibility, wind_speed_10m,
///   wind_direction_10m, wind_gusts_10m. `daily`: weather_code, temperature_2m_max/min,
///   apparent_temperature_max/min, precipitation_sum, rain_sum, snowfall_sum, precipitation_hours,
///   precipitation_probability_max, wind_speed_10m_max, wind_gusts_10m_max, wind_direction_10m_dominant,
///   sunrise, sunset, daylight_duration. `timezone=auto`, an IANA name, or absent (GMT).
/// - Errors `400 {"error":true,"reason":…}`: out-of-range latitude/longitude (upstream's wording), an unknown
///   variable or unit (upstream's "Cannot initialize … from invalid String value …"), `forecast_days` outside
///   0–16, `count` outside 1–100, an unknown time zone. `429` with the fixture's body when rate limited.
/// - Headers: `Content-Type: application/json; charset=utf-8`, nothing else (upstream sends no rate-limit headers).
///
/// **Does not cover** `language=` (names are English), several locations in one call, `format=protobuf`/`flatbuffers`/`csv`/`xlsx`,
/// `past_days`, `minutely_15`, weather-model selection, `elevation=`, `cell_selection`, or the real quotas.
/// The grid cell is simulated by snapping to 0.1° latitude × 0.02° longitude. Daily and hourly times use the
/// UTC offset in force at request time (no mid-series daylight-saving switch). Geocoding results carry no
/// `admin1_id`/`admin2..4`/`postcodes`, which upstream also omits for many places.
///
/// **Controls** (``SimulatorControls``, at `GET/PUT <base>/_sim/control` and `POST <base>/_sim/reset` under
/// each base path; one set of controls for both hosts): `latency`, `errorRate` and `outage` (503
/// `{"error":true,"reason":"Service Unavailable"}`), `rateLimited` (429), request counts by path
/// (`/v1/search`, `/v1/forecast`).
public struct OpenMeteoSimulator: Component {
    public let name = "open-meteo-sim"
    public var summary: String {
        "Open-Meteo simulator (geocoding at \(geocodingBasePath.isEmpty ? "/" : geocodingBasePath), forecast at \(forecastBasePath.isEmpty ? "/" : forecastBasePath))"
    }

    /// Where the geocoding host's paths are mounted: `""` alone, `/sim/open-meteo-geocoding` under `interchange up`.
    public let geocodingBasePath: String
    /// Where the forecast host's paths are mounted: `""` alone, `/sim/open-meteo` under `interchange up`.
    public let forecastBasePath: String
    public let world: SimulatedWorld
    public let controls: SimulatorControls
    let now: @Sendable () -> Date

    public init(
        geocodingBasePath: String = "",
        forecastBasePath: String = "",
        now: @escaping @Sendable () -> Date = { Date() },
        world: SimulatedWorld = .standard,
        controls: SimulatorControls = SimulatorControls()
    ) {
        self.geocodingBasePath = normalizedBasePath(geocodingBasePath)
        self.forecastBasePath = normalizedBasePath(forecastBasePath)
        self.now = now
        self.world = world
        self.controls = controls
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        router.group(RouterPath(geocodingBasePath))
            .add(middleware: SimulatorFaultMiddleware(controls: controls, basePath: geocodingBasePath) { Self.unavailable() })
            .get("v1/search") { request, _ in self.guarded { try self.search(QueryParameters(request)) } }
        router.group(RouterPath(forecastBasePath))
            .add(middleware: SimulatorFaultMiddleware(controls: controls, basePath: forecastBasePath) { Self.unavailable() })
            .get("v1/forecast") { request, _ in self.guarded { try self.forecast(QueryParameters(request)) } }
        for basePath in Set([geocodingBasePath, forecastBasePath]) {
            SimulatorControlRoutes.add(to: router, basePath: basePath, simulator: name, controls: controls)
        }
    }

    /// A `400 {"error":true,"reason":…}`.
    struct BadRequest: Error {
        var reason: String
    }

    private func guarded(_ body: () throws -> WireJSON) -> Response {
        if controls.rateLimited { return Self.rateLimited() }
        do {
            return .wire(.ok, try body(), headers: Self.headers)
        } catch let error as BadRequest {
            return Self.error(.badRequest, error.reason)
        } catch {
            return Self.error(.badRequest, "\(error)")
        }
    }

    // MARK: Geocoding

    func search(_ query: QueryParameters) throws -> WireJSON {
        guard let name = query["name"] else { throw BadRequest(reason: "Value required for key 'name'.") }
        var count = 10
        if let text = query.nonEmpty("count") {
            guard let value = Int(text) else { throw BadRequest(reason: "Value of type 'Int' required for key 'count'.") }
            count = value
        }
        guard (1...100).contains(count) else { throw BadRequest(reason: "Parameter count must be between 1 and 100.") }
        let format = query.nonEmpty("format") ?? "json"
        guard format == "json" else {
            throw BadRequest(
                reason: format == "protobuf"
                    ? "The simulator only speaks format=json."
                    : "Cannot initialize ProtobufSerializationFormat from invalid String value \(format) for key format"
            )
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        var matches: [SimulatedWorld.City] =
            switch trimmed.count {
            case 0, 1: []
            case 2: world.cities(named: trimmed)
            default: world.cities(withPrefix: trimmed)
            }
        if let countryCode = query.nonEmpty("countryCode") {
            matches = matches.filter { $0.countryCode.caseInsensitiveCompare(countryCode) == .orderedSame }
        }
        var members: [(String, WireJSON)] = []
        if !matches.isEmpty {
            members.append(("results", .array(matches.prefix(count).map(Self.geocodingResult))))
        }
        members.append(("generationtime_ms", Self.generationTime(query)))
        return .object(members)
    }

    static func geocodingResult(_ city: SimulatedWorld.City) -> WireJSON {
        .object([
            ("id", .int(city.id)),
            ("name", .string(city.name)),
            ("latitude", .number(city.latitude)),
            ("longitude", .number(city.longitude)),
            ("elevation", .fixed(city.elevation, decimals: 1)),
            ("feature_code", .string(city.featureCode)),
            ("country_code", .string(city.countryCode)),
            ("timezone", .string(city.timeZone)),
            ("population", .int(city.population)),
            ("country_id", .int(countryIDs[city.countryCode] ?? 0)),
            ("country", .string(city.country)),
            ("admin1", .string(city.region)),
        ])
    }

    /// GeoNames ids of the countries in the default world (`country_id`).
    static let countryIDs: [String: Int] = [
        "AE": 290_557, "AR": 3_865_483, "AU": 2_077_456, "BR": 3_469_034, "CA": 6_251_999, "CH": 2_658_434,
        "DE": 2_921_044, "EG": 357_994, "ES": 2_510_769, "FR": 3_017_382, "GB": 2_635_167, "IN": 1_269_750,
        "IS": 2_629_691, "IT": 3_175_395, "JP": 1_861_060, "KE": 192_950, "MX": 3_996_063, "SG": 1_880_251,
        "US": 6_252_001, "ZA": 953_987,
    ]

    // MARK: Forecast

    func forecast(_ query: QueryParameters) throws -> WireJSON {
        let latitude = try Self.coordinate(query, "latitude", limit: 90, name: "Latitude")
        let longitude = try Self.coordinate(query, "longitude", limit: 180, name: "Longitude")
        var units = OpenMeteoUnits()
        units.temperature = try Self.enumeration(query, "temperature_unit", type: "TemperatureUnit", default: .celsius)
        units.windSpeed = try Self.enumeration(
            query,
            query["wind_speed_unit"] == nil ? "windspeed_unit" : "wind_speed_unit",
            type: "WindspeedUnit",
            default: .kmh
        )
        units.precipitation = try Self.enumeration(query, "precipitation_unit", type: "PrecipitationUnit", default: .mm)
        units.unixTime = try Self.timeFormat(query)
        let current = try Self.variables(query, "current", from: OpenMeteoHourlyVariable.all, type: "WeatherVariable")
        let hourly = try Self.variables(query, "hourly", from: OpenMeteoHourlyVariable.all, type: "WeatherVariable")
        let daily = try Self.variables(query, "daily", from: OpenMeteoDailyVariable.all, type: "DailyWeatherVariable")
        var days = 7
        if let text = query.nonEmpty("forecast_days") {
            guard let value = Int(text), (0...16).contains(value) else {
                throw BadRequest(reason: "Forecast days is invalid. Allowed range 0 to 16.")
            }
            days = value
        }
        let zone = try zone(query, latitude: latitude, longitude: longitude)
        let now = now()
        let offset = zone.utcOffset(at: now)
        let place = world.place(latitude: latitude, longitude: longitude)
        func time(_ date: Date) -> WireJSON { units.time(date, utcOffset: offset) }

        var members: [(String, WireJSON)] = [
            ("latitude", .number((latitude * 10).rounded() / 10)),
            ("longitude", .number(((longitude / 0.02).rounded() * 0.02).rounded(toPlaces: 2))),
            ("generationtime_ms", Self.generationTime(query)),
            ("utc_offset_seconds", .int(offset)),
            ("timezone", .string(zone.identifier)),
            ("timezone_abbreviation", .string(zone.abbreviation(at: now))),
            ("elevation", .fixed(place.elevation, decimals: 1)),
        ]
        if !current.isEmpty {
            let sample = world.weather(at: place, hour: now)
            let quarter = Date(timeIntervalSince1970: Double(Int(floor(now.timeIntervalSince1970)) / 900 * 900))
            members += Self.section(
                "current",
                current,
                leading: [("time", .string(units.timeUnit), time(quarter)), ("interval", .string("seconds"), .int(900))],
                unit: { $0.unit(units) },
                value: { $0.value(sample, units) }
            )
        }
        // Local midnight today, in UTC seconds.
        let localToday = SimulatedWorld.floorDivide(Int(floor(now.timeIntervalSince1970)) + offset, 86_400)
        let firstHour = localToday * 86_400 - offset
        if !hourly.isEmpty {
            let samples = (0..<(days * 24)).map { world.weather(at: place, hour: Date(timeIntervalSince1970: Double(firstHour + $0 * 3_600))) }
            members += Self.section(
                "hourly",
                hourly,
                leading: [("time", .string(units.timeUnit), .array(samples.map { time($0.time) }))],
                unit: { $0.unit(units) },
                value: { variable in .array(samples.map { variable.value($0, units) }) }
            )
        }
        if !daily.isEmpty {
            let dayValues = (0..<days).map { index -> OpenMeteoDay in
                let start = firstHour + index * 86_400
                let hours = (0..<24).map { world.weather(at: place, hour: Date(timeIntervalSince1970: Double(start + $0 * 3_600))) }
                let sun = world.sunTimes(latitude: latitude, longitude: longitude, solarDay: localToday + index)
                return OpenMeteoDay(
                    date: CivilTime(Date(timeIntervalSince1970: Double(start)), utcOffset: offset),
                    hours: hours,
                    sunrise: sun.sunrise,
                    sunset: sun.sunset,
                    utcOffset: offset
                )
            }
            let times: [WireJSON] = dayValues.enumerated().map { index, day in
                units.unixTime ? .int(firstHour + index * 86_400) : .string(day.date.dateString)
            }
            members += Self.section(
                "daily",
                daily,
                leading: [("time", .string(units.timeUnit), .array(times))],
                unit: { $0.unit(units) },
                value: { variable in .array(dayValues.map { variable.value($0, units) }) }
            )
        }
        return .object(members)
    }

    /// The `<key>_units` and `<key>` members: the leading members (`time`, `interval`) with their units, then
    /// the variables in the order asked.
    static func section<Variable>(
        _ key: String,
        _ variables: [(name: String, variable: Variable)],
        leading: [(name: String, unit: WireJSON, value: WireJSON)],
        unit: (Variable) -> String,
        value: (Variable) -> WireJSON
    ) -> [(String, WireJSON)] {
        [
            ("\(key)_units", .object(leading.map { ($0.name, $0.unit) } + variables.map { ($0.name, .string(unit($0.variable))) })),
            (key, .object(leading.map { ($0.name, $0.value) } + variables.map { ($0.name, value($0.variable)) })),
        ]
    }

    static func coordinate(_ query: QueryParameters, _ key: String, limit: Double, name: String) throws -> Double {
        guard let text = query.nonEmpty(key) else { throw BadRequest(reason: "Value required for key '\(key)'.") }
        if text.contains(",") { throw BadRequest(reason: "The simulator answers for one location per request; \(key) has several.") }
        guard let value = Double(text), value.isFinite else {
            throw BadRequest(reason: "Cannot initialize Float from invalid String value \(text) for key \(key)")
        }
        guard (-limit...limit).contains(value) else {
            throw BadRequest(reason: "\(name) must be in range of -\(Int(limit)) to \(Int(limit))°. Given: \(value).")
        }
        return value
    }

    static func enumeration<Value: RawRepresentable<String>>(
        _ query: QueryParameters,
        _ key: String,
        type: String,
        default value: Value
    ) throws -> Value {
        guard let text = query.nonEmpty(key) else { return value }
        guard let parsed = Value(rawValue: text) else {
            throw BadRequest(reason: "Cannot initialize \(type) from invalid String value \(text) for key \(key)")
        }
        return parsed
    }

    static func timeFormat(_ query: QueryParameters) throws -> Bool {
        switch query.nonEmpty("timeformat") {
        case nil, "iso8601": return false
        case "unixtime": return true
        case let other?: throw BadRequest(reason: "Cannot initialize Timeformat from invalid String value \(other) for key timeformat")
        }
    }

    /// The variables of a comma-separated list, in the order asked, without repeats; an unknown one is a 400.
    static func variables<Variable>(
        _ query: QueryParameters,
        _ key: String,
        from known: [String: Variable],
        type: String
    ) throws -> [(name: String, variable: Variable)] {
        guard let list = query.nonEmpty(key) else { return [] }
        var seen = Set<String>()
        return try list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { name in
            guard let variable = known[name] else {
                throw BadRequest(reason: "Cannot initialize \(type) from invalid String value \(name) for key \(key)")
            }
            return seen.insert(name).inserted ? (name, variable) : nil
        }
    }

    func zone(_ query: QueryParameters, latitude: Double, longitude: Double) throws -> SimulatedWorld.Zone {
        guard let identifier = query.nonEmpty("timezone") else { return SimulatedWorld.Zone(identifier: "GMT", standardOffsetSeconds: 0) }
        switch identifier.lowercased() {
        case "auto": return world.zone(latitude: latitude, longitude: longitude)
        case "gmt", "utc": return SimulatedWorld.Zone(identifier: "GMT", standardOffsetSeconds: 0)
        default:
            guard let timeZone = TimeZone(identifier: identifier) else { throw BadRequest(reason: "Invalid timezone") }
            return SimulatedWorld.Zone(identifier: identifier, standardOffsetSeconds: timeZone.secondsFromGMT())
        }
    }

    /// A small, plausible `generationtime_ms` that depends only on the request, so equal requests get equal bodies.
    static func generationTime(_ query: QueryParameters) -> WireJSON {
        let hash = query.names.reduce(StableHash(seed: 7)) { $0.mixing($1).mixing(query[$1] ?? "") }
        return .number(hash.value(in: 0.02...0.9))
    }

    // MARK: Responses

    static let headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    static func error(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        .wire(status, .object([("error", .bool(true)), ("reason", .string(reason))]), headers: headers)
    }

    static func rateLimited() -> Response {
        error(.tooManyRequests, "Minutely API request limit exceeded. Please try again in one minute.")
    }

    static func unavailable() -> Response {
        error(.serviceUnavailable, "Service Unavailable")
    }
}
