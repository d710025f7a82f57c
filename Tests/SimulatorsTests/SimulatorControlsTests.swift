import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InterchangeTesting
import Simulators
import Testing

@Suite("Simulator controls", .timeLimit(.minutes(1)))
struct SimulatorControlsTests {
    /// The simulators' time: the fixtures' recording time until a test moves it.
    let clock = ManualClock(epoch: fixtureTime)
    let key = "interchange-demo-key"

    @Test("an error rate fails an exact, evenly spread share of requests")
    func errorRateSequence() async throws {
        let controls = SimulatorControls()
        let simulator = OpenWeatherMapSimulator(now: clock.dateProvider, controls: controls)
        try await withSimulators([simulator]) { client in
            controls.errorRate = 0.25
            var statuses: [Int] = []
            for _ in 0..<12 {
                statuses.append(try await client.execute(uri: "/data/2.5/weather?q=Berlin&appid=\(key)", method: .get).status.code)
            }
            #expect(statuses == [200, 200, 200, 503, 200, 200, 200, 503, 200, 200, 200, 503])
            controls.errorRate = 0.3
            var failures = 0
            for _ in 0..<100 {
                let response = try await client.execute(uri: "/data/2.5/forecast?q=Berlin&appid=\(key)", method: .get)
                if response.status == .serviceUnavailable {
                    failures += 1
                    #expect(response.text == #"{"cod":503,"message":"Service Unavailable"}"#)
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                }
            }
            #expect(failures == 30)
            #expect(controls.requestCount(for: "/data/2.5/weather") == 12)
            #expect(controls.requestCount(for: "/data/2.5/forecast") == 100)
            #expect(controls.totalRequests == 112)
        }
    }

    @Test("an outage answers every API request 503 in each API's own shape, until it ends")
    func outage() async throws {
        let weather = OpenWeatherMapSimulator(basePath: "/owm", now: clock.dateProvider)
        let meteo = OpenMeteoSimulator(geocodingBasePath: "/om", forecastBasePath: "/om", now: clock.dateProvider)
        let github = GitHubSimulator(basePath: "/gh", now: clock.dateProvider)
        try await withSimulators([weather, meteo, github]) { client in
            for controls in [weather.controls, meteo.controls, github.controls] { controls.outage = true }
            let owm = try await client.execute(uri: "/owm/data/2.5/weather?q=Berlin&appid=\(key)", method: .get)
            #expect(owm.status == .serviceUnavailable && owm.text == #"{"cod":503,"message":"Service Unavailable"}"#)
            let om = try await client.execute(uri: "/om/v1/forecast?latitude=1&longitude=1", method: .get)
            #expect(om.status == .serviceUnavailable && om.text == #"{"error":true,"reason":"Service Unavailable"}"#)
            let gh = try await client.execute(
                uri: "/gh/graphql",
                method: .post,
                headers: [.authorization: "bearer interchange-demo-token"],
                body: ByteBuffer(string: #"{"query":"{ viewer { login } }"}"#)
            )
            #expect(gh.status == .serviceUnavailable && gh.text.hasPrefix(#"{"message":"Service Unavailable""#))
            let control = try await client.execute(uri: "/owm/_sim/control", method: .get)
            #expect(control.status == .ok, "the controls themselves stay up")
            weather.controls.outage = false
            #expect(try await client.execute(uri: "/owm/data/2.5/weather?q=Berlin&appid=\(key)", method: .get).status == .ok)
        }
    }

    @Test("rateLimited forces each API's own rate-limit answer, after authentication")
    func rateLimited() async throws {
        let weather = OpenWeatherMapSimulator(basePath: "/owm", now: clock.dateProvider)
        let meteo = OpenMeteoSimulator(geocodingBasePath: "/omg", forecastBasePath: "/om", now: clock.dateProvider)
        let github = GitHubSimulator(basePath: "/gh", now: clock.dateProvider)
        try await withSimulators([weather, meteo, github]) { client in
            for controls in [weather.controls, meteo.controls, github.controls] { controls.rateLimited = true }
            let owm = try await client.execute(uri: "/owm/data/2.5/weather?q=Berlin&appid=\(key)", method: .get)
            #expect(owm.status == .tooManyRequests)
            #expect(owm.data == (try fixture("openweathermap/error-429.json")).trimmingTrailingNewline)
            let unauthorized = try await client.execute(uri: "/owm/data/2.5/weather?q=Berlin&appid=wrong", method: .get)
            #expect(unauthorized.status == .unauthorized)
            for uri in ["/om/v1/forecast?latitude=1&longitude=1", "/omg/v1/search?name=Berlin"] {
                let om = try await client.execute(uri: uri, method: .get)
                #expect(om.status == .tooManyRequests)
                #expect(om.data == (try fixture("open-meteo/error-429.json")).trimmingTrailingNewline)
            }
            let gh = try await client.execute(
                uri: "/gh/graphql",
                method: .post,
                headers: [.authorization: "bearer interchange-demo-token"],
                body: ByteBuffer(string: #"{"query":"{ viewer { login } }"}"#)
            )
            #expect(gh.status == .ok && gh.text.contains(#""type":"RATE_LIMIT""#))
            #expect(gh.headers[HTTPField.Name("x-ratelimit-remaining")!] == "0")
        }
    }

    @Test("latency is added to each request")
    func latency() async throws {
        let simulator = OpenWeatherMapSimulator(
            now: clock.dateProvider,
            controls: SimulatorControls(.init(latency: .milliseconds(120)), clock: clock)
        )
        try await withSimulators([simulator]) { client in
            async let delayed = client.execute(uri: "/geo/1.0/direct?q=Berlin&appid=\(key)", method: .get)
            try await clock.waitForSleepers(1)
            #expect(clock.sleeps == [.milliseconds(120)])
            clock.advance(by: .milliseconds(120))
            let slow = try await delayed
            #expect(slow.status == .ok)
            simulator.controls.latency = .zero
            let fast = try await client.execute(uri: "/geo/1.0/direct?q=Berlin&appid=\(key)", method: .get)
            #expect(fast.status == .ok)
            #expect(clock.sleeps == [.milliseconds(120)], "no latency, no wait")
        }
    }

    @Test("GET, PUT and reset over HTTP, for a person with curl")
    func overHTTP() async throws {
        let simulator = OpenWeatherMapSimulator(basePath: "/sim/openweathermap", now: clock.dateProvider)
        try await withSimulators([simulator]) { client in
            struct Snapshot: Decodable, Equatable {
                let simulator: String
                let latencyMs: Double
                let errorRate: Double
                let outage: Bool
                let rateLimited: Bool
                let totalRequests: Int
                let requests: [String: Int]
            }
            let json: HTTPFields = [.contentType: "application/json"]
            let initial = try await client.execute(uri: "/sim/openweathermap/_sim/control", method: .get).decode(Snapshot.self)
            #expect(
                initial
                    == Snapshot(
                        simulator: "openweathermap-sim",
                        latencyMs: 0,
                        errorRate: 0,
                        outage: false,
                        rateLimited: false,
                        totalRequests: 0,
                        requests: [:]
                    )
            )

            let put = try await client.execute(
                uri: "/sim/openweathermap/_sim/control",
                method: .put,
                headers: json,
                body: ByteBuffer(string: #"{"outage":true,"latencyMs":5}"#)
            )
            #expect(put.status == .ok)
            let changed = try put.decode(Snapshot.self)
            #expect(changed.outage && changed.latencyMs == 5 && changed.errorRate == 0)
            #expect(simulator.controls.outage && simulator.controls.latency == .milliseconds(5))
            let down = try await client.execute(uri: "/sim/openweathermap/data/2.5/weather?q=Berlin&appid=\(key)", method: .get)
            #expect(down.status == .serviceUnavailable)

            let partial = try await client.execute(
                uri: "/sim/openweathermap/_sim/control",
                method: .put,
                headers: json,
                body: ByteBuffer(string: #"{"errorRate":0.5}"#)
            )
            let afterPartial = try partial.decode(Snapshot.self)
            #expect(afterPartial.outage && afterPartial.errorRate == 0.5, "a PUT changes only what it names")
            #expect(afterPartial.requests == ["/data/2.5/weather": 1], "counted by the API's own path")

            let invalid = try await client.execute(
                uri: "/sim/openweathermap/_sim/control",
                method: .put,
                headers: json,
                body: ByteBuffer(string: #"{"errorRate":2}"#)
            )
            #expect(invalid.status == .badRequest)
            #expect(invalid.headers[.contentType] == "application/problem+json" && invalid.text.contains(#""field":"errorRate""#))
            let unknown = try await client.execute(
                uri: "/sim/openweathermap/_sim/control",
                method: .put,
                headers: json,
                body: ByteBuffer(string: #"{"outrage":true}"#)
            )
            #expect(unknown.status == .badRequest && unknown.text.contains(#""field":"outrage""#))
            let wrongType = try await client.execute(
                uri: "/sim/openweathermap/_sim/control",
                method: .put,
                headers: json,
                body: ByteBuffer(string: #"{"outage":"yes"}"#)
            )
            #expect(wrongType.status == .badRequest)
            #expect(simulator.controls.errorRate == 0.5, "a rejected PUT changes nothing")

            let reset = try await client.execute(uri: "/sim/openweathermap/_sim/reset", method: .post)
            #expect(try reset.decode(Snapshot.self) == initial)
            #expect(try await client.execute(uri: "/sim/openweathermap/data/2.5/weather?q=Berlin&appid=\(key)", method: .get).status == .ok)
        }
    }

    @Test("reset refills GitHub's rate-limit budgets")
    func resetRefillsBudgets() async throws {
        let simulator = GitHubSimulator(basePath: "/sim/github", rateLimitPerHour: 1, now: clock.dateProvider)
        try await withSimulators([simulator]) { client in
            let headers: HTTPFields = [.authorization: "bearer interchange-demo-token"]
            let body = #"{"query":"{ viewer { login } }"}"#
            _ = try await client.execute(uri: "/sim/github/graphql", method: .post, headers: headers, body: ByteBuffer(string: body))
            let limited = try await client.execute(uri: "/sim/github/graphql", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(limited.text.contains("RATE_LIMIT"))
            _ = try await client.execute(uri: "/sim/github/_sim/reset", method: .post)
            let refilled = try await client.execute(uri: "/sim/github/graphql", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(refilled.text == #"{"data":{"viewer":{"login":"interchange-demo"}}}"#)
            #expect(simulator.controls.requestCount(for: "/graphql") == 1, "reset zeroes the counters too")
        }
    }

    @Test("mounted under a base path, the real paths live below it and nowhere else")
    func basePathMounting() async throws {
        let weather = OpenWeatherMapSimulator(basePath: "/sim/openweathermap/", now: clock.dateProvider)
        let github = GitHubSimulator(basePath: "sim/github", now: clock.dateProvider)
        #expect(weather.basePath == "/sim/openweathermap" && github.basePath == "/sim/github")
        #expect(weather.name == "openweathermap-sim" && github.name == "github-sim")
        try await withSimulators([weather, github]) { client in
            #expect(try await client.execute(uri: "/sim/openweathermap/data/2.5/weather?q=Berlin&appid=\(key)", method: .get).status == .ok)
            let bare = try await client.execute(uri: "/data/2.5/weather?q=Berlin&appid=\(key)", method: .get)
            #expect(bare.status == .notFound && bare.headers[.contentType] == "application/problem+json")
            let graphql = try await client.execute(
                uri: "/sim/github/graphql",
                method: .post,
                headers: [.authorization: "bearer interchange-demo-token"],
                body: ByteBuffer(string: #"{"query":"{ viewer { login } }"}"#)
            )
            #expect(graphql.status == .ok)
            #expect(try await client.execute(uri: "/graphql", method: .post).status == .notFound)
        }
    }
}

@Suite("Simulators over a real socket", .timeLimit(.minutes(1)))
struct LiveSimulatorTests {
    @Test("the three simulators answer over HTTP/1.1 as mounted by `interchange up`")
    func live() async throws {
        let clock = ManualClock(epoch: fixtureTime)
        let world = SimulatedWorld.standard
        let weather = OpenWeatherMapSimulator(basePath: OpenWeatherMapSimulator.embeddedBasePath, now: clock.dateProvider, world: world)
        let meteo = OpenMeteoSimulator(
            geocodingBasePath: OpenMeteoSimulator.embeddedGeocodingBasePath,
            forecastBasePath: OpenMeteoSimulator.embeddedForecastBasePath,
            now: clock.dateProvider,
            world: world
        )
        let github = GitHubSimulator(basePath: GitHubSimulator.embeddedBasePath, now: clock.dateProvider)
        try await withSimulators([weather, meteo, github], over: .live) { client in
            let geo = try await client.execute(uri: "/sim/openweathermap/geo/1.0/direct?q=S%C3%A3o+Paulo&appid=interchange-demo-key", method: .get)
            #expect(geo.status == .ok && geo.text.contains(#""name":"São Paulo""#))
            let search = try await client.execute(uri: "/sim/open-meteo-geocoding/v1/search?name=Z%C3%BCrich", method: .get)
            #expect(search.status == .ok && search.text.contains(#""name":"Zürich""#))
            let forecast = try await client.execute(
                uri: "/sim/open-meteo/v1/forecast?latitude=64.13548&longitude=-21.89541&daily=weather_code",
                method: .get
            )
            #expect(forecast.status == .ok)
            let graphql = try await client.execute(
                uri: "/sim/github/graphql",
                method: .post,
                headers: [.authorization: "bearer interchange-demo-token", .contentType: "application/json"],
                body: ByteBuffer(bytes: try fixture("github/repository-request.json"))
            )
            #expect(graphql.status == .ok && graphql.text.contains(#""nameWithOwner":"apple/swift-nio""#))
            #expect(graphql.headers[HTTPField.Name("x-ratelimit-remaining")!] == "4999")
            let control = try await client.execute(
                uri: "/sim/github/_sim/control",
                method: .put,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"outage":true}"#)
            )
            #expect(control.status == .ok)
            #expect(github.controls.outage)
        }
    }
}
