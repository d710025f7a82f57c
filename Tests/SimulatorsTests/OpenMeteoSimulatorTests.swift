import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Simulators
import Testing

/// Mirrors of Open-Meteo's bodies, member names exactly as on the wire.
enum OpenMeteo {
    struct Search: Decodable {
        struct Result: Decodable {
            let id: Int
            let name: String
            let latitude: Double
            let longitude: Double
            let elevation: Double
            let feature_code: String
            let country_code: String
            let timezone: String
            let population: Int?
            let country_id: Int?
            let country: String
            let admin1: String?
        }
        let results: [Result]?
        let generationtime_ms: Double
    }

    struct Forecast: Decodable {
        let latitude: Double
        let longitude: Double
        let generationtime_ms: Double
        let utc_offset_seconds: Int
        let timezone: String
        let timezone_abbreviation: String
        let elevation: Double
        let current_units: [String: String]?
        let current: Current?
        let daily_units: [String: String]?
        let daily: Daily?
        let hourly_units: [String: String]?
        let hourly: Hourly?
    }

    struct Current: Decodable {
        let time: String
        let interval: Int
        let temperature_2m: Double?
        let relative_humidity_2m: Int?
        let apparent_temperature: Double?
        let weather_code: Int?
        let wind_speed_10m: Double?
    }

    struct Daily: Decodable {
        let time: [String]
        let weather_code: [Int]?
        let temperature_2m_max: [Double]?
        let temperature_2m_min: [Double]?
        let precipitation_sum: [Double]?
        let precipitation_probability_max: [Int]?
        let sunrise: [String]?
    }

    struct Hourly: Decodable {
        let time: [String]
        let temperature_2m: [Double]?
    }

    struct Failure: Decodable, Equatable {
        let error: Bool
        let reason: String
    }
}

@Suite("Open-Meteo simulator")
struct OpenMeteoSimulatorTests {
    /// The simulators' time: the fixtures' recording time until a test moves it.
    let clock = ManualClock(epoch: fixtureTime)
    static let londonQuery =
        "latitude=51.50853&longitude=-0.12574&current=temperature_2m,relative_humidity_2m,apparent_temperature,weather_code,wind_speed_10m&daily=weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum&timezone=auto&forecast_days=5"

    func withSimulator(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await withSimulators([OpenMeteoSimulator(now: clock.dateProvider)], body)
    }

    @Test("geocoding returns results in the recorded shape, most populous first")
    func searchLondon() async throws {
        try await withSimulator { client in
            let response = try await client.execute(uri: "/v1/search?name=London&count=5&language=en&format=json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let search = try response.decode(OpenMeteo.Search.self)
            let results = try #require(search.results)
            #expect(results.map(\.country_code) == ["GB", "CA", "US", "US"])
            #expect(results.map(\.admin1) == ["England", "Ontario", "Ohio", "Kentucky"])
            #expect(results[0].id == 2_643_743 && results[0].timezone == "Europe/London" && results[0].feature_code == "PPLC")
            #expect(response.text.hasPrefix(#"{"results":[{"id":2643743,"name":"London","latitude":51.50853,"longitude":-0.12574,"elevation":25.0,"#))
            let recorded = try JSONDecoder().decode(OpenMeteo.Search.self, from: fixture("open-meteo/geocoding-london.json"))
            #expect(recorded.results?.first?.id == results[0].id)
            // The recorded answer has admin ids, admin2..3 and postcodes, which upstream omits for many places.
            let upstreamOnly: Set<String> = [
                "$.results[].admin1_id", "$.results[].admin2_id", "$.results[].admin3_id", "$.results[].admin2",
                "$.results[].admin3", "$.results[].postcodes", "$.results[].postcodes[]",
            ]
            try expectSameShape(response.data, as: fixture("open-meteo/geocoding-london.json"), optional: upstreamOnly)
        }
    }

    @Test("geocoding: no results key when nothing matches; 2 letters match exactly, 3 or more by prefix")
    func searchRules() async throws {
        try await withSimulator { client in
            let nothing = try await client.execute(uri: "/v1/search?name=Qwxyzzyville&count=5&language=en&format=json", method: .get)
            #expect(nothing.status == .ok)
            try expectSameShape(nothing.data, as: fixture("open-meteo/geocoding-empty.json"))
            #expect(try nothing.decode(OpenMeteo.Search.self).results == nil)
            let atlantis = try await client.execute(uri: "/v1/search?name=Atlantis", method: .get)
            #expect(try atlantis.decode(OpenMeteo.Search.self).results == nil)

            func names(_ query: String) async throws -> [String] {
                try await client.execute(uri: "/v1/search?\(query)", method: .get).decode(OpenMeteo.Search.self).results?.map(\.name) ?? []
            }
            #expect(try await names("name=L").isEmpty)
            #expect(try await names("name=Lo").isEmpty)
            #expect(try await names("name=Zur") == ["Zürich"])
            #expect(try await names("name=S%C3%A3o") == ["São Paulo"])
            #expect(try await names("name=sao+paulo") == ["São Paulo"])
            #expect(try await names("name=Springfield&count=2").count == 2)
            #expect(try await names("name=Paris&countryCode=US") == ["Paris"])
            let saoPaulo = try await client.execute(uri: "/v1/search?name=Sao%20Paulo", method: .get)
            #expect(saoPaulo.text.contains(#""name":"São Paulo""#), "raw UTF-8, not \\u escapes")

            let badCount = try await client.execute(uri: "/v1/search?name=London&count=0", method: .get)
            #expect(badCount.status == .badRequest)
            #expect(try badCount.decode(OpenMeteo.Failure.self) == .init(error: true, reason: "Parameter count must be between 1 and 100."))
        }
    }

    @Test("the forecast has the recorded shape and honours the requested variables")
    func forecastShape() async throws {
        try await withSimulator { client in
            let response = try await client.execute(uri: "/v1/forecast?\(Self.londonQuery)", method: .get)
            #expect(response.status == .ok)
            try expectSameShape(response.data, as: fixture("open-meteo/forecast-london-metric.json"))
            let forecast = try response.decode(OpenMeteo.Forecast.self)
            #expect(forecast.latitude == 51.5 && forecast.longitude == -0.12, "snapped to the grid cell, as in the fixture")
            #expect(forecast.timezone == "Europe/London" && forecast.timezone_abbreviation == "GMT" && forecast.utc_offset_seconds == 0)
            #expect(forecast.current?.time == "2025-03-20T18:15" && forecast.current?.interval == 900)
            #expect(forecast.current_units?["temperature_2m"] == "°C" && forecast.current_units?["wind_speed_10m"] == "km/h")
            #expect(forecast.current_units?["weather_code"] == "wmo code" && forecast.current_units?["time"] == "iso8601")
            let daily = try #require(forecast.daily)
            #expect(daily.time == ["2025-03-20", "2025-03-21", "2025-03-22", "2025-03-23", "2025-03-24"])
            #expect(daily.weather_code?.count == 5 && daily.precipitation_sum?.count == 5)
            let maxima = try #require(daily.temperature_2m_max)
            let minima = try #require(daily.temperature_2m_min)
            #expect(zip(maxima, minima).allSatisfy { $0 >= $1 })
            #expect(daily.precipitation_probability_max == nil, "not requested, not sent")
            #expect(response.text.contains(#""precipitation_sum":["#) && response.text.contains(#""elevation":25.0"#))

            let reordered = try await client.execute(
                uri:
                    "/v1/forecast?latitude=52.52&longitude=13.41&current=wind_speed_10m,temperature_2m&daily=precipitation_probability_max&forecast_days=3",
                method: .get
            )
            let text = reordered.text
            let wind = try #require(text.range(of: #""wind_speed_10m":"km/h""#))
            let temperature = try #require(text.range(of: #""temperature_2m":"°C""#))
            #expect(wind.lowerBound < temperature.lowerBound, "variables come back in the order asked")
            let berlin = try reordered.decode(OpenMeteo.Forecast.self)
            #expect(berlin.timezone == "GMT" && berlin.utc_offset_seconds == 0, "no timezone parameter means GMT")
            #expect(berlin.daily?.precipitation_probability_max?.allSatisfy { (0...100).contains($0) } == true)
            #expect(berlin.daily?.time.count == 3)
        }
    }

    @Test("fahrenheit and mph convert the same weather; precipitation stays in mm")
    func imperial() async throws {
        try await withSimulator { client in
            let metric = try await client.execute(uri: "/v1/forecast?\(Self.londonQuery)", method: .get).decode(OpenMeteo.Forecast.self)
            let imperialResponse = try await client.execute(
                uri: "/v1/forecast?\(Self.londonQuery)&temperature_unit=fahrenheit&wind_speed_unit=mph",
                method: .get
            )
            try expectSameShape(imperialResponse.data, as: fixture("open-meteo/forecast-london-imperial.json"))
            let imperial = try imperialResponse.decode(OpenMeteo.Forecast.self)
            #expect(imperial.current_units?["temperature_2m"] == "°F")
            #expect(imperial.current_units?["wind_speed_10m"] == "mp/h")
            #expect(imperial.daily_units?["precipitation_sum"] == "mm")
            let celsius = try #require(metric.current?.temperature_2m)
            let fahrenheit = try #require(imperial.current?.temperature_2m)
            #expect(abs(fahrenheit - (celsius * 9 / 5 + 32)) <= 0.2)
            let kmh = try #require(metric.current?.wind_speed_10m)
            let mph = try #require(imperial.current?.wind_speed_10m)
            #expect(abs(mph - kmh / 1.609_344) <= 0.15)
            #expect(metric.daily?.precipitation_sum == imperial.daily?.precipitation_sum)
            #expect(metric.current?.relative_humidity_2m == imperial.current?.relative_humidity_2m)
        }
    }

    @Test("the forecast is the shared world's weather, in the city's time zone")
    func sharedWorld() async throws {
        let world = SimulatedWorld.standard
        let tokyo = try #require(world.cities(named: "Tokyo").first)
        try await withSimulator { client in
            let forecast = try await client.execute(
                uri: "/v1/forecast?latitude=\(tokyo.latitude)&longitude=\(tokyo.longitude)&current=temperature_2m&timezone=auto",
                method: .get
            )
            .decode(OpenMeteo.Forecast.self)
            let sample = world.weather(at: tokyo.place, hour: fixtureTime)
            #expect(forecast.current?.temperature_2m == (sample.temperature * 10).rounded() / 10)
            #expect(forecast.timezone == "Asia/Tokyo" && forecast.utc_offset_seconds == 32_400 && forecast.timezone_abbreviation == "GMT+9")
            #expect(forecast.current?.time == "2025-03-21T03:15")
        }
    }

    @Test("hourly series and unixtime are served too")
    func hourly() async throws {
        try await withSimulator { client in
            let forecast = try await client.execute(
                uri: "/v1/forecast?latitude=35.69&longitude=139.69&hourly=temperature_2m&forecast_days=2&timezone=auto",
                method: .get
            )
            .decode(OpenMeteo.Forecast.self)
            #expect(forecast.hourly?.time.count == 48 && forecast.hourly?.temperature_2m?.count == 48)
            #expect(forecast.hourly?.time.first == "2025-03-21T00:00")
            let unix = try await client.execute(
                uri: "/v1/forecast?latitude=35.69&longitude=139.69&daily=sunrise&forecast_days=1&timeformat=unixtime&timezone=auto",
                method: .get
            )
            #expect(unix.text.contains(#""daily_units":{"time":"unixtime","sunrise":"unixtime"}"#))
            // Tokyo's local midnight of 2025-03-21 is 15:00 UTC the day before.
            #expect(unix.text.contains(#""daily":{"time":[1742482800],"sunrise":[174"#))
        }
    }

    @Test("bad parameters are 400 with upstream's reasons")
    func errors() async throws {
        try await withSimulator { client in
            func failure(_ query: String) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: "/v1/forecast?\(query)", method: .get)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                return (response.status, response.text)
            }
            let unit = try await failure("latitude=51.50853&longitude=-0.12574&current=temperature_2m&timezone=auto&temperature_unit=asdfsfd")
            #expect(unit.0 == .badRequest)
            #expect(Data(unit.1.utf8) == (try fixture("open-meteo/error-400.json")).trimmingTrailingNewline)
            let variable = try await failure("latitude=51.50853&longitude=-0.12574&hourly=tempeture_2m")
            #expect(variable.0 == .badRequest)
            #expect(Data(variable.1.utf8) == (try fixture("open-meteo/error-400-invalid-variable.json")).trimmingTrailingNewline)
            let latitude = try await failure("latitude=999&longitude=0")
            #expect(latitude == (.badRequest, #"{"error":true,"reason":"Latitude must be in range of -90 to 90°. Given: 999.0."}"#))
            let longitude = try await failure("latitude=0&longitude=-181")
            #expect(longitude == (.badRequest, #"{"error":true,"reason":"Longitude must be in range of -180 to 180°. Given: -181.0."}"#))
            let daily = try await failure("latitude=0&longitude=0&daily=temperature_2m")
            #expect(daily.0 == .badRequest && daily.1.contains("invalid String value temperature_2m for key daily"))
            let days = try await failure("latitude=0&longitude=0&daily=weather_code&forecast_days=17")
            #expect(days == (.badRequest, #"{"error":true,"reason":"Forecast days is invalid. Allowed range 0 to 16."}"#))
            let missing = try await failure("longitude=0")
            #expect(missing.0 == .badRequest && missing.1.hasPrefix(#"{"error":true,"reason":"#))
            let zone = try await failure("latitude=0&longitude=0&timezone=Mars/Olympus")
            #expect(zone.0 == .badRequest)
        }
    }

    @Test("the two hosts mount under their own base paths")
    func basePaths() async throws {
        let simulator = OpenMeteoSimulator(
            geocodingBasePath: "/sim/open-meteo-geocoding",
            forecastBasePath: "/sim/open-meteo/",
            now: clock.dateProvider
        )
        #expect(simulator.forecastBasePath == "/sim/open-meteo" && simulator.name == "open-meteo-sim")
        try await withSimulators([simulator]) { client in
            let search = try await client.execute(uri: "/sim/open-meteo-geocoding/v1/search?name=Berlin", method: .get)
            #expect(search.status == .ok)
            let forecast = try await client.execute(
                uri: "/sim/open-meteo/v1/forecast?latitude=52.52&longitude=13.41&current=temperature_2m",
                method: .get
            )
            #expect(forecast.status == .ok)
            let crossed = try await client.execute(uri: "/sim/open-meteo/v1/search?name=Berlin", method: .get)
            #expect(crossed.status == .notFound)
            let unmounted = try await client.execute(uri: "/v1/forecast?latitude=52.52&longitude=13.41", method: .get)
            #expect(unmounted.status == .notFound)
            for base in ["/sim/open-meteo", "/sim/open-meteo-geocoding"] {
                let control = try await client.execute(uri: "\(base)/_sim/control", method: .get)
                #expect(control.status == .ok)
            }
            #expect(simulator.controls.requestCount(for: "/v1/search") == 1)
            #expect(simulator.controls.requestCount(for: "/v1/forecast") == 1)
        }
    }
}
