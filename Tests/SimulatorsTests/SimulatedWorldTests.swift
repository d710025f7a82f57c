import Foundation
import Simulators
import Testing

@Suite("SimulatedWorld")
struct SimulatedWorldTests {
    let world = SimulatedWorld.standard

    @Test("the city table has the cities the dashboard relies on, and no Atlantis")
    func cities() {
        #expect(world.cities.count >= 30)
        #expect(Set(world.cities.map(\.id)).count == world.cities.count, "ids are unique")
        let londons = world.cities(named: "London")
        #expect(londons.map(\.countryCode) == ["GB", "CA", "US", "US"])
        #expect(Set(londons.map(\.region)) == ["England", "Ontario", "Ohio", "Kentucky"])
        #expect(world.cities(named: "Berlin").map(\.countryCode) == ["DE"])
        #expect(Set(world.cities(named: "Paris").map(\.countryCode)) == ["FR", "US"])
        #expect(Set(world.cities(named: "Springfield").map(\.region)).count >= 3)
        #expect(world.cities(named: "Springfield", region: "IL", countryCode: "US").map(\.region) == ["Illinois"])
        for name in ["Tokyo", "New York", "Sydney", "São Paulo", "Zürich", "Reykjavík", "Cairo", "Mumbai", "Mexico City", "Cape Town"] {
            #expect(world.cities(named: name).count == 1, "\(name)")
        }
        #expect(world.cities(named: "sao paulo").first?.name == "São Paulo")
        #expect(world.cities(named: "ZURICH").first?.name == "Zürich")
        #expect(world.cities(named: "Atlantis").isEmpty)
        #expect(world.cities(withPrefix: "Spring").count == world.cities(named: "Springfield").count)
    }

    @Test("weather is a pure function of place and hour")
    func deterministic() throws {
        let berlin = try #require(world.cities(named: "Berlin").first)
        let sample = world.weather(at: berlin.place, hour: fixtureTime)
        #expect(sample == world.weather(at: berlin.place, hour: fixtureTime))
        #expect(sample == world.weather(at: berlin.place, hour: fixtureTime.addingTimeInterval(-1_000)), "same hour")
        #expect(sample == SimulatedWorld().weather(at: berlin.place, hour: fixtureTime), "a new world with the same seed")
        #expect(sample != world.weather(at: berlin.place, hour: fixtureTime.addingTimeInterval(86_400)))
        #expect(sample != SimulatedWorld(seed: 1).weather(at: berlin.place, hour: fixtureTime))
    }

    @Test("weather stays physical in every city through a year, and the seasons are the right way round")
    func plausible() throws {
        let start = fixtureTime
        for city in world.cities {
            var samples: [WeatherSample] = []
            for step in stride(from: 0, to: 365 * 24, by: 17) {
                samples.append(world.weather(at: city.place, hour: start.addingTimeInterval(Double(step) * 3_600)))
            }
            for sample in samples {
                #expect((-45...50).contains(sample.temperature), "\(city.name) \(sample.temperature)")
                #expect((0...100).contains(sample.relativeHumidity))
                #expect((0...100).contains(sample.cloudCover))
                #expect((0...100).contains(sample.precipitationProbability))
                #expect((0..<360).contains(sample.windDirection))
                #expect(sample.windSpeed >= 0 && sample.windGust >= sample.windSpeed)
                #expect(sample.precipitation >= 0)
                #expect((920...1_060).contains(sample.pressure))
                #expect([0, 1, 2, 3, 45, 51, 61, 63, 65, 71, 73, 75, 80, 81, 82, 95].contains(sample.weatherCode))
            }
            #expect(samples.contains { $0.precipitation > 0 }, "\(city.name) gets some rain or snow")
            #expect(samples.contains { $0.precipitation == 0 }, "\(city.name) gets some dry hours")
        }
        func mean(_ city: String, month: Int) throws -> Double {
            let place = try #require(world.cities(named: city).first).place
            let days = (1...28).map { CivilDay(year: 2025, month: month, day: $0) }
            let samples = days.flatMap { day in (0..<24).map { world.weather(at: place, hour: day.date.addingTimeInterval(Double($0) * 3_600)) } }
            return samples.map(\.temperature).reduce(0, +) / Double(samples.count)
        }
        #expect(try mean("Berlin", month: 7) > mean("Berlin", month: 1) + 8)
        #expect(try mean("Sydney", month: 1) > mean("Sydney", month: 7) + 5)
        #expect(try mean("Singapore", month: 1) > mean("Reykjavík", month: 1) + 15)
    }

    @Test("sunrise and sunset are where the sun is")
    func sun() throws {
        let london = try #require(world.cities(named: "London", countryCode: "GB").first)
        // 2025-03-20 (the equinox): about 06:03 and 18:12 UTC in London.
        let times = world.sunTimes(latitude: london.latitude, longitude: london.longitude, solarDay: 20_167)
        #expect(abs(times.sunrise.timeIntervalSince1970 - 1_742_450_580) < 15 * 60)
        #expect(abs(times.sunset.timeIntervalSince1970 - 1_742_494_320) < 15 * 60)
        #expect(world.weather(at: london.place, hour: Date(timeIntervalSince1970: 1_742_472_000)).isDay)
        #expect(!world.weather(at: london.place, hour: Date(timeIntervalSince1970: 1_742_432_400)).isDay)
    }

    @Test("time zones follow daylight saving and fall back to whole hours at sea")
    func zones() throws {
        let berlin = try #require(world.cities(named: "Berlin").first)
        #expect(berlin.utcOffset(at: fixtureTime) == 3_600)
        #expect(berlin.utcOffset(at: fixtureTime.addingTimeInterval(90 * 86_400)) == 7_200)
        #expect(berlin.zone.abbreviation(at: fixtureTime) == "GMT+1")
        let mumbai = try #require(world.cities(named: "Mumbai").first)
        #expect(mumbai.zone.abbreviation(at: fixtureTime) == "GMT+5:30")
        let atSea = world.zone(latitude: -40, longitude: -140)
        #expect(atSea.identifier == "Etc/GMT+9")
        #expect(atSea.utcOffset(at: fixtureTime) == -9 * 3_600)
    }
}

/// Midnight UTC of a calendar day.
struct CivilDay {
    var date: Date

    init(year: Int, month: Int, day: Int) {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        date = calendar.date(from: components)!
    }
}
