import Foundation
import HTTPTypes
import Hummingbird
import ServiceRuntime

/// A simulator of the OpenWeatherMap API (`https://api.openweathermap.org`): the geocoding, current-weather
/// and 5-day-forecast endpoints with their real paths, `appid` auth, JSON shapes, error bodies and headers.
///
/// ```swift
/// let simulator = OpenWeatherMapSimulator(basePath: "/sim/openweathermap", apiKeys: ["demo"])
/// try simulator.addRoutes(to: router)
/// // GET /sim/openweathermap/data/2.5/weather?q=London,GB&units=metric&appid=demo
/// ```
///
/// **Covers**
/// - `GET /geo/1.0/direct?q=&limit=&appid=`: an array (`[]` when nothing matches, never 404); `q` is `City`,
///   `City,CC` or `City,State,CC` (state by name or postal code); `limit` 1–5, default 5.
/// - `GET /data/2.5/weather?lat=&lon=|q=|id=&units=&appid=`: the full current-weather object, `cod` a number.
/// - `GET /data/2.5/forecast?…&cnt=`: 40 three-hourly entries (or `cnt`) from the next 3-hour slot, with `city`,
///   `cod` a string.
/// - `units=standard` (K, m/s, the default), `metric` (°C, m/s), `imperial` (°F, mph); unknown units are
///   standard, as upstream.
/// - Errors with the real bodies: 401 (missing/unknown `appid`, number `cod`), 400 `Nothing to geocode`,
///   `wrong latitude`/`wrong longitude` (string `cod`), 404 `city not found` for `q=`/`id=` (string `cod`),
///   404 `Internal error` for unknown paths under `/data/` and `/geo/`, and 429 when rate limited.
/// - Headers: `Server: openresty`, `Content-Type: application/json; charset=utf-8`, the CORS trio and
///   `X-Cache-Key` on successes. No rate-limit headers (upstream sends none).
///
/// **Does not cover** `lang` (descriptions are English), `zip=`, `mode=xml|html`, reverse geocoding, One Call,
/// the paid APIs, or the real per-minute quota (only the `rateLimited` switch produces 429).
///
/// **Controls** (``SimulatorControls``, also at `GET/PUT <base>/_sim/control` and `POST <base>/_sim/reset`):
/// `latency`, `errorRate` and `outage` (503 `{"cod":503,"message":"Service Unavailable"}`), `rateLimited`
/// (the fixture's 429 body, after the key is checked), request counts by path.
public struct OpenWeatherMapSimulator: Component {
    public let name = "openweathermap-sim"
    public var summary: String { "OpenWeatherMap simulator (geocoding, current weather, 5-day forecast) at \(basePath.isEmpty ? "/" : basePath)" }

    /// Where the API's paths are mounted: `""` alone (the real paths), `/sim/openweathermap` under `interchange up`.
    public let basePath: String
    /// The accepted `appid` values.
    public let apiKeys: Set<String>
    public let world: SimulatedWorld
    public let controls: SimulatorControls
    let now: @Sendable () -> Date

    /// The key accepted when none are configured.
    public static let defaultAPIKeys = ["interchange-demo-key"]

    public init(
        basePath: String = "",
        apiKeys: [String] = OpenWeatherMapSimulator.defaultAPIKeys,
        now: @escaping @Sendable () -> Date = { Date() },
        world: SimulatedWorld = .standard,
        controls: SimulatorControls = SimulatorControls()
    ) {
        self.basePath = normalizedBasePath(basePath)
        self.apiKeys = Set(apiKeys)
        self.now = now
        self.world = world
        self.controls = controls
    }

    public func addRoutes(to router: Router<BasicRequestContext>) throws {
        let api = router.group(RouterPath(basePath))
            .add(middleware: SimulatorFaultMiddleware(controls: controls, basePath: basePath) { Self.unavailable() })
        api.get("geo/1.0/direct") { request, _ in self.respond(to: request, path: "/geo/1.0/direct", self.geocode) }
        api.get("data/2.5/weather") { request, _ in self.respond(to: request, path: "/data/2.5/weather", self.currentWeather) }
        api.get("data/2.5/forecast") { request, _ in self.respond(to: request, path: "/data/2.5/forecast", self.forecast) }
        for unknown in ["geo/**", "data/**"] {
            api.get(RouterPath(unknown)) { _, _ in Self.error(404, cod: .string("404"), "Internal error") }
        }
        SimulatorControlRoutes.add(to: router, basePath: basePath, simulator: name, controls: controls)
    }

    // MARK: Request handling

    /// What an endpoint produces: a body and the normalised request for `X-Cache-Key`, or an error response.
    typealias Endpoint = @Sendable (QueryParameters) -> Result<WireJSON, OpenWeatherMapError>

    struct OpenWeatherMapError: Error {
        var response: Response
    }

    private func respond(to request: Request, path: String, _ endpoint: Endpoint) -> Response {
        let query = QueryParameters(request)
        guard let key = query["appid"], apiKeys.contains(key) else { return Self.invalidKey() }
        if controls.rateLimited { return Self.rateLimited() }
        switch endpoint(query) {
        case .success(let body):
            var headers = Self.baseHeaders
            headers[HTTPField.Name("X-Cache-Key")!] = Self.cacheKey(path: path, query: query)
            return .wire(.ok, body, headers: headers)
        case .failure(let error):
            return error.response
        }
    }

    @Sendable func geocode(_ query: QueryParameters) -> Result<WireJSON, OpenWeatherMapError> {
        guard let q = query.nonEmpty("q") else { return .failure(.init(response: Self.nothingToGeocode())) }
        let limit = min(max(query["limit"].flatMap { Int($0) } ?? 5, 1), 5)
        let matches = find(q).prefix(limit)
        return .success(.array(matches.map(OpenWeatherMapBodies.geocodingEntry)))
    }

    @Sendable func currentWeather(_ query: QueryParameters) -> Result<WireJSON, OpenWeatherMapError> {
        locate(query).map { location in
            OpenWeatherMapBodies.current(location: location, units: Units(query["units"]), now: now(), world: world)
        }
    }

    @Sendable func forecast(_ query: QueryParameters) -> Result<WireJSON, OpenWeatherMapError> {
        let count = min(max(query["cnt"].flatMap { Int($0) } ?? 40, 1), 40)
        return locate(query).map { location in
            OpenWeatherMapBodies.forecast(location: location, units: Units(query["units"]), count: count, now: now(), world: world)
        }
    }

    /// Cities matching `q` (`City`, `City,CC`, `City,State,CC`), most populous first.
    func find(_ q: String) -> [SimulatedWorld.City] {
        let parts = q.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        switch parts.count {
        case 1: return world.cities(named: parts[0])
        case 2: return world.cities(named: parts[0], countryCode: parts[1].isEmpty ? nil : parts[1])
        default:
            return world.cities(
                named: parts[0],
                region: parts[1].isEmpty ? nil : parts[1],
                countryCode: parts[parts.count - 1].isEmpty ? nil : parts[parts.count - 1]
            )
        }
    }

    /// The place a `/data/2.5/*` request asks about: by `q`, `id`, or `lat`+`lon`.
    func locate(_ query: QueryParameters) -> Result<OpenWeatherMapBodies.Location, OpenWeatherMapError> {
        if let q = query["q"] {
            guard !q.isEmpty else { return .failure(.init(response: Self.nothingToGeocode())) }
            guard let city = find(q).first else { return .failure(.init(response: Self.cityNotFound())) }
            return .success(.init(latitude: city.latitude, longitude: city.longitude, city: city, zone: city.zone, place: city.place))
        }
        if let id = query.nonEmpty("id") {
            guard let city = world.cities.first(where: { String($0.id) == id }) else { return .failure(.init(response: Self.cityNotFound())) }
            return .success(.init(latitude: city.latitude, longitude: city.longitude, city: city, zone: city.zone, place: city.place))
        }
        guard let latText = query.nonEmpty("lat"), let lonText = query.nonEmpty("lon") else {
            return .failure(.init(response: Self.nothingToGeocode()))
        }
        guard let latitude = Double(latText), latitude.isFinite, (-90...90).contains(latitude) else {
            return .failure(.init(response: Self.error(400, cod: .string("400"), "wrong latitude")))
        }
        guard let longitude = Double(lonText), longitude.isFinite, (-180...180).contains(longitude) else {
            return .failure(.init(response: Self.error(400, cod: .string("400"), "wrong longitude")))
        }
        return .success(
            .init(
                latitude: latitude,
                longitude: longitude,
                city: world.nearestCity(latitude: latitude, longitude: longitude, within: 50),
                zone: world.zone(latitude: latitude, longitude: longitude),
                place: world.place(latitude: latitude, longitude: longitude)
            )
        )
    }

    // MARK: Units

    /// `units=`: anything but `metric` and `imperial` is `standard`, as upstream.
    enum Units: Sendable {
        case standard, metric, imperial

        init(_ text: String?) {
            switch text?.lowercased() {
            case "metric": self = .metric
            case "imperial": self = .imperial
            default: self = .standard
            }
        }

        func temperature(_ celsius: Double) -> WireJSON {
            switch self {
            case .standard: .rounded(celsius + 273.15, 2)
            case .metric: .rounded(celsius, 2)
            case .imperial: .rounded(celsius * 9 / 5 + 32, 2)
            }
        }

        /// A temperature difference (`temp_kf`): the same in K and °C.
        func temperatureDifference(_ kelvins: Double) -> WireJSON {
            self == .imperial ? .rounded(kelvins * 9 / 5, 2) : .rounded(kelvins, 2)
        }

        func speed(_ metresPerSecond: Double) -> WireJSON {
            self == .imperial ? .rounded(metresPerSecond * 2.236_936, 2) : .rounded(metresPerSecond, 2)
        }
    }

    // MARK: Responses with the real bodies

    static let baseHeaders: HTTPFields = [
        .server: "openresty",
        .contentType: "application/json; charset=utf-8",
        .accessControlAllowOrigin: "*",
        .accessControlAllowCredentials: "true",
        .accessControlAllowMethods: "GET, POST",
    ]

    static func error(_ status: Int, cod: WireJSON, _ message: String) -> Response {
        .wire(HTTPResponse.Status(code: status), .object([("cod", cod), ("message", .string(message))]), headers: baseHeaders)
    }

    static func invalidKey() -> Response {
        .literal(
            .unauthorized,
            #"{"cod":401, "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."}"#,
            headers: baseHeaders
        )
    }

    static func rateLimited() -> Response {
        .literal(
            .tooManyRequests,
            #"{"cod":429, "message": "Your account is temporary blocked due to exceeding of requests limitation of your subscription type. Please choose the proper subscription http://openweathermap.org/price"}"#,
            headers: baseHeaders
        )
    }

    static func nothingToGeocode() -> Response { error(400, cod: .string("400"), "Nothing to geocode") }
    static func cityNotFound() -> Response { error(404, cod: .string("404"), "city not found") }
    static func unavailable() -> Response { error(503, cod: .int(503), "Service Unavailable") }

    /// Upstream's cache key: the path and the meaningful parameters sorted, `appid` dropped, `q` lowercased,
    /// coordinates to 2 decimals (`/data/2.5/weather?lat=51.51&lon=-0.13&units=metric`).
    static func cacheKey(path: String, query: QueryParameters) -> String {
        let parameters = query.names.sorted().compactMap { name -> String? in
            guard name != "appid", let value = query[name] else { return nil }
            switch name {
            case "lat", "lon": return Double(value).map { "\(name)=\(WireJSON.rounded($0, 2).serialized())" } ?? "\(name)=\(value)"
            case "q": return "q=" + (value.lowercased().addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? value)
            default: return "\(name)=\(value)"
            }
        }
        return parameters.isEmpty ? path : path + "?" + parameters.joined(separator: "&")
    }
}
