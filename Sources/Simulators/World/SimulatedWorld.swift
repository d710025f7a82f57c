import Foundation

/// The deterministic world the weather simulators share: a table of cities and a weather model that is a pure
/// function of place and hour, so the same request at the same (injected) time always gets the same answer,
/// and OpenWeatherMap and Open-Meteo agree about the weather in a city.
///
/// ```swift
/// let world = SimulatedWorld.standard
/// let londons = world.cities(named: "London")                      // four, most populous first
/// let berlin = world.cities(named: "Berlin", countryCode: "DE")[0]
/// let now = world.weather(at: berlin.place, hour: Date())          // °C, m/s, hPa, mm
/// ```
///
/// There is no "Atlantis": looking it up finds nothing, which is how the simulators answer "city not found".
public struct SimulatedWorld: Sendable {
    /// A populated place, with what the geocoding APIs report about it.
    public struct City: Sendable, Hashable, Identifiable {
        /// The GeoNames id (what OpenWeatherMap returns as `id` and Open-Meteo as `id`).
        public var id: Int
        public var name: String
        /// The first-level region: state, province, country part (`admin1` / `state`).
        public var region: String
        /// The region's postal code where one is in use (US states: `IL`), accepted in `q=Springfield,IL,US`.
        public var regionCode: String?
        /// ISO 3166-1 alpha-2.
        public var countryCode: String
        public var country: String
        public var latitude: Double
        public var longitude: Double
        /// Metres above sea level.
        public var elevation: Double
        public var population: Int
        /// The IANA time zone, e.g. `Europe/London`.
        public var timeZone: String
        /// The standard (winter) UTC offset in seconds; used only when the system has no tz database entry.
        public var utcOffsetSeconds: Int
        /// The GeoNames feature code: `PPLC` (capital), `PPLA` (first-level seat), `PPLA2`, `PPL`.
        public var featureCode: String
        /// Names in other languages, by ISO 639-1 code (OpenWeatherMap's `local_names`); empty for small towns.
        public var localNames: [String: String]
        /// Other spellings that find this city (`Zurich`, `Bombay`).
        public var alternateNames: [String]

        public init(
            id: Int,
            name: String,
            region: String,
            regionCode: String? = nil,
            countryCode: String,
            country: String,
            latitude: Double,
            longitude: Double,
            elevation: Double,
            population: Int,
            timeZone: String,
            utcOffsetSeconds: Int,
            featureCode: String = "PPL",
            localNames: [String: String] = [:],
            alternateNames: [String] = []
        ) {
            self.id = id
            self.name = name
            self.region = region
            self.regionCode = regionCode
            self.countryCode = countryCode
            self.country = country
            self.latitude = latitude
            self.longitude = longitude
            self.elevation = elevation
            self.population = population
            self.timeZone = timeZone
            self.utcOffsetSeconds = utcOffsetSeconds
            self.featureCode = featureCode
            self.localNames = localNames
            self.alternateNames = alternateNames
        }

        /// Where the weather model is evaluated for this city.
        public var place: Place {
            Place(latitude: latitude, longitude: longitude, elevation: elevation, seed: UInt64(id))
        }

        /// The city's time zone.
        public var zone: Zone { Zone(identifier: timeZone, standardOffsetSeconds: utcOffsetSeconds) }

        /// The UTC offset in seconds at `date`, daylight saving included.
        public func utcOffset(at date: Date) -> Int { zone.utcOffset(at: date) }
    }

    /// A point the weather model can be evaluated at; `seed` makes two nearby points' weather differ.
    public struct Place: Sendable, Hashable {
        public var latitude: Double
        public var longitude: Double
        public var elevation: Double
        public var seed: UInt64

        public init(latitude: Double, longitude: Double, elevation: Double = 0, seed: UInt64) {
            self.latitude = latitude
            self.longitude = longitude
            self.elevation = elevation
            self.seed = seed
        }
    }

    /// A time zone: an IANA identifier, and the offset to use if the system's tz database lacks it.
    public struct Zone: Sendable, Hashable {
        public var identifier: String
        public var standardOffsetSeconds: Int

        public init(identifier: String, standardOffsetSeconds: Int) {
            self.identifier = identifier
            self.standardOffsetSeconds = standardOffsetSeconds
        }

        /// The UTC offset in seconds at `date`, daylight saving included.
        public func utcOffset(at date: Date) -> Int {
            TimeZone(identifier: identifier)?.secondsFromGMT(for: date) ?? standardOffsetSeconds
        }

        /// Open-Meteo's abbreviation style: `GMT`, `GMT+1`, `GMT-4`, `GMT+5:30`.
        public func abbreviation(at date: Date) -> String {
            let offset = utcOffset(at: date)
            guard offset != 0 else { return "GMT" }
            let hours = abs(offset) / 3600
            let minutes = abs(offset) % 3600 / 60
            return "GMT\(offset < 0 ? "-" : "+")\(hours)" + (minutes == 0 ? "" : ":\(String(minutes).leftPadded(to: 2))")
        }
    }

    public var cities: [City]
    /// Mixed into every weather value: two worlds with different seeds have different weather.
    public var seed: UInt64

    public init(cities: [City] = SimulatedWorld.defaultCities, seed: UInt64 = 2026) {
        self.cities = cities
        self.seed = seed
    }

    /// The default world: ``defaultCities`` and seed 2026.
    public static let standard = SimulatedWorld()

    /// The cities called `name` (case- and accent-insensitive, alternate names included), optionally in
    /// `region` (name or code) and `countryCode`, most populous first.
    public func cities(named name: String, region: String? = nil, countryCode: String? = nil) -> [City] {
        let wanted = Self.fold(name)
        guard !wanted.isEmpty else { return [] }
        return cities.filter { city in
            guard ([city.name] + city.alternateNames).contains(where: { Self.fold($0) == wanted }) else { return false }
            if let countryCode, Self.fold(countryCode) != Self.fold(city.countryCode) { return false }
            if let region {
                let folded = Self.fold(region)
                guard folded == Self.fold(city.region) || city.regionCode.map(Self.fold) == folded else { return false }
            }
            return true
        }
        .sorted { $0.population > $1.population }
    }

    /// The cities whose name starts with `prefix` (case- and accent-insensitive), most populous first.
    public func cities(withPrefix prefix: String) -> [City] {
        let wanted = Self.fold(prefix)
        guard !wanted.isEmpty else { return [] }
        return cities.filter { city in ([city.name] + city.alternateNames).contains { Self.fold($0).hasPrefix(wanted) } }
            .sorted { $0.population > $1.population }
    }

    /// The city nearest to a point, if one is within `kilometres`.
    public func nearestCity(latitude: Double, longitude: Double, within kilometres: Double = 50) -> City? {
        let ranked = cities.map { ($0, Self.distance(latitude, longitude, $0.latitude, $0.longitude)) }.min { $0.1 < $1.1 }
        guard let (city, distance) = ranked, distance <= kilometres else { return nil }
        return city
    }

    /// The place whose weather a point has: the city's, within 30 km of one (so a geocoded point and the city
    /// agree), otherwise a place seeded by the point rounded to 0.1°.
    public func place(latitude: Double, longitude: Double) -> Place {
        if let city = nearestCity(latitude: latitude, longitude: longitude, within: 30) { return city.place }
        let cell = StableHash(seed: Int((latitude * 10).rounded())).mixing(Int((longitude * 10).rounded()))
        return Place(latitude: latitude, longitude: longitude, elevation: 0, seed: cell.value)
    }

    /// The time zone a point is in: its nearby city's, else the whole-hour zone its longitude falls in.
    public func zone(latitude: Double, longitude: Double) -> Zone {
        if let city = nearestCity(latitude: latitude, longitude: longitude, within: 300) { return city.zone }
        let hours = Int((longitude / 15).rounded())
        // POSIX-style Etc zones have inverted signs: Etc/GMT-5 is UTC+5.
        let identifier = hours == 0 ? "GMT" : "Etc/GMT\(hours > 0 ? "-" : "+")\(abs(hours))"
        return Zone(identifier: identifier, standardOffsetSeconds: hours * 3600)
    }

    /// Great-circle distance in kilometres.
    static func distance(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 6371 * 2 * atan2(sqrt(a), sqrt(1 - a))
    }

    /// Lowercased, accents removed, surrounding spaces trimmed: "  Zürich " and "zurich" match.
    static func fold(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }
}
