import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Simulators
import Testing

/// Mirrors of OpenWeatherMap's bodies, member names exactly as on the wire.
enum OpenWeatherMap {
    struct GeocodingEntry: Decodable, Equatable {
        let name: String
        let local_names: [String: String]?
        let lat: Double
        let lon: Double
        let country: String
        let state: String?
    }

    struct Condition: Decodable, Equatable {
        let id: Int
        let main: String
        let description: String
        let icon: String
    }

    struct Current: Decodable {
        struct Coordinates: Decodable {
            let lon: Double
            let lat: Double
        }
        struct Main: Decodable {
            let temp: Double
            let feels_like: Double
            let temp_min: Double
            let temp_max: Double
            let pressure: Int
            let humidity: Int
            let sea_level: Int
            let grnd_level: Int
        }
        struct Wind: Decodable {
            let speed: Double
            let deg: Int
            let gust: Double?
        }
        struct Clouds: Decodable { let all: Int }
        struct System: Decodable {
            let type: Int?
            let id: Int?
            let country: String?
            let sunrise: Int
            let sunset: Int
        }

        let coord: Coordinates
        let weather: [Condition]
        let base: String
        let main: Main
        let visibility: Int
        let wind: Wind
        let rain: [String: Double]?
        let snow: [String: Double]?
        let clouds: Clouds
        let dt: Int
        let sys: System
        let timezone: Int
        let id: Int
        let name: String
        let cod: Int
    }

    struct Forecast: Decodable {
        struct Entry: Decodable {
            struct Main: Decodable {
                let temp: Double
                let feels_like: Double
                let temp_min: Double
                let temp_max: Double
                let pressure: Int
                let sea_level: Int
                let grnd_level: Int
                let humidity: Int
                let temp_kf: Double
            }
            let dt: Int
            let main: Main
            let weather: [Condition]
            let clouds: Current.Clouds
            let wind: Current.Wind
            let visibility: Int
            let pop: Double
            let rain: [String: Double]?
            let snow: [String: Double]?
            let sys: [String: String]
            let dt_txt: String
        }
        struct City: Decodable {
            let id: Int
            let name: String
            let coord: Current.Coordinates
            let country: String
            let population: Int
            let timezone: Int
            let sunrise: Int
            let sunset: Int
        }
        let cod: String
        let message: Int
        let cnt: Int
        let list: [Entry]
        let city: City
    }
}

@Suite("OpenWeatherMap simulator")
struct OpenWeatherMapSimulatorTests {
    let key = "interchange-demo-key"
    /// The simulators' time: the fixtures' recording time until a test moves it.
    let clock = ManualClock(epoch: fixtureTime)

    func withSimulator(
        _ simulator: OpenWeatherMapSimulator? = nil,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withSimulators([simulator ?? OpenWeatherMapSimulator(now: clock.dateProvider)], body)
    }

    @Test("geocoding returns every London, most populous first, in the recorded shape")
    func geocodeLondon() async throws {
        let recorded = try JSONDecoder().decode([OpenWeatherMap.GeocodingEntry].self, from: fixture("openweathermap/geo-direct-london.json"))
        try await withSimulator { client in
            let response = try await client.execute(uri: "/geo/1.0/direct?q=London&limit=5&appid=\(key)", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.headers[.server] == "openresty")
            #expect(response.header("X-Cache-Key") == "/geo/1.0/direct?limit=5&q=london")
            let entries = try response.decode([OpenWeatherMap.GeocodingEntry].self)
            #expect(entries.map(\.country) == ["GB", "CA", "US", "US"])
            #expect(entries.map(\.state) == ["England", "Ontario", "Ohio", "Kentucky"])
            #expect(entries[0].local_names?["fr"] == "Londres")
            #expect(entries[0].local_names?["feature_name"] == "London")
            #expect(entries[3].local_names == nil, "small towns have no local_names, as upstream")
            #expect(abs(entries[0].lat - recorded[0].lat) < 0.01 && abs(entries[0].lon - recorded[0].lon) < 0.01)
            try expectSameShape(
                response.data,
                as: fixture("openweathermap/geo-direct-london.json"),
                optional: Set(try JSONShape.of(fixture("openweathermap/geo-direct-london.json")).keys.filter { $0.hasPrefix("$[].local_names.") })
                    .union(try JSONShape.of(response.data).keys.filter { $0.hasPrefix("$[].local_names.") })
            )
        }
    }

    @Test("geocoding narrows by country and state, honours limit, and answers [] for unknown places")
    func geocodeQueries() async throws {
        try await withSimulator { client in
            func entries(_ q: String, limit: Int = 5) async throws -> [OpenWeatherMap.GeocodingEntry] {
                let q = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                return try await client.execute(uri: "/geo/1.0/direct?q=\(q)&limit=\(limit)&appid=\(key)", method: .get).decode()
            }
            #expect(try await entries("London", limit: 2).count == 2)
            #expect(try await entries("London,US").map(\.state) == ["Ohio", "Kentucky"])
            #expect(try await entries("London,OH,US").map(\.state) == ["Ohio"])
            #expect(try await entries("London, Kentucky, US").map(\.state) == ["Kentucky"])
            #expect(try await entries("Paris,FR").map(\.country) == ["FR"])
            #expect(try await entries("Springfield,IL,US").map(\.state) == ["Illinois"])
            #expect(try await entries("São Paulo").map(\.name) == ["São Paulo"])
            #expect(try await entries("Sao Paulo").map(\.name) == ["São Paulo"])

            let unknown = try await client.execute(uri: "/geo/1.0/direct?q=Atlantis&limit=5&appid=\(key)", method: .get)
            #expect(unknown.status == .ok)
            #expect(unknown.text == "[]")
            let nothing = try await client.execute(uri: "/geo/1.0/direct?q=&appid=\(key)", method: .get)
            #expect(nothing.status == .badRequest)
            #expect(nothing.data == (try fixture("openweathermap/error-400-nothing-to-geocode.json")).trimmingTrailingNewline)
        }
    }

    @Test("current weather has the recorded shape, with cod a number")
    func currentWeather() async throws {
        try await withSimulator { client in
            let response = try await client.execute(uri: "/data/2.5/weather?lat=51.5073219&lon=-0.1276474&units=metric&appid=\(key)", method: .get)
            #expect(response.status == .ok)
            #expect(response.header("X-Cache-Key") == "/data/2.5/weather?lat=51.51&lon=-0.13&units=metric")
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.text.hasPrefix(#"{"coord":{"lon":-0.1276,"lat":51.5073},"weather":[{"id":"#))
            #expect(response.text.hasSuffix(#""id":2643743,"name":"London","cod":200}"#))
            let weather = try response.decode(OpenWeatherMap.Current.self)
            #expect(weather.name == "London")
            #expect(weather.sys.country == "GB")
            #expect(weather.timezone == 0)
            #expect(weather.dt <= Int(fixtureTime.timeIntervalSince1970) && weather.dt > Int(fixtureTime.timeIntervalSince1970) - 600)
            #expect(weather.weather.count == 1)
            #expect(weather.main.temp_min <= weather.main.temp && weather.main.temp <= weather.main.temp_max)
            #expect(weather.weather[0].icon.hasSuffix("n") || weather.weather[0].icon.hasSuffix("d"))
            _ = try JSONDecoder().decode(OpenWeatherMap.Current.self, from: fixture("openweathermap/weather-london-metric.json"))
            try expectSameShape(
                response.data,
                as: fixture("openweathermap/weather-london-metric.json"),
                optional: ["$.rain", "$.rain.1h", "$.snow", "$.snow.1h"]
            )
        }
    }

    @Test("the forecast has 40 three-hourly entries from the next slot, a city, and cod a string")
    func forecast() async throws {
        try await withSimulator { client in
            let response = try await client.execute(uri: "/data/2.5/forecast?lat=51.5073219&lon=-0.1276474&units=metric&appid=\(key)", method: .get)
            #expect(response.status == .ok)
            let forecast = try response.decode(OpenWeatherMap.Forecast.self)
            #expect(forecast.cod == "200")
            #expect(forecast.cnt == 40 && forecast.list.count == 40)
            // Recorded at 18:27:56; the first entry is 21:00, as in the fixture.
            #expect(forecast.list[0].dt == 1_742_504_400)
            #expect(forecast.list[0].dt_txt == "2025-03-20 21:00:00")
            #expect(forecast.list[39].dt_txt == "2025-03-25 18:00:00")
            #expect(zip(forecast.list, forecast.list.dropFirst()).allSatisfy { $1.dt - $0.dt == 10_800 })
            #expect(forecast.list.allSatisfy { ["d", "n"].contains($0.sys["pod"]) && (0...1).contains($0.pop) })
            #expect(forecast.city.name == "London" && forecast.city.id == 2_643_743 && forecast.city.country == "GB")
            #expect(forecast.city.coord.lat == 51.5073 && forecast.city.coord.lon == -0.1276)
            _ = try JSONDecoder().decode(OpenWeatherMap.Forecast.self, from: fixture("openweathermap/forecast-london-metric.json"))
            let optional: Set<String> = ["$.list[].rain", "$.list[].rain.3h", "$.list[].snow", "$.list[].snow.3h"]
            try expectSameShape(response.data, as: fixture("openweathermap/forecast-london-metric.json"), optional: optional)

            let three = try await client.execute(uri: "/data/2.5/forecast?q=Berlin&cnt=3&appid=\(key)", method: .get).decode(
                OpenWeatherMap.Forecast.self
            )
            #expect(three.list.count == 3 && three.cnt == 3 && three.city.name == "Berlin" && three.city.timezone == 3_600)
        }
    }

    @Test("the same request at the same time gets the same body; a day later it differs")
    func determinism() async throws {
        try await withSimulator { client in
            for path in ["/data/2.5/weather?q=Tokyo", "/data/2.5/forecast?q=Tokyo", "/geo/1.0/direct?q=Tokyo"] {
                let first = try await client.execute(uri: "\(path)&appid=\(key)", method: .get).text
                let second = try await client.execute(uri: "\(path)&appid=\(key)", method: .get).text
                #expect(first == second, "\(path)")
            }
            let today = try await client.execute(uri: "/data/2.5/weather?q=Tokyo&appid=\(key)", method: .get).text
            clock.advance(by: .seconds(86_400))
            let tomorrow = try await client.execute(uri: "/data/2.5/weather?q=Tokyo&appid=\(key)", method: .get).text
            #expect(today != tomorrow)
        }
    }

    @Test("units: standard is kelvin, metric celsius and m/s, imperial fahrenheit and mph")
    func units() async throws {
        try await withSimulator { client in
            func weather(_ units: String) async throws -> OpenWeatherMap.Current {
                try await client.execute(uri: "/data/2.5/weather?q=Cairo&appid=\(key)\(units)", method: .get).decode()
            }
            let standard = try await weather("")
            let explicitStandard = try await weather("&units=standard")
            let metric = try await weather("&units=metric")
            let imperial = try await weather("&units=imperial")
            let unknown = try await weather("&units=furlongs")
            #expect(abs(standard.main.temp - (metric.main.temp + 273.15)) < 0.011)
            #expect(explicitStandard.main.temp == standard.main.temp && unknown.main.temp == standard.main.temp)
            #expect(abs(imperial.main.temp - (metric.main.temp * 9 / 5 + 32)) < 0.03)
            #expect(abs(imperial.main.feels_like - (metric.main.feels_like * 9 / 5 + 32)) < 0.03)
            #expect(abs(imperial.wind.speed - metric.wind.speed * 2.236_936) < 0.03)
            #expect(standard.wind.speed == metric.wind.speed)
            #expect(imperial.main.pressure == metric.main.pressure && imperial.main.humidity == metric.main.humidity)
        }
    }

    @Test("a missing or unknown appid is 401 with the recorded body, on every endpoint")
    func unauthorized() async throws {
        let body = try fixture("openweathermap/error-401.json").trimmingTrailingNewline
        try await withSimulator { client in
            for uri in ["/data/2.5/weather?q=London", "/data/2.5/forecast?q=London&appid=invalid", "/geo/1.0/direct?q=London&appid="] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .unauthorized)
                #expect(response.data == body)
                #expect(response.header("X-Cache-Key") == nil)
            }
        }
        let custom = OpenWeatherMapSimulator(apiKeys: ["mine"], now: clock.dateProvider)
        try await withSimulator(custom) { client in
            let mine = try await client.execute(uri: "/data/2.5/weather?q=London&appid=mine", method: .get)
            let demo = try await client.execute(uri: "/data/2.5/weather?q=London&appid=\(key)", method: .get)
            #expect(mine.status == .ok)
            #expect(demo.status == .unauthorized)
        }
    }

    @Test("bad parameters are 400, unknown cities 404, unknown paths 404, with upstream's string cod")
    func errors() async throws {
        try await withSimulator { client in
            let nothing = try await client.execute(uri: "/data/2.5/weather?q=&appid=\(key)", method: .get)
            #expect(nothing.status == .badRequest)
            #expect(nothing.data == (try fixture("openweathermap/error-400-nothing-to-geocode.json")).trimmingTrailingNewline)
            let noLocation = try await client.execute(uri: "/data/2.5/forecast?appid=\(key)", method: .get)
            #expect(noLocation.status == .badRequest && noLocation.text == #"{"cod":"400","message":"Nothing to geocode"}"#)
            let latitude = try await client.execute(uri: "/data/2.5/weather?lat=999&lon=0&appid=\(key)", method: .get)
            #expect(latitude.status == .badRequest)
            #expect(latitude.data == (try fixture("openweathermap/error-400-wrong-latitude.json")).trimmingTrailingNewline)
            let longitude = try await client.execute(uri: "/data/2.5/weather?lat=10&lon=abc&appid=\(key)", method: .get)
            #expect(longitude.status == .badRequest && longitude.text == #"{"cod":"400","message":"wrong longitude"}"#)
            let atlantis = try await client.execute(uri: "/data/2.5/weather?q=Atlantis&appid=\(key)", method: .get)
            #expect(atlantis.status == .notFound)
            #expect(atlantis.data == (try fixture("openweathermap/error-404.json")).trimmingTrailingNewline)
            let wrongCountry = try await client.execute(uri: "/data/2.5/forecast?q=Berlin,US&appid=\(key)", method: .get)
            #expect(wrongCountry.status == .notFound)
            let unknownPath = try await client.execute(uri: "/data/2.5/onecall?lat=1&lon=1&appid=\(key)", method: .get)
            #expect(unknownPath.status == .notFound && unknownPath.text == #"{"cod":"404","message":"Internal error"}"#)
        }
    }

    @Test("coordinates far from any city still get weather, with an empty name")
    func openOcean() async throws {
        try await withSimulator { client in
            let weather = try await client.execute(uri: "/data/2.5/weather?lat=-40&lon=-140&appid=\(key)", method: .get).decode(
                OpenWeatherMap.Current.self
            )
            #expect(weather.name == "" && weather.id == 0 && weather.sys.country == nil)
            #expect(weather.timezone == -9 * 3_600)
        }
    }
}

extension Data {
    /// The fixture files end with a newline; the wire bodies don't.
    var trimmingTrailingNewline: Data {
        var copy = self
        while copy.last == UInt8(ascii: "\n") { copy.removeLast() }
        return copy
    }
}
